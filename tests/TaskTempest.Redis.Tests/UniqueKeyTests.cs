using StackExchange.Redis;
using TaskTempest.Queues;
using TaskTempest.Redis.Tests.Support;

namespace TaskTempest.Redis.Tests;

/// <summary>
/// Unique keys on Redis, seen on the server: the key <c>u:&lt;key&gt;</c> holds the holder's id from the enqueue, and goes
/// at the point its scope ends (the claim for Queued; success, dead letter, cancel for QueuedOrRunning; its PX for a
/// period), and only while that job holds it. Waits for the server's clock poll the server, never sleep blindly.
/// </summary>
public sealed class UniqueKeyTests
{
    private static readonly string Prefix = RedisServer.PrefixFor(typeof(UniqueKeyTests));
    private static readonly TempestWorkerInfo Worker = new("unique-test", "RedisTempest", Environment.MachineName, Environment.ProcessId, 10, DateTimeOffset.UtcNow);

    private static async Task<TempestRedisQueue> QueueAsync(string name, Action<TempestRedisOptions>? configure = null)
    {
        var options = new TempestRedisOptions { KeyPrefix = Prefix, QueueName = name, PollInterval = TimeSpan.FromMilliseconds(50) };
        configure?.Invoke(options);
        await RedisServer.DeleteKeysAsync(await RedisServer.ConnectionAsync(), Prefix + "{tempest:" + name + "}:");
        return await TempestRedisQueue.CreateAsync(await RedisServer.ConnectionAsync(), options);
    }

    private static async Task<IDatabase> DbAsync() => (await RedisServer.ConnectionAsync()).GetDatabase();

    private static RawTempestMessage Job(string id, string key, TempestUniqueScope scope = TempestUniqueScope.None, TimeSpan? period = null, string? queue = null) =>
        new($$"""["{{id}}","Counted",1]""") { Envelope = new TempestEnvelope { UniqueKey = key, UniqueScope = scope, UniqueFor = period, Queue = queue } };

    /// <summary>The holder of a key as the server has it (null: free).</summary>
    private static async Task<string?> HolderAsync(TempestRedisQueue queue, string key) => await (await DbAsync()).StringGetAsync(queue.KeyPrefix + "u:" + key);

    private static async Task<TempestMessage> ClaimOneAsync(TempestRedisQueue queue) => Assert.Single(await queue.ClaimAsync(Worker, 1, CancellationToken.None));

    [Fact]
    public async Task Concurrent_unique_submits_from_several_connections_add_one_job_and_all_others_name_it()
    {
        var queue = await QueueAsync("race");
        var connections = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => ConnectionMultiplexer.ConnectAsync(RedisServer.ConfiguredEndpoint!)));
        try
        {
            var queues = new List<TempestRedisQueue> { queue };
            foreach (var connection in connections)
                queues.Add(await TempestRedisQueue.CreateAsync(connection, new TempestRedisOptions { KeyPrefix = Prefix, QueueName = "race" }));
            const int N = 32;
            var holders = await Task.WhenAll(Enumerable.Range(0, N).Select(i =>
                Task.Run(async () => await queues[i % queues.Count].EnqueueUniqueAsync(Job($"race-{i}", "Counted:one")))));

            int winner = Assert.Single(Enumerable.Range(0, N), i => holders[i] is null);
            Assert.All(holders.Where(h => h is not null), h => Assert.Equal($"race-{winner}", h));
            Assert.Equal(N - 1, holders.Count(h => h is not null));
            Assert.Equal($"race-{winner}", await HolderAsync(queue, "Counted:one"));
            Assert.Equal(1, await queue.CountAsync());
        }
        finally
        {
            foreach (var connection in connections) await connection.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_queued_key_goes_at_the_claim_and_a_retry_does_not_take_it_again()
    {
        var queue = await QueueAsync("queued");
        Assert.Null(await queue.EnqueueUniqueAsync(Job("q-1", "Counted:q", TempestUniqueScope.Queued)));
        Assert.Equal("q-1", await HolderAsync(queue, "Counted:q"));
        var first = await ClaimOneAsync(queue);
        Assert.Null(await HolderAsync(queue, "Counted:q")); // released by the claim script

        Assert.Null(await queue.EnqueueUniqueAsync(Job("q-2", "Counted:q", TempestUniqueScope.Queued)));
        var due = DateTimeOffset.UtcNow.AddSeconds(-1);
        Assert.Empty(await queue.RecordAsync([new TempestOutcome(TempestOutcomeKind.Retry, first) { RunAt = due, Status = TempestTaskStatus.Failure }]));
        var claimed = await queue.ClaimAsync(Worker, 10, CancellationToken.None);
        Assert.Equal(["q-1", "q-2"], claimed.Select(m => m.Id).Order());
        // q-2's claim freed its own key; q-1's second claim must not have taken or freed anything.
        Assert.Null(await HolderAsync(queue, "Counted:q"));
        Assert.Null(await queue.EnqueueUniqueAsync(Job("q-3", "Counted:q", TempestUniqueScope.Queued)));
        var q1 = claimed.Single(m => m.Id == "q-1");
        Assert.Empty(await queue.RecordAsync([new TempestOutcome(TempestOutcomeKind.Completed, q1) { Status = TempestTaskStatus.Success }]));
        Assert.Equal("q-3", await HolderAsync(queue, "Counted:q")); // compare-and-delete: q-1's end leaves q-3's key
    }

    [Fact]
    public async Task A_queued_or_running_key_holds_through_the_run_and_a_retry_and_goes_at_success()
    {
        var queue = await QueueAsync("running");
        Assert.Null(await queue.EnqueueUniqueAsync(Job("r-1", "Counted:r")));
        var running = await ClaimOneAsync(queue);
        Assert.Equal("r-1", await HolderAsync(queue, "Counted:r"));
        Assert.Empty(await queue.RecordAsync([new TempestOutcome(TempestOutcomeKind.Retry, running) { RunAt = DateTimeOffset.UtcNow.AddSeconds(-1), Status = TempestTaskStatus.Failure }]));
        Assert.Equal("r-1", await HolderAsync(queue, "Counted:r"));
        running = await ClaimOneAsync(queue);
        Assert.Empty(await queue.RecordAsync([new TempestOutcome(TempestOutcomeKind.Returned, running)]));
        Assert.Equal("r-1", await HolderAsync(queue, "Counted:r"));
        running = await ClaimOneAsync(queue);
        Assert.Empty(await queue.RecordAsync([new TempestOutcome(TempestOutcomeKind.Completed, running) { Status = TempestTaskStatus.Success }]));
        Assert.Null(await HolderAsync(queue, "Counted:r"));
    }

    [Fact]
    public async Task A_queued_or_running_key_goes_at_a_dead_letter_at_a_poison_rescue_and_at_a_cancel_and_a_delete()
    {
        var queue = await QueueAsync("dead", o => { o.LeaseDuration = TimeSpan.FromMilliseconds(200); o.MaxLeaseExpiries = 1; });
        Assert.Null(await queue.EnqueueUniqueAsync(Job("d-1", "Counted:d")));
        var running = await ClaimOneAsync(queue);
        Assert.Empty(await queue.RecordAsync([new TempestOutcome(TempestOutcomeKind.DeadLettered, running) { Reason = "test: poisoned" }]));
        Assert.Null(await HolderAsync(queue, "Counted:d"));

        // A lease that expires once is poison here: the rescue dead-letters it, and frees its key.
        Assert.Null(await queue.EnqueueUniqueAsync(Job("d-2", "Counted:d")));
        await ClaimOneAsync(queue);
        var rescued = new TempestRescue(0, 0);
        for (int tries = 0; rescued.DeadLettered == 0 && tries < 250; tries++)
        {
            rescued = await queue.RescueExpiredAsync(CancellationToken.None);
            if (rescued.DeadLettered == 0) await Task.Delay(20); // the server's clock decides when the lease expired
        }
        Assert.Equal(1, rescued.DeadLettered);
        Assert.Null(await HolderAsync(queue, "Counted:d"));

        Assert.Null(await queue.EnqueueUniqueAsync(Job("d-3", "Counted:d")));
        Assert.True(await queue.CancelAsync("d-3"));
        Assert.Null(await HolderAsync(queue, "Counted:d"));
        Assert.Null(await queue.EnqueueUniqueAsync(Job("d-4", "Counted:d", queue: "mail")));
        Assert.True(await queue.DeleteAsync("d-4"));
        Assert.Null(await HolderAsync(queue, "Counted:d"));
        Assert.Equal(0, await queue.CountAsync()); // the named queue's ready set lost it too
    }

    [Fact]
    public async Task A_period_key_expires_on_the_server_after_its_period_whatever_the_job_did()
    {
        var queue = await QueueAsync("period");
        var period = TimeSpan.FromMilliseconds(300);
        Assert.Null(await queue.EnqueueUniqueAsync(Job("p-1", "Counted:p", TempestUniqueScope.Period, period)));
        var ttl = await (await DbAsync()).KeyTimeToLiveAsync(queue.KeyPrefix + "u:Counted:p");
        Assert.NotNull(ttl);
        Assert.InRange(ttl!.Value, TimeSpan.FromMilliseconds(1), period);
        var running = await ClaimOneAsync(queue);
        Assert.Empty(await queue.RecordAsync([new TempestOutcome(TempestOutcomeKind.Completed, running) { Status = TempestTaskStatus.Success }]));
        Assert.Equal("p-1", await queue.EnqueueUniqueAsync(Job("p-2", "Counted:p", TempestUniqueScope.Period, period))); // done, still held

        for (int tries = 0; await HolderAsync(queue, "Counted:p") is not null && tries < 250; tries++) await Task.Delay(10); // PX decides
        Assert.Null(await HolderAsync(queue, "Counted:p"));
        Assert.Null(await queue.EnqueueUniqueAsync(Job("p-3", "Counted:p", TempestUniqueScope.Period, period)));
        Assert.Equal("p-3", (await ClaimOneAsync(queue)).Id);
    }

    [Fact]
    public async Task A_requeued_dead_letter_takes_its_key_again_when_free_and_runs_without_it_when_not()
    {
        var queue = await QueueAsync("requeue");
        foreach (var id in new[] { "a", "b" })
        {
            Assert.Null(await queue.EnqueueUniqueAsync(Job(id, "Counted:" + id)));
            Assert.Empty(await queue.RecordAsync([new TempestOutcome(TempestOutcomeKind.DeadLettered, await ClaimOneAsync(queue)) { Reason = "test" }]));
        }
        Assert.Null(await queue.EnqueueUniqueAsync(Job("b-2", "Counted:b"))); // b's key is taken meanwhile

        Assert.True(await queue.RequeueDeadAsync("a"));
        Assert.True(await queue.RequeueDeadAsync("b"));
        Assert.Equal("a", await HolderAsync(queue, "Counted:a"));
        Assert.Equal("b-2", await HolderAsync(queue, "Counted:b"));
        Assert.Equal("Counted:a", (await queue.GetAsync("a"))?.Envelope?.UniqueKey);
        Assert.Null((await queue.GetAsync("b"))?.Envelope?.UniqueKey); // runs without it

        var claimed = await queue.ClaimAsync(Worker, 10, CancellationToken.None);
        Assert.Equal(3, claimed.Count);
        Assert.Empty(await queue.RecordAsync([.. claimed.Select(m => new TempestOutcome(TempestOutcomeKind.Completed, m) { Status = TempestTaskStatus.Success })]));
        Assert.Null(await HolderAsync(queue, "Counted:a"));
        Assert.Null(await HolderAsync(queue, "Counted:b"));
    }

    [Fact]
    public async Task Plain_and_batched_enqueues_skip_a_held_key_and_the_first_of_a_batch_wins()
    {
        var queue = await QueueAsync("batch");
        await queue.EnqueueBatchAsync([Job("x-1", "Counted:x"), Job("x-2", "Counted:x"), Job("y-1", "Counted:y")]);
        await queue.EnqueueAsync(Job("x-3", "Counted:x"));
        Assert.Equal("x-1", await HolderAsync(queue, "Counted:x"));
        Assert.Equal(2, await queue.CountAsync());
        Assert.Null(await queue.GetAsync("x-2"));
        Assert.Null(await queue.GetAsync("x-3"));
    }

    [Fact]
    public async Task An_incoming_text_goes_to_its_envelopes_queue_and_a_duplicate_of_its_key_is_dropped_and_counted()
    {
        var queue = await QueueAsync("incoming");
        var db = await DbAsync();
        await db.ListRightPushAsync(queue.IncomingKey,
        [
            """{"v":1,"queue":"mail","unique":"Counted:in","m":["in-1","Counted",1]}""",
            """{"v":1,"queue":"mail","unique":"Counted:in","m":["in-2","Counted",2]}""",
            """{"v":1,"queue":"mail","unique":"Counted:other","uscope":1,"m":["in-3","Counted",3]}""",
        ]);
        var claimed = await queue.ClaimAsync(Worker, [new TempestQueueTake("mail", 10)], 10, CancellationToken.None);
        Assert.Equal(["in-1", "in-3"], claimed.Select(m => m.Id));
        Assert.All(claimed, m => Assert.Equal("mail", m.Envelope?.Queue));
        Assert.Equal(TempestUniqueScope.Queued, claimed[1].Envelope?.UniqueScope);
        Assert.Equal(1, (long)await db.StringGetAsync(queue.KeyPrefix + "duplicates"));
        Assert.Null(await queue.GetAsync("in-2"));
        Assert.Equal("in-1", await HolderAsync(queue, "Counted:in")); // queued or running: still held
        Assert.Null(await HolderAsync(queue, "Counted:other")); // queued: freed by the claim
    }
}
