using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
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
internal sealed class EngineRun(TempestEngine engine)
{
    /// <summary>How long shutdown waits, after aborting running tasks, for idle workers to leave the queue (real time).</summary>
    private static readonly TimeSpan IdleWorkerGrace = TimeSpan.FromSeconds(1);

    // Neither source is disposed: they own no timer, and a task stuck past shutdown may still hold a token.
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _aborting = new(); // the token Process methods receive
    private readonly TaskCompletionSource<TempestStopReason> _stopRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TimeProvider _time = engine.Options.TimeProvider;
    private readonly ITempestQueue _queue = engine.Queue;
    private readonly IAcknowledgingTempestQueue? _acknowledging = engine.Queue as IAcknowledgingTempestQueue;
    private readonly TimeSpan _pollInterval = engine.Options.QueuePollInterval;
    private int _stopFlag;
    private volatile bool _ended; // the logs are closed: late workers must not log, and leave quietly
    private TempestLogs _logs = null!;
    private Worker[] _workers = [];

    public void RequestStop(TempestStopReason reason)
    {
        if (Interlocked.Exchange(ref _stopFlag, 1) != 0) return;
        _stopping.Cancel(); // first, so workers stop dequeuing before Run can go on and return
        _stopRequested.TrySetResult(reason);
    }

    public async Task<TempestRunResult> ExecuteAsync(CancellationToken cancellationToken)
    {
        var options = engine.Options;
        ValidateOptions(options);
        _logs = new TempestLogs(engine.Name, options);
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

        _workers = new Worker[engine.Threads];
        var threads = new Thread[engine.Threads];
        for (int i = 0; i < _workers.Length; i++)
        {
            var worker = _workers[i] = new Worker(i);
            threads[i] = new Thread(() => WorkerLoop(worker))
            {
                IsBackground = true, // a task stuck past shutdown must not keep the process alive
                Name = $"{engine.Name} worker {i + 1}",
            };
        }
        main.ZLogInformation($"thread pool initialized ({engine.Threads} threads)");
        main.ZLogInformation($"dispatcher initialized (queue: {_queue.GetType().Name})");
        foreach (var thread in threads) thread.Start();

        var reason = await _stopRequested.Task.ConfigureAwait(false);
        var timeout = engine.Options.ShutdownTimeout;
        // Enums go in as text: ZLogger formats enum holes through a lookup that fails under NativeAOT.
        main.ZLogInformation($"shutdown requested ({reason.ToString()}): waiting up to {FormatTimeout(timeout)} for running tasks");

        var aborted = new List<string>();
        try
        {
            await Task.WhenAll(_workers.Select(w => w.Exited.Task)).WaitAsync(timeout, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await AbortRunningTasksAsync(aborted).ConfigureAwait(false);
        }

        var result = new TempestRunResult(reason,
            _workers.Sum(w => w.Started), _workers.Sum(w => w.Succeeded), _workers.Sum(w => w.Failed), aborted);
        main.ZLogInformation($"shutdown: {result}");
        return result;
    }

    private static void ValidateOptions(TempestOptions options)
    {
        // Checked when Run starts, not when shutdown first needs them.
        if (options.ShutdownTimeout != Timeout.InfiniteTimeSpan
            && (options.ShutdownTimeout < TimeSpan.Zero || options.ShutdownTimeout.TotalMilliseconds > int.MaxValue))
            throw new ArgumentOutOfRangeException(nameof(options), options.ShutdownTimeout,
                "ShutdownTimeout must be between 0 and 24 days, or Timeout.InfiniteTimeSpan to wait forever.");
        if (options.QueuePollInterval <= TimeSpan.Zero || options.QueuePollInterval.TotalMilliseconds > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(options), options.QueuePollInterval,
                "QueuePollInterval must be more than 0 (a queue that cannot wait would be polled in a busy loop) and at most 24 days.");
    }

    private PosixSignalRegistration OnSignal(PosixSignal signal, TempestStopReason reason) =>
        PosixSignalRegistration.Create(signal, context =>
        {
            // The first signal stops gracefully; one that arrives while stopping ends the process as usual.
            context.Cancel = Volatile.Read(ref _stopFlag) == 0;
            RequestStop(reason);
        });

    private async Task AbortRunningTasksAsync(List<string> aborted)
    {
        var idle = new List<Task>();
        foreach (var worker in _workers)
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
        _aborting.Cancel();

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
            _logs.Main.ZLogError(e, $"{{{message.Id}}} <{message.TaskName}> could not be returned to the queue: {e.Message}");
        }
    }

    private static string FormatTimeout(TimeSpan timeout) =>
        timeout == Timeout.InfiniteTimeSpan ? "forever" : $"{timeout.TotalSeconds:0.###} s";

    // ---------------------------------------------------------------- the worker thread

    private void WorkerLoop(Worker worker)
    {
        var stopping = _stopping.Token;
        try
        {
            while (!stopping.IsCancellationRequested && !_ended)
            {
                try
                {
                    var message = Dequeue(worker, stopping);
                    if (message is null) continue;
                    if (stopping.IsCancellationRequested || !worker.TryBegin(message))
                    {
                        // Taken while the engine was stopping: not started, so not lost.
                        Wait(ReturnToQueueAsync(message, "it was dequeued while stopping"));
                        break;
                    }
                    Execute(worker, message);
                }
                catch (Exception e) when (!_ended)
                {
                    // A queue call that threw, or something unforeseen: the worker logs it and goes on.
                    _logs.Main.ZLogError(e, $"worker {worker.Index + 1}: {e.GetType().Name}: {e.Message}");
                }
            }
        }
        catch (Exception) when (_ended)
        {
            // The run is over and its logs are closed: an orphaned worker leaves without a word.
        }
        finally
        {
            worker.Exited.TrySetResult();
        }
    }

    private TempestMessage? Dequeue(Worker worker, CancellationToken stopping)
    {
        TempestMessage? message;
        try
        {
            var dequeued = _queue.DequeueAsync(stopping);
            message = dequeued.IsCompletedSuccessfully ? dequeued.Result : dequeued.AsTask().GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception e) when (!_ended)
        {
            // A failing queue must not kill the worker, nor make it spin: log, wait, try again.
            _logs.Main.ZLogError(e, $"worker {worker.Index + 1}: dequeue failed: {e.Message}");
            Sleep(stopping);
            return null;
        }

        if (message is null)
        {
            Sleep(stopping);
            return null;
        }
        return message is RawTempestMessage raw ? Parse(raw) : message;
    }

    private void Sleep(CancellationToken stopping)
    {
        try { Task.Delay(_pollInterval, _time, stopping).Wait(CancellationToken.None); }
        catch (AggregateException e) when (e.InnerException is OperationCanceledException) { }
    }

    /// <summary>Turns another program's text into a typed message; bad input is logged and dead-lettered, never dropped silently.</summary>
    private TempestMessage? Parse(RawTempestMessage raw)
    {
        try
        {
            var message = engine.ParseMessage(raw.Json);
            message.Attempts = raw.Attempts;
            message.Receipt = raw.Receipt;
            return message;
        }
        catch (TempestWireException e)
        {
            raw.Id ??= TryReadId(raw.Json) ?? TempestId.New();
            _logs.Main.ZLogError($"{{{raw.Id}}} {e.Message}");
            _logs.Task.ZLogError($"{{{raw.Id}}} rejected message {raw.Json}: {e.Message}");
            if (_acknowledging is not null)
                Wait(_acknowledging.DeadLetterAsync(raw, e.Message));
            else
                _logs.Main.ZLogWarning($"{{{raw.Id}}} dropped: the queue keeps no dead letters");
            return null;
        }
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

    private void Execute(Worker worker, TempestMessage message)
    {
        var main = _logs.Main;
        long started = _time.GetTimestamp();
        main.ZLogInformation($"{{{message.Id}}} <{message.TaskName}> started");

        Exception? error = null;
        try
        {
            var task = message.CreateTask();
            task.Attach(message, _logs.Task);
            var processed = message.InvokeAsync(task, _aborting.Token);
            if (!processed.IsCompletedSuccessfully) processed.AsTask().GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            error = e;
        }

        if (!worker.TryEnd(message)) return; // shutdown reported it aborted and returned its message
        double seconds = _time.GetElapsedTime(started).TotalSeconds;
        if (error is null)
        {
            worker.Succeeded++;
            main.ZLogInformation($"{{{message.Id}}} <{message.TaskName}> success {seconds:0.0000}");
        }
        else
        {
            worker.Failed++;
            main.ZLogError($"{{{message.Id}}} <{message.TaskName}> failure {seconds:0.0000}");
            _logs.Task.ZLogError(error, $"{{{message.Id}}} <{message.TaskName}> failure");
        }
        if (_acknowledging is not null) Wait(_acknowledging.AcknowledgeAsync(message));
    }

    private static void Wait(ValueTask pending)
    {
        if (!pending.IsCompletedSuccessfully) pending.AsTask().GetAwaiter().GetResult();
    }
}
