using StackExchange.Redis;
using TaskTempest.Queues;
using TaskTempest.Redis.Tests.Support;
using TaskTempest.Testing.Conformance;

namespace TaskTempest.Redis.Tests;

/// <summary>
/// The conformance kit against the run's real Redis: each case gets a queue of its own name under this class's key
/// prefix, on the server's clock, polling every 50 ms so that waits for due jobs stay short. Leases of 3 s and delays of
/// 4 s, as for PostgreSQL: a loaded machine (the classes run in parallel) must not decide a case's margins.
/// </summary>
public sealed class RedisQueueConformance : TempestQueueConformance
{
    private readonly RealConformanceClock _clock = new(shortLease: TimeSpan.FromSeconds(3), shortDelay: TimeSpan.FromSeconds(4));

    protected override TempestConformanceClock Clock => _clock;

    protected override async ValueTask<ITempestQueue> CreateQueueAsync(TempestConformanceSettings settings)
    {
        var redis = await RedisServer.ConnectionAsync();
        var options = new TempestRedisOptions
        {
            KeyPrefix = RedisServer.PrefixFor(typeof(RedisQueueConformance)),
            QueueName = settings.Name,
            LeaseDuration = settings.LeaseDuration,
            MaxLeaseExpiries = settings.MaxLeaseExpiries,
            PollInterval = TimeSpan.FromMilliseconds(50),
        };
        await RedisServer.DeleteKeysAsync(redis, options.KeyPrefix + "{tempest:" + settings.Name + "}:");
        return await TempestRedisQueue.CreateAsync(redis, options);
    }
}
