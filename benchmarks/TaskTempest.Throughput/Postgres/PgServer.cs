using System.Globalization;
using Npgsql;

namespace TaskTempest.Throughput.Postgres;

/// <summary>
/// The server the harness is pointed at (<c>TASKTEMPEST_POSTGRES</c>), on an administrative pool of its own: its fsync
/// setting, the schemas' tables, its transaction counts, the CPU of its processes, and pg_stat_statements when loaded.
/// </summary>
internal sealed class PgServer : IAsyncDisposable
{
    public const string Variable = "TASKTEMPEST_POSTGRES";
    public const string AdminApplication = "tt-bench-admin";
    private const string StatsApplication = "tt-bench-stats";

    private readonly NpgsqlDataSource _admin, _stats;
    private readonly RoundTrips _bookkeeping = new(AdminApplication, StatsApplication);
    private NpgsqlConnection? _statsConnection;
    private int _postmaster;

    private PgServer(string connectionString)
    {
        ConnectionString = connectionString;
        _admin = new NpgsqlDataSourceBuilder(WithApplication(connectionString, AdminApplication)) { Name = AdminApplication }.Build();
        _stats = new NpgsqlDataSourceBuilder(WithApplication(connectionString, StatsApplication) + ";Maximum Pool Size=1") { Name = StatsApplication }.Build();
    }

    /// <summary>The connection string as the environment gives it.</summary>
    public string ConnectionString { get; }

    public string Version { get; private set; } = "";
    public string Database { get; private set; } = "";
    public string Settings { get; private set; } = "";

    /// <summary>Whether the postgres processes' CPU can be read (the server runs on this machine: its postmaster is in /proc).</summary>
    public bool SeesServerCpu => _postmaster > 0;

    /// <summary>Whether pg_stat_statements is loaded and installed in the database (then statement batch sizes are reported).</summary>
    public bool HasStatements { get; private set; }

    public static string Required() =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value ? value
        : throw new InvalidOperationException($"set {Variable}, e.g. 'Host=127.0.0.1;Port=5443;Username=postgres;Database=postgres' (a superuser: the harness toggles fsync)");

    public static string WithApplication(string connectionString, string application) =>
        new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = application }.ConnectionString;

    public static async Task<PgServer> OpenAsync()
    {
        var server = new PgServer(Required());
        server._statsConnection = await server._stats.OpenConnectionAsync();
        server.Version = await server.ScalarAsync<string>("SHOW server_version");
        server.Database = await server.ScalarAsync<string>("SELECT current_database()");
        server.Settings = await server.ScalarAsync<string>("""
            SELECT string_agg(name || '=' || setting || COALESCE(unit, ''), ', ' ORDER BY name) FROM pg_settings
            WHERE name IN ('shared_buffers', 'synchronous_commit', 'wal_level', 'max_wal_size', 'checkpoint_timeout', 'max_connections', 'shared_preload_libraries')
            """);
        int backend = await server.ScalarAsync<int>("SELECT pg_backend_pid()");
        server._postmaster = ServerCpu.PostmasterOf(backend);
        if (server.Settings.Contains("pg_stat_statements", StringComparison.Ordinal))
        {
            await server.ExecuteAsync("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
            server.HasStatements = true;
        }
        return server;
    }

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = _admin.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var command = _admin.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    // ---------------------------------------------------------------- fsync

    /// <summary>The fsync setting now, and whether it came from ALTER SYSTEM (postgresql.auto.conf), so that it can be put back as it was.</summary>
    public async Task<(bool On, bool FromAlterSystem)> FsyncAsync()
    {
        await using var command = _admin.CreateCommand("SELECT setting, COALESCE(sourcefile, '') FROM pg_settings WHERE name = 'fsync'");
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetString(0) == "on", reader.GetString(1).EndsWith("postgresql.auto.conf", StringComparison.Ordinal));
    }

    public async Task SetFsyncAsync(bool on)
    {
        await ExecuteAsync($"ALTER SYSTEM SET fsync = {(on ? "on" : "off")}");
        await ReloadAsync(on);
    }

    public async Task RestoreFsyncAsync((bool On, bool FromAlterSystem) original)
    {
        await ExecuteAsync(RestoreFsyncSql(original));
        await ReloadAsync(original.On);
    }

    /// <summary>The restore from a signal handler (SIGINT, SIGTERM): on a connection of its own, without waiting for the reload to show.</summary>
    public void RestoreFsyncNow((bool On, bool FromAlterSystem) original)
    {
        using var connection = new NpgsqlConnection(WithApplication(ConnectionString, AdminApplication) + ";Pooling=false");
        connection.Open();
        using (var restore = new NpgsqlCommand(RestoreFsyncSql(original), connection)) restore.ExecuteNonQuery();
        using var reload = new NpgsqlCommand("SELECT pg_reload_conf()", connection);
        reload.ExecuteNonQuery();
    }

    private static string RestoreFsyncSql((bool On, bool FromAlterSystem) original) =>
        original.FromAlterSystem ? $"ALTER SYSTEM SET fsync = {(original.On ? "on" : "off")}" : "ALTER SYSTEM RESET fsync";

    /// <summary>Reloads the configuration and waits until a new backend sees <paramref name="on"/> (the postmaster rereads it asynchronously).</summary>
    private async Task ReloadAsync(bool on)
    {
        await ExecuteAsync("SELECT pg_reload_conf()");
        for (int i = 0; i < 100; i++)
        {
            await using var connection = new NpgsqlConnection(WithApplication(ConnectionString, AdminApplication) + ";Pooling=false");
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SHOW fsync", connection);
            if ((string)(await command.ExecuteScalarAsync())! == (on ? "on" : "off")) return;
            await Task.Delay(50);
        }
        throw new InvalidOperationException($"fsync did not become {(on ? "on" : "off")} after pg_reload_conf()");
    }

    // ---------------------------------------------------------------- tables

    /// <summary>
    /// Empties a schema's tables (jobs, workers, failures), so that every run starts from an empty, unbloated table, and
    /// analyses the empty jobs table: a table never analysed (after CREATE TABLE or TRUNCATE) has no statistics, and
    /// then the planner, with its default selectivities, expects a handful of claimable rows and claims with a bitmap
    /// scan and a sort of the whole backlog instead of walking the claim index: each claim's cost grows with the backlog.
    /// Analysed once, even empty, it walks the index. Autovacuum analyses within a minute of the first rows; a
    /// benchmark that starts at once must not measure that minute.
    /// </summary>
    public async Task TruncateAsync(string schema)
    {
        await ExecuteAsync($"TRUNCATE {schema}.jobs, {schema}.workers, {schema}.failures");
        await ExecuteAsync($"ANALYZE {schema}.jobs");
    }

    public Task CheckpointAsync() => ExecuteAsync("CHECKPOINT");

    public Task<long> RowsAsync(string schema) => ScalarAsync<long>($"SELECT count(*) FROM {schema}.jobs");

    /// <summary>
    /// Every transaction the database committed or rolled back so far, less the harness's own bookkeeping (its
    /// administrative and statistics commands, each one transaction, counted by Npgsql's metrics). A backend sends its
    /// counts to the statistics at most once a second, or when it exits: so the administrative pool is closed and its
    /// backends waited for, and this connection flushes its own (<c>pg_stat_force_next_flush</c>, done before the
    /// statement's reply) before the count is read. Backends of other pools must have exited before (see
    /// <see cref="WaitForBackendsGoneAsync"/>), or their counts may come later.
    /// </summary>
    public async Task<(long Transactions, long Deadlocks)> CountersAsync()
    {
        _admin.Clear();
        await WaitForBackendsGoneAsync(AdminApplication);
        await StatsScalarAsync<object>("SELECT pg_stat_force_next_flush()");
        long bookkeeping = _bookkeeping.Count;
        await using var command = new NpgsqlCommand(
            "SELECT xact_commit + xact_rollback, deadlocks FROM pg_stat_database WHERE datname = current_database()", _statsConnection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0) - bookkeeping, reader.GetInt64(1));
    }

    /// <summary>Waits until no backend of <paramref name="application"/> is left: a backend flushes its statistics when it exits
    /// (just after it leaves pg_stat_activity, hence a short wait more).</summary>
    public async Task WaitForBackendsGoneAsync(string application)
    {
        var bound = DateTime.UtcNow.AddSeconds(30);
        while (await StatsScalarAsync<long>($"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{application}'") > 0)
        {
            if (DateTime.UtcNow > bound) throw new TimeoutException($"backends of {application} still there after 30 s");
            await Task.Delay(10);
        }
        await Task.Delay(20);
    }

    private async Task<T> StatsScalarAsync<T>(string sql)
    {
        await using var command = new NpgsqlCommand(sql, _statsConnection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The CPU all of the server's processes have used so far (null when the server is not on this machine).</summary>
    public TimeSpan? Cpu() => _postmaster > 0 ? ServerCpu.Total(_postmaster) : null;

    // ---------------------------------------------------------------- pg_stat_statements

    /// <summary>Calls and rows so far of the statements that name <paramref name="schema"/>, by kind (claim, complete, insert).</summary>
    public async Task<Statements> StatementsAsync(string schema)
    {
        if (!HasStatements) return default;
        await using var command = _admin.CreateCommand($"""
            SELECT
              COALESCE(sum(calls) FILTER (WHERE query LIKE '%FOR UPDATE SKIP LOCKED%' AND query NOT LIKE '%lease_until < now()%'), 0)::bigint,
              COALESCE(sum(rows)  FILTER (WHERE query LIKE '%FOR UPDATE SKIP LOCKED%' AND query NOT LIKE '%lease_until < now()%'), 0)::bigint,
              COALESCE(sum(calls) FILTER (WHERE query LIKE '%DELETE FROM {schema}.jobs j USING t%'), 0)::bigint,
              COALESCE(sum(rows)  FILTER (WHERE query LIKE '%DELETE FROM {schema}.jobs j USING t%'), 0)::bigint,
              COALESCE(sum(calls) FILTER (WHERE query LIKE 'INSERT INTO {schema}.jobs%'), 0)::bigint,
              COALESCE(sum(rows)  FILTER (WHERE query LIKE 'INSERT INTO {schema}.jobs%'), 0)::bigint
            FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND query LIKE '%{schema}.%'
            """);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new Statements(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5));
    }

    /// <summary>pg_stat_statements' normalised texts of the claim, the completion and the insert that name <paramref name="schema"/> (null where none ran).</summary>
    public async Task<(string? Claim, string? Complete, string? Insert)> StatementTextsAsync(string schema)
    {
        if (!HasStatements) return default;
        string? Text(List<string> texts, Func<string, bool> kind) => texts.FirstOrDefault(kind);
        var texts = new List<string>();
        await using var command = _admin.CreateCommand($"SELECT query FROM pg_stat_statements WHERE query LIKE '%{schema}.jobs%' ORDER BY calls DESC");
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) texts.Add(reader.GetString(0));
        }
        return (Text(texts, q => q.Contains("FOR UPDATE SKIP LOCKED", StringComparison.Ordinal) && !q.Contains("lease_until < now()", StringComparison.Ordinal)),
            Text(texts, q => q.Contains($"DELETE FROM {schema}.jobs j USING t", StringComparison.Ordinal)),
            Text(texts, q => q.StartsWith($"INSERT INTO {schema}.jobs", StringComparison.Ordinal)));
    }

    public async ValueTask DisposeAsync()
    {
        if (_statsConnection is not null) await _statsConnection.DisposeAsync();
        await _stats.DisposeAsync();
        await _admin.DisposeAsync();
        _bookkeeping.Dispose();
    }
}

/// <summary>pg_stat_statements' calls and rows of the claim, the completion and the insert.</summary>
internal readonly record struct Statements(long Claims, long Claimed, long Completes, long Completed, long Inserts, long Inserted)
{
    public static Statements operator -(Statements a, Statements b) =>
        new(a.Claims - b.Claims, a.Claimed - b.Claimed, a.Completes - b.Completes, a.Completed - b.Completed, a.Inserts - b.Inserts, a.Inserted - b.Inserted);
}

/// <summary>
/// The CPU of a PostgreSQL server's processes from /proc: the postmaster's own and reaped children's time
/// (utime + stime + cutime + cstime) plus every live child's utime + stime, so a backend that exits between two
/// readings moves from one term to the other and is counted once.
/// </summary>
internal static class ServerCpu
{
    private const double TicksPerSecond = 100; // USER_HZ: /proc reports clock ticks of 1/100 s on Linux

    /// <summary>The postmaster of <paramref name="backend"/> (its parent), or 0 when /proc does not show a postgres process there.</summary>
    public static int PostmasterOf(int backend)
    {
        try
        {
            if (Stat(backend) is not { } stat || !File.ReadAllText($"/proc/{backend}/comm").StartsWith("postgres", StringComparison.Ordinal)) return 0;
            return File.ReadAllText($"/proc/{stat.Parent}/cmdline").Contains("postgres", StringComparison.Ordinal) ? stat.Parent : 0;
        }
        catch (IOException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }
    }

    public static TimeSpan Total(int postmaster)
    {
        long ticks = 0;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) continue;
            if (Stat(pid) is not { } stat) continue;
            if (pid == postmaster) ticks += stat.Own + stat.Children;
            else if (stat.Parent == postmaster) ticks += stat.Own;
        }
        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }

    private static (int Parent, long Own, long Children)? Stat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // gone meanwhile
        }
        // "pid (comm) state ppid ... utime stime cutime cstime ...": comm may hold spaces, so split after its ')'.
        var f = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        long L(int i) => long.Parse(f[i], CultureInfo.InvariantCulture);
        return (int.Parse(f[1], CultureInfo.InvariantCulture), L(11) + L(12), L(13) + L(14));
    }
}
