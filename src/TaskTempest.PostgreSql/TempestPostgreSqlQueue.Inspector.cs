using System.Data.Common;
using TaskTempest.Queues;

namespace TaskTempest.PostgreSql;

public sealed partial class TempestPostgreSqlQueue : ITempestQueueInspector
{
    // The inspector counts and lists exactly (an operator's view, a dashboard's poll); the engine never calls it.

    private const string JobColumns = $"""
        id, task, state, run_at <= now() AS due, attempt, {EnvelopeColumns}, body_is_envelope, lease_owner, lease_token,
        lease_until, dead_reason, dead_at, enqueued_at, body
        """;

    /// <inheritdoc/>
    public async ValueTask<TempestQueueCounts> GetCountsAsync(CancellationToken cancellationToken = default)
    {
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        await using var command = _dataSource.CreateCommand($"""
            SELECT count(*) FILTER (WHERE state < 2 AND run_at <= now()),
                   count(*) FILTER (WHERE state = 0 AND run_at > now()),
                   count(*) FILTER (WHERE state = 1 AND run_at > now()),
                   count(*) FILTER (WHERE state = 2),
                   count(*) FILTER (WHERE state = 3),
                   count(*) FILTER (WHERE state = 4)
            FROM {_s}.jobs WHERE queue = $1
            """);
        command.Parameters.Add(Value(_options.QueueName));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new TempestQueueCounts(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4))
        {
            Completed = reader.GetInt64(5),
        };
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<TempestJobInfo>> ListAsync(TempestJobState state, int offset, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        (string where, string order) = state switch
        {
            TempestJobState.Ready => ("state < 2 AND run_at <= now()", "priority DESC, run_at, seq"),
            TempestJobState.Scheduled => ("state = 0 AND run_at > now()", "run_at, seq"),
            TempestJobState.Retrying => ("state = 1 AND run_at > now()", "run_at, seq"),
            TempestJobState.Running => ("state = 2", "lease_until, seq"),
            TempestJobState.Dead => ("state = 3", "dead_at DESC, seq DESC"),
            TempestJobState.Completed => ("state = 4", "finished_at DESC, seq DESC"),
            _ => throw new ArgumentOutOfRangeException(nameof(state), state, "Not a job state."),
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
            Envelope = envelope.IsDefault && !r.GetBoolean(15) ? null : envelope,
            Lease = state == Running && !r.IsDBNull(17) ? new TempestLease(Text(16) ?? "", r.GetInt64(17), r.GetFieldValue<DateTimeOffset>(18)) : null,
            DeadReason = Text(19),
            DeadAt = r.IsDBNull(20) ? null : r.GetFieldValue<DateTimeOffset>(20),
            EnqueuedAt = r.GetFieldValue<DateTimeOffset>(21),
            Message = r.GetString(22),
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

    /// <inheritdoc/>
    public ValueTask<bool> RequeueDeadAsync(string id, CancellationToken cancellationToken = default) =>
        ChangeOneAsync($"UPDATE {_s}.jobs SET {Fresh} WHERE queue = $1 AND id = $2 AND state = 3", id, cancellationToken);

    /// <inheritdoc/>
    public async ValueTask<int> RequeueAllDeadAsync(CancellationToken cancellationToken = default)
    {
        int requeued = await ChangeAllAsync($"UPDATE {_s}.jobs SET {Fresh} WHERE queue = $1 AND state = 3", cancellationToken).ConfigureAwait(false);
        if (requeued > 0) Wake();
        return requeued;
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
