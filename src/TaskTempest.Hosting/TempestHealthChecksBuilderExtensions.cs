using Microsoft.Extensions.Diagnostics.HealthChecks;
using TaskTempest;
using TaskTempest.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Health checks for hosted TaskTempest engines: <c>services.AddHealthChecks().AddTempest&lt;MathTempest&gt;()</c>.</summary>
public static class TempestHealthChecksBuilderExtensions
{
    /// <summary>The default bound on the queue's answer to the check's count.</summary>
    public static readonly TimeSpan DefaultQueueTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Adds a check of <typeparamref name="TEngine"/> (registered with <c>AddTempest</c>): healthy while it runs at full width
    /// and its queue answers; degraded while it starts or drains; <paramref name="failureStatus"/> when it is stopped, when
    /// worker slots are lost to tasks stuck on orphaned workers (the description says how many), or when a queue that counts
    /// (<c>ICountingTempestQueue</c>) fails or does not answer within <paramref name="queueTimeout"/> (the exception's type is
    /// in the description). The data holds <c>state</c>, <c>slotsLost</c>, <c>stuckTasks</c> and <c>queued</c>.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name; default: the engine class's name.</param>
    /// <param name="failureStatus">What an unhealthy engine or queue reports; default: <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">Tags to filter checks by (readiness, liveness).</param>
    /// <param name="queueTimeout">How long the queue gets to count its messages; default: <see cref="DefaultQueueTimeout"/>. On the engine's clock.</param>
    /// <typeparam name="TEngine">A <c>[Tempest]</c> engine.</typeparam>
    public static IHealthChecksBuilder AddTempest<TEngine>(this IHealthChecksBuilder builder, string? name = null, HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null, TimeSpan? queueTimeout = null)
        where TEngine : TempestEngine, ITempestEngine<TEngine>
    {
        ArgumentNullException.ThrowIfNull(builder);
        var timeout = queueTimeout ?? DefaultQueueTimeout;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero, nameof(queueTimeout));
        return builder.Add(new HealthCheckRegistration(
            name ?? typeof(TEngine).Name,
            services => new TempestHealthCheck<TEngine>(services.GetRequiredService<TEngine>(), timeout),
            failureStatus,
            tags));
    }
}
