using StackExchange.Redis;

namespace TaskTempest.Redis;

/// <summary>
/// What a Redis server must be for a job queue: one that never evicts keys. Under any other <c>maxmemory-policy</c>
/// a server that fills up deletes keys to make room, and a deleted key is a lost job (or a lost lease, a lost dead
/// letter) that no error reports. The policy is read from <c>INFO memory</c>, since managed services often disable
/// <c>CONFIG</c>.
/// </summary>
public static class TempestRedisServerCheck
{
    /// <summary>The only policy under which Redis never deletes a key to free memory: writes fail instead.</summary>
    public const string SafePolicy = "noeviction";

    /// <summary>The <c>maxmemory_policy</c> of the server at <paramref name="endpoint"/>, as its <c>INFO memory</c> reports it
    /// (from a script, so that the connection needs no admin mode).</summary>
    public static async Task<string> ReadEvictionPolicyAsync(IConnectionMultiplexer redis, System.Net.EndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(endpoint);
        // StackExchange.Redis counts INFO as an admin command (allowAdmin), which a worker's connection should not need;
        // a script may call INFO, and EVAL is no admin command.
        var answer = await redis.GetServer(endpoint).ExecuteAsync("EVAL", "return redis.call('INFO', 'memory')", 0).ConfigureAwait(false);
        string info = (string?)answer ?? throw new InvalidOperationException($"The Redis server {endpoint} answered INFO memory with nothing.");
        foreach (var line in info.AsSpan().EnumerateLines())
        {
            const string Field = "maxmemory_policy:";
            if (line.StartsWith(Field, StringComparison.Ordinal)) return line[Field.Length..].Trim().ToString();
        }
        throw new InvalidOperationException($"The Redis server {endpoint}'s INFO memory has no maxmemory_policy field: it cannot be checked for eviction.");
    }

    /// <summary>
    /// Refuses, with the reason and the fix, a connection to any server whose <c>maxmemory-policy</c> can evict keys
    /// (every primary is checked: on a cluster each holds some queue's keys). <paramref name="allowEviction"/> is the
    /// override for those who know what they run (a server used for nothing but this queue, whose memory can never
    /// fill): the check is then skipped.
    /// </summary>
    /// <exception cref="InvalidOperationException">A server can evict keys.</exception>
    public static async Task EnsureNoEvictionAsync(IConnectionMultiplexer redis, bool allowEviction = false)
    {
        ArgumentNullException.ThrowIfNull(redis);
        if (allowEviction) return;
        foreach (var endpoint in redis.GetEndPoints())
        {
            if (redis.GetServer(endpoint) is { IsConnected: true, IsReplica: false })
            {
                string policy = await ReadEvictionPolicyAsync(redis, endpoint).ConfigureAwait(false);
                if (policy == SafePolicy) continue;
                throw new InvalidOperationException(
                    $"The Redis server {endpoint}'s maxmemory-policy is '{Logging.LogText.Escape(policy, Logging.LogText.MaxQuotedLength)}': when its memory fills it deletes keys, and a deleted key is a lost job. " +
                    $"Set 'maxmemory-policy {SafePolicy}' (redis.conf, CONFIG SET, or your provider's parameter group), or, if the server can never fill, allow eviction explicitly.");
            }
        }
    }
}
