using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using TaskTempest.Engine;
using TaskTempest.Logging;
using TaskTempest.Queues;
using TaskTempest.Wire;
using ZLogger;

namespace TaskTempest;

/// <summary>
/// The base of every engine. A user writes <c>[Tempest] partial class MathTempest;</c> and the
/// generator completes it: constructors, a static <c>Default</c> instance, one typed
/// <c>Submit{Task}</c> method per task and the dispatch table that turns wire messages into typed ones.
/// Engines are ordinary instances: several can run side by side in one process.
/// </summary>
public abstract class TempestEngine
{
    private readonly TempestEngineConfiguration _configuration;
    private readonly TempestWire.ArgumentsReader _argumentsReader;
    private ITempestQueue? _queue;
    private RunState? _run;

    /// <summary>Called by the generated constructors.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected TempestEngine(TempestEngineConfiguration configuration, TempestOptions? options)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (configuration.Threads <= 0) throw new ArgumentOutOfRangeException(nameof(configuration), "Threads must be at least 1.");
        _configuration = configuration;
        Options = options ?? new TempestOptions();
        _argumentsReader = ReadMessage;
    }

    /// <summary>The engine's name: log file names and log lines.</summary>
    public string Name => _configuration.Name;

    /// <summary>Worker threads, and so the most tasks that run at once.</summary>
    public int Threads => _configuration.Threads;

    /// <summary>Run-time settings; change them before the first submit (queue) or before <c>Run</c> (the rest).</summary>
    public TempestOptions Options { get; }

    /// <summary>The queue: <see cref="TempestOptions.Queue"/>, or an in-memory queue made at first use.</summary>
    public ITempestQueue Queue => Volatile.Read(ref _queue) ?? InitializeQueue();

    private ITempestQueue InitializeQueue()
    {
        var queue = Options.Queue ?? new TempestMemoryQueue(Options.TimeProvider);
        return Interlocked.CompareExchange(ref _queue, queue, null) ?? queue;
    }

    /// <summary>Whether <c>Run</c> is in progress.</summary>
    public bool IsRunning => Volatile.Read(ref _run) is not null;

    // ------------------------------------------------------------------ submit

    /// <summary>Assigns the message its id and enqueues it. Generated <c>Submit{Task}</c> methods call this.</summary>
    /// <returns>The message id.</returns>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected string Submit(TempestMessage message)
    {
        string id = AssignId(message);
        var enqueued = Queue.EnqueueAsync(message);
        if (!enqueued.IsCompletedSuccessfully) enqueued.AsTask().GetAwaiter().GetResult();
        return id;
    }

    /// <summary>Assigns the message its id and enqueues it without blocking. Generated <c>Submit{Task}Async</c> methods call this.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected async ValueTask<string> SubmitAsync(TempestMessage message, CancellationToken cancellationToken)
    {
        string id = AssignId(message);
        await Queue.EnqueueAsync(message, cancellationToken).ConfigureAwait(false);
        return id;
    }

    private static string AssignId(TempestMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return message.Id ??= TempestId.New();
    }

    // ------------------------------------------------------------------ wire

    /// <summary>
    /// The generated dispatch table: a <c>switch</c> on <paramref name="taskName"/> that reads the
    /// task's typed arguments, or <see langword="null"/> for a task this engine does not know.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected abstract TempestMessage? ReadMessage(string taskName, ref Utf8JsonReader reader);

    /// <summary>Parses wire-format JSON (<c>["id","Adder",2,5]</c>) into this engine's typed message.</summary>
    /// <exception cref="TempestWireException">Malformed, an unknown task, or arguments that do not fit.</exception>
    public TempestMessage ParseMessage(ReadOnlySpan<byte> utf8Json) => TempestWire.Parse(utf8Json, _argumentsReader);

    /// <inheritdoc cref="ParseMessage(ReadOnlySpan{byte})"/>
    public TempestMessage ParseMessage(string json) => ParseMessage(Encoding.UTF8.GetBytes(json));

    // ------------------------------------------------------------------ run

    /// <summary>
    /// Runs the engine on this thread until it is stopped: by SIGINT or SIGTERM (unless
    /// <see cref="TempestOptions.HandleSignals"/> is off), by <see cref="Stop"/>, or by
    /// <paramref name="cancellationToken"/>. Then it stops dequeuing, lets running tasks finish within
    /// <see cref="TempestOptions.ShutdownTimeout"/>, reports the rest <c>aborted</c> (their messages go
    /// back to the queue) and returns. It never exits the process.
    /// </summary>
    public TempestRunResult Run(CancellationToken cancellationToken = default) =>
        RunAsync(cancellationToken).GetAwaiter().GetResult();

    /// <inheritdoc cref="Run"/>
    public async Task<TempestRunResult> RunAsync(CancellationToken cancellationToken = default)
    {
        var run = new RunState(this);
        if (Interlocked.CompareExchange(ref _run, run, null) is not null)
            throw new InvalidOperationException($"The engine {Name} is already running.");
        try
        {
            return await run.ExecuteAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            run.Dispose();
            Volatile.Write(ref _run, null);
        }
    }

    /// <summary>Asks a running engine to stop gracefully; <c>Run</c> returns once it has. No effect when not running.</summary>
    public void Stop() => Volatile.Read(ref _run)?.RequestStop(TempestStopReason.StopRequested);

    /// <summary>One run: its logs, workers and stop signal.</summary>
    private sealed class RunState(TempestEngine engine) : IDisposable
    {
        private readonly CancellationTokenSource _stopping = new();
        // Cancelled when shutdown gives up on running tasks: the token their Process methods receive.
        private readonly CancellationTokenSource _aborting = new();
        private readonly TaskCompletionSource<TempestStopReason> _stopRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TimeProvider _time = engine.Options.TimeProvider;
        private readonly ITempestQueue _queue = engine.Queue;
        private IAcknowledgingTempestQueue? Acknowledging => _queue as IAcknowledgingTempestQueue;
        private TempestLogs _logs = null!;
        private Worker[] _workers = [];

        public void RequestStop(TempestStopReason reason)
        {
            if (_stopRequested.TrySetResult(reason)) _stopping.Cancel();
        }

        public async Task<TempestRunResult> ExecuteAsync(CancellationToken cancellationToken)
        {
            _logs = new TempestLogs(engine.Name, engine.Options);
            var main = _logs.Main;
            main.ZLogInformation($"logging initialized");

            using var cancelled = cancellationToken.Register(static s => ((RunState)s!).RequestStop(TempestStopReason.Cancelled), this);
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

        private PosixSignalRegistration OnSignal(PosixSignal signal, TempestStopReason reason) =>
            PosixSignalRegistration.Create(signal, context =>
            {
                // The first signal stops gracefully; one that arrives while stopping ends the process as usual.
                context.Cancel = !_stopRequested.Task.IsCompleted;
                RequestStop(reason);
            });

        private async Task AbortRunningTasksAsync(List<string> aborted)
        {
            foreach (var worker in _workers)
            {
                if (worker.Close() is not { } message) continue;
                aborted.Add(message.Id!);
                _logs.Main.ZLogWarning($"{{{message.Id}}} <{message.TaskName}> aborted");
                if (Acknowledging is { } queue)
                    await queue.ReturnAsync(message).ConfigureAwait(false);
                else
                    _logs.Main.ZLogWarning($"{{{message.Id}}} <{message.TaskName}> lost: the queue cannot take messages back");
            }
            _aborting.Cancel();
        }

        private static string FormatTimeout(TimeSpan timeout) =>
            timeout == Timeout.InfiniteTimeSpan ? "forever" : $"{timeout.TotalSeconds:0.###} s";

        // ------------------------------------------------------------ the worker thread

        private void WorkerLoop(Worker worker)
        {
            var stopping = _stopping.Token;
            try
            {
                while (!stopping.IsCancellationRequested)
                {
                    var message = Dequeue(worker, stopping);
                    if (message is null) continue;
                    if (stopping.IsCancellationRequested || !worker.TryBegin(message))
                    {
                        GiveBack(message); // taken while the engine was stopping: not started, so not lost
                        break;
                    }
                    Execute(worker, message);
                }
            }
            catch (Exception e)
            {
                _logs.Main.ZLogCritical(e, $"worker {worker.Index + 1} died: {e.Message}");
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
            catch (Exception e)
            {
                // A failing queue must not kill the worker, nor make it spin: log, wait, try again.
                _logs.Main.ZLogError(e, $"worker {worker.Index + 1}: dequeue failed: {e.Message}");
                Sleep(engine.Options.QueuePollInterval, stopping);
                return null;
            }

            if (message is null)
            {
                Sleep(engine.Options.QueuePollInterval, stopping);
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
                if (Acknowledging is { } queue)
                    Wait(queue.DeadLetterAsync(raw, e.Message));
                return null;
            }
        }

        private static string? TryReadId(string json)
        {
            try
            {
                var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
                return reader.Read() && reader.TokenType == JsonTokenType.StartArray && reader.Read() && reader.TokenType == JsonTokenType.String
                    ? reader.GetString() : null;
            }
            catch (JsonException) { return null; }
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
            if (Acknowledging is { } queue) Wait(queue.AcknowledgeAsync(message));
        }

        private void GiveBack(TempestMessage message)
        {
            if (Acknowledging is { } queue) Wait(queue.ReturnAsync(message));
            else _logs.Main.ZLogWarning($"{{{message.Id}}} <{message.TaskName}> lost: dequeued while stopping and the queue cannot take messages back");
        }

        private static void Wait(ValueTask pending)
        {
            if (!pending.IsCompletedSuccessfully) pending.AsTask().GetAwaiter().GetResult();
        }

        public void Dispose()
        {
            _logs?.Dispose();
            _stopping.Dispose();
            _aborting.Dispose();
        }
    }
}
