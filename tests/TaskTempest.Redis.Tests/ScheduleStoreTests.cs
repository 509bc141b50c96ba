using StackExchange.Redis;
using TaskTempest.Queues;
using TaskTempest.Redis.Tests.Support;

namespace TaskTempest.Redis.Tests;

/// <summary>The schedule store on Redis: a tick is one compare-and-set script that enqueues the tick's job, so engines on
/// several connections racing for the same ticks enqueue one job per tick.</summary>
public sealed class ScheduleStoreTests
{
    private static readonly string Prefix = RedisServer.PrefixFor(typeof(ScheduleStoreTests));
    private static readonly DateTimeOffset FirstTick = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static async Task<TempestRedisQueue> QueueAsync(IConnectionMultiplexer redis, string name) =>
        await TempestRedisQueue.CreateAsync(redis, new TempestRedisOptions { KeyPrefix = Prefix, QueueName = name });

    private static TempestScheduleInfo Schedule(string name) => new(name, "* * * * *", "UTC", TempestMisfire.RunOnce, "Counted");

    private static RawTempestMessage TickJob(string id, string? key = null) =>
        new($$"""["{{id}}","Counted",1]""") { Envelope = key is null ? null : new TempestEnvelope { UniqueKey = key } };

    [Fact]
    public async Task Ticks_raced_from_several_connections_enqueue_one_job_each()
    {
        var shared = await RedisServer.ConnectionAsync();
        await RedisServer.DeleteKeysAsync(shared, Prefix + "{tempest:race}:");
        var connections = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => ConnectionMultiplexer.ConnectAsync(RedisServer.ConfiguredEndpoint!)));
        try
        {
            var queues = new List<TempestRedisQueue> { await QueueAsync(shared, "race") };
            foreach (var connection in connections) queues.Add(await QueueAsync(connection, "race"));
            await Task.WhenAll(queues.Select(q => q.RegisterScheduleAsync(Schedule("every-minute"), FirstTick).AsTask()));

            const int Ticks = 5, Racers = 8;
            var winners = new List<string>();
            for (int t = 1; t <= Ticks; t++)
            {
                var tick = FirstTick.AddMinutes(t);
                var ids = Enumerable.Range(0, Racers).Select(r => $"tick-{t}-{r}").ToArray();
                var taken = await Task.WhenAll(ids.Select((id, r) => Task.Run(async () =>
                    await queues[r % queues.Count].TryTakeTickAsync("every-minute", tick, tick.AddMinutes(1), TickJob(id)))));
                winners.Add(ids[Assert.Single(Enumerable.Range(0, Racers), r => taken[r])]);
                var listed = Assert.Single(await queues[0].GetSchedulesAsync());
                Assert.Equal(tick, listed.LastTick);
                Assert.Equal(tick.AddMinutes(1), listed.NextRun);
                Assert.Equal(winners[^1], listed.LastJobId);
            }
            var worker = new TempestWorkerInfo("schedule-test", "RedisTempest", Environment.MachineName, Environment.ProcessId, 10, DateTimeOffset.UtcNow);
            var claimed = await queues[0].ClaimAsync(worker, 100, CancellationToken.None);
            Assert.Equal(winners, claimed.Select(m => m.Id));
            Assert.Equal(0, await queues[0].CountAsync());
        }
        finally
        {
            foreach (var connection in connections) await connection.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_tick_whose_job_key_is_held_is_taken_without_a_job_and_names_the_holder()
    {
        var redis = await RedisServer.ConnectionAsync();
        await RedisServer.DeleteKeysAsync(redis, Prefix + "{tempest:held}:");
        var queue = await QueueAsync(redis, "held");
        Assert.Equal(FirstTick, await queue.RegisterScheduleAsync(Schedule("nightly"), FirstTick));
        Assert.Null(await queue.EnqueueUniqueAsync(TickJob("holder", "Counted:nightly")));

        Assert.True(await queue.TryTakeTickAsync("nightly", FirstTick.AddDays(1), null, TickJob("tick-1", "Counted:nightly")));
        Assert.Equal(1, await queue.CountAsync());
        Assert.Null(await queue.GetAsync("tick-1"));
        var listed = Assert.Single(await queue.GetSchedulesAsync());
        Assert.Equal("holder", listed.LastJobId);
        Assert.Null(listed.NextRun);
        Assert.Equal(FirstTick.AddDays(1), await queue.RegisterScheduleAsync(Schedule("nightly") with { Cron = "0 0 * * *" }, FirstTick.AddDays(5)));
        var hash = await redis.GetDatabase().HashGetAllAsync(queue.KeyPrefix + "schedule:nightly");
        Assert.Equal(FirstTick.AddDays(1).ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
            (string?)hash.Single(e => e.Name == "last_tick").Value);
        Assert.Equal("0 0 * * *", (string?)hash.Single(e => e.Name == "cron").Value);
    }
}
