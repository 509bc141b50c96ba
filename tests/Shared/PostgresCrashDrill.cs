using System.Globalization;
using Npgsql;

namespace TaskTempest.Tests.Shared;

/// <summary>
/// The crash drill (CrashDrill.cs) on the PostgreSQL queue, shared by its CrashTests and the throughput harness's crash-pg
/// mode: the workers are samples/PostgreSqlTempest, the scope is a schema (dropped first), and each job records its
/// completion as a row of <c>completions</c> in the same database.
/// </summary>
internal static class PostgresCrashDrill
{
    public static async Task<CrashDrillReport> RunAsync(CrashDrillSettings settings, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(settings);
        await using var store = new PostgresCrashStore(settings);
        return await CrashDrill.RunAsync(settings, store, log);
    }

    private sealed class PostgresCrashStore : ICrashDrillStore
    {
        private readonly NpgsqlDataSource _db;
        private readonly string _s; // the workers validate it as an identifier before anything runs

        public PostgresCrashStore(CrashDrillSettings settings)
        {
            _db = NpgsqlDataSource.Create(settings.ConnectionString);
            _s = settings.Scope;
            string workerConnection = new NpgsqlConnectionStringBuilder(settings.ConnectionString) { MaxPoolSize = settings.WorkerPoolSize }.ConnectionString;
            WorkerTarget = [workerConnection, _s];
        }

        public string Title => "PostgreSQL";

        public IReadOnlyList<string> WorkerTarget { get; }

        public async Task ResetAsync(CancellationToken token)
        {
            await using var drop = _db.CreateCommand($"DROP SCHEMA IF EXISTS {_s} CASCADE");
            await drop.ExecuteNonQueryAsync(token);
        }

        public async Task<int> RegisteredAsync(int[] processIds, CancellationToken token)
        {
            await using var command = _db.CreateCommand($"SELECT count(*) FROM {_s}.workers WHERE pid = ANY($1)");
            command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = processIds });
            return (int)Convert.ToInt64(await command.ExecuteScalarAsync(token), CultureInfo.InvariantCulture);
        }

        public async Task<CrashPoll> PollAsync(int processA, int processB, CancellationToken token)
        {
            await using var command = _db.CreateCommand($"""
                SELECT (SELECT count(DISTINCT job_id) FROM {_s}.completions),
                       (SELECT count(*) FROM {_s}.jobs WHERE state <> 3),
                       count(*) FILTER (WHERE w.pid = $1), count(*) FILTER (WHERE w.pid = $2)
                FROM {_s}.jobs j JOIN {_s}.workers w ON w.id = j.lease_owner
                WHERE j.state = 2
                """);
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = processA });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = processB });
            await using var reader = await command.ExecuteReaderAsync(token);
            await reader.ReadAsync(token);
            return new CrashPoll(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
        }

        public async Task<CrashHeld> HeldAsync(int processId, CancellationToken token)
        {
            await using var command = _db.CreateCommand($"""
                WITH held AS (
                    SELECT j.id, EXISTS (SELECT 1 FROM {_s}.completions c WHERE c.job_id = j.id) AS completed
                    FROM {_s}.jobs j JOIN {_s}.workers w ON w.id = j.lease_owner
                    WHERE j.state = 2 AND w.pid = $1)
                SELECT (SELECT count(DISTINCT job_id) FROM {_s}.completions), clock_timestamp(),
                       ARRAY(SELECT id FROM held), (SELECT count(*) FROM held WHERE NOT completed)
                """);
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = processId });
            await using var reader = await command.ExecuteReaderAsync(token);
            await reader.ReadAsync(token);
            return new CrashHeld(reader.GetInt64(0), reader.GetDateTime(1), reader.GetFieldValue<string[]>(2), (int)reader.GetInt64(3));
        }

        public async Task<DateTime?> LastFirstCompletionAsync(string[] ids, CancellationToken token)
        {
            await using var command = _db.CreateCommand($"""
                SELECT count(*), max(first) FROM (SELECT min(completed_at) AS first FROM {_s}.completions WHERE job_id = ANY($1) GROUP BY job_id) AS t
                """);
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = ids });
            await using var reader = await command.ExecuteReaderAsync(token);
            await reader.ReadAsync(token);
            return reader.GetInt64(0) < ids.Length ? null : reader.GetDateTime(1);
        }

        public async Task<CrashTotals> TotalsAsync(int jobs, string[] heldAtKills, CancellationToken token)
        {
            await using var batch = _db.CreateBatch();
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"""
                SELECT count(*), count(DISTINCT job_id), count(DISTINCT number) FILTER (WHERE number >= 0 AND number < $1) FROM {_s}.completions
                """) { Parameters = { new NpgsqlParameter<int> { TypedValue = jobs } } });
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"""
                SELECT count(*), count(*) FILTER (WHERE job_id = ANY($1)) FROM (SELECT job_id FROM {_s}.completions GROUP BY job_id HAVING count(*) > 1) AS d
                """) { Parameters = { new NpgsqlParameter<string[]> { TypedValue = heldAtKills } } });
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT count(*) FILTER (WHERE state = 3), count(*) FROM {_s}.jobs"));
            await using var reader = await batch.ExecuteReaderAsync(token);
            await reader.ReadAsync(token);
            long rows = reader.GetInt64(0), distinctJobs = reader.GetInt64(1), numbers = reader.GetInt64(2);
            await reader.NextResultAsync(token);
            await reader.ReadAsync(token);
            long duplicated = reader.GetInt64(0), duplicatedHeld = reader.GetInt64(1);
            await reader.NextResultAsync(token);
            await reader.ReadAsync(token);
            return new CrashTotals(rows, distinctJobs, numbers, duplicated, duplicatedHeld, reader.GetInt64(0), reader.GetInt64(1));
        }

        public ValueTask DisposeAsync() => _db.DisposeAsync();
    }
}
