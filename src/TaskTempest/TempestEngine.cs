using System.ComponentModel;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using TaskTempest.Engine;
using TaskTempest.Queues;
using TaskTempest.Telemetry;
using TaskTempest.Wire;

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
    private readonly Lock _queueGate = new();
    private EngineRun? _run;

    /// <summary>Called by the generated constructors.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected TempestEngine(TempestEngineConfiguration configuration, TempestOptions? options)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (configuration.Threads <= 0) throw new ArgumentOutOfRangeException(nameof(configuration), "Threads must be at least 1.");
        if (configuration.Fibers < 0) throw new ArgumentOutOfRangeException(nameof(configuration), "Fibers cannot be negative.");
        _configuration = configuration;
        Options = options ?? new TempestOptions();
        _argumentsReader = ReadMessage;
    }

    /// <summary>The compile-time configuration from the engine's attribute.</summary>
    internal TempestEngineConfiguration Configuration => _configuration;

    /// <summary>The engine's name: log file names and log lines.</summary>
    public string Name => _configuration.Name;

    /// <summary>Worker threads, and so the most tasks that run at once (thread-pool mode).</summary>
    public int Threads => _configuration.Threads;

    /// <summary>In cooperative mode, the most tasks in flight on the one event-loop thread; 0 in thread-pool mode.</summary>
    public int Fibers => _configuration.Fibers;

    /// <summary>Run-time settings; change them before the first submit (queue) or before <c>Run</c> (the rest).</summary>
    public TempestOptions Options { get; }

    /// <summary>How long a graceful stop of the next run waits for running tasks, as <c>Run</c> would resolve it now:
    /// <see cref="TempestOptions.ShutdownTimeout"/>, else the attribute's <see cref="TempestAttribute.ShutdownTimeoutSeconds"/>
    /// (a before-initialize hook may still change the option). A host reads it to keep the drain within its own timeout.</summary>
    public TimeSpan ShutdownTimeout => Options.ShutdownTimeout ?? _configuration.ShutdownTimeout;

    /// <summary>The queue: <see cref="TempestOptions.Queue"/>, or an in-memory queue made at first use.</summary>
    public ITempestQueue Queue => Volatile.Read(ref _queue) ?? InitializeQueue();

    private ITempestQueue InitializeQueue()
    {
        lock (_queueGate)
        {
            if (_queue is { } fixedQueue) return fixedQueue;
            // From here on neither changes: the memory queue keeps its delays on this clock, and a run's
            // deadlines and log timestamps read the same one.
            Options.FixQueueAndClock();
            var queue = Options.Queue ?? new TempestMemoryQueue(Options.TimeProvider);
            Volatile.Write(ref _queue, queue);
            return queue;
        }
    }

    /// <summary>The recurring schedules this engine ticks while it runs (generated ones are added when <c>Run</c> starts).</summary>
    internal TempestSchedules Schedules { get; } = new();

    /// <summary>Whether <c>Run</c> is in progress.</summary>
    public bool IsRunning => Volatile.Read(ref _run) is not null;

    /// <summary>Where the engine is: stopped, starting, running, or draining after a stop was asked for.</summary>
    public TempestEngineState State => Volatile.Read(ref _run)?.State ?? TempestEngineState.Stopped;

    /// <summary>The engine's state and health now (slots lost to stuck tasks make it unhealthy): what a health check reports.</summary>
    public TempestEngineStatus Status => Volatile.Read(ref _run)?.Status ?? new TempestEngineStatus(TempestEngineState.Stopped, 0, 0);

    // ------------------------------------------------------------------ submit

    /// <summary>Assigns the message its id and enqueues it. Generated <c>Submit{Task}</c> methods call this.</summary>
    /// <returns>The message id (for a duplicate of a unique job: the holder's).</returns>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected TempestSubmitResult Submit(TempestMessage message) => Submit(message, default);

    /// <summary>Assigns the message its id and enqueues it without blocking. Generated <c>Submit{Task}Async</c> methods call this.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected ValueTask<TempestSubmitResult> SubmitAsync(TempestMessage message, CancellationToken cancellationToken) =>
        SubmitAsync(message, default, cancellationToken);

    /// <summary>A submit with <paramref name="options"/> (the engine's own submits pass the default), blocking only
    /// when the queue does not take the message at once.</summary>
    internal TempestSubmitResult Submit(TempestMessage message, in TempestSubmitOptions options)
    {
        // A batch's jobs are traced at its flush; the rest only while somebody listens, or a span is current.
        if (options.Batch is null && (SubmitTelemetry.Active || TempestTelemetry.JobsSubmitted.Enabled)) return SubmitTraced(message, options);
        return SubmitUntraced(message, options);
    }

    private TempestSubmitResult SubmitTraced(TempestMessage message, in TempestSubmitOptions options)
    {
        AssignId(message);
        var activity = SubmitTelemetry.Start(message, options.Queue ?? message.DefaultQueue ?? TempestQueueNames.Default, Name);
        try
        {
            var result = SubmitUntraced(message, options);
            SubmitTelemetry.Stop(activity, message, Name, result.Duplicate);
            return result;
        }
        catch (Exception e)
        {
            SubmitTelemetry.Fail(activity, e);
            throw;
        }
    }

    private TempestSubmitResult SubmitUntraced(TempestMessage message, in TempestSubmitOptions options)
    {
        string id = AssignId(message);
        if (options.IsDefault && !message.HasSubmitDefaults)
        {
            // The plain submit: no envelope to set, no duplicate to report.
            var enqueued = Queue.EnqueueAsync(message, CancellationToken.None);
            if (enqueued.IsCompletedSuccessfully) enqueued.GetAwaiter().GetResult(); // consumed, as a pooled source needs
            else enqueued.AsTask().GetAwaiter().GetResult();
            return new TempestSubmitResult(id, false);
        }
        var holder = Enqueue(message, options, CancellationToken.None);
        string? holderId = holder.IsCompletedSuccessfully ? holder.Result : holder.AsTask().GetAwaiter().GetResult();
        return holderId is null ? new TempestSubmitResult(id, false) : new TempestSubmitResult(holderId, true);
    }

    internal ValueTask<TempestSubmitResult> SubmitAsync(TempestMessage message, TempestSubmitOptions options, CancellationToken cancellationToken) =>
        options.Batch is null && (SubmitTelemetry.Active || TempestTelemetry.JobsSubmitted.Enabled)
            ? SubmitTracedAsync(message, options, cancellationToken)
            : SubmitUntracedAsync(message, options, cancellationToken);

    private async ValueTask<TempestSubmitResult> SubmitTracedAsync(TempestMessage message, TempestSubmitOptions options, CancellationToken cancellationToken)
    {
        AssignId(message);
        var activity = SubmitTelemetry.Start(message, options.Queue ?? message.DefaultQueue ?? TempestQueueNames.Default, Name);
        try
        {
            var result = await SubmitUntracedAsync(message, options, cancellationToken).ConfigureAwait(false);
            SubmitTelemetry.Stop(activity, message, Name, result.Duplicate);
            return result;
        }
        catch (Exception e)
        {
            SubmitTelemetry.Fail(activity, e);
            throw;
        }
    }

    private async ValueTask<TempestSubmitResult> SubmitUntracedAsync(TempestMessage message, TempestSubmitOptions options, CancellationToken cancellationToken)
    {
        string id = AssignId(message);
        if (options.IsDefault && !message.HasSubmitDefaults)
        {
            await Queue.EnqueueAsync(message, cancellationToken).ConfigureAwait(false);
            return new TempestSubmitResult(id, false);
        }
        string? holderId = await Enqueue(message, options, cancellationToken).ConfigureAwait(false);
        return holderId is null ? new TempestSubmitResult(id, false) : new TempestSubmitResult(holderId, true);
    }

    /// <summary>
    /// The one enqueue seam of a submit with options or task defaults: typed or delayed, batched or sent to a package's
    /// target. It sets the envelope: the named queue, the priority and the unique key (the submit's over the task's), and
    /// a delay as the run-at on the engine's clock. What the queue cannot keep (a delay, a key, a named queue) is refused
    /// at once and nothing queued, so that a job never runs early, twice, or from the wrong queue. A batch keeps the job
    /// until its flush. Returns the holder's id when the queue found a job holding the key (nothing was queued).
    /// </summary>
    private ValueTask<string?> Enqueue(TempestMessage message, in TempestSubmitOptions options, CancellationToken cancellationToken)
    {
        var queue = Queue; // first: it fixes the clock that a delay is read on
        var target = options.Batch is { } batching ? batching.Target : options.Target;
        var features = target?.Features ?? queue.Features;
        object receiver = target ?? (object)queue;

        string? queueName = options.Queue ?? message.DefaultQueue;
        if (queueName is not null && queueName != TempestQueueNames.Default)
        {
            if ((features & TempestQueueFeatures.NamedQueues) == 0)
                throw new NotSupportedException(
                    $"The queue {receiver.GetType().Name} keeps one queue, so {message.TaskName} was not submitted to '{queueName}': use a queue whose Features include NamedQueues (the memory, PostgreSQL and Redis queues have them).");
            (message.Envelope ??= new TempestEnvelope()).Queue = queueName;
        }
        int priority = options.Priority ?? message.DefaultPriority;
        if (priority != 0) (message.Envelope ??= new TempestEnvelope()).Priority = priority;

        string? uniqueKey = options.UniqueKey is { } given ? TempestUniqueKeys.Compose(message.TaskName, given) : TempestWire.UniqueKeyOf(message);
        if (uniqueKey is not null)
        {
            var scope = options.UniqueScope ?? message.DefaultUniqueScope;
            if (scope == TempestUniqueScope.None) scope = TempestUniqueScope.QueuedOrRunning;
            var period = scope == TempestUniqueScope.Period ? options.UniqueFor ?? message.DefaultUniqueFor : null;
            TempestUniqueKeys.ValidateScope(scope, period);
            if ((features & TempestQueueFeatures.UniqueKeys) == 0)
                throw new NotSupportedException(
                    $"The queue {receiver.GetType().Name} cannot keep a job unique, so {message.TaskName} was not submitted: use a queue whose Features include UniqueKeys (the memory, PostgreSQL and Redis queues have them).");
            var envelope = message.Envelope ??= new TempestEnvelope();
            envelope.UniqueKey = uniqueKey;
            envelope.UniqueScope = scope;
            envelope.UniqueFor = period;
        }

        if (options.RunAtFrom(Options.TimeProvider) is { } runAt)
        {
            if ((features & TempestQueueFeatures.Delays) == 0)
                throw new NotSupportedException(
                    $"The queue {receiver.GetType().Name} cannot delay a job, so {message.TaskName} was not submitted: use a queue whose Features include Delays (TempestMemoryQueue has them).");
            (message.Envelope ??= new TempestEnvelope()).RunAt = runAt;
        }
        if (options.Batch is { } batch)
        {
            batch.Add(message); // a duplicate in a batch is skipped by the queue at the flush
            return default;
        }
        if (uniqueKey is not null)
            return options.Target is { } uniqueTarget ? uniqueTarget.EnqueueUniqueAsync(message, cancellationToken) : queue.EnqueueUniqueAsync(message, cancellationToken);
        return NoHolder(options.Target is { } other ? other.EnqueueAsync(message, cancellationToken) : queue.EnqueueAsync(message, cancellationToken));
    }

    private static ValueTask<string?> NoHolder(ValueTask enqueued)
    {
        if (!enqueued.IsCompletedSuccessfully) return Awaited(enqueued);
        enqueued.GetAwaiter().GetResult(); // consumed, as a pooled source needs
        return default;

        static async ValueTask<string?> Awaited(ValueTask pending)
        {
            await pending.ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>A batch's flush: every message in one call to <paramref name="target"/> (null: the engine's queue).</summary>
    internal ValueTask EnqueueBatchAsync(IReadOnlyList<TempestMessage> messages, ITempestSubmitTarget? target, CancellationToken cancellationToken) =>
        SubmitTelemetry.Active || TempestTelemetry.JobsSubmitted.Enabled
            ? EnqueueBatchTracedAsync(messages, target, cancellationToken)
            : EnqueueBatchUntracedAsync(messages, target, cancellationToken);

    private async ValueTask EnqueueBatchTracedAsync(IReadOnlyList<TempestMessage> messages, ITempestSubmitTarget? target, CancellationToken cancellationToken)
    {
        var activity = SubmitTelemetry.StartBatch(messages, Name);
        try
        {
            await EnqueueBatchUntracedAsync(messages, target, cancellationToken).ConfigureAwait(false);
            SubmitTelemetry.StopBatch(activity, messages, Name);
        }
        catch (Exception e)
        {
            SubmitTelemetry.Fail(activity, e);
            throw;
        }
    }

    private ValueTask EnqueueBatchUntracedAsync(IReadOnlyList<TempestMessage> messages, ITempestSubmitTarget? target, CancellationToken cancellationToken) =>
        target is not null ? target.EnqueueBatchAsync(messages, cancellationToken) : Queue.EnqueueBatchAsync(messages, cancellationToken);

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
    public TempestMessage ParseMessage(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        // Messages are short: encode on the stack rather than allocate a byte array per message.
        if (json.Length <= MaxStackEncodedLength)
        {
            Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(MaxStackEncodedLength)];
            return ParseMessage(utf8[..Encoding.UTF8.GetBytes(json, utf8)]);
        }
        return ParseMessage(Encoding.UTF8.GetBytes(json));
    }

    private const int MaxStackEncodedLength = 256;

    /// <summary>
    /// Parses a delivery a queue handed out as text into this engine's typed message, keeping what the queue
    /// knows about the delivery: its receipt and lease, and, where the queue keeps them beside the text (columns,
    /// hash fields), the attempt (when above 0) and the envelope (when set), which then win over the text's.
    /// </summary>
    /// <exception cref="TempestWireException">Malformed, an unknown task, or arguments that do not fit.</exception>
    public TempestMessage ParseMessage(RawTempestMessage raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var message = ParseMessage(raw.Json);
        if (raw.Id is { } stored && message.IdWasAssigned) message.Id = stored; // the text had none: the queue's stays
        message.IdWasAssigned = false;
        if (raw.Attempt > 0) message.Attempt = raw.Attempt;
        if (raw.Envelope is { } envelope) message.Envelope = envelope;
        message.Receipt = raw.Receipt;
        message.Lease = raw.Lease;
        return message;
    }

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
        var run = new EngineRun(this);
        if (Interlocked.CompareExchange(ref _run, run, null) is not null)
            throw new InvalidOperationException($"The engine {Name} is already running.");
        try
        {
            return await run.ExecuteAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _run, null);
        }
    }

    // ------------------------------------------------------------------ inline (TaskTempest.Testing)

    /// <summary>
    /// Runs one job now, in the caller, without a run, a queue or a worker: its task (in a DI scope of
    /// <see cref="TempestOptions.Services"/> when it takes services), <c>Process</c>, then its callbacks for how it ended
    /// (a job run inline is never retried). A failure of <c>Process</c>, then of a callback, is thrown to the caller as it
    /// was thrown. TaskTempest.Testing's inline mode is its one user.
    /// </summary>
    internal async ValueTask RunInlineAsync(TempestMessage message, Microsoft.Extensions.Logging.ILogger taskLog, CancellationToken cancellationToken)
    {
        AssignId(message);
        var scope = message.RequiresServices
            ? (Options.Services ?? throw new InvalidOperationException(
                $"The task {message.TaskName} takes services in its constructor, but the engine has no TempestOptions.Services."))
              .CreateAsyncScope()
            : default(AsyncServiceScope?);
        try
        {
            var task = message.CreateTask(scope?.ServiceProvider);
            task.Attach(message, taskLog);
            Exception? failure = null;
            try
            {
                await message.InvokeAsync(task, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                failure = e;
            }
            message.WillRetry = false;
            Exception? callbackFailure = null;
            message.RunCallbacks(task, failure is null ? TempestTaskStatus.Success : TempestTaskStatus.Failure, failure,
                (_, _, e) => callbackFailure ??= e);
            if ((failure ?? callbackFailure) is { } thrown) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(thrown);
        }
        finally
        {
            if (scope is { } owned) await owned.DisposeAsync().ConfigureAwait(false);
        }
    }

    // ------------------------------------------------------------------ hooks (overridden by generated code)

    /// <summary>Runs the engine's [BeforeInitialize] methods, base engine first.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected virtual void OnBeforeInitialize() { }

    /// <summary>Runs the engine's [AfterInitialize] methods, base engine first.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected virtual void OnAfterInitialize(Microsoft.Extensions.Logging.ILogger mainLogger) { }

    /// <summary>Whether the engine has [AfterTaskStarted] or [AfterTaskFinished] methods.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected virtual bool HasTaskHooks => false;

    /// <summary>Runs the engine's [AfterTaskStarted] methods.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected virtual void OnTaskStarted(TempestTaskEvent taskEvent) { }

    /// <summary>Runs the engine's [AfterTaskFinished] methods.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected virtual void OnTaskFinished(TempestTaskEvent taskEvent) { }

    /// <summary>Adds the schedules of the tasks' [Recurring] attributes (generated), unless one of the same name was added at run time.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected virtual void AddRecurringTasks() { }

    internal void RaiseAddRecurringTasks() => AddRecurringTasks();
    internal void RaiseBeforeInitialize() => OnBeforeInitialize();
    internal void RaiseAfterInitialize(Microsoft.Extensions.Logging.ILogger mainLogger) => OnAfterInitialize(mainLogger);
    internal bool HasTaskHooksInternal => HasTaskHooks;
    internal void RaiseTaskStarted(TempestTaskEvent taskEvent) => OnTaskStarted(taskEvent);
    internal void RaiseTaskFinished(TempestTaskEvent taskEvent) => OnTaskFinished(taskEvent);

    /// <summary>Asks a running engine to stop gracefully; <c>Run</c> returns once it has. No effect when not running.</summary>
    public void Stop() => Volatile.Read(ref _run)?.RequestStop(TempestStopReason.StopRequested);
}
