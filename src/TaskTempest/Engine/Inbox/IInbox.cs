using TaskTempest.Engine.Threads;
using TaskTempest.Queues;

namespace TaskTempest.Engine.Inbox;

/// <summary>
/// What happens to a message once its job is over, or when it never ran: the queue is told its fate.
/// Every implementation keeps the engine's promise: nothing is dropped without a log line.
/// </summary>
internal interface IJobOutcomes
{
    /// <summary>Whether <see cref="Acknowledge"/> does anything: the embedded queue needs no acknowledgement, so its jobs skip the call.</summary>
    bool AcknowledgesEachJob { get; }

    /// <summary>The job ended (success, or a final failure or timeout with what went wrong): the message is done.</summary>
    void Acknowledge(TempestMessage message, TempestTaskStatus status, TempestError? error);

    /// <summary>Why a failed job cannot be retried on this queue (<c>retry not possible: the queue cannot delay</c>); null when it can.</summary>
    string? RetryRefusal { get; }

    /// <summary>Whether a job that failed for good can go to the dead letters (the queue keeps them).</summary>
    bool KeepsDeadLetters { get; }

    /// <summary>The run failed or timed out and the job runs again, not before <paramref name="runAt"/>: the failure is counted and its error kept.</summary>
    void Retry(TempestMessage message, TempestTaskStatus status, TempestError error, DateTimeOffset runAt);

    /// <summary>The run failed or timed out and the job is out of attempts (or cannot be retried): the failure is
    /// counted and the message goes to the dead letters with <paramref name="reason"/>.</summary>
    void DeadLetterFailed(TempestMessage message, TempestTaskStatus status, TempestError error, string reason);

    /// <summary>The job was aborted at shutdown: the message goes back to the queue, as another delivery.</summary>
    void Return(TempestMessage message);

    /// <summary>The message was taken but its job never started (the engine was stopping): it goes back without counting a delivery.</summary>
    void ReturnUnstarted(TempestMessage message);

    /// <summary>The message can never run: it goes to the dead letters with <paramref name="reason"/> (already escaped).</summary>
    void DeadLetter(RawTempestMessage message, string reason);
}

/// <summary>
/// The one seam between the dispatchers and the queue. Two implementations: <see cref="MemoryInbox"/>, the
/// embedded queue called directly (a struct, so a dispatcher specialised on it makes no interface call per
/// job), and <see cref="QueueInbox"/>, for any <see cref="Queues.ITempestQueue"/>, where one fetcher asks the
/// queue for messages for the free slots and one flusher hands outcomes back, neither on a worker thread nor
/// on the event loop. Messages come out parsed: raw text that cannot become a job is dead-lettered inside.
/// </summary>
internal interface IInbox : IJobOutcomes
{
    /// <summary>Starts what runs beside the dispatcher (the fetcher and the flusher), if anything.</summary>
    void Start();

    /// <summary>
    /// A worker thread's next message, waiting for one; null to look again (a message was rejected, or the
    /// run is stopping). <paramref name="immediate"/> when it was there without waiting.
    /// </summary>
    TempestMessage? Take(Worker worker, CancellationToken stopping, out bool immediate);

    /// <summary>Puts back the messages a worker holds but has not started (its batch), if any.</summary>
    void HandBack(Worker worker);

    /// <summary>A worker slot is gone for now (orphaned at the cap, not replaced): take nothing for it.</summary>
    void SlotLost();

    /// <summary>A slot lost at the cap is back (its stuck code returned and a worker took the slot again).</summary>
    void SlotRegained();

    /// <summary>The event loop's next message if one is ready; true when one was taken (null if it was rejected).</summary>
    bool TryTake(out TempestMessage? message);

    /// <summary>The event loop's next message, waiting for one; null to look again.</summary>
    ValueTask<TempestMessage?> TakeAsync(CancellationToken stopping);

    /// <summary>At the end of the run, before the queue is counted: puts back what was taken and not started, and
    /// hands every outcome to the queue.</summary>
    Task StopAsync();
}
