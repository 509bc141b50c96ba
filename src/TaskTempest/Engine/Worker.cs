namespace TaskTempest.Engine;

/// <summary>
/// One slot that runs one task at a time: a worker thread in thread-pool mode. The slot holds the
/// message in flight so that shutdown can take it and report it <c>aborted</c>; every hand-over is one
/// compare-and-swap on <see cref="_current"/>, so a task is reported exactly once, either by its
/// worker or by shutdown. Counters are written by the worker's own thread only and summed at the end.
/// </summary>
internal sealed class Worker(int index)
{
    /// <summary>Put in <see cref="_current"/> at shutdown's deadline: the slot takes no more tasks.</summary>
    private static readonly object Closed = new();

    /// <summary>null when idle, the running message, or <see cref="Closed"/>.</summary>
    private object? _current;

    public int Index { get; } = index;
    public long Started;
    public long Succeeded;
    public long Failed;

    /// <summary>Completes when the worker's loop has ended.</summary>
    public TaskCompletionSource Exited { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Claims the slot for <paramref name="message"/>; false once shutdown has closed it.</summary>
    public bool TryBegin(TempestMessage message)
    {
        if (Interlocked.CompareExchange(ref _current, message, null) is not null) return false;
        Started++;
        return true;
    }

    /// <summary>Releases the slot; false if shutdown already reported the task aborted (then its end is not reported again).</summary>
    public bool TryEnd(TempestMessage message) => Interlocked.CompareExchange(ref _current, null, message) == message;

    /// <summary>Closes the slot and returns the message of the task still running in it, if any.</summary>
    public TempestMessage? Close() => Interlocked.Exchange(ref _current, Closed) as TempestMessage;
}
