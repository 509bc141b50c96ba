using System.Diagnostics;
using TaskTempest.Engine.Inbox;
using TaskTempest.Logging;
using ZLogger;

namespace TaskTempest.Engine.Cooperative;

/// <summary>
/// Cooperative mode (the original's fibers): one event-loop thread with its own SynchronizationContext, so
/// every continuation of task code, and everything the engine does for a job, runs on that thread. At most
/// <c>Fibers</c> jobs are in flight; they interleave at their awaits. Nothing here blocks the loop: the inbox
/// is awaited, outcomes are handed on without waiting, and the log files never make a logger wait for long.
/// </summary>
internal sealed class CooperativeDispatcher<TInbox> : IDispatcher where TInbox : IInbox
{
    private const int YieldEvery = 64;
    private int _sinceYield;

    private readonly RunContext _run;
    private readonly JobLifecycle _lifecycle;
    private readonly TInbox _inbox;
    private readonly TimeProvider _time;
    private readonly int _fibers;
    private readonly LoopContext _context;
    private readonly Thread _thread;
    // One reusable job per fiber. The loop owns the free list; shutdown's abort reads the slots from
    // another thread (no job starts once the engine is stopping).
    private readonly FiberJob[] _slots;
    private readonly Stack<FiberJob> _free;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ITimer _watchdog;
    private TaskCompletionSource? _slotFreed;
    private bool _dispatching = true;

    // Loop-thread counters, read when the run ends.
    private long _started, _succeeded, _failed, _timedOut;

    // What the watchdog sees: the job whose step runs now, if known.
    private volatile FiberJob? _stepOf;
    private int _active; // jobs in flight, counted on the loop thread
    private long _reportedBusySince;

    public CooperativeDispatcher(RunContext run, JobLifecycle lifecycle, TInbox inbox)
    {
        _run = run;
        _lifecycle = lifecycle;
        _inbox = inbox;
        _time = run.Time;
        _fibers = run.Settings.Fibers;
        _slots = [.. Enumerable.Range(0, _fibers).Select(_ => new FiberJob())];
        _free = new Stack<FiberJob>(_slots);
        _context = new LoopContext(run);
        _thread = new Thread(_context.RunLoop)
        {
            IsBackground = true, // a loop blocked past shutdown must not keep the process alive
            Name = $"{run.Settings.EngineName} event loop",
        };
        var check = run.Settings.LoopBlockedThreshold;
        _watchdog = _time.CreateTimer(static s => ((CooperativeDispatcher<TInbox>)s!).Watch(), this, check, check);
    }

    public string Initialized => $"fiber pool initialized ({_fibers} fibers on one event loop)";

    // A fiber's code cannot be abandoned (it shares the loop), so no slot is ever given up.
    public int SlotsLost => 0;

    public int StuckTasks => 0;

    public void Start()
    {
        _thread.Start();
        _context.Post(static s => _ = ((CooperativeDispatcher<TInbox>)s!).DispatchAsync(), this);
    }

    public Task DrainAsync() => _drained.Task;

    /// <summary>Called from Run's thread at shutdown's deadline.</summary>
    public Task AbortRunningAsync(List<string> aborted)
    {
        foreach (var job in _slots)
        {
            if (Interlocked.CompareExchange(ref job.State, FiberJob.Aborted, FiberJob.Running) != FiberJob.Running) continue;
            _lifecycle.Abort(job.Message, aborted);
        }
        _run.CancelOffThread(_run.Aborting, "shutdown's abort");
        return Task.CompletedTask;
    }

    /// <summary>Ends the loop thread once nothing more should run on it.</summary>
    public JobCounts Close()
    {
        _watchdog.Dispose();
        _context.Complete();
        return new JobCounts(_started, _succeeded, _failed, _timedOut);
    }

    // ------------------------------------------------------------ on the loop

    private async Task DispatchAsync()
    {
        var stopping = _run.Stopping;
        long previousEnd = 0; // when the last job ended, if it ended synchronously and nothing came after it
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                long chained = previousEnd;
                previousEnd = 0;
                if (_active >= _fibers)
                {
                    _slotFreed = new TaskCompletionSource();
                    await _slotFreed.Task;
                    continue;
                }
                // The common case, a message ready in the inbox, takes no async machinery.
                bool immediate = _inbox.TryTake(out var message);
                if (!immediate) message = await _inbox.TakeAsync(stopping);
                if (message is null) continue;
                if (stopping.IsCancellationRequested)
                {
                    _lifecycle.ReturnUnstarted(message);
                    break;
                }
                var job = _free.Pop();
                job.Message = message;
                Volatile.Write(ref job.State, FiberJob.Running);
                _active++;
                _started++;
                // One clock read per job, as on worker threads: a job taken straight after one that ended
                // synchronously starts when that one ended.
                previousEnd = StartJob(job, immediate && chained != 0 ? chained : _time.GetTimestamp()); // runs until its first await
                // Jobs that complete synchronously would otherwise keep the loop to the dispatcher for a
                // whole burst: every so often let waiting continuations (and the watchdog's view) in.
                if (++_sinceYield >= YieldEvery)
                {
                    _sinceYield = 0;
                    previousEnd = 0;
                    await Task.Yield();
                }
            }
        }
        catch (Exception e) when (!_run.Ended)
        {
            _run.Logs.Main.ZLogCritical(e, $"event loop dispatcher died: {LogText.Escape(e.Message)}");
        }
        finally
        {
            _dispatching = false;
            CheckDrained();
        }
    }

    /// <summary>
    /// Starts a job on the loop. A job that completes synchronously (no timeout, nothing awaited) is
    /// concluded right here, with no async machinery; the rest continue in <see cref="AwaitJobAsync"/>.
    /// </summary>
    /// <returns>When the job ended if it ended here, synchronously; else 0.</returns>
    private long StartJob(FiberJob job, long started)
    {
        var message = job.Message;
        job.Started = started;
        _lifecycle.Start(message);

        ValueTask processed;
        try
        {
            var token = _run.JobToken(message);
            if (message.Timeout is { } timeout)
            {
                // At the deadline the token is cancelled and the job stops waiting for the task: its slot
                // frees as soon as the loop gets control back, at the task's next await.
                job.DeadlineSource = CancellationTokenSource.CreateLinkedTokenSource(token);
                job.DeadlinePassed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                job.Deadline = _time.CreateTimer(static s =>
                {
                    var (run, source, passed) = ((RunContext, CancellationTokenSource, TaskCompletionSource))s!;
                    passed.TrySetResult();
                    run.CancelOffThread(source, "a timeout");
                }, (_run, job.DeadlineSource, job.DeadlinePassed), timeout, Timeout.InfiniteTimeSpan);
                token = job.DeadlineSource.Token;
            }
            job.Scope = _lifecycle.CreateScope(message);
            job.Task = _lifecycle.CreateTask(message, job.Scope);

            _stepOf = job;
            // The span is current for the job's code and its continuations (they capture it), not for the loop.
            using (Telemetry.RunTelemetry.Enter(message)) processed = message.InvokeAsync(job.Task, token);
        }
        catch (Exception e)
        {
            _stepOf = null;
            return Conclude(job, e, expired: false);
        }
        _stepOf = null;
        if (processed.IsCompletedSuccessfully && job.Deadline is null) return Conclude(job, null, expired: false);
        _ = AwaitJobAsync(job, processed);
        return 0;
    }

    private async Task AwaitJobAsync(FiberJob job, ValueTask processed)
    {
        Exception? error = null;
        bool expired = false;
        try
        {
            var processing = processed.AsTask();
            if (job.DeadlinePassed is null)
            {
                await processing;
            }
            else if (await Task.WhenAny(processing, job.DeadlinePassed.Task) == processing)
            {
                await processing;
            }
            else
            {
                expired = true;
                ObserveLateEnd(job.Message, processing, job.Started);
            }
        }
        catch (Exception e)
        {
            error = e;
        }
        Conclude(job, error, expired | job.DeadlinePassed?.Task.IsCompleted == true);
    }

    /// <summary>The job's end on the loop: its status and report (shared with thread mode), then its slot is free.</summary>
    /// <returns>When the job ended, if nothing after its end took time (see EndsQuietly); else 0.</returns>
    private long Conclude(FiberJob job, Exception? error, bool expired)
    {
        job.Deadline?.Dispose();
        var message = job.Message;
        long ended = _time.GetTimestamp();
        bool quiet = false; // nothing after the end took time: the next job may start at it
        try
        {
            if (Interlocked.CompareExchange(ref job.State, FiberJob.Ended, FiberJob.Running) == FiberJob.Running) // else shutdown reported it aborted
            {
                double seconds = _time.GetElapsedTime(job.Started, ended).TotalSeconds;
                var status = JobLifecycle.StatusOf(expired, error);
                switch (status)
                {
                    case TempestTaskStatus.Success: _succeeded++; break;
                    case TempestTaskStatus.Failure: _failed++; break;
                    default: _timedOut++; break;
                }
                _lifecycle.End(message, job.Task, status, error, seconds);
                quiet = status == TempestTaskStatus.Success && job.Scope is null && job.DeadlineSource is null && _lifecycle.EndsQuietly(message);
            }
        }
        catch (Exception e) when (!_run.Ended)
        {
            _run.Logs.Main.ZLogError(e, $"{{{message.Id}}} <{message.TaskName}> could not be reported: {LogText.Escape(e.Message)}");
        }
        Release(job, expired);
        return quiet ? ended : 0;
    }

    private void Release(FiberJob job, bool expired)
    {
        // The free list and the count belong to the loop: only its thread may touch them.
        Debug.Assert(Thread.CurrentThread == _thread, "a fiber's slot was released off the event loop");
        try
        {
            job.Scope?.Dispose();
        }
        catch (Exception e) when (!_run.Ended)
        {
            // A scoped service that fails to dispose must not cost the fiber its slot.
            _run.Logs.Main.ZLogError(e, $"{{{job.Message.Id}}} <{job.Message.TaskName}> its DI scope could not be disposed: {LogText.Escape(e.Message)}");
        }
        catch (Exception) when (_run.Ended)
        {
        }
        if (!expired) job.DeadlineSource?.Dispose(); // a task still running past its deadline may hold the token
        job.Reset();
        _free.Push(job);
        _active--;
        Debug.Assert(_active >= 0 && _free.Count <= _fibers);
        _slotFreed?.TrySetResult();
        CheckDrained();
    }

    /// <summary>A task that ran past its deadline still finishes some time later, on the loop: log it, and observe its exception.</summary>
    private void ObserveLateEnd(TempestMessage message, Task processing, long started) =>
        processing.ContinueWith(static (t, s) =>
        {
            var (loop, message, started) = ((CooperativeDispatcher<TInbox>, TempestMessage, long))s!;
            if (loop._run.Ended) return;
            double seconds = loop._time.GetElapsedTime(started).TotalSeconds;
            loop._run.Logs.Main.ZLogWarning($"{{{message.Id}}} <{message.TaskName}> returned after {seconds:0.0000} s; it had already timed out");
            _ = t.Exception; // observed
        }, (this, message, started), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.FromCurrentSynchronizationContext());

    private void CheckDrained()
    {
        if (!_dispatching && _active == 0) _drained.TrySetResult();
    }

    // ------------------------------------------------------------ the watchdog (a timer thread)

    /// <summary>Logs a warning when one step of task code has held the loop longer than the threshold.</summary>
    private void Watch()
    {
        long busySince = Volatile.Read(ref _context.BusySince);
        if (busySince == 0 || busySince == _reportedBusySince || _run.Ended) return;
        var blocked = _time.GetElapsedTime(busySince);
        if (blocked < _run.Settings.LoopBlockedThreshold) return;
        _reportedBusySince = busySince;
        if (_stepOf is { Message: { } stepMessage })
        {
            _run.Logs.Main.ZLogWarning($"{{{stepMessage.Id}}} <{stepMessage.TaskName}> has blocked the event loop for {blocked.TotalSeconds:0.000} s: cooperative task code must await, not block");
        }
        else
        {
            string inFlight = string.Join(", ", _slots.Select(j => j.Message).OfType<TempestMessage>().Select(m => $"{{{m.Id}}} <{m.TaskName}>"));
            _run.Logs.Main.ZLogWarning($"the event loop has been blocked for {blocked.TotalSeconds:0.000} s by a continuation of one of: {inFlight}");
        }
    }
}
