using TaskTempest.Queues;
using TaskTempest.Redis.Tests.Support;

namespace TaskTempest.Redis.Tests;

/// <summary>The ready set's order: higher priority first, enqueue order within one; a returned job keeps its place; a
/// batch larger than one script call's step keeps its order across the calls.</summary>
public sealed class OrderTests
{
    private static readonly string Prefix = RedisServer.PrefixFor(typeof(OrderTests));
    private static readonly TempestWorkerInfo Worker = new("order-test", "RedisTempest", Environment.MachineName, Environment.ProcessId, 10, DateTimeOffset.UtcNow);

    private static async Task<TempestRedisQueue> QueueAsync(string name)
    {
        await RedisServer.DeleteKeysAsync(await RedisServer.ConnectionAsync(), Prefix + "{tempest:" + name + "}:");
        return await TempestRedisQueue.CreateAsync(await RedisServer.ConnectionAsync(), new TempestRedisOptions { KeyPrefix = Prefix, QueueName = name });
    }

    private static RawTempestMessage Job(string id, int priority = 0) =>
        new($$"""["{{id}}","Counted",1]""") { Envelope = priority == 0 ? null : new TempestEnvelope { Priority = priority } };

    [Fact]
    public async Task Higher_priority_runs_first_then_enqueue_order_and_a_returned_job_keeps_its_place()
    {
        var queue = await QueueAsync("priority");
        await queue.EnqueueBatchAsync([Job("a"), Job("b"), Job("urgent-1", 5), Job("c"), Job("low", -1), Job("urgent-2", 5), Job("top", 100_000)]);
        var first = await queue.ClaimAsync(Worker, 3, CancellationToken.None);
        Assert.Equal(["top", "urgent-1", "urgent-2"], first.Select(m => m.Id)); // beyond the limit orders as the limit, still first
        var next = Assert.Single(await queue.ClaimAsync(Worker, 1, CancellationToken.None));
        Assert.Equal("a", next.Id);
        Assert.Empty(await queue.RecordAsync([new TempestOutcome(TempestOutcomeKind.Returned, next)]));
        var rest = await queue.ClaimAsync(Worker, 10, CancellationToken.None);
        Assert.Equal(["a", "b", "c", "low"], rest.Select(m => m.Id));
    }

    [Fact]
    public async Task A_bulk_submit_of_many_script_calls_keeps_its_order()
    {
        var queue = await QueueAsync("bulk");
        var ids = Enumerable.Range(0, 2_500).Select(i => $"bulk-{i:D4}").ToList();
        await queue.EnqueueBatchAsync([.. ids.Select(id => Job(id))]);
        Assert.Equal(2_500, await queue.CountAsync());
        var claimed = new List<string>();
        while (claimed.Count < ids.Count) claimed.AddRange((await queue.ClaimAsync(Worker, 400, CancellationToken.None)).Select(m => m.Id!));
        Assert.Equal(ids, claimed);
    }
}
