using System.Data.Common;
using TaskTempest.Queues;

namespace TaskTempest.PostgreSql;

public sealed partial class TempestPostgreSqlQueue : ITempestQueueInspector
{
    // The inspector is an operator's view and a dashboard's poll; the engine never calls it. Its counts are bounded.

    private const string JobColumns = $"""
        id, task, state, run_at <= now() AS due, attempt, {EnvelopeColumns}, body_is_envelope, lease_owner, lease_token,
        lease_until, dead_reason, dead_at, enqueued_at, body
        """;

    /// <summary>How many jobs of this queue name are in each state: exact up to <see cref="ExactCountLimit"/> per state
    /// (a bounded walk of that state's partial index), the planner's estimate above, so that a dashboard polling a
    /// deep table never scans it.</summary>
    public async ValueTask<TempestQueueCounts> GetCountsAsync(CancellationToken cancellationToken = default)
    {
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        string Count(string where) => $"""
            (SELECT CASE WHEN n > $2 THEN greatest(n, {_s}.count_estimate('SELECT 1 FROM {_s}.jobs WHERE queue = ' || quote_literal($1) || ' AND {where}')) ELSE n END
             FROM (SELECT count(*) AS n FROM (SELECT 1 FROM {_s}.jobs WHERE queue = $1 AND {where} LIMIT $2 + 1) AS bounded) AS counted)
            """;
        await using var command = _dataSource.CreateCommand($"""
            SELECT {Count(StateFilter(TempestJobState.Ready))}, {Count(StateFilter(TempestJobState.Scheduled))}, {Count(StateFilter(TempestJobState.Retrying))},
                   {Count(StateFilter(TempestJobState.Running))}, {Count(StateFilter(TempestJobState.Dead))}, {Count(StateFilter(TempestJobState.Completed))}
            """);
        command.Parameters.Add(Value(_options.QueueName));
        command.Parameters.Add(Value((long)ExactCountLimit));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new TempestQueueCounts(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4))
        {
            Completed = reader.GetInt64(5),
        };
    }

    /// <summary>The rows of a state (constant text: it is written into the counts' estimate query too).</summary>
    private static string StateFilter(TempestJobState state) => state switch
    {
        TempestJobState.Ready => "state < 2 AND run_at <= now()",
        TempestJobState.Scheduled => "state = 0 AND run_at > now()",
        TempestJobState.Retrying => "state = 1 AND run_at > now()",
        TempestJobState.Running => "state = 2",
        TempestJobState.Dead => "state = 3",
        TempestJobState.Completed => "state = 4",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "Not a job state."),
    };

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<TempestJobInfo>> ListAsync(TempestJobState state, int offset, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        string where = StateFilter(state);
        string order = state switch
        {
            TempestJobState.Ready => "priority DESC, run_at, seq",
            TempestJobState.Scheduled or TempestJobState.Retrying => "run_at, seq",
            TempestJobState.Running => "lease_until, seq",
            TempestJobState.Dead => "dead_at DESC, seq DESC",
            _ => "finished_at DESC, seq DESC",
        };
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        await using var command = _dataSource.CreateCommand($"SELECT {JobColumns} FROM {_s}.jobs WHERE queue = $1 AND {where} ORDER BY {order} OFFSET $2 LIMIT $3");
        command.Parameters.Add(Value(_options.QueueName));
        command.Parameters.Add(Value((long)offset));
        command.Parameters.Add(Value((long)limit));
        return await ReadJobsAsync(command, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask<TempestJobInfo?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        await using var command = _dataSource.CreateCommand($"SELECT {JobColumns} FROM {_s}.jobs WHERE queue = $1 AND id = $2");
        command.Parameters.Add(Value(_options.QueueName));
        command.Parameters.Add(Value(id));
        var found = await ReadJobsAsync(command, cancellationToken).ConfigureAwait(false);
        return found.Count == 0 ? null : found[0];
    }

    private static async Task<List<TempestJobInfo>> ReadJobsAsync(Npgsql.NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var jobs = new List<TempestJobInfo>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) jobs.Add(ReadJob(reader));
        return jobs;
    }

    private static TempestJobInfo ReadJob(DbDataReader r)
    {
        string? Text(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        short state = r.GetInt16(2);
        bool due = r.GetBoolean(3);
        var envelope = ReadEnvelope(r, 5);
        return new TempestJobInfo
        {
            Id = r.GetString(0),
            TaskName = r.GetString(1),
            State = state switch
            {
                Running => TempestJobState.Running,
                Dead => TempestJobState.Dead,
                Completed => TempestJobState.Completed,
                _ when due => TempestJobState.Ready,
                Retrying => TempestJobState.Retrying,
                _ => TempestJobState.Scheduled,
            },
            Attempt = r.GetInt32(4),
            Envelope = envelope.IsDefault && !r.GetBoolean(17) ? null : envelope,
            Lease = state == Running && !r.IsDBNull(19) ? new TempestLease(Text(18) ?? "", r.GetInt64(19), r.GetFieldValue<DateTimeOffset>(20)) : null,
            DeadReason = Text(21),
            DeadAt = r.IsDBNull(22) ? null : r.GetFieldValue<DateTimeOffset>(22),
            EnqueuedAt = r.GetFieldValue<DateTimeOffset>(23),
            Message = r.GetString(24),
        };
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<TempestFailureRecord>> GetRecentFailuresAsync(int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        await using var command = _dataSource.CreateCommand($"""
            SELECT job_id, task, attempt, status, error_type, error_message, failed_at FROM {_s}.failures ORDER BY seq DESC LIMIT $1
            """);
        command.Parameters.Add(Value((long)limit));
        var failures = new List<TempestFailureRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var error = reader.IsDBNull(4) ? null : new TempestError(reader.GetString(4), reader.IsDBNull(5) ? "" : reader.GetString(5));
            failures.Add(new TempestFailureRecord(reader.GetString(0), reader.GetString(1), reader.GetInt32(2),
                (TempestTaskStatus)reader.GetInt16(3), error, reader.GetFieldValue<DateTimeOffset>(6)));
        }
        return failures;
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<TempestWorkerStatus>> GetWorkersAsync(CancellationToken cancellationToken = default)
    {
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        await using var command = _dataSource.CreateCommand($"SELECT id, engine, host, pid, slots, started_at, last_heartbeat, running FROM {_s}.workers ORDER BY started_at, id");
        var workers = new List<TempestWorkerStatus>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var info = new TempestWorkerInfo(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3),
                reader.GetInt32(4), reader.GetFieldValue<DateTimeOffset>(5));
            workers.Add(new TempestWorkerStatus(info, reader.GetFieldValue<DateTimeOffset>(6), reader.GetInt32(7)));
        }
        return workers;
    }

    /// <summary>Removes a waiting or running job; a running one's lease is then gone (its worker's next heartbeat reports
    /// it lost and cancels its token; its outcome is refused). False when there is no such job, or it is dead.</summary>
    public ValueTask<bool> CancelAsync(string id, CancellationToken cancellationToken = default) =>
        ChangeOneAsync($"DELETE FROM {_s}.jobs WHERE queue = $1 AND id = $2 AND state < 3", id, cancellationToken);

    /// <summary>A dead letter back to run (same id, fresh counts, due now). It takes its unique key again when no other job
    /// holds it, else it runs without it: a requeue never fails on a key.</summary>
    public async ValueTask<bool> RequeueDeadAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        return await RequeueAsync("AND id = $2", id, cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <inheritdoc/>
    public async ValueTask<int> RequeueAllDeadAsync(CancellationToken cancellationToken = default) =>
        await RequeueAsync("", id: null, cancellationToken).ConfigureAwait(false);

    private async ValueTask<int> RequeueAsync(string which, string? id, CancellationToken cancellationToken)
    {
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        // The first dead letter of a key (by enqueue order) takes it when no job holds it; an enqueue that takes it
        // meanwhile makes the update fail on jobs_unique, and then they go back without their keys.
        string withKeys = $"""
            WITH dead AS (SELECT id FROM {_s}.jobs WHERE queue = $1 AND state = 3 {which} FOR UPDATE),
            keyed AS (
                SELECT j.id, j.unique_key IS NOT NULL AND j.unique_scope <> 3
                       AND row_number() OVER (PARTITION BY j.unique_key ORDER BY j.seq) = 1
                       AND NOT EXISTS (SELECT 1 FROM {_s}.jobs h WHERE h.queue = j.queue AND h.unique_key = j.unique_key AND h.unique_held) AS hold
                FROM {_s}.jobs j JOIN dead ON dead.id = j.id)
            UPDATE {_s}.jobs j SET {Fresh}, unique_held = keyed.hold FROM keyed WHERE j.id = keyed.id AND j.state = 3
            """;
        string withoutKeys = $"UPDATE {_s}.jobs SET {Fresh}, unique_held = false WHERE queue = $1 AND state = 3 {which}";
        int requeued;
        try
        {
            requeued = await ExecuteAsync(withKeys, id, cancellationToken).ConfigureAwait(false);
        }
        catch (Npgsql.PostgresException e) when (e.SqlState == Npgsql.PostgresErrorCodes.UniqueViolation)
        {
            requeued = await ExecuteAsync(withoutKeys, id, cancellationToken).ConfigureAwait(false);
        }
        if (requeued > 0) Wake();
        return requeued;
    }

    private async Task<int> ExecuteAsync(string sql, string? id, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(sql);
        command.Parameters.Add(Value(_options.QueueName));
        if (id is not null) command.Parameters.Add(Value(id));
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A dead letter back to run: same id, fresh counts, due now.</summary>
    private const string Fresh = """
        state = 0, run_at = now(), scheduled_for = NULL, attempt = 0, failures = 0, lease_expiries = 0,
        last_error_type = NULL, last_error_message = NULL, dead_reason = NULL, dead_at = NULL
        """;

    /// <inheritdoc/>
    public ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken = default) =>
        ChangeOneAsync($"DELETE FROM {_s}.jobs WHERE queue = $1 AND id = $2 AND state <> 2", id, cancellationToken);

    /// <inheritdoc/>
    public async ValueTask<int> DeleteAllDeadAsync(CancellationToken cancellationToken = default) =>
        await ChangeAllAsync($"DELETE FROM {_s}.jobs WHERE queue = $1 AND state = 3", cancellationToken).ConfigureAwait(false);

    private async ValueTask<bool> ChangeOneAsync(string sql, string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        await using var command = _dataSource.CreateCommand(sql);
        command.Parameters.Add(Value(_options.QueueName));
        command.Parameters.Add(Value(id));
        bool changed = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        if (changed && sql.StartsWith("UPDATE", StringComparison.Ordinal)) Wake();
        return changed;
    }

    private async ValueTask<int> ChangeAllAsync(string sql, CancellationToken cancellationToken)
    {
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        await using var command = _dataSource.CreateCommand(sql);
        command.Parameters.Add(Value(_options.QueueName));
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
