using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TaskTempest.Logging;
using TaskTempest.Queues;
using TaskTempest.Wire;
using ZLogger;

namespace TaskTempest.Engine;

/// <summary>
/// One <c>Run</c> of an engine in thread-pool mode: its logs, its worker threads and its stop signal.
/// The job's life on a worker: dequeue, parse if raw (bad input is dead-lettered), claim the worker's
/// slot, log <c>started</c>, call Process, log the final status, tell the queue the message's fate.
/// </summary>
internal sealed partial class EngineRun(TempestEngine engine)
{
    /// <summary>How long shutdown waits, after aborting running tasks, for idle workers to leave the queue (real time).</summary>
    private static readonly TimeSpan IdleWorkerGrace = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between dequeue attempts on a failing queue (unless the poll interval is longer).</summary>
    private static readonly TimeSpan MaxDequeueBackoff = TimeSpan.FromSeconds(30);

    // Neither source is disposed: they own no timer, and a task stuck past shutdown may still hold a token.
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _aborting = new(); // the token Process methods receive
    private readonly TaskCompletionSource<TempestStopReason> _stopRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TimeProvider _time = engine.Options.TimeProvider;
    private readonly ITempestQueue _queue = engine.Queue;
    private readonly IAcknowledgingTempestQueue? _acknowledging = engine.Queue as IAcknowledgingTempestQueue;
    // The embedded queue is called directly (no interface call or ValueTask per job), and its
    // acknowledgement, which does nothing, is not called at all.
    private readonly TempestMemoryQueue? _memoryQueue = engine.Queue as TempestMemoryQueue;
    private readonly bool _acknowledges = engine.Queue is IAcknowledgingTempestQueue and not TempestMemoryQueue;
    private TimeSpan _pollInterval;
    private int _stopFlag;
    private volatile bool _ended; // the logs are closed: late workers must not log, and leave quietly
    private TimeSpan _timeoutGrace;
    private int _maxOrphans;
    private TimeSpan _shutdownTimeout;
    private bool _taskEvents; // whether the engine has after-task hooks: without, the hot path builds no events
    private readonly Lock _workersLock = new();
    private readonly List<Worker> _workers = []; // grows when orphaned workers are replaced
    private Worker[] _workerSnapshot = [];
    private int _orphans;     // tasks stuck on orphaned workers right now
    private int _unreplaced;  // orphaned workers not replaced because the cap was reached
    private TempestLogs _logs = null!;
    private TempestCallbackFailure _callbackFailed = null!;

    private TempestEngine Engine => engine;

    public void RequestStop(TempestStopReason reason)
    {
        if (Interlocked.Exchange(ref _stopFlag, 1) != 0) return;
        try
        {
            _stopping.Cancel(); // first, so workers stop dequeuing before Run can go on and return
        }
        finally
        {
            // Even if a queue's registration on the token threw, Run must learn that it has to stop.
            _stopRequested.TrySetResult(reason);
        }
    }

    public async Task<TempestRunResult> ExecuteAsync(CancellationToken cancellationToken)
    {
        // Before anything else, as the original: the hooks may load the host application or set options (Root...).
        engine.RaiseBeforeInitialize();
        var options = engine.Options;
        var configuration = engine.Configuration;
        _shutdownTimeout = options.ShutdownTimeout ?? configuration.ShutdownTimeout;
        _pollInterval = options.QueuePollInterval ?? configuration.QueuePollInterval;
        _timeoutGrace = options.TimeoutGrace;
        _maxOrphans = options.MaxOrphanedWorkers ?? engine.Threads;
        _taskEvents = engine.HasTaskHooksInternal;
        ValidateTimings();
        _logs = new TempestLogs(engine.Name, configuration, options);
        _callbackFailed = OnCallbackFailed;
        try
        {
            return await RunWorkersAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _ended = true;
            _logs.Dispose(); // flushes the files the engine opened
        }
    }

    private async Task<TempestRunResult> RunWorkersAsync(CancellationToken cancellationToken)
    {
        var main = _logs.Main;
        main.ZLogInformation($"logging initialized");

        using var cancelled = cancellationToken.Register(static s => ((EngineRun)s!).RequestStop(TempestStopReason.Cancelled), this);
        using var interrupt = engine.Options.HandleSignals ? OnSignal(PosixSignal.SIGINT, TempestStopReason.Interrupt) : null;
        using var terminate = engine.Options.HandleSignals ? OnSignal(PosixSignal.SIGTERM, TempestStopReason.Terminate) : null;

        var loop = engine.Fibers > 0 ? new CooperativeLoop(this, engine.Fibers) : null;
        if (loop is null) main.ZLogInformation($"thread pool initialized ({engine.Threads} threads)");
        else main.ZLogInformation($"fiber pool initialized ({engine.Fibers} fibers on one event loop)");
        main.ZLogInformation($"dispatcher initialized (queue: {_queue.GetType().Name})");
        engine.RaiseAfterInitialize(main); // before the first task, as the original's after_initialize
        if (loop is null)
        {
            for (int i = 0; i < engine.Threads; i++) StartWorker();
        }
        else
        {
            loop.Start();
        }

        var reason = await _stopRequested.Task.ConfigureAwait(false);
        var timeout = _shutdownTimeout;
        // Enums go in as text: ZLogger formats enum holes through a lookup that fails under NativeAOT.
        main.ZLogInformation($"shutdown requested ({reason.ToString()}): waiting up to {FormatTimeout(timeout)} for running tasks");

        var aborted = new List<string>();
        try
        {
            var drained = loop?.Drained ?? Task.WhenAll(Workers.Select(w => w.Exited.Task));
            await drained.WaitAsync(timeout, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            if (loop is null) await AbortRunningTasksAsync(aborted).ConfigureAwait(false);
            else await loop.AbortRunningAsync(aborted).ConfigureAwait(false);
        }

        TempestRunResult result;
        if (loop is null)
        {
            // Batches still held (by workers stuck in aborted tasks, say) go back before the queue is counted.
            HandBackAllBatches();
            var workers = Workers;
            result = new TempestRunResult(reason, workers.Sum(w => w.Started), workers.Sum(w => w.Succeeded),
                workers.Sum(w => w.Failed), workers.Sum(w => Interlocked.Read(ref w.TimedOut)), aborted);
        }
        else
        {
            loop.Close();
            result = new TempestRunResult(reason, loop.Started, loop.Succeeded, loop.Failed, loop.TimedOut, aborted);
        }
        if (_queue is ICountingTempestQueue counting)
        {
            try
            {
                long left = await counting.CountAsync().ConfigureAwait(false);
                main.ZLogInformation($"shutdown: {left} messages left in the queue");
            }
            catch (Exception e)
            {
                main.ZLogWarning(e, $"shutdown: the queue could not say how many messages are left: {LogText.Escape(e.Message)}");
            }
        }
        main.ZLogInformation($"shutdown: {result}");
        return result;
    }

    private void ValidateTimings()
    {
        // Checked when Run starts, not when shutdown first needs them.
        if (_shutdownTimeout != Timeout.InfiniteTimeSpan && (_shutdownTimeout < TimeSpan.Zero || _shutdownTimeout.TotalMilliseconds > int.MaxValue))
            throw new ArgumentOutOfRangeException("options", _shutdownTimeout,
                "ShutdownTimeout must be between 0 and 24 days, or Timeout.InfiniteTimeSpan to wait forever.");
        if (_timeoutGrace < TimeSpan.Zero || _timeoutGrace.TotalMilliseconds > int.MaxValue)
            throw new ArgumentOutOfRangeException("options", _timeoutGrace, "TimeoutGrace must be between 0 and 24 days.");
        if (_maxOrphans < 0)
            throw new ArgumentOutOfRangeException("options", _maxOrphans, "MaxOrphanedWorkers cannot be negative.");
        var threshold = engine.Options.LoopBlockedThreshold;
        if (threshold <= TimeSpan.Zero || threshold.TotalMilliseconds > int.MaxValue)
            throw new ArgumentOutOfRangeException("options", threshold, "LoopBlockedThreshold must be more than 0 and at most 24 days.");
        if (_pollInterval <= TimeSpan.Zero || _pollInterval.TotalMilliseconds > int.MaxValue)
            throw new ArgumentOutOfRangeException("options", _pollInterval,
                "QueuePollInterval must be more than 0 (a queue that cannot wait would be polled in a busy loop) and at most 24 days.");
    }

    private PosixSignalRegistration OnSignal(PosixSignal signal, TempestStopReason reason) =>
        PosixSignalRegistration.Create(signal, context =>
        {
            // Every SIGINT/SIGTERM means "stop gracefully": tools such as `timeout` and process supervisors
            // often deliver one twice (to the process and to its group), and the stop is bounded by the
            // shutdown timeout anyway. SIGKILL remains for forcing.
            context.Cancel = true;
            RequestStop(reason);
        });

    private async Task AbortRunningTasksAsync(List<string> aborted)
    {
        var idle = new List<Task>();
        foreach (var worker in Workers)
        {
            if (worker.Close() is not { } message)
            {
                idle.Add(worker.Exited.Task);
                continue;
            }
            aborted.Add(message.Id!);
            _logs.Main.ZLogWarning($"{{{message.Id}}} <{message.TaskName}> aborted");
            await ReturnToQueueAsync(message, "it was aborted").ConfigureAwait(false);
        }
        // On the thread pool: cancelling runs the tasks' own registrations and continuations, which may
        // block or throw, and Run must return within its bound whatever they do.
        CancelOffThread(_aborting, "shutdown's abort");

        // Workers that were not running a task are leaving the queue or finishing a task's bookkeeping;
        // let them, so the counts add up and nothing logs after the files close.
        try
        {
            await Task.WhenAll(idle).WaitAsync(IdleWorkerGrace).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _logs.Main.ZLogWarning($"{idle.Count(t => !t.IsCompleted)} idle workers did not leave the queue within {IdleWorkerGrace.TotalSeconds} s");
        }
    }

    private void CancelOffThread(CancellationTokenSource source, string what) =>
        ThreadPool.UnsafeQueueUserWorkItem(static state =>
        {
            var (run, source, what) = state;
            try
            {
                source.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The job ended and disposed its deadline meanwhile: nothing left to cancel.
            }
            catch (AggregateException e) when (!run._ended)
            {
                run._logs.Main.ZLogWarning(e, $"cancelling for {what}: a task's cancellation callback threw: {LogText.Escape(e.InnerException?.Message)}");
            }
            catch (AggregateException)
            {
            }
        }, (this, source, what), preferLocal: false);

    /// <summary>Puts back a message that was dequeued but never started: the embedded queue does not count it as another delivery.</summary>
    private ValueTask ReturnUnstartedAsync(TempestMessage message, string why)
    {
        if (_memoryQueue is null) return ReturnToQueueAsync(message, why);
        _memoryQueue.Requeue(message);
        return default;
    }

    private async ValueTask ReturnToQueueAsync(TempestMessage message, string why)
    {
        if (_acknowledging is null)
        {
            _logs.Main.ZLogWarning($"{{{message.Id}}} <{message.TaskName}> lost: {why} and the queue cannot take messages back");
            return;
        }
        try
        {
            await _acknowledging.ReturnAsync(message).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logs.Main.ZLogError(e, $"{{{message.Id}}} <{message.TaskName}> could not be returned to the queue: {LogText.Escape(e.Message)}");
        }
    }

    /// <summary>Every worker started so far (a snapshot: idle workers read it to steal, without a lock).</summary>
    private Worker[] Workers => Volatile.Read(ref _workerSnapshot);

    private void StartWorker()
    {
        Worker worker;
        lock (_workersLock)
        {
            worker = new Worker(_workers.Count);
            _workers.Add(worker);
            Volatile.Write(ref _workerSnapshot, [.. _workers]);
        }
        worker.Thread = new Thread(() => WorkerLoop(worker))
        {
            IsBackground = true, // a task stuck past shutdown must not keep the process alive
            Name = $"{engine.Name} worker {worker.Index + 1}",
        };
        worker.Thread.Start();
    }

    private static string FormatTimeout(TimeSpan timeout) =>
        timeout == Timeout.InfiniteTimeSpan ? "forever" : $"{timeout.TotalSeconds:0.###} s";

    // ---------------------------------------------------------------- the worker thread

    private void WorkerLoop(Worker worker)
    {
        var stopping = _stopping.Token;
        long previousEnd = 0; // when the last job ended, if nothing came between it and this dequeue
        try
        {
            while (!stopping.IsCancellationRequested && !_ended)
            {
                try
                {
                    long chained = previousEnd;
                    previousEnd = 0;
                    var message = Dequeue(worker, stopping, out bool immediate);
                    if (message is null) continue;
                    if (stopping.IsCancellationRequested || !worker.TryBegin(message))
                    {
                        // Taken while the engine was stopping: not started, so not lost.
                        Wait(ReturnUnstartedAsync(message, "it was dequeued while stopping"));
                        break;
                    }
                    // One clock read per job where it can be (the clock costs ~30 ns here): a worker that took
                    // its next job without waiting, after a job that ended quietly (EndsQuietly), starts it when
                    // the last one ended, so a duration also holds the dequeue, well under the 0.1 ms the logs show.
                    long started = immediate && chained != 0 ? chained : _time.GetTimestamp();
                    if (!Execute(worker, message, started, out previousEnd)) break; // the slot was taken from it: aborted or orphaned
                }
                catch (Exception e) when (!_ended)
                {
                    // A queue call that threw, or something unforeseen: the worker logs it and goes on.
                    _logs.Main.ZLogError(e, $"worker {worker.Index + 1}: {e.GetType().Name}: {LogText.Escape(e.Message)}");
                }
            }
        }
        catch (Exception) when (_ended)
        {
            // The run is over and its logs are closed: an orphaned worker leaves without a word.
        }
        finally
        {
            if (_memoryQueue is { } memory) HandBack(memory, worker); // a batch it did not start
            worker.Exited.TrySetResult();
        }
    }

    /// <summary>The next message (parsed if raw), or null to loop; <paramref name="immediate"/> when it was taken without waiting.</summary>
    private TempestMessage? Dequeue(Worker worker, CancellationToken stopping, out bool immediate)
    {
        TempestMessage? message;
        immediate = false;
        try
        {
            if (_memoryQueue is { } memory)
            {
                message = TakeFromMemoryQueue(memory, worker, stopping, out immediate);
            }
            else
            {
                var dequeued = _queue.DequeueAsync(stopping);
                message = dequeued.IsCompletedSuccessfully ? dequeued.Result : dequeued.AsTask().GetAwaiter().GetResult();
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception e) when (!_ended)
        {
            // A failing queue must not kill the worker, nor make it spin: log, back off, try again.
            int failures = ++worker.DequeueFailures;
            var backoff = TimeSpan.FromTicks(Math.Min(_pollInterval.Ticks << Math.Min(failures - 1, 16), Math.Max(MaxDequeueBackoff.Ticks, _pollInterval.Ticks)));
            _logs.Main.ZLogError(e, $"worker {worker.Index + 1}: dequeue failed ({failures} in a row): {LogText.Escape(e.Message)}; retrying in {backoff.TotalSeconds:0.###} s");
            Sleep(backoff, stopping);
            return null;
        }
        if (worker.DequeueFailures != 0) worker.DequeueFailures = 0;

        if (message is null)
        {
            Sleep(_pollInterval, stopping);
            return null;
        }
        return message is RawTempestMessage raw ? Parse(raw) : message;
    }

    private void Sleep(TimeSpan interval, CancellationToken stopping)
    {
        try { Task.Delay(interval, _time, stopping).Wait(CancellationToken.None); }
        catch (AggregateException e) when (e.InnerException is OperationCanceledException) { }
    }

    /// <summary>Turns another program's text into a typed message; bad input is logged and dead-lettered, never dropped silently.</summary>
    private TempestMessage? Parse(RawTempestMessage raw)
    {
        var message = TryParse(raw, out string? rejection);
        if (message is null) Wait(DeadLetterAsync(raw, rejection!));
        return message;
    }

    /// <summary>Parses a raw message; on bad input logs why (with the message's id, assigned if it had none) and returns null.</summary>
    private TempestMessage? TryParse(RawTempestMessage raw, out string? rejection)
    {
        try
        {
            var message = engine.ParseMessage(raw.Json);
            message.Attempts = raw.Attempts;
            message.Receipt = raw.Receipt;
            rejection = null;
            return message;
        }
        catch (TempestWireException e)
        {
            raw.Id ??= TryReadId(raw.Json) ?? TempestId.New();
            // The reason quotes the input (a task name, an argument): escaped and cut, as in the logs. The
            // dead letter keeps the raw text intact.
            rejection = LogText.Escape(e.Message);
            _logs.Main.ZLogError($"{{{raw.Id}}} {rejection}");
            _logs.Task.ZLogError($"{{{raw.Id}}} rejected message {LogText.Escape(raw.Json)}: {rejection}");
            return null;
        }
    }

    private ValueTask DeadLetterAsync(RawTempestMessage raw, string reason)
    {
        if (_acknowledging is not null) return _acknowledging.DeadLetterAsync(raw, reason);
        _logs.Main.ZLogWarning($"{{{raw.Id}}} dropped: the queue keeps no dead letters");
        return default;
    }

    /// <summary>The id of a message that failed to parse, if it has a usable one, so its log lines and dead letter carry it.</summary>
    private static string? TryReadId(string json)
    {
        try
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
            return reader.Read() && reader.TokenType == JsonTokenType.StartArray && reader.Read() && reader.TokenType == JsonTokenType.String
                   && reader.GetString() is { } id && TempestId.IsAcceptable(id) ? id : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Runs one job on its worker; false when the slot was taken from the worker meanwhile (it must leave).</summary>
    private bool Execute(Worker worker, TempestMessage message, long started, out long ended)
    {
        // Ids and wire names go into every line of a job unescaped: they are log-safe by construction
        // (TempestId.IsAcceptable for ids from outside, TT0011 for wire names).
        Debug.Assert(LogText.IsClean(message.Id) && LogText.IsClean(message.TaskName));
        _logs.Main.ZLogInformation($"{{{message.Id}}} <{message.TaskName}> started");
        if (_taskEvents) RaiseTaskEvent(message, null, TimeSpan.Zero);

        Deadline? deadline = null;
        IServiceScope? scope = null;
        try
        {
            return ProcessAndReport(worker, message, started, out ended, ref deadline, ref scope);
        }
        finally
        {
            deadline?.Dispose();
            scope?.Dispose();
        }
    }

    private bool ProcessAndReport(Worker worker, TempestMessage message, long started, out long ended, ref Deadline? deadline, ref IServiceScope? scope)
    {
        TempestTask? task = null;
        Exception? error = null;
        try
        {
            // Only a task with a timeout pays for a token source and a timer.
            if (message.Timeout is { } timeout) deadline = new Deadline(this, worker, message, started, timeout);
            // One DI scope per job that asks for services, disposed after its callbacks: a scoped service lives for one task.
            if (message.RequiresServices) scope = CreateScope(message);
            task = message.CreateTask(scope?.ServiceProvider);
            task.Attach(message, _logs.Task);
            if (deadline is not null) deadline.Task = task;
            var processed = message.InvokeAsync(task, deadline?.Token ?? _aborting.Token);
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

        var status = expired ? TempestTaskStatus.Timeout
            : error is null ? TempestTaskStatus.Success : TempestTaskStatus.Failure;
        switch (status)
        {
            case TempestTaskStatus.Success: worker.Succeeded++; break;
            case TempestTaskStatus.Failure: worker.Failed++; break;
            default: Interlocked.Increment(ref worker.TimedOut); break;
        }
        Finish(message, task, status, error, seconds);
        if (!(status == TempestTaskStatus.Success && deadline is null && scope is null && EndsQuietly(message))) ended = 0;
        return true;
    }

    /// <summary>
    /// Whether nothing after a successful job's end could take time (callbacks, hooks, its log line, an
    /// acknowledgement), so the next job may start at that end without another clock read.
    /// </summary>
    private bool EndsQuietly(TempestMessage message) =>
        !message.HasCallbacks && !_taskEvents && !_acknowledges && !_logs.Main.IsEnabled(LogLevel.Information);

    private IServiceScope CreateScope(TempestMessage message) =>
        (engine.Options.Services ?? throw new InvalidOperationException(
            $"The task {message.TaskName} takes services in its constructor, but the engine has no TempestOptions.Services."))
        .CreateScope();

    /// <summary>The end of a job, whoever saw it end: the final main-log line, the task log, callbacks, the queue.</summary>
    private void Finish(TempestMessage message, TempestTask? task, TempestTaskStatus status, Exception? error, double seconds)
    {
        Report(message, task, status, error, seconds);
        if (!_acknowledges) return;
        try
        {
            Wait(_acknowledging!.AcknowledgeAsync(message));
        }
        catch (Exception e) when (!_ended)
        {
            AcknowledgeFailed(message, e);
        }
    }

    /// <summary>The queue could not take the acknowledgement: the job's outcome stands; the queue may deliver it again, which at-least-once allows.</summary>
    private void AcknowledgeFailed(TempestMessage message, Exception e) =>
        _logs.Main.ZLogError(e, $"{{{message.Id}}} <{message.TaskName}> could not be acknowledged: {LogText.Escape(e.Message)}");

    /// <summary>Everything about a job's end but the queue: callbacks, the final main-log line, the task log, the hooks.</summary>
    private void Report(TempestMessage message, TempestTask? task, TempestTaskStatus status, Exception? error, double seconds)
    {
        // Callbacks first: once the final line is in the main log, everything about the job is done.
        if (task is not null) message.RunCallbacks(task, status, error, _callbackFailed);
        var main = _logs.Main;
        switch (status)
        {
            case TempestTaskStatus.Success:
                main.ZLogInformation($"{{{message.Id}}} <{message.TaskName}> success {seconds:0.0000}");
                break;
            case TempestTaskStatus.Failure:
                main.ZLogError($"{{{message.Id}}} <{message.TaskName}> failure {seconds:0.0000}");
                _logs.Task.ZLogError(error, $"{{{message.Id}}} <{message.TaskName}> failure");
                break;
            default:
                main.ZLogWarning($"{{{message.Id}}} <{message.TaskName}> timeout {seconds:0.0000}");
                if (error is not null and not OperationCanceledException and not ThreadInterruptedException)
                    _logs.Task.ZLogWarning(error, $"{{{message.Id}}} <{message.TaskName}> timeout; then Process threw");
                break;
        }
        if (_taskEvents) RaiseTaskEvent(message, status, TimeSpan.FromSeconds(seconds));
    }

    private void RaiseTaskEvent(TempestMessage message, TempestTaskStatus? status, TimeSpan duration)
    {
        var taskEvent = new TempestTaskEvent(message.Id!, message.TaskName, status, duration, _logs.Main);
        try
        {
            if (status is null) engine.RaiseTaskStarted(taskEvent);
            else engine.RaiseTaskFinished(taskEvent);
        }
        catch (Exception e)
        {
            string hook = status is null ? "after-task-started" : "after-task-finished";
            _logs.Main.ZLogWarning($"{{{message.Id}}} <{message.TaskName}> failure in {hook} hook");
            _logs.Task.ZLogWarning(e, $"{{{message.Id}}} <{message.TaskName}> failure in {hook} hook");
        }
    }

    private void OnCallbackFailed(TempestTask task, string callback, Exception exception)
    {
        // The task's status stands; the original's words, with the callback's name.
        _logs.Main.ZLogWarning($"{{{task.TaskId}}} <{task.TaskName}> failure in callback {callback}");
        _logs.Task.ZLogWarning(exception, $"{{{task.TaskId}}} <{task.TaskName}> failure in callback {callback}");
    }

    /// <summary>
    /// Called on a timer thread when a task ignored its cancelled token and an interrupt: the slot is
    /// given up, the task reported <c>timeout</c>, and a new worker takes the slot's place unless the
    /// cap of orphans is reached.
    /// </summary>
    private void Orphan(Deadline deadline)
    {
        try
        {
            OrphanWorker(deadline);
        }
        catch (Exception e) when (!_ended)
        {
            // This runs on a timer thread, where an escaping exception would end the process.
            _logs.Main.ZLogError(e, $"{{{deadline.Message.Id}}} <{deadline.Message.TaskName}> orphaning its worker failed: {LogText.Escape(e.Message)}");
        }
        catch (Exception) when (_ended)
        {
        }
    }

    private void OrphanWorker(Deadline deadline)
    {
        var worker = deadline.Worker;
        var message = deadline.Message;
        if (_ended || !worker.TryOrphan(message)) return;
        try
        {
            Interlocked.Increment(ref worker.TimedOut);
            double seconds = _time.GetElapsedTime(deadline.Started).TotalSeconds;
            _logs.Main.ZLogWarning($"{{{message.Id}}} <{message.TaskName}> ignored its timeout, its cancelled token and an interrupt: worker {worker.Index + 1} is orphaned");
            if (_memoryQueue is { } memory) HandBack(memory, worker); // its stuck thread will not start them
            // Callbacks run here, on the watchdog's thread, while the stuck code may still hold the task instance.
            Finish(message, deadline.Task, TempestTaskStatus.Timeout, null, seconds);
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
        if (_stopping.IsCancellationRequested) return;
        if (stuck > _maxOrphans)
        {
            Interlocked.Increment(ref _unreplaced);
            int live = Workers.Count(w => !w.Orphaned);
            _logs.Main.ZLogCritical($"engine unhealthy: {stuck} tasks stuck on orphaned workers (the cap is {_maxOrphans}); running on with {live} of {engine.Threads} workers");
            return;
        }
        StartWorker();
        _logs.Main.ZLogWarning($"{stuck} orphaned tasks still running beside the {engine.Threads} slots; a new worker took worker {orphan.Index + 1}'s place");
    }

    /// <summary>The stuck code of an orphaned worker returned at last: it is no longer stuck, and a slot left empty at the cap is filled again.</summary>
    private void OrphanReturned(Worker worker, TempestMessage message, double seconds)
    {
        _logs.Main.ZLogWarning($"{{{message.Id}}} <{message.TaskName}> returned after {seconds:0.0000} s on orphaned worker {worker.Index + 1}; it had already timed out");
        Interlocked.Decrement(ref _orphans);
        int unreplaced = Volatile.Read(ref _unreplaced);
        while (unreplaced > 0)
        {
            int seen = Interlocked.CompareExchange(ref _unreplaced, unreplaced - 1, unreplaced);
            if (seen == unreplaced)
            {
                if (!_stopping.IsCancellationRequested)
                {
                    StartWorker();
                    _logs.Main.ZLogWarning($"worker {worker.Index + 1}'s task returned; a new worker fills the slot left empty at the cap");
                }
                return;
            }
            unreplaced = seen;
        }
    }

    /// <summary>
    /// The timeout of one job: at the deadline its token is cancelled and it counts as <c>timeout</c>;
    /// one grace later its worker thread is interrupted; one more and the worker is orphaned.
    /// </summary>
    private sealed class Deadline : IDisposable
    {
        private readonly EngineRun _run;
        private readonly CancellationTokenSource _source;
        private readonly ITimer _timer;
        private readonly Lock _gate = new(); // the timer's steps never overlap Dispose
        private int _stage;
        private bool _disposed;
        private volatile bool _expired;

        public Deadline(EngineRun run, Worker worker, TempestMessage message, long started, TimeSpan timeout)
        {
            _run = run;
            Worker = worker;
            Message = message;
            Started = started;
            _source = CancellationTokenSource.CreateLinkedTokenSource(run._aborting.Token);
            _timer = run._time.CreateTimer(static s => ((Deadline)s!).Step(), this, timeout, System.Threading.Timeout.InfiniteTimeSpan);
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
                switch (++_stage)
                {
                    case 1:
                        _expired = true;
                        _timer.Change(_run._timeoutGrace, System.Threading.Timeout.InfiniteTimeSpan);
                        // Not here: cancelling may run the task's continuation inline, and it must not run
                        // on the timer's thread under this lock, where it could stall the escalation.
                        _run.CancelOffThread(_source, $"{{{Message.Id}}}'s timeout");
                        break;
                    case 2:
                        if (Worker.TryInterrupt(Message)) _timer.Change(_run._timeoutGrace, System.Threading.Timeout.InfiniteTimeSpan);
                        break;
                    default:
                        orphan = true;
                        break;
                }
            }
            // Outside the lock: orphaning logs, runs callbacks and starts a thread.
            if (orphan) _run.Orphan(this);
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

    private static void Wait(ValueTask pending)
    {
        if (!pending.IsCompletedSuccessfully) pending.AsTask().GetAwaiter().GetResult();
    }
}
