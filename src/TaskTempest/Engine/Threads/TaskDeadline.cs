namespace TaskTempest.Engine.Threads;

/// <summary>
/// The timeout of one job on a worker thread, and its escalation for a task that ignores it: at the
/// deadline its token is cancelled and it counts as <c>timeout</c>; one grace later its worker thread is
/// interrupted (breaking Sleep, Wait, Join and lock waits); one more and the worker is given up as orphaned.
/// </summary>
internal sealed class TaskDeadline : IDisposable
{
    private readonly RunContext _run;
    private readonly Action<TaskDeadline> _orphan;
    private readonly CancellationTokenSource _source;
    private readonly ITimer _timer;
    private readonly Lock _gate = new(); // the timer's steps never overlap Dispose
    private int _stage;
    private bool _disposed;
    private volatile bool _expired;

    public TaskDeadline(RunContext run, Action<TaskDeadline> orphan, Worker worker, TempestMessage message, long started, TimeSpan timeout)
    {
        _run = run;
        _orphan = orphan;
        Worker = worker;
        Message = message;
        Started = started;
        _source = CancellationTokenSource.CreateLinkedTokenSource(run.JobToken(message));
        _timer = run.Time.CreateTimer(static s => ((TaskDeadline)s!).Step(), this, timeout, Timeout.InfiniteTimeSpan);
    }

    public Worker Worker { get; }
    public TempestMessage Message { get; }
    public long Started { get; }
    public TempestTask? Task { get; set; }
    public CancellationToken Token => _source.Token;

    private void Step()
    {
        bool orphan = false;
        lock (_gate)
        {
            if (_disposed) return;
            var grace = _run.Settings.TimeoutGrace;
            switch (++_stage)
            {
                case 1:
                    _expired = true;
                    _timer.Change(grace, Timeout.InfiniteTimeSpan);
                    // Not here: cancelling may run the task's continuation inline, and it must not run
                    // on the timer's thread under this lock, where it could stall the escalation.
                    _run.CancelOffThread(_source, $"{{{Message.Id}}}'s timeout");
                    break;
                case 2:
                    if (Worker.TryInterrupt(Message)) _timer.Change(grace, Timeout.InfiniteTimeSpan);
                    break;
                default:
                    orphan = true;
                    break;
            }
        }
        // Outside the lock: orphaning logs, runs callbacks and starts a thread.
        if (orphan) _orphan(this);
    }

    /// <summary>Called once the task returned: stops the escalation and says whether the deadline passed first.</summary>
    public bool Close()
    {
        lock (_gate)
        {
            _disposed = true;
            return _expired;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _timer.Dispose();
            _source.Dispose();
        }
    }
}
