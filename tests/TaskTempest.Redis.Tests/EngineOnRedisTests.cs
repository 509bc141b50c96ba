using StackExchange.Redis;
using TaskTempest.Queues;
using TaskTempest.Redis.Tests.Support;
using TaskTempest.Tests.Shared;

namespace TaskTempest.Redis.Tests;

/// <summary>
/// Engines on the Redis queue, end to end: two engines sharing one queue, a retry through the retry set, texts pushed by
/// another client (good and bad) with the one documented command, and a wake-up published by another connection. Each
/// test has a queue name of its own under this class's prefix.
/// </summary>
public sealed class EngineOnRedisTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private static readonly string Prefix = RedisServer.PrefixFor(typeof(EngineOnRedisTests));

    private static async Task<TempestRedisQueue> QueueAsync(string name, IConnectionMultiplexer? connection = null, TimeSpan? poll = null)
    {
        var redis = connection ?? await RedisServer.ConnectionAsync();
        await RedisServer.DeleteKeysAsync(await RedisServer.ConnectionAsync(), Prefix + "{tempest:" + name + "}:");
        return await TempestRedisQueue.CreateAsync(redis, new TempestRedisOptions
        {
            KeyPrefix = Prefix,
            QueueName = name,
            PollInterval = poll ?? TimeSpan.FromMilliseconds(100),
        });
    }

    private static (RedisTempest Engine, RecordingLog Main) Engine(TempestRedisQueue queue, RecordingLog? shared = null)
    {
        var main = shared ?? new RecordingLog();
        var engine = new RedisTempest(new TempestOptions { Queue = queue, MainLoggerFactory = main, TaskLoggerFactory = new RecordingLog(), HandleSignals = false });
        return (engine, main);
    }

    /// <summary>The job hashes the queue holds (a SCAN of its prefix).</summary>
    private static async Task<List<string>> JobKeysAsync(TempestRedisQueue queue)
    {
        var redis = await RedisServer.ConnectionAsync();
        var keys = new List<string>();
        await foreach (var key in redis.GetServer(redis.GetEndPoints()[0]).KeysAsync(pattern: queue.KeyPrefix + "j:*")) keys.Add(key!);
        return keys;
    }

    [Fact]
    public async Task Two_engines_on_one_queue_run_every_job_once_and_leave_no_job_behind()
    {
        var log = new RecordingLog(); // one main log for both engines, to wait for all 500 ends
        var queueA = await QueueAsync("two-engines");
        var queueB = await TempestRedisQueue.CreateAsync(await RedisServer.ConnectionAsync(), queueA.Options);
        var a = Engine(queueA, log);
        var b = Engine(queueB, log);
        var ids = new List<string>();
        await using (var batch = a.Engine.Batch())
        {
            for (int i = 0; i < 500; i++) ids.Add(batch.SubmitCounted(i));
        }
        var runA = a.Engine.RunAsync();
        var runB = b.Engine.RunAsync();

        await log.WaitForAsync(lines => lines.Count(l => l.Contains("<Counted> success", StringComparison.Ordinal)) >= 500, "every job to succeed");
        a.Engine.Stop();
        b.Engine.Stop();
        var results = await Task.WhenAll(runA, runB).WaitAsync(Bound);

        Assert.All(ids, id => Assert.Equal(1, Counted.Runs[id]));
        Assert.Equal(500, results.Sum(r => r.TasksSucceeded));
        Assert.True(results.All(r => r.TasksSucceeded > 0), $"both engines took jobs: {results[0].TasksSucceeded} and {results[1].TasksSucceeded}");
        Assert.Empty(await JobKeysAsync(queueA)); // removed on complete
        Assert.Equal(new TempestQueueCounts(0, 0, 0, 0, 0) { Completed = 0 }, await queueA.GetCountsAsync());
        Assert.Empty(await queueA.GetWorkersAsync()); // each left the registry
    }

    [Fact]
    public async Task A_failed_job_is_retried_through_the_retry_set_and_its_failure_is_in_the_log()
    {
        var queue = await QueueAsync("retry");
        var (engine, main) = Engine(queue);
        string id = engine.SubmitFailsOnce();
        var run = engine.RunAsync();

        await main.WaitForAsync(m => m.StartsWith($"{{{id}}} <FailsOnce> success", StringComparison.Ordinal));
        engine.Stop();
        await run.WaitAsync(Bound);

        Assert.Contains(main.Messages, m => m.StartsWith($"{{{id}}} <FailsOnce> failure", StringComparison.Ordinal) && m.EndsWith("(attempt 1 of 3, retry in 0.1 s)", StringComparison.Ordinal));
        var failure = Assert.Single(await queue.GetRecentFailuresAsync(10));
        Assert.Equal((id, "FailsOnce", 1, TempestTaskStatus.Failure), (failure.Id, failure.TaskName, failure.Attempt, failure.Status));
        Assert.Equal(new TempestError("System.InvalidOperationException", "first run fails"), failure.Error);
        Assert.Empty(await JobKeysAsync(queue));
    }

    [Fact]
    public async Task Texts_another_client_pushes_run_and_bad_ones_are_dead_lettered_with_a_reason_while_the_engine_runs_on()
    {
        var queue = await QueueAsync("external");
        var (engine, main) = Engine(queue);
        var db = (await RedisServer.ConnectionAsync()).GetDatabase();
        // The one command another program needs: RPUSH of wire-format text to the queue's incoming list.
        await db.ListRightPushAsync(queue.IncomingKey,
        [
            """["ext-good-1","Counted",1]""",
            """[null,"Counted",2]""",
            "not json at all",
            """["ext-arity","Counted"]""",
            """["ext-types","Counted","one"]""",
            """["ext-unknown","NoSuchTask",1]""",
            """["bad id with spaces","Counted",3]""",
            """{"v":1,"attempt":0,"m":["ext-envelope","Counted",4]}""",
        ]);
        var run = engine.RunAsync();
        string[] bad = ["ext-arity", "ext-types", "ext-unknown"];
        await main.WaitForAsync(lines => lines.Count(l => l.Contains("<Counted> success", StringComparison.Ordinal)) >= 3
            && bad.All(id => lines.Any(l => l.StartsWith($"{{{id}}} ", StringComparison.Ordinal))), "the three good texts to run and the bad ones to be rejected");
        var dead = await WaitForDeadAsync(queue, 5);
        string later = engine.SubmitCounted(5); // the engine runs on
        await main.WaitForAsync(m => m.StartsWith($"{{{later}}} <Counted> success", StringComparison.Ordinal));
        engine.Stop();
        await run.WaitAsync(Bound);

        Assert.Contains(main.Messages, m => m.StartsWith("{ext-good-1} <Counted> success", StringComparison.Ordinal));
        Assert.Contains(main.Messages, m => m.StartsWith("{ext-envelope} <Counted> success", StringComparison.Ordinal));
        var byId = dead.ToDictionary(d => d.Id);
        Assert.Equal(5, byId.Count);
        Assert.All(bad, id => Assert.Contains(id, byId.Keys));
        Assert.Contains("task class not found: NoSuchTask", byId["ext-unknown"].DeadReason, StringComparison.Ordinal);
        // The garbage and the bad id got ids from the queue ('in-' and a number), and their text is kept as it was.
        var renamed = dead.Where(d => d.Id.StartsWith("in-", StringComparison.Ordinal)).ToList();
        Assert.Equal(["bad id with spaces", "not json at all"], renamed.Select(d => d.Message!.Contains("spaces", StringComparison.Ordinal) ? "bad id with spaces" : d.Message!).Order(StringComparer.Ordinal));
        Assert.All(dead, d => Assert.False(string.IsNullOrWhiteSpace(d.DeadReason)));
        Assert.All(dead, d => Assert.NotNull(d.DeadAt));
        Assert.Empty(await db.ListRangeAsync(queue.IncomingKey));
    }

    private static async Task<IReadOnlyList<TempestJobInfo>> WaitForDeadAsync(TempestRedisQueue queue, int count)
    {
        // The dead letters are recorded by the engine's outcome flush, after the log line: look until they are there (bounded).
        for (int tries = 0; ; tries++)
        {
            var dead = await queue.ListAsync(TempestJobState.Dead, 0, 100);
            if (dead.Count >= count) return dead;
            Assert.True(tries < 600, $"{dead.Count} dead letters of {count}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task A_delayed_envelope_another_client_pushes_is_scheduled_at_its_run_at()
    {
        var queue = await QueueAsync("external-delayed");
        var db = (await RedisServer.ConnectionAsync()).GetDatabase();
        var runAt = DateTimeOffset.UtcNow.AddHours(2);
        var runAtOffset = runAt.ToOffset(TimeSpan.FromHours(-5)); // the same instant written with another offset
        await db.ListRightPushAsync(queue.IncomingKey,
        [
            $$"""{"v":1,"runAt":"{{runAt:O}}","prio":2,"max":4,"tp":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01","m":["ext-later","Counted",1]}""",
            $$"""{"v":1,"runAt":"{{runAtOffset:yyyy-MM-ddTHH:mm:sszzz}}","m":["ext-later-2","Counted",2]}""",
        ]);
        var worker = new TempestWorkerInfo("delayed-test", "RedisTempest", Environment.MachineName, Environment.ProcessId, 1, DateTimeOffset.UtcNow);
        using (var nothing = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queue.ClaimAsync(worker, 10, nothing.Token).AsTask()); // takes them in, none due

        var job = await queue.GetAsync("ext-later");
        Assert.NotNull(job);
        Assert.Equal(TempestJobState.Scheduled, job.State);
        Assert.Equal(runAt.ToUnixTimeMilliseconds(), job.Envelope!.RunAt!.Value.ToUnixTimeMilliseconds());
        Assert.Equal((2, 4), (job.Envelope.Priority, job.Envelope.MaxAttempts));
        Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", job.Envelope.TraceParent);
        var second = await queue.GetAsync("ext-later-2");
        Assert.Equal(runAt.ToUnixTimeSeconds(), second!.Envelope!.RunAt!.Value.ToUnixTimeSeconds());
        Assert.Equal(2, (await queue.GetCountsAsync()).Scheduled);
        await queue.DisposeAsync();
    }

    [Fact]
    public async Task A_job_another_connection_enqueues_wakes_an_idle_claim_by_pub_sub_not_by_the_poll()
    {
        // Two queue instances on two connections, as two processes would be; the claimer polls once an hour, so only the
        // published wake-up can bring it the job within the bound.
        await using var otherProcess = await ConnectionMultiplexer.ConnectAsync(RedisServer.ConfiguredEndpoint + ",abortConnect=true");
        var claimer = await QueueAsync("wake", poll: TimeSpan.FromHours(1));
        var producer = await TempestRedisQueue.CreateAsync(otherProcess, claimer.Options);
        var worker = new TempestWorkerInfo("wake-test", "RedisTempest", Environment.MachineName, Environment.ProcessId, 1, DateTimeOffset.UtcNow);

        using var bound = new CancellationTokenSource(Bound);
        var claim = claimer.ClaimAsync(worker, 1, bound.Token).AsTask();
        // The claim found nothing and subscribed: the server counts the subscriber (looked up, bounded).
        var server = (await RedisServer.ConnectionAsync()).GetServer(RedisServer.ConfiguredEndpoint!);
        for (int tries = 0; (long)(await server.ExecuteAsync("PUBSUB", "NUMSUB", claimer.KeyPrefix + "wake"))[1] == 0; tries++)
        {
            Assert.True(tries < 500, "the claim did not subscribe");
            await Task.Delay(20);
        }
        Assert.False(claim.IsCompleted);
        var (engine, _) = Engine(producer);
        string id = engine.SubmitCounted(7);

        var claimed = Assert.Single(await claim);
        Assert.Equal(id, claimed.Id);
        Assert.Null(claimer.LastSubscribeError);
        await claimer.DisposeAsync();
        await producer.DisposeAsync();
    }
}
