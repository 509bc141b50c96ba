using TaskTempest.Queues;
using TaskTempest.Redis.Tests.Support;

namespace TaskTempest.Redis.Tests;

/// <summary>Named queues on Redis: a ready set each under the queue's hash tag, one claim script over several in order
/// within their counts, rescued jobs back to their own set, counts and the inspector's lists over all of them.</summary>
public sealed class NamedQueueTests
{
    private static readonly string Prefix = RedisServer.PrefixFor(typeof(NamedQueueTests));
    private static readonly TempestWorkerInfo Worker = new("named-test", "RedisTempest", Environment.MachineName, Environment.ProcessId, 10, DateTimeOffset.UtcNow);

    private static async Task<TempestRedisQueue> QueueAsync(string name, Action<TempestRedisOptions>? configure = null)
    {
        var options = new TempestRedisOptions { KeyPrefix = Prefix, QueueName = name, PollInterval = TimeSpan.FromMilliseconds(50) };
        configure?.Invoke(options);
        await RedisServer.DeleteKeysAsync(await RedisServer.ConnectionAsync(), Prefix + "{tempest:" + name + "}:");
        return await TempestRedisQueue.CreateAsync(await RedisServer.ConnectionAsync(), options);
    }

    private static RawTempestMessage Job(string id, string? queue, int priority = 0) =>
        new($$"""["{{id}}","Counted",1]""") { Envelope = new TempestEnvelope { Queue = queue, Priority = priority } };

    [Fact]
    public async Task A_claim_over_two_queues_takes_the_first_up_to_its_count_and_the_rest_from_the_second_up_to_the_most()
    {
        var queue = await QueueAsync("takes");
        await queue.EnqueueBatchAsync([.. new[] { "a", "b" }.SelectMany(q => Enumerable.Range(1, 3).Select(i => Job($"{q}-{i}", q)))]);
        var claimed = await queue.ClaimAsync(Worker, [new TempestQueueTake("a", 1), new TempestQueueTake("b", 5)], 3, CancellationToken.None);
        Assert.Equal(["a-1", "b-1", "b-2"], claimed.Select(m => m.Id));
        var rest = await queue.ClaimAsync(Worker, [new TempestQueueTake("a", 1), new TempestQueueTake("b", 5)], 10, CancellationToken.None);
        Assert.Equal(["a-2", "b-3"], rest.Select(m => m.Id));
        Assert.Equal(1, await queue.CountAsync()); // a-3
    }

    [Fact]
    public async Task A_rescued_job_goes_back_to_its_own_named_queue()
    {
        var queue = await QueueAsync("rescue", o => o.LeaseDuration = TimeSpan.FromMilliseconds(200));
        await queue.EnqueueAsync(Job("w-1", "work", priority: 3));
        Assert.Single(await queue.ClaimAsync(Worker, [new TempestQueueTake("work", 1)], 1, CancellationToken.None));
        var rescued = new TempestRescue(0, 0);
        for (int tries = 0; rescued.Returned == 0 && tries < 250; tries++)
        {
            rescued = await queue.RescueExpiredAsync(CancellationToken.None);
            if (rescued.Returned == 0) await Task.Delay(20); // the server's clock decides when the lease expired
        }
        Assert.Equal(1, rescued.Returned);
        var db = (await RedisServer.ConnectionAsync()).GetDatabase();
        Assert.Equal(1, await db.SortedSetLengthAsync(queue.KeyPrefix + "ready:work"));
        Assert.Equal(0, await db.SortedSetLengthAsync(queue.KeyPrefix + "ready"));
        var again = Assert.Single(await queue.ClaimAsync(Worker, [new TempestQueueTake("work", 1)], 1, CancellationToken.None));
        Assert.Equal("w-1", again.Id);
        Assert.Equal(1, again.Envelope?.LeaseExpiries);
    }

    [Fact]
    public async Task Counts_and_the_inspectors_ready_list_cover_every_named_queue_default_first_then_by_name()
    {
        var queue = await QueueAsync("inspect");
        await queue.EnqueueBatchAsync([Job("z-1", "zeta"), Job("d-1", null), Job("a-1", "alpha"), Job("d-2", "default"), Job("a-2", "alpha", priority: 1)]);
        await queue.EnqueueAsync(new RawTempestMessage("""["later","Counted",1]""") { Envelope = new TempestEnvelope { Queue = "alpha", RunAt = DateTimeOffset.UtcNow.AddHours(1) } });
        Assert.Equal(5, await queue.CountAsync());
        var counts = await queue.GetCountsAsync();
        Assert.Equal(5, counts.Ready);
        Assert.Equal(1, counts.Scheduled);

        var ready = await queue.ListAsync(TempestJobState.Ready, 0, 10);
        Assert.Equal(["d-1", "d-2", "a-2", "a-1", "z-1"], ready.Select(j => j.Id));
        Assert.Equal([null, "default", "alpha", "alpha", "zeta"], ready.Select(j => j.Envelope?.Queue));
        Assert.Equal(["d-2", "a-2", "a-1"], (await queue.ListAsync(TempestJobState.Ready, 1, 3)).Select(j => j.Id));
        Assert.Equal(["z-1"], (await queue.ListAsync(TempestJobState.Ready, 4, 3)).Select(j => j.Id));
        Assert.True(await queue.CancelAsync("a-2"));
        Assert.Equal(4, await queue.CountAsync());
        Assert.Equal("alpha", (await queue.GetAsync("later"))?.Envelope?.Queue);
    }
}
