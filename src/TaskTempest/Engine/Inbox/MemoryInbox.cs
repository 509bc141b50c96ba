using TaskTempest.Engine.Threads;
using TaskTempest.Queues;

namespace TaskTempest.Engine.Inbox;

/// <summary>
/// The embedded queue, called directly: no interface call, no <c>ValueTask</c> and no acknowledgement per
/// job (its acknowledgement does nothing). A struct of references, so a dispatcher specialised on it
/// inlines these calls.
/// </summary>
/// <remarks>
/// Batching, for worker threads: two workers that each dequeue one message at a time pass the queue's head
/// between their cores on every job, and that costs more than the rest of a no-op job. So while every
/// worker is busy, a worker takes up to <see cref="BatchSize"/> messages at once into its own small queue.
/// None of them can wait there while another worker has nothing to do: a worker that finds the shared queue
/// empty counts itself idle and steals from the others' batches before it sleeps, and a worker that filled
/// its batch just as another went idle hands the batch straight back.
/// </remarks>
internal readonly struct MemoryInbox : IInbox
{
    /// <summary>The most messages a worker takes at once.</summary>
    internal const int BatchSize = 16;

    private readonly TempestMemoryQueue _queue;
    private readonly MessageIntake _intake;
    private readonly WorkerList _workers;
    private readonly IdleCount _idle;
    private readonly bool _batching;

    public MemoryInbox(TempestMemoryQueue queue, MessageIntake intake, WorkerList workers, int threads)
    {
        _queue = queue;
        _intake = intake;
        _workers = workers;
        _idle = new IdleCount();
        _batching = threads > 1; // one worker has no one to pass the queue's head to
    }

    /// <summary>Workers looking for work (stealing, or asleep on the queue); batches are taken only when there are none.</summary>
    private sealed class IdleCount
    {
        public int Workers;
    }

    public void Start()
    {
    }

    // ---------------------------------------------------------------- worker threads

    public TempestMessage? Take(Worker worker, CancellationToken stopping, out bool immediate)
    {
        TempestMessage message;
        try
        {
            message = TakeFromQueue(worker, stopping, out immediate);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            immediate = false;
            return null;
        }
        // Raw text only (another program's): passing this struct as the outcomes boxes it, off the typed path.
        return message is RawTempestMessage raw ? _intake.Accept(raw, this) : message;
    }

    private TempestMessage TakeFromQueue(Worker worker, CancellationToken stopping, out bool immediate)
    {
        immediate = true;
        if (worker.Batch.TryDequeue(out var message)) return message;
        if (_queue.TryDequeue(out message))
        {
            if (_batching && Volatile.Read(ref _idle.Workers) == 0) FillBatch(worker);
            return message;
        }
        immediate = false;
        return WaitForMessage(worker, stopping);
    }

    private void FillBatch(Worker worker)
    {
        for (int i = 1; i < BatchSize && _queue.TryDequeue(out var next); i++) worker.Batch.Enqueue(next);
        // A worker that went idle while this one filled its batch may have looked at the batch before it
        // was filled, and be asleep now: hand it back. (This barrier and the increment in WaitForMessage
        // are full fences, so one of the two workers sees the other; the enqueues alone are not.)
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _idle.Workers) != 0) HandBack(worker);
    }

    /// <summary>
    /// Steals from a busy worker's batch, or sleeps on the queue. No spinning first: on a machine with few
    /// cores a spinning worker takes the core the producer needs, and blocking on the queue spins briefly anyway.
    /// </summary>
    private TempestMessage WaitForMessage(Worker worker, CancellationToken stopping)
    {
        Interlocked.Increment(ref _idle.Workers);
        try
        {
            return TrySteal(worker, out var message) ? message : _queue.Dequeue(stopping);
        }
        finally
        {
            Interlocked.Decrement(ref _idle.Workers);
        }
    }

    private bool TrySteal(Worker thief, out TempestMessage message)
    {
        foreach (var other in _workers.Snapshot)
        {
            if (other != thief && other.Batch.TryDequeue(out message!)) return true;
        }
        message = null!;
        return false;
    }

    /// <summary>Puts a worker's unstarted batch back in the shared queue (at its end), waking sleeping workers.</summary>
    public void HandBack(Worker worker)
    {
        while (worker.Batch.TryDequeue(out var message)) _queue.Requeue(message);
    }

    // Workers take from the embedded queue only when they are free: a lost slot takes nothing by itself.
    public void SlotLost()
    {
    }

    public void SlotRegained()
    {
    }

    // ---------------------------------------------------------------- the event loop

    public bool TryTake(out TempestMessage? message)
    {
        if (!_queue.TryDequeue(out var taken))
        {
            message = null;
            return false;
        }
        message = taken is RawTempestMessage raw ? _intake.Accept(raw, this) : taken;
        return true;
    }

    public async ValueTask<TempestMessage?> TakeAsync(CancellationToken stopping)
    {
        TempestMessage? message;
        try
        {
            message = await _queue.DequeueAsync(stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return null;
        }
        return message is RawTempestMessage raw ? _intake.Accept(raw, this) : message;
    }

    // ---------------------------------------------------------------- outcomes: the queue keeps nothing per delivery

    public bool AcknowledgesEachJob => false;

    // Called only for a job with a unique key (JobLifecycle): its end frees the key.
    public void Acknowledge(TempestMessage message, TempestTaskStatus status, TempestError? error) => _queue.Ended(message);

    public string? RetryRefusal => null; // it holds run-ats on its own timer

    public bool KeepsDeadLetters => true;

    public void Retry(TempestMessage message, TempestTaskStatus status, TempestError error, DateTimeOffset runAt) => _queue.Retry(message, error, runAt);

    public void DeadLetterFailed(TempestMessage message, TempestTaskStatus status, TempestError error, string reason) =>
        _queue.DeadLetterFailed(message, error, reason);

    public void Return(TempestMessage message) => _queue.Write(message); // another delivery, counted

    public void ReturnUnstarted(TempestMessage message) => _queue.Requeue(message);

    public void DeadLetter(RawTempestMessage message, string reason) => _queue.AddDeadLetter(message, reason);

    /// <summary>Batches still held (by workers stuck in aborted tasks, say) go back before the queue is counted.</summary>
    public Task StopAsync()
    {
        foreach (var worker in _workers.Snapshot) HandBack(worker);
        return Task.CompletedTask;
    }
}
