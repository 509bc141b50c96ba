using StackExchange.Redis;
using TaskTempest.Redis.Tests.Support;

namespace TaskTempest.Redis.Tests;

/// <summary>The test server itself (Redis 7, a key prefix per class), and the guard that refuses a server which can
/// evict keys (on a private server started for it).</summary>
public sealed class ServerCheckTests
{
    [Fact]
    public async Task The_run_has_a_Redis_7_server_that_never_evicts_and_a_prefix_per_class()
    {
        var redis = await RedisServer.ConnectionAsync();
        var db = redis.GetDatabase();
        string key = RedisServer.PrefixFor(typeof(ServerCheckTests)) + "ping";
        await db.StringSetAsync(key, "pong");
        Assert.Equal("pong", (string?)await db.StringGetAsync(key));
        await db.KeyDeleteAsync(key);

        var info = (string?)await db.ExecuteAsync("INFO", "server");
        Assert.Contains("redis_version:7.", info, StringComparison.Ordinal);
        Assert.Equal("noeviction", await TempestRedisServerCheck.ReadEvictionPolicyAsync(redis, redis.GetEndPoints()[0]));
        await TempestRedisServerCheck.EnsureNoEvictionAsync(redis); // the suite's server passes
    }

    [Fact]
    public async Task A_server_that_can_evict_keys_is_refused_with_the_reason_and_the_fix_unless_allowed()
    {
        // A server of its own (the policy is server-wide, and the run's server serves every other class meanwhile).
        await using var evicting = await PrivateRedisServer.StartAsync("--maxmemory-policy", "allkeys-lru");
        await using var redis = await ConnectionMultiplexer.ConnectAsync(evicting.Endpoint + ",abortConnect=true");
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => TempestRedisServerCheck.EnsureNoEvictionAsync(redis));
        Assert.Contains("maxmemory-policy is 'allkeys-lru'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Set 'maxmemory-policy noeviction'", refused.Message, StringComparison.Ordinal);
        // The queue refuses to start on it, with the same reason.
        var queueRefused = await Assert.ThrowsAsync<InvalidOperationException>(() => TempestRedisQueue.CreateAsync(redis));
        Assert.Equal(refused.Message, queueRefused.Message);

        await TempestRedisServerCheck.EnsureNoEvictionAsync(redis, allowEviction: true); // the explicit override
        await using var allowed = await TempestRedisQueue.CreateAsync(redis, new TempestRedisOptions { AllowEviction = true });
        Assert.Equal(0, await allowed.CountAsync());
    }

    [Fact]
    public async Task The_check_needs_no_admin_mode()
    {
        // Managed services often refuse CONFIG, and a worker's connection has no allowAdmin: the check reads INFO only.
        await using var plain = await ConnectionMultiplexer.ConnectAsync(RedisServer.ConfiguredEndpoint + ",abortConnect=true");
        await TempestRedisServerCheck.EnsureNoEvictionAsync(plain);
        Assert.Equal("noeviction", await TempestRedisServerCheck.ReadEvictionPolicyAsync(plain, plain.GetEndPoints()[0]));
    }

    [Fact]
    public async Task The_scripts_load_again_after_the_server_lost_its_script_cache_and_every_key_is_under_the_queue_hash_tag()
    {
        var redis = await RedisServer.ConnectionAsync();
        string prefix = RedisServer.PrefixFor(typeof(ServerCheckTests));
        await RedisServer.DeleteKeysAsync(redis, prefix);
        var queue = await TempestRedisQueue.CreateAsync(redis, new TempestRedisOptions { KeyPrefix = prefix, QueueName = "flushed" });
        Assert.Equal(prefix + "{tempest:flushed}:", queue.KeyPrefix);
        await queue.EnqueueAsync(new RawTempestMessage("""["before","Counted",1]"""));
        // A restarted server has no scripts: EVALSHA answers NOSCRIPT and the client sends the script again (EVAL).
        await redis.GetServer(redis.GetEndPoints()[0]).ScriptFlushAsync();
        await queue.EnqueueBatchAsync([new RawTempestMessage("""["after","Counted",2]""")]);
        var worker = new Queues.TempestWorkerInfo("flush-test", "RedisTempest", Environment.MachineName, Environment.ProcessId, 2, DateTimeOffset.UtcNow);
        var claimed = await queue.ClaimAsync(worker, 2, CancellationToken.None);
        Assert.Equal(["before", "after"], claimed.Select(m => m.Id));
        await queue.HeartbeatAsync(worker, claimed, CancellationToken.None);
        // The keys of issue 16's features: a named queue's ready set and the set of them, a unique key, the schedules,
        // and the count of incoming duplicates.
        await queue.EnqueueAsync(new RawTempestMessage("""["named","Counted",3]""") { Envelope = new Queues.TempestEnvelope { Queue = "mail", UniqueKey = "Counted:k" } });
        await redis.GetDatabase().ListRightPushAsync(queue.IncomingKey, """{"v":1,"unique":"Counted:k","m":["dup","Counted",4]}""");
        Assert.Equal(["named"], (await queue.ListAsync(Queues.TempestJobState.Ready, 0, 10)).Select(j => j.Id)); // takes the text in: a duplicate
        var schedule = new Queues.TempestScheduleInfo("hourly", "0 * * * *", "UTC", Queues.TempestMisfire.RunOnce, "Counted");
        await queue.RegisterScheduleAsync(schedule, DateTimeOffset.UtcNow);
        Assert.True(await queue.TryTakeTickAsync("hourly", DateTimeOffset.UtcNow.AddHours(1), null, new RawTempestMessage("""["ticked","Counted",5]""")));

        // Every key the queue made is under its prefix, whose only braces are the hash tag: one cluster slot.
        var keys = new List<string>();
        await foreach (var key in redis.GetServer(redis.GetEndPoints()[0]).KeysAsync(pattern: prefix + "*")) keys.Add(key!);
        Assert.NotEmpty(keys);
        Assert.All(keys, key => Assert.StartsWith(queue.KeyPrefix, key, StringComparison.Ordinal));
        Assert.Contains(queue.KeyPrefix + "active", keys);
        Assert.Contains(queue.KeyPrefix + "j:before", keys);
        foreach (var suffix in new[] { "ready:mail", "queues", "u:Counted:k", "duplicates", "schedules", "schedule:hourly", "j:ticked" })
            Assert.Contains(queue.KeyPrefix + suffix, keys);
    }
}
