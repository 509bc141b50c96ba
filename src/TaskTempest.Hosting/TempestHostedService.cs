using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace TaskTempest.Hosting;

/// <summary>
/// Runs one engine for the host (<c>AddTempest&lt;TEngine&gt;</c> registers it): its run starts with the host, is asked to
/// stop when the host begins to stop, and drains within the host's shutdown timeout less a margin. Resolve it to learn how
/// the run ended (<see cref="Completion"/>), for a worker's exit code, say.
/// </summary>
/// <typeparam name="TEngine">The hosted engine.</typeparam>
public sealed partial class TempestHostedService<TEngine> : IHostedLifecycleService
    where TEngine : TempestEngine, ITempestEngine<TEngine>
{
    private readonly TimeSpan _hostShutdownTimeout;
    private readonly ILogger _logger;
    private readonly IHostApplicationLifetime? _lifetime;
    private readonly TaskCompletionSource<TempestRunResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task<TempestRunResult>? _run;
    private volatile bool _stopping;

    internal TempestHostedService(TEngine engine, TimeSpan hostShutdownTimeout, ILoggerFactory? loggerFactory, IHostApplicationLifetime? lifetime)
    {
        Engine = engine;
        _hostShutdownTimeout = hostShutdownTimeout;
        _logger = (ILogger?)loggerFactory?.CreateLogger("TaskTempest.Hosting") ?? NullLogger.Instance;
        _lifetime = lifetime;
    }

    /// <summary>The engine this service runs (the container's singleton).</summary>
    public TEngine Engine { get; }

    /// <summary>How the hosted run ended: completes when the engine's run returned, faults when it failed or could not start.</summary>
    public Task<TempestRunResult> Completion => _completion.Task;

    /// <summary>The drain timeout the run was given: the engine's own, kept within the host's shutdown timeout less the margin
    /// (set when the service starts).</summary>
    public TimeSpan? DrainTimeout { get; private set; }

    /// <inheritdoc/>
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Starts the engine's run. The run's start (hooks, settings, logs, workers) happens here, so that a bad setting
    /// fails the host's start.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var own = Engine.ShutdownTimeout;
        var drain = TempestShutdown.DrainTimeout(own, _hostShutdownTimeout);
        Engine.Options.ShutdownTimeout = drain;
        DrainTimeout = drain;
        LogStarting(_logger, Engine.Name, Seconds(drain), Seconds(own), Seconds(_hostShutdownTimeout));

        Task<TempestRunResult> run;
        try
        {
            run = Engine.RunAsync(CancellationToken.None);
        }
        catch (Exception e)
        {
            _completion.TrySetException(e);
            throw;
        }
        // RunAsync does its start before its first await: a run that failed to start has failed by now, and fails the host's start.
        if (run.IsFaulted)
        {
            _completion.TrySetException(run.Exception.InnerExceptions);
            return run;
        }
        _run = run;
        _ = ObserveAsync(run);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Asks the engine to stop taking jobs. The host calls this on every lifecycle service before it awaits any of
    /// them, so several hosted engines drain at the same time, not one after another.</summary>
    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        RequestStop();
        return Task.CompletedTask;
    }

    /// <summary>Stops the engine (if <see cref="StoppingAsync"/> did not already) and waits for its run to return, or for the
    /// host to give up (<paramref name="cancellationToken"/>), which the drain timeout's margin should make rare.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_run is not { } run) return;
        RequestStop();
        try
        {
            await run.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !run.IsCompleted)
        {
            LogGaveUp(_logger, Engine.Name, Seconds(_hostShutdownTimeout));
        }
    }

    /// <inheritdoc/>
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void RequestStop()
    {
        _stopping = true;
        Engine.Stop();
    }

    private async Task ObserveAsync(Task<TempestRunResult> run)
    {
        try
        {
            var result = await run.ConfigureAwait(false);
            if (result.Drained) LogStopped(_logger, Engine.Name, result.ToString());
            else LogStoppedAborting(_logger, Engine.Name, result.ToString());
            if (!_stopping) LogStoppedEarly(_logger, Engine.Name);
            _completion.TrySetResult(result);
        }
        catch (Exception e)
        {
            LogFailed(_logger, e, Engine.Name);
            _completion.TrySetException(e);
            // As a BackgroundService that throws: a worker whose engine died should not go on looking alive.
            _lifetime?.StopApplication();
        }
    }

    private static string Seconds(TimeSpan timeout) =>
        timeout == Timeout.InfiniteTimeSpan ? "forever" : timeout.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + " s";

    [LoggerMessage(1, LogLevel.Information, "{Engine}: starting; drains within {Drain} on stop (its own shutdown timeout {Own}, the host's {Host} less the margin)")]
    private static partial void LogStarting(ILogger logger, string engine, string drain, string own, string host);

    [LoggerMessage(2, LogLevel.Information, "{Engine}: {Result}")]
    private static partial void LogStopped(ILogger logger, string engine, string result);

    [LoggerMessage(3, LogLevel.Warning, "{Engine}: {Result}")]
    private static partial void LogStoppedAborting(ILogger logger, string engine, string result);

    [LoggerMessage(4, LogLevel.Warning, "{Engine}: its run ended while the host runs (Stop was called on it): jobs wait until the host restarts")]
    private static partial void LogStoppedEarly(ILogger logger, string engine);

    [LoggerMessage(5, LogLevel.Error, "{Engine}: its run failed; stopping the host")]
    private static partial void LogFailed(ILogger logger, Exception exception, string engine);

    [LoggerMessage(6, LogLevel.Warning, "{Engine}: the host stopped waiting after its shutdown timeout ({Host}) while the engine was still stopping")]
    private static partial void LogGaveUp(ILogger logger, string engine, string host);
}
