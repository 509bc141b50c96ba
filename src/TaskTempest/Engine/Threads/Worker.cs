using System.Collections.Concurrent;

namespace TaskTempest.Engine.Threads;

/// <summary>
/// One slot that runs one task at a time: a worker thread in thread-pool mode. The slot holds the
/// message in flight so that shutdown (abort) and the timeout watchdog (orphan) can take it; every
/// hand-over is one compare-and-swap on <see cref="_current"/>, so a task is reported exactly once,
/// by its worker, by shutdown or by the watchdog. Counters are written by the worker's own thread only
/// and summed at the end.
/// </summary>
internal sealed class Worker(int index)
{
    /// <summary>Put in <see cref="_current"/> when shutdown or the watchdog takes the slot: it takes no more tasks.</summary>
    private static readonly object Closed = new();

    /// <summary>null when idle, the running message, or <see cref="Closed"/>.</summary>
    private object? _current;

    // Interrupts are sent and consumed under this lock, so one can never land in the next task.
    private readonly object _interruptGate = new();
    private bool _interruptSent;

    public int Index { get; } = index;

    /// <summary>Messages taken from the embedded queue with the last one and not started yet; idle workers steal from it.</summary>
    public ConcurrentQueue<TempestMessage> Batch { get; } = new();
    public Thread? Thread { get; set; }
    public long Started;
    public long Succeeded;
    public long Failed;
    public long TimedOut;

    /// <summary>Set when the watchdog gave the slot up; its thread leaves once the stuck task ends.</summary>
    public volatile bool Orphaned;

    /// <summary>Completes when the worker no longer runs tasks: its loop ended, or it was orphaned and its task reported.</summary>
    public TaskCompletionSource Exited { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Claims the slot for <paramref name="message"/>; false once shutdown has closed it.</summary>
    public bool TryBegin(TempestMessage message)
    {
        if (Interlocked.CompareExchange(ref _current, message, null) is not null) return false;
        Started++;
        return true;
    }

    /// <summary>Releases the slot; false if shutdown or the watchdog already reported the task (then its end is not reported again).</summary>
    public bool TryEnd(TempestMessage message) => Interlocked.CompareExchange(ref _current, null, message) == message;

    /// <summary>As <see cref="TryEnd"/>, for a task with a timeout: also swallows an interrupt the watchdog sent too late to matter.</summary>
    public bool TryEndTimed(TempestMessage message)
    {
        lock (_interruptGate)
        {
            bool ended = TryEnd(message);
            if (_interruptSent)
            {
                _interruptSent = false;
                // A pending interrupt fires at the thread's next blocking call; take it here, not in the next task.
                try { System.Threading.Thread.Sleep(0); }
                catch (ThreadInterruptedException) { }
            }
            return ended;
        }
    }

    /// <summary>Interrupts the worker's thread if <paramref name="message"/> is still running on it.</summary>
    public bool TryInterrupt(TempestMessage message)
    {
        lock (_interruptGate)
        {
            if (Volatile.Read(ref _current) != message || Thread is null) return false;
            _interruptSent = true;
            Thread.Interrupt();
            return true;
        }
    }

    /// <summary>The watchdog gives the slot up if <paramref name="message"/> is still running in it.</summary>
    public bool TryOrphan(TempestMessage message)
    {
        if (Interlocked.CompareExchange(ref _current, Closed, message) != message) return false;
        Orphaned = true; // the caller completes Exited once it has reported the task
        return true;
    }

    /// <summary>Closes the slot at shutdown and returns the message of the task still running in it, if any.</summary>
    public TempestMessage? Close() => Interlocked.Exchange(ref _current, Closed) as TempestMessage;
}
