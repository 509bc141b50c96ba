using System.Runtime.InteropServices;
using TaskTempest.Engine.Cooperative;
using TaskTempest.Engine.Inbox;
using TaskTempest.Engine.Threads;
using TaskTempest.Logging;
using TaskTempest.Queues;
using ZLogger;

namespace TaskTempest.Engine;

/// <summary>
/// One <c>Run</c> of an engine, from the before-initialize hooks to the result: settings and logs, the
/// dispatcher and its inbox, the stop signal (SIGINT, SIGTERM, <c>Stop</c>, a token), the drain within the
/// shutdown timeout, the abort of what still runs, the count of what is left in the queue. The same for
/// both modes: what differs lives behind <see cref="IDispatcher"/> and <see cref="IInbox"/>.
/// </summary>
internal sealed class EngineRun(TempestEngine engine)
{
    // Neither source is disposed: they own no timer, and a task stuck past shutdown may still hold a token.
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource<TempestStopReason> _stopRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _stopFlag;
    private int _state = (int)TempestEngineState.Starting;
    private IDispatcher? _dispatcher;

    /// <summary>Where this run is: starting until the dispatcher runs, draining once a stop was requested.</summary>
    public TempestEngineState State => (TempestEngineState)Volatile.Read(ref _state);

    /// <summary>The engine's state and health now, for health checks and dashboards.</summary>
    public TempestEngineStatus Status => Volatile.Read(ref _dispatcher) is { } dispatcher
        ? new TempestEngineStatus(State, dispatcher.SlotsLost, dispatcher.StuckTasks)
        : new TempestEngineStatus(State, 0, 0);

    public void RequestStop(TempestStopReason reason)
    {
        if (Interlocked.Exchange(ref _stopFlag, 1) != 0) return;
        Volatile.Write(ref _state, (int)TempestEngineState.Draining);
        try
        {
            _stopping.Cancel(); // first, so the dispatcher stops taking messages before Run can go on and return
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
        var settings = RunSettings.Resolve(engine);
        var run = new RunContext(settings, new TempestLogs(settings), _stopping.Token, new CancellationTokenSource());
        try
        {
            return await RunAsync(run, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            run.End();
            run.Logs.Dispose(); // flushes the files the engine opened
        }
    }

    private async Task<TempestRunResult> RunAsync(RunContext run, CancellationToken cancellationToken)
    {
        var main = run.Logs.Main;
        var settings = run.Settings;
        main.ZLogInformation($"logging initialized");

        using var cancelled = cancellationToken.Register(static s => ((EngineRun)s!).RequestStop(TempestStopReason.Cancelled), this);
        using var interrupt = settings.HandleSignals ? OnSignal(PosixSignal.SIGINT, TempestStopReason.Interrupt) : null;
        using var terminate = settings.HandleSignals ? OnSignal(PosixSignal.SIGTERM, TempestStopReason.Terminate) : null;

        var (dispatcher, inbox) = CreateDispatcher(run);
        main.ZLogInformation($"{dispatcher.Initialized}");
        main.ZLogInformation($"dispatcher initialized (queue: {settings.Queue.GetType().Name})");
        engine.RaiseAfterInitialize(main); // before the first task, as the original's after_initialize
        inbox.Start();
        dispatcher.Start();
        Volatile.Write(ref _dispatcher, dispatcher);
        var scheduler = new EngineScheduler(engine, run);
        scheduler.Start();
        Interlocked.CompareExchange(ref _state, (int)TempestEngineState.Running, (int)TempestEngineState.Starting);

        var reason = await _stopRequested.Task.ConfigureAwait(false);
        Volatile.Write(ref _state, (int)TempestEngineState.Draining);
        await scheduler.StopAsync().ConfigureAwait(false); // no tick is submitted once the engine stops
        var timeout = settings.ShutdownTimeout;
        // Enums go in as text: ZLogger formats enum holes through a lookup that fails under NativeAOT.
        main.ZLogInformation($"shutdown requested ({reason.ToString()}): waiting up to {FormatTimeout(timeout)} for running tasks");

        var aborted = new List<string>();
        try
        {
            await dispatcher.DrainAsync().WaitAsync(timeout, run.Time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await dispatcher.AbortRunningAsync(aborted).ConfigureAwait(false);
        }
        var counts = dispatcher.Close();
        // What was taken and not started goes back, and every outcome reaches the queue, before it is counted.
        await inbox.StopAsync().ConfigureAwait(false);
        var result = new TempestRunResult(reason, counts.Started, counts.Succeeded, counts.Failed, counts.TimedOut, aborted);

        if (settings.Queue is ICountingTempestQueue counting)
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

    /// <summary>
    /// The dispatcher of the engine's mode over the inbox of its queue: each dispatcher is specialised on the
    /// inbox's type, so the embedded queue's path makes no interface call per job.
    /// </summary>
    private (IDispatcher, IInbox) CreateDispatcher(RunContext run)
    {
        var intake = new MessageIntake(engine, run.Logs, run.Telemetry);
        var workers = new WorkerList();
        // The embedded queue's direct path takes the default queue alone; named queues and limits go through the fetcher.
        if (run.Settings.Queue is TempestMemoryQueue memory && run.Settings.ConsumesDefaultQueueOnly)
        {
            var inbox = new MemoryInbox(memory, intake, workers, run.Settings.Threads);
            var lifecycle = new JobLifecycle(engine, run, inbox);
            return (run.Settings.Cooperative
                ? new CooperativeDispatcher<MemoryInbox>(run, lifecycle, inbox)
                : new ThreadDispatcher<MemoryInbox>(run, lifecycle, inbox, workers), inbox);
        }
        else
        {
            var inbox = new QueueInbox(run, intake);
            var lifecycle = new JobLifecycle(engine, run, inbox);
            return (run.Settings.Cooperative
                ? new CooperativeDispatcher<QueueInbox>(run, lifecycle, inbox)
                : new ThreadDispatcher<QueueInbox>(run, lifecycle, inbox, workers), inbox);
        }
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

    private static string FormatTimeout(TimeSpan timeout) =>
        timeout == Timeout.InfiniteTimeSpan ? "forever" : $"{timeout.TotalSeconds:0.###} s";
}
