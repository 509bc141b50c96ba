using System.Globalization;
using System.Net;
using StackExchange.Redis;

namespace TaskTempest.Throughput.Redis;

/// <summary>
/// The server the harness is pointed at (<c>TASKTEMPEST_REDIS</c>, host:port), on an administrative connection of its
/// own: its counters (<c>INFO cpu stats commandstats</c>), and the harness's keys. Everything the harness writes is in
/// database <see cref="Database"/>, under the contenders' own key prefixes (Sidekiq 6.4 has none: its fixed key names,
/// in that database only); between runs the harness deletes exactly those keys (SCAN MATCH + UNLINK), never anything
/// else, and it refuses to start when the database holds a key that is not one of them.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    public const string Variable = "TASKTEMPEST_REDIS";

    /// <summary>The harness's own database (the test suite and the samples use 0).</summary>
    public const int Database = 9;

    private readonly ConnectionMultiplexer _admin;
    private readonly IServer _server;
    private readonly IDatabase _db;

    private RedisServer(ConnectionMultiplexer admin, EndPoint endpoint)
    {
        _admin = admin;
        _server = admin.GetServer(endpoint);
        _db = admin.GetDatabase(Database);
        (Host, Port) = endpoint switch
        {
            IPEndPoint ip => (ip.Address.ToString(), ip.Port),
            DnsEndPoint dns => (dns.Host, dns.Port),
            _ => throw new InvalidOperationException($"unexpected endpoint {endpoint}"),
        };
    }

    public string Host { get; }
    public int Port { get; }

    /// <summary>The endpoint as the environment gives it (a StackExchange.Redis configuration string).</summary>
    public static string Configuration => Required();

    public string Version { get; private set; } = "";
    public string Settings { get; private set; } = "";

    /// <summary>Clients connected at the start besides this one: other work on the same server shows in its CPU and command counts.</summary>
    public long OtherClients { get; private set; }

    public static string Required() =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value ? value
        : throw new InvalidOperationException($"set {Variable} to a Redis endpoint, e.g. 127.0.0.1:6390 (bash scripts/ci-services.sh start starts a dev server and prints it)");

    public static async Task<RedisServer> OpenAsync()
    {
        var admin = await ConnectionMultiplexer.ConnectAsync(Required() + ",allowAdmin=true");
        var server = new RedisServer(admin, admin.GetEndPoints().Single());
        var info = await server.InfoAsync("server", "clients", "memory", "persistence");
        server.Version = info.GetValueOrDefault("redis_version", "?");
        server.OtherClients = long.Parse(info.GetValueOrDefault("connected_clients", "1"), CultureInfo.InvariantCulture) - 1;
        string Config(string name) => server._server.ConfigGet(name).FirstOrDefault().Value ?? "?";
        server.Settings = $"maxmemory-policy={Config("maxmemory-policy")}, appendonly={Config("appendonly")}, save='{Config("save")}', " +
                          $"io-threads={Config("io-threads")}, used_memory={info.GetValueOrDefault("used_memory_human", "?")}";
        return server;
    }

    /// <summary>The fields of <c>INFO</c> for <paramref name="sections"/>, in one call.</summary>
    public async Task<Dictionary<string, string>> InfoAsync(params string[] sections)
    {
        var text = (string)(await _server.ExecuteAsync("INFO", sections.Cast<object>().ToArray()))!;
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            int colon = line.IndexOf(':');
            if (colon > 0 && line[0] != '#') fields[line[..colon]] = line[(colon + 1)..].TrimEnd('\r');
        }
        return fields;
    }

    /// <summary>The server's CPU and command counters now: one <c>INFO</c> call.</summary>
    public async Task<ServerReading> ReadAsync()
    {
        var info = await InfoAsync("cpu", "stats", "commandstats");
        double D(string name) => double.Parse(info[name], CultureInfo.InvariantCulture);
        var calls = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (name, value) in info)
        {
            // cmdstat_evalsha:calls=12,usec=340,usec_per_call=28.3,...
            if (!name.StartsWith("cmdstat_", StringComparison.Ordinal)) continue;
            var first = value.Split(',')[0];
            calls[name["cmdstat_".Length..]] = long.Parse(first["calls=".Length..], CultureInfo.InvariantCulture);
        }
        return new ServerReading(TimeSpan.FromSeconds(D("used_cpu_sys") + D("used_cpu_user")), long.Parse(info["total_commands_processed"], CultureInfo.InvariantCulture), calls);
    }

    /// <summary>Deletes every key of the harness's database that matches one of <paramref name="patterns"/> (SCAN MATCH + UNLINK).</summary>
    public async Task<long> DeleteAsync(IEnumerable<string> patterns)
    {
        long deleted = 0;
        foreach (var pattern in patterns) deleted += await DeleteAsync(_server, _db, pattern);
        return deleted;
    }

    /// <summary>Deletes every key of <paramref name="db"/> that matches <paramref name="pattern"/>: SCAN MATCH, UNLINK of 1,000 at a time.</summary>
    public static async Task<long> DeleteAsync(IServer server, IDatabase db, string pattern)
    {
        long deleted = 0;
        var batch = new List<object>(1000);
        await foreach (var key in server.KeysAsync(db.Database, pattern, pageSize: 1000))
        {
            batch.Add(key);
            if (batch.Count < 1000) continue;
            deleted += (long)await db.ExecuteAsync("UNLINK", batch);
            batch.Clear();
        }
        if (batch.Count > 0) deleted += (long)await db.ExecuteAsync("UNLINK", batch);
        return deleted;
    }

    /// <summary>How many keys of the harness's database match <paramref name="pattern"/>.</summary>
    public async Task<long> CountAsync(string pattern)
    {
        long n = 0;
        await foreach (var _ in _server.KeysAsync(Database, pattern, pageSize: 1000)) n++;
        return n;
    }

    /// <summary>The length of a list, or of a sorted set (0 when the key does not exist).</summary>
    public async Task<long> LengthAsync(string key) =>
        await _db.KeyTypeAsync(key) switch
        {
            RedisType.List => await _db.ListLengthAsync(key),
            RedisType.SortedSet => await _db.SortedSetLengthAsync(key),
            _ => 0,
        };

    /// <summary>Refuses to go on when the harness's database holds a key that none of <paramref name="patterns"/> matches
    /// (someone else's data: the harness would never delete it, but its runs would not be alone either).</summary>
    public async Task EnsureOnlyOwnKeysAsync(IReadOnlyCollection<string> patterns)
    {
        await foreach (var key in _server.KeysAsync(Database, "*", pageSize: 1000))
        {
            string name = key.ToString();
            if (!patterns.Any(p => Glob(p, name)))
                throw new InvalidOperationException($"database {Database} of {Required()} holds '{name}', which is not the harness's: it uses that database alone; empty it or point {Variable} at another server");
        }
    }

    /// <summary>Redis's MATCH for the patterns the harness uses: literal text with '*' wildcards.</summary>
    private static bool Glob(string pattern, string text)
    {
        var parts = pattern.Split('*');
        if (parts.Length == 1) return pattern == text;
        if (!text.StartsWith(parts[0], StringComparison.Ordinal) || !text.EndsWith(parts[^1], StringComparison.Ordinal)) return false;
        int at = parts[0].Length;
        for (int i = 1; i < parts.Length - 1; i++)
        {
            int found = text.IndexOf(parts[i], at, StringComparison.Ordinal);
            if (found < 0) return false;
            at = found + parts[i].Length;
        }
        return at <= text.Length - parts[^1].Length;
    }

    public async ValueTask DisposeAsync() => await _admin.DisposeAsync();
}

/// <summary>One reading of the server's counters: its CPU (used_cpu_sys + used_cpu_user, the whole process), the
/// commands it ran (total_commands_processed: commands inside scripts included), and calls per command (commandstats,
/// also counting commands inside scripts).</summary>
internal sealed record ServerReading(TimeSpan Cpu, long Commands, Dictionary<string, long> Calls)
{
    /// <summary>Calls per command between <paramref name="before"/> and this reading, the most first.</summary>
    public IEnumerable<(string Command, long Calls)> CallsSince(ServerReading before) =>
        Calls.Select(c => (c.Key, c.Value - before.Calls.GetValueOrDefault(c.Key))).Where(c => c.Item2 > 0).OrderByDescending(c => c.Item2);
}
