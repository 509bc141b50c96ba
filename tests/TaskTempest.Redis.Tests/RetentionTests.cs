using StackExchange.Redis;
using TaskTempest.Queues;
using TaskTempest.Redis.Tests.Support;

namespace TaskTempest.Redis.Tests;

/// <summary>
/// Retention on Redis: successes removed at once or kept for a set time, dead letters and the recent-failure log capped
/// by count (at the outcome) and age (at the rescue), silent workers forgotten. Ages are written into the sets' scores
/// (the server's clock decides what is old), so nothing waits for time to pass. Through the contract, not an engine.
/// </summary>
public sealed class RetentionTests
{
    private static readonly string Prefix = RedisServer.PrefixFor(typeof(RetentionTests));
    private static readonly TempestWorkerInfo Worker = new("retention-test", "RedisTempest", Environment.MachineName, Environment.ProcessId, 10, DateTimeOffset.UtcNow);

    private static async Task<TempestRedisQueue> QueueAsync(string name, Action<TempestRedisOptions>? configure = null)
    {
        var options = new TempestRedisOptions { KeyPrefix = Prefix, QueueName = name, PollInterval = TimeSpan.FromMilliseconds(50) };
        configure?.Invoke(options);
        await RedisServer.DeleteKeysAsync(await RedisServer.ConnectionAsync(), Prefix + "{tempest:" + name + "}:");
        return await TempestRedisQueue.CreateAsync(await RedisServer.ConnectionAsync(), options);
    }

    private static async Task<IDatabase> DbAsync() => (await RedisServer.ConnectionAsync()).GetDatabase();

    private static async Task<IReadOnlyList<TempestMessage>> ClaimAsync(TempestRedisQueue queue, int count)
    {
        var claimed = await queue.ClaimAsync(Worker, count, CancellationToken.None);
        Assert.Equal(count, claimed.Count);
        return claimed;
    }

    /// <summary>Makes every member of a set look <paramref name="age"/> old on the server's clock.</summary>
    private static async Task AgeAsync(TempestRedisQueue queue, string set, TimeSpan age)
    {
        var db = await DbAsync();
        var time = (RedisResult[])(await db.ExecuteAsync("TIME"))!;
        long nowMs = (long)time[0] * 1000 + (long)time[1] / 1000;
        foreach (var member in await db.SortedSetRangeByRankAsync(queue.KeyPrefix + set))
            await db.SortedSetAddAsync(queue.KeyPrefix + set, member, nowMs - (long)age.TotalMilliseconds);
    }

    [Fact]
    public async Task By_default_a_success_is_removed_at_its_acknowledgement()
    {
        var queue = await QueueAsync("remove-on-complete");
        await queue.EnqueueAsync(new RawTempestMessage("""["ok","Counted",1]"""));
        var claimed = Assert.Single(await ClaimAsync(queue, 1));
        Assert.Empty(await queue.RecordAsync([new TempestOutcome(TempestOutcomeKind.Completed, claimed) { Status = TempestTaskStatus.Success }]));
        Assert.Null(await queue.GetAsync("ok"));
        Assert.False(await (await DbAsync()).KeyExistsAsync(queue.KeyPrefix + "j:ok"));
        Assert.Equal(0, (await queue.GetCountsAsync()).Completed);
    }

    [Fact]
    public async Task A_success_is_kept_as_completed_for_its_time_and_count_and_a_failed_end_is_not()
    {
        var queue = await QueueAsync("keep-completed", o => { o.KeepCompletedFor = TimeSpan.FromHours(1); o.MaxCompleted = 2; });
        await queue.EnqueueBatchAsync([.. Enumerable.Range(1, 3).Select(i => new RawTempestMessage($$"""["ok-{{i}}","Counted",{{i}}]""")), new RawTempestMessage("""["bad","AlwaysFails"]""")]);
        var claimed = await ClaimAsync(queue, 4);
        Assert.Empty(await queue.RecordAsync([.. claimed.Select(m => m.Id == "bad"
            ? new TempestOutcome(TempestOutcomeKind.Completed, m) { Status = TempestTaskStatus.Failure, Error = new TempestError("InvalidOperationException", "always fails") }
            : new TempestOutcome(TempestOutcomeKind.Completed, m) { Status = TempestTaskStatus.Success })]));

        Assert.Equal(TempestJobState.Completed, (await queue.GetAsync("ok-1"))?.State);
        Assert.Null(await queue.GetAsync("bad")); // removed; its run is in the recent failures
        Assert.Equal("bad", Assert.Single(await queue.GetRecentFailuresAsync(10)).Id);
        Assert.Equal(3, (await queue.GetCountsAsync()).Completed);

        Assert.Equal(new TempestRescue(0, 0), await queue.RescueExpiredAsync(CancellationToken.None)); // trims to the cap: the newest 2
        Assert.Equal(2, (await queue.GetCountsAsync()).Completed);
        Assert.Equal(2, (await queue.ListAsync(TempestJobState.Completed, 0, 10)).Count);
        await AgeAsync(queue, "done", TimeSpan.FromMinutes(61));
        await queue.RescueExpiredAsync(CancellationToken.None);
        Assert.Equal(0, (await queue.GetCountsAsync()).Completed);
        Assert.Empty(await queue.ListAsync(TempestJobState.Completed, 0, 10));
        foreach (var i in new[] { 1, 2, 3 }) Assert.False(await (await DbAsync()).KeyExistsAsync(queue.KeyPrefix + $"j:ok-{i}"));
    }

    [Fact]
    public async Task Dead_letters_and_failures_are_capped_by_count_newest_kept_and_deleted_by_age_and_silent_workers_forgotten()
    {
        var queue = await QueueAsync("caps", o =>
        {
            o.MaxDeadLetters = 3;
            o.MaxFailures = 2;
            o.KeepDeadLettersFor = TimeSpan.FromDays(30);
            o.KeepFailuresFor = TimeSpan.FromDays(7);
            o.ForgetSilentWorkersAfter = TimeSpan.FromHours(1);
        });
        for (int i = 1; i <= 5; i++)
        {
            // One at a time, so that "newest" is well defined (the server's clock orders them).
            await queue.EnqueueAsync(new RawTempestMessage($$"""["dead-{{i}}","AlwaysFails"]"""));
            var claimed = Assert.Single(await ClaimAsync(queue, 1));
            Assert.Empty(await queue.RecordAsync([new TempestOutcome(TempestOutcomeKind.DeadLettered, claimed)
            {
                Status = TempestTaskStatus.Failure, Reason = $"failed {i}", Error = new TempestError("InvalidOperationException", "always fails"),
            }]));
        }
        var dead = await queue.ListAsync(TempestJobState.Dead, 0, 10);
        Assert.Equal(["dead-5", "dead-4", "dead-3"], dead.Select(d => d.Id)); // newest first; the oldest two deleted at the cap
        Assert.False(await (await DbAsync()).KeyExistsAsync(queue.KeyPrefix + "j:dead-1"));
        Assert.Equal(["dead-5", "dead-4"], (await queue.GetRecentFailuresAsync(10)).Select(f => f.Id));

        // The heartbeat registers a worker; make it and the dead letters and failures old, and a rescue deletes them.
        await queue.HeartbeatAsync(Worker, [], CancellationToken.None);
        Assert.Single(await queue.GetWorkersAsync());
        await AgeAsync(queue, "dead", TimeSpan.FromDays(31));
        await AgeAsync(queue, "beats", TimeSpan.FromHours(2));
        var db = await DbAsync();
        var failures = await db.ListRangeAsync(queue.KeyPrefix + "failures");
        await db.KeyDeleteAsync(queue.KeyPrefix + "failures");
        foreach (var entry in failures.Reverse())
        {
            // The entry's last element is when it was recorded (ms): eight days earlier.
            string text = (string)entry!;
            int cut = text.LastIndexOf(',');
            long at = long.Parse(text[(cut + 1)..^1], System.Globalization.CultureInfo.InvariantCulture);
            await db.ListLeftPushAsync(queue.KeyPrefix + "failures", text[..(cut + 1)] + (at - (long)TimeSpan.FromDays(8).TotalMilliseconds) + "]");
        }
        await queue.RescueExpiredAsync(CancellationToken.None);
        Assert.Empty(await queue.ListAsync(TempestJobState.Dead, 0, 10));
        Assert.Equal(0, (await queue.GetCountsAsync()).Dead);
        Assert.Empty(await queue.GetRecentFailuresAsync(10));
        Assert.Empty(await queue.GetWorkersAsync());
        Assert.False(await db.KeyExistsAsync(queue.KeyPrefix + "j:dead-5"));
    }
}
