using StackExchange.Redis;
using TaskTempest.Redis.Tests.Support;

namespace TaskTempest.Redis.Tests;

/// <summary>The test server itself (Redis 7, a key prefix per class), and the guard that refuses a server which can
/// evict keys. This class alone changes the server's policy (and puts it back): no other class may run while it is
/// not noeviction, so they share its collection.</summary>
[Collection(ServerPolicyCollection.Name)]
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
        var redis = await RedisServer.ConnectionAsync();
        var db = redis.GetDatabase();
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        await server.ConfigSetAsync("maxmemory-policy", "allkeys-lru");
        try
        {
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => TempestRedisServerCheck.EnsureNoEvictionAsync(redis));
            Assert.Contains("maxmemory-policy is 'allkeys-lru'", refused.Message, StringComparison.Ordinal);
            Assert.Contains("Set 'maxmemory-policy noeviction'", refused.Message, StringComparison.Ordinal);

            await TempestRedisServerCheck.EnsureNoEvictionAsync(redis, allowEviction: true); // the explicit override
        }
        finally
        {
            await server.ConfigSetAsync("maxmemory-policy", "noeviction");
        }
        await TempestRedisServerCheck.EnsureNoEvictionAsync(redis);
    }

    [Fact]
    public async Task The_check_needs_no_admin_mode()
    {
        // Managed services often refuse CONFIG, and a worker's connection has no allowAdmin: the check reads INFO only.
        await using var plain = await ConnectionMultiplexer.ConnectAsync(RedisServer.ConfiguredEndpoint + ",abortConnect=true");
        await TempestRedisServerCheck.EnsureNoEvictionAsync(plain);
        Assert.Equal("noeviction", await TempestRedisServerCheck.ReadEvictionPolicyAsync(plain, plain.GetEndPoints()[0]));
    }
}

/// <summary>The tests that change or depend on the server-wide eviction policy run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class ServerPolicyCollection
{
    public const string Name = "Redis server policy";
}
