using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using TaskTempest.Queues;

namespace TaskTempest.Hosting;

/// <summary>
/// A hosted engine's health: its state and slots (<see cref="TempestEngine.Status"/>) and whether its queue answers.
/// Healthy: running at full width, the queue answering. Degraded: starting or draining. The registration's failure status
/// (Unhealthy by default): stopped, slots lost to tasks stuck on orphaned workers, or a queue that failed or did not answer
/// <see cref="ICountingTempestQueue.CountAsync"/> within the timeout. The data holds the state, the slots lost, the stuck
/// tasks and, where the queue counts, the messages waiting.
/// </summary>
internal sealed class TempestHealthCheck<TEngine>(TEngine engine, TimeSpan queueTimeout) : IHealthCheck
    where TEngine : TempestEngine, ITempestEngine<TEngine>
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var failure = context.Registration.FailureStatus;
        var status = engine.Status;
        var data = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["state"] = status.State.ToString(),
            ["slotsLost"] = status.SlotsLost,
            ["stuckTasks"] = status.StuckTasks,
        };
        var (health, description) = status switch
        {
            { IsHealthy: false } => (failure, string.Create(CultureInfo.InvariantCulture,
                $"{engine.Name}: {status.SlotsLost} worker slots lost to tasks stuck past their timeout ({status.StuckTasks} stuck); it runs on with fewer workers")),
            { State: TempestEngineState.Running } => (HealthStatus.Healthy, $"{engine.Name}: running"),
            { State: TempestEngineState.Starting } => (HealthStatus.Degraded, $"{engine.Name}: starting"),
            { State: TempestEngineState.Draining } => (HealthStatus.Degraded, $"{engine.Name}: draining (stopping)"),
            _ => (failure, $"{engine.Name}: stopped"),
        };

        if (engine.Queue is not ICountingTempestQueue counting)
            return new HealthCheckResult(health, description, data: data);
        var time = engine.Options.TimeProvider;
        using var timeout = new CancellationTokenSource(queueTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            // Bounded here too: a queue that ignores its token must not hold the health endpoint.
            long waiting = await counting.CountAsync(linked.Token).AsTask().WaitAsync(queueTimeout, time, cancellationToken).ConfigureAwait(false);
            data["queued"] = waiting;
            return new HealthCheckResult(health, string.Create(CultureInfo.InvariantCulture, $"{description}; queue: {waiting} waiting"), data: data);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            bool timedOut = e is TimeoutException || (e is OperationCanceledException && timeout.IsCancellationRequested);
            string what = timedOut
                ? string.Create(CultureInfo.InvariantCulture, $"the queue did not answer within {queueTimeout.TotalSeconds:0.###} s")
                : $"the queue failed: {e.GetType().Name}";
            data["queueError"] = timedOut ? nameof(TimeoutException) : e.GetType().Name;
            return new HealthCheckResult(failure, $"{description}; {what}", e, data);
        }
    }
}
