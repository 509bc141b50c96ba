using StackExchange.Redis;

namespace TaskTempest.Redis.Tests.Support;

/// <summary>The test run's Redis server, named by <c>TASKTEMPEST_REDIS</c> (scripts/test.sh starts one and sets it).
/// Tests never skip when it is missing: they fail with the way to start it. One connection for the whole run; each
/// test class works under a key prefix of its own (<see cref="PrefixFor"/>), so that classes run in parallel.</summary>
public static class RedisServer
{
    public const string VariableName = "TASKTEMPEST_REDIS";

    /// <summary>The endpoint scripts/ci-services.sh prints.</summary>
    public const string ScriptsEndpoint = "127.0.0.1:6390";

    private static readonly Lazy<Task<ConnectionMultiplexer>> Shared = new(ConnectAsync);

    /// <summary>The server's endpoint as the environment gives it.</summary>
    public static string? ConfiguredEndpoint => Environment.GetEnvironmentVariable(VariableName);

    /// <summary>The run's connection (opened at first use).</summary>
    public static Task<ConnectionMultiplexer> ConnectionAsync() => Shared.Value;

    /// <summary>The key prefix of a test class: <c>tt:</c> and its name.</summary>
    public static string PrefixFor(Type testClass) => "tt:" + testClass.Name + ":";

    /// <summary>Deletes every key that starts with <paramref name="prefix"/> (what an earlier run left).</summary>
    public static async Task DeleteKeysAsync(ConnectionMultiplexer redis, string prefix)
    {
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        var db = redis.GetDatabase();
        var pattern = prefix.Replace("\\", "\\\\").Replace("*", "\\*").Replace("?", "\\?").Replace("[", "\\[") + "*";
        await foreach (var key in server.KeysAsync(pattern: pattern, pageSize: 1000)) await db.KeyDeleteAsync(key);
    }

    private static async Task<ConnectionMultiplexer> ConnectAsync()
    {
        var endpoint = ConfiguredEndpoint;
        if (string.IsNullOrWhiteSpace(endpoint)) throw Unavailable($"{VariableName} is not set", null);
        try
        {
            // allowAdmin: the tests change the server's eviction policy (CONFIG SET) to see the guard refuse it.
            return await ConnectionMultiplexer.ConnectAsync($"{endpoint},abortConnect=true,connectTimeout=5000,allowAdmin=true");
        }
        catch (RedisConnectionException e)
        {
            throw Unavailable($"could not connect to {endpoint}: {e.Message}", e);
        }
    }

    private static InvalidOperationException Unavailable(string reason, Exception? inner)
    {
        var configured = ConfiguredEndpoint is { Length: > 0 } value ? $"'{value}'" : "(unset)";
        var message = Environment.GetEnvironmentVariable("CI") == "true"
            ? $"Redis is required under CI: scripts/test.sh starts it; {VariableName}={configured}. ({reason})"
            : $"Redis is not available ({reason}); {VariableName}={configured}. Run the whole suite with 'bash scripts/test.sh', " +
              $"or start the servers with 'bash scripts/ci-services.sh start' and export {VariableName}='{ScriptsEndpoint}'.";
        return new InvalidOperationException(message, inner);
    }
}
