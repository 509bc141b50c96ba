using TaskTempest.Engine.Inbox;
using TaskTempest.Logging;
using ZLogger;

namespace TaskTempest.Engine.Threads;

/// <summary>
/// Thread-pool mode: N dedicated background worker threads, each running one job at a time from the inbox.
/// A job's slot hands over with one compare-and-swap (see <see cref="Worker"/>), so each job is reported
/// exactly once: by its worker, by shutdown (aborted) or by the timeout watchdog (orphaned). Specialised
/// on the inbox's type, so the embedded queue's calls are direct.
/// </summary>
internal sealed class ThreadDispatcher<TInbox> : IDispatcher where TInbox : IInbox
{
    /// <summary>How long shutdown waits, after aborting running tasks, for idle workers to leave the inbox (real time).</summary>
    private static readonly TimeSpan IdleWorkerGrace = TimeSpan.FromSeconds(1);

    private readonly RunContext _run;
    private readonly JobLifecycle _lifecycle;
    private readonly TInbox _inbox;
    private readonly WorkerList _workers;
    private readonly TimeProvider _time;
    private readonly Action<TaskDeadline> _orphan;
    private readonly int _threads;
    private readonly int _maxOrphans;
    private int _orphans;     // tasks stuck on orphaned workers right now
    private int _unreplaced;  // orphaned workers not replaced because the cap was reached

    public ThreadDispatcher(RunContext run, JobLifecycle lifecycle, TInbox inbox, WorkerList workers)
    {
        _run = run;
        _lifecycle = lifecycle;
        _inbox = inbox;
        _workers = workers;
        _time = run.Time;
        _orphan = Orphan;
        _threads = run.Settings.Threads;
        _maxOrphans = run.Settings.MaxOrphanedWorkers;
    }

    public string Initialized => $"thread pool initialized ({_threads} threads)";

    public int SlotsLost => Volatile.Read(ref _unreplaced);

    public int StuckTasks => Volatile.Read(ref _orphans);

    public void Start()
    {
        for (int i = 0; i < _threads; i++) StartWorker();
    }

    public Task DrainAsync() => Task.WhenAll(_workers.Snapshot.Select(w => w.Exited.Task));

    public async Task AbortRunningAsync(List<string> aborted)
    {
        var idle = new List<Task>();
        foreach (var worker in _workers.Snapshot)
        {
            if (worker.Close() is { } message) _lifecycle.Abort(message, aborted);
            else idle.Add(worker.Exited.Task);
        }
        _run.CancelOffThread(_run.Aborting, "shutdown's abort");

        // Workers that were not running a task are leaving the inbox or finishing a task's bookkeeping;
        // let them, so the counts add up and nothing logs after the files close.
        try
        {
            await Task.WhenAll(idle).WaitAsync(IdleWorkerGrace).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _run.Logs.Main.ZLogWarning($"{idle.Count(t => !t.IsCompleted)} idle workers did not leave the queue within {IdleWorkerGrace.TotalSeconds} s");
        }
    }

    public JobCounts Close()
    {
        var workers = _workers.Snapshot;
        return new JobCounts(workers.Sum(w => w.Started), workers.Sum(w => w.Succeeded),
            workers.Sum(w => w.Failed), workers.Sum(w => Interlocked.Read(ref w.TimedOut)));
    }

    private void StartWorker()
    {
        var worker = _workers.Add();
        worker.Thread = new Thread(() => WorkerLoop(worker))
        {
            IsBackground = true, // a task stuck past shutdown must not keep the process alive
            Name = $"{_run.Settings.EngineName} worker {worker.Index + 1}",
        };
        worker.Thread.Start();
    }

    // ---------------------------------------------------------------- the worker thread

    private void WorkerLoop(Worker worker)
    {
        var stopping = _run.Stopping;
        long previousEnd = 0; // when the last job ended, if nothing came between it and this take
        try
        {
            while (!stopping.IsCancellationRequested && !_run.Ended)
            {
                try
                {
                    long chained = previousEnd;
                    previousEnd = 0;
                    var message = _inbox.Take(worker, stopping, out bool immediate);
                    if (message is null) continue;
                    if (stopping.IsCancellationRequested || !worker.TryBegin(message))
                    {
                        _lifecycle.ReturnUnstarted(message);
                        break;
                    }
                    // One clock read per job where it can be: a worker that took its next job without waiting,
                    // after a job that ended quietly (EndsQuietly), starts it when the last one ended, so a
                    // duration also holds the take, well under the 0.1 ms the logs show.
                    long started = immediate && chained != 0 ? chained : _time.GetTimestamp();
                    if (!Run(worker, message, started, out previousEnd)) break; // the slot was taken from it: aborted or orphaned
                }
                catch (Exception e) when (!_run.Ended)
                {
                    // Something unforeseen: the worker logs it and goes on.
                    _run.Logs.Main.ZLogError(e, $"worker {worker.Index + 1}: {e.GetType().Name}: {LogText.Escape(e.Message)}");
                }
            }
        }
        catch (Exception) when (_run.Ended)
        {
            // The run is over and its logs are closed: an orphaned worker leaves without a word.
        }
        finally
        {
            _inbox.HandBack(worker); // a batch it did not start
            worker.Exited.TrySetResult();
        }
    }

    /// <summary>Runs one job on its worker; false when the slot was taken from the worker meanwhile (it must leave).</summary>
    private bool Run(Worker worker, TempestMessage message, long started, out long ended)
    {
        _lifecycle.Start(message);
        TaskDeadline? deadline = null;
        Microsoft.Extensions.DependencyInjection.IServiceScope? scope = null;
        TempestTask? task = null;
        Exception? error = null;
        try
        {
            try
            {
                // Only a task with a timeout pays for a token source and a timer.
                if (message.Timeout is { } timeout) deadline = new TaskDeadline(_run, _orphan, worker, message, started, timeout);
                scope = _lifecycle.CreateScope(message);
                task = _lifecycle.CreateTask(message, scope);
                if (deadline is not null) deadline.Task = task;
                using var span = Telemetry.RunTelemetry.Enter(message);
                var processed = message.InvokeAsync(task, deadline?.Token ?? _run.JobToken(message));
                if (!processed.IsCompletedSuccessfully) processed.AsTask().GetAwaiter().GetResult();
            }
            catch (Exception e)
            {
                error = e;
            }

            bool expired = deadline?.Close() ?? false; // decided once: a deadline that passes from here on does not count
            bool slotKept = deadline is null ? worker.TryEnd(message) : worker.TryEndTimed(message);
            ended = _time.GetTimestamp();
            double seconds = _time.GetElapsedTime(started, ended).TotalSeconds;
            if (!slotKept)
            {
                if (worker.Orphaned) OrphanReturned(worker, message, seconds);
                return false;
            }

            var status = JobLifecycle.StatusOf(expired, error);
            switch (status)
            {
                case TempestTaskStatus.Success: worker.Succeeded++; break;
                case TempestTaskStatus.Failure: worker.Failed++; break;
                default: Interlocked.Increment(ref worker.TimedOut); break;
            }
            _lifecycle.End(message, task, status, error, seconds);
            if (!(status == TempestTaskStatus.Success && deadline is null && scope is null && _lifecycle.EndsQuietly(message))) ended = 0;
            return true;
        }
        finally
        {
            deadline?.Dispose();
            scope?.Dispose(); // after the callbacks: a scoped service lives for the whole job
        }
    }

    // ---------------------------------------------------------------- tasks that will not stop

    /// <summary>
    /// Called on a timer thread when a task ignored its cancelled token and an interrupt: the slot is given
    /// up, the task reported <c>timeout</c>, and a new worker takes the slot's place unless the cap of
    /// orphans is reached.
    /// </summary>
    private void Orphan(TaskDeadline deadline)
    {
        try
        {
            OrphanWorker(deadline);
        }
        catch (Exception e) when (!_run.Ended)
        {
            // This runs on a timer thread, where an escaping exception would end the process.
            _run.Logs.Main.ZLogError(e, $"{{{deadline.Message.Id}}} <{deadline.Message.TaskName}> orphaning its worker failed: {LogText.Escape(e.Message)}");
        }
        catch (Exception) when (_run.Ended)
        {
        }
    }

    private void OrphanWorker(TaskDeadline deadline)
    {
        var worker = deadline.Worker;
        var message = deadline.Message;
        if (_run.Ended || !worker.TryOrphan(message)) return;
        try
        {
            Interlocked.Increment(ref worker.TimedOut);
            double seconds = _time.GetElapsedTime(deadline.Started).TotalSeconds;
            _run.Logs.Main.ZLogWarning($"{{{message.Id}}} <{message.TaskName}> ignored its timeout, its cancelled token and an interrupt: worker {worker.Index + 1} is orphaned");
            _inbox.HandBack(worker); // its stuck thread will not start them
            // Callbacks run here, on the watchdog's thread, while the stuck code may still hold the task instance.
            _lifecycle.End(message, deadline.Task, TempestTaskStatus.Timeout, null, seconds);
        }
        finally
        {
            ReplaceOrphan(worker);
            worker.Exited.TrySetResult(); // only now: shutdown must not close the logs under the report above
        }
    }

    /// <summary>Starts a worker in the orphan's place, unless too many tasks are stuck at once.</summary>
    private void ReplaceOrphan(Worker orphan)
    {
        int stuck = Interlocked.Increment(ref _orphans);
        if (_run.Stopping.IsCancellationRequested) return;
        if (stuck > _maxOrphans)
        {
            Interlocked.Increment(ref _unreplaced);
            _inbox.SlotLost();
            int live = _workers.Snapshot.Count(w => !w.Orphaned);
            _run.Logs.Main.ZLogCritical($"engine unhealthy: {stuck} tasks stuck on orphaned workers (the cap is {_maxOrphans}); running on with {live} of {_threads} workers");
            return;
        }
        StartWorker();
        _run.Logs.Main.ZLogWarning($"{stuck} orphaned tasks still running beside the {_threads} slots; a new worker took worker {orphan.Index + 1}'s place");
    }

    /// <summary>The stuck code of an orphaned worker returned at last: it is no longer stuck, and a slot left empty at the cap is filled again.</summary>
    private void OrphanReturned(Worker worker, TempestMessage message, double seconds)
    {
        _run.Logs.Main.ZLogWarning($"{{{message.Id}}} <{message.TaskName}> returned after {seconds:0.0000} s on orphaned worker {worker.Index + 1}; it had already timed out");
        Interlocked.Decrement(ref _orphans);
        int unreplaced = Volatile.Read(ref _unreplaced);
        while (unreplaced > 0)
        {
            int seen = Interlocked.CompareExchange(ref _unreplaced, unreplaced - 1, unreplaced);
            if (seen == unreplaced)
            {
                if (!_run.Stopping.IsCancellationRequested)
                {
                    _inbox.SlotRegained();
                    StartWorker();
                    _run.Logs.Main.ZLogWarning($"worker {worker.Index + 1}'s task returned; a new worker fills the slot left empty at the cap");
                }
                return;
            }
            unreplaced = seen;
        }
    }
}
