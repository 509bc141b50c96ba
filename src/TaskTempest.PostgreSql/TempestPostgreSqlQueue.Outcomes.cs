using Npgsql;
using NpgsqlTypes;
using TaskTempest.Queues;

namespace TaskTempest.PostgreSql;

public sealed partial class TempestPostgreSqlQueue
{
    /// <summary>
    /// Records outcomes in one round trip: one statement per kind present, each taking its rows as arrays and acting
    /// only where the row is still running under the delivery's token. Completed deletes the row, or keeps a success for
    /// <see cref="TempestPostgreSqlOptions.KeepCompletedFor"/> (a failure or timeout goes to the recent failures first); Retry counts a failure, keeps the error and waits for the run-at; Returned
    /// puts it back as it is; ReturnedUnstarted with the claim's attempt undone; DeadLettered keeps it aside with the
    /// reason (a failed run's counts its failure). A success and a dead letter free the job's unique key (a Period key stays
    /// until its end). Returns the messages refused because their lease is not theirs.
    /// </summary>
    public async ValueTask<IReadOnlyList<TempestMessage>> RecordAsync(IReadOnlyList<TempestOutcome> outcomes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        if (outcomes.Count == 0) return [];
        for (int i = 0; i < outcomes.Count; i++)
        {
            if (outcomes[i].Message is null) throw new ArgumentException($"Outcome {i} has no message.", nameof(outcomes));
            if (outcomes[i].Kind is < TempestOutcomeKind.Completed or > TempestOutcomeKind.DeadLettered)
                throw new ArgumentException($"Outcome {i} has an unknown kind: {outcomes[i].Kind}.", nameof(outcomes));
        }
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        var byKind = outcomes.GroupBy(o => o.Kind).ToList();
        await using var batch = _dataSource.CreateBatch();
        foreach (var group in byKind) batch.BatchCommands.Add(OutcomeCommand(group.Key, group.ToList()));
        var accepted = new HashSet<(string Id, long Token)>(); // a stale and a current delivery of one job may share a batch
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            do
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) accepted.Add((reader.GetString(0), reader.GetInt64(1)));
            }
            while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false));
        }
        if (byKind.Any(g => g.Key is TempestOutcomeKind.Retry or TempestOutcomeKind.Returned or TempestOutcomeKind.ReturnedUnstarted)) Wake();
        var refused = new List<TempestMessage>();
        foreach (var outcome in outcomes)
        {
            if (outcome.Message.Lease is not { } lease || !accepted.Contains((ReceiptId(outcome.Message), lease.Token))) refused.Add(outcome.Message);
        }
        return refused;
    }

    private NpgsqlBatchCommand OutcomeCommand(TempestOutcomeKind kind, List<TempestOutcome> outcomes)
    {
        // A raw text the engine parsed now has its task name; '?' keeps the stored one.
        const string Task = "task = CASE WHEN t.task = '?' THEN j.task ELSE t.task END";
        const string Unlease = "lease_owner = NULL, lease_token = NULL, lease_until = NULL";
        string change = kind switch
        {
            TempestOutcomeKind.Completed when _options.KeepCompletedFor > TimeSpan.Zero => "SELECT * FROM kept UNION ALL SELECT * FROM dropped",
            TempestOutcomeKind.Completed => $"DELETE FROM {_s}.jobs j USING t WHERE {Leased} RETURNING j.id, j.attempt, j.task, t.token",
            TempestOutcomeKind.Retry => $"""
                UPDATE {_s}.jobs j SET state = 1, failures = j.failures + 1, last_error_type = t.error_type,
                    last_error_message = t.error_message, run_at = COALESCE(t.run_at, now()), scheduled_for = t.run_at, {Task}, {Unlease}
                FROM t WHERE {Leased} RETURNING j.id, j.attempt, j.task, t.token
                """,
            TempestOutcomeKind.Returned => $"UPDATE {_s}.jobs j SET state = 0, {Task}, {Unlease} FROM t WHERE {Leased} RETURNING j.id, j.attempt, j.task, t.token",
            TempestOutcomeKind.ReturnedUnstarted => $"""
                UPDATE {_s}.jobs j SET state = 0, attempt = greatest(j.attempt - 1, 0), {Task}, {Unlease}
                FROM t WHERE {Leased} RETURNING j.id, j.attempt, j.task, t.token
                """,
            _ => $"""
                UPDATE {_s}.jobs j SET state = 3, dead_reason = COALESCE(t.reason, 'dead-lettered'), dead_at = now(), unique_held = false,
                    failures = j.failures + CASE WHEN t.status IN (1, 2) THEN 1 ELSE 0 END,
                    last_error_type = COALESCE(t.error_type, j.last_error_type),
                    last_error_message = CASE WHEN t.error_type IS NULL THEN j.last_error_message ELSE t.error_message END, {Task}, {Unlease}
                FROM t WHERE {Leased} RETURNING j.id, j.attempt, j.task, t.token
                """,
        };
        // Which rows go to the recent failures: a failed or timed-out end, a retry (a failed run whatever its status
        // says), and a dead letter of a failed run.
        string failed = kind == TempestOutcomeKind.Retry ? "true" : "t.status IN (1, 2)";
        string failureStatus = kind == TempestOutcomeKind.Retry ? "CASE WHEN t.status = 2 THEN 2 ELSE 1 END" : "t.status";
        var command = new NpgsqlBatchCommand($"""
            WITH t AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::smallint[], $5::text[], $6::text[], $7::timestamptz[], $8::text[])
                       AS t(id, token, task, status, error_type, error_message, run_at, reason)),
            {(kind == TempestOutcomeKind.Completed && _options.KeepCompletedFor > TimeSpan.Zero ? KeptCompletions(Task, Unlease) : "")}
            changed AS ({change}),
            logged AS (
                INSERT INTO {_s}.failures (job_id, task, attempt, status, error_type, error_message)
                SELECT changed.id, CASE WHEN t.task = '?' THEN changed.task ELSE t.task END, changed.attempt, {failureStatus}, t.error_type, t.error_message
                FROM changed JOIN t ON t.id = changed.id
                WHERE $9 AND ({failed}) AND {(kind is TempestOutcomeKind.Returned or TempestOutcomeKind.ReturnedUnstarted ? "false" : "true")})
            SELECT id, token FROM changed
            """);
        T[] Column<T>(Func<TempestOutcome, T> pick) => outcomes.Select(pick).ToArray();
        command.Parameters.Add(Array(NpgsqlDbType.Text, Column(o => ReceiptId(o.Message))));
        command.Parameters.Add(Array(NpgsqlDbType.Bigint, Column(o => o.Message.Lease?.Token)));
        command.Parameters.Add(Array(NpgsqlDbType.Text, Column(o => o.Message.TaskName)));
        command.Parameters.Add(Array(NpgsqlDbType.Smallint, Column(o => (short)o.Status)));
        command.Parameters.Add(Array(NpgsqlDbType.Text, Column(o => o.Error?.Type)));
        command.Parameters.Add(Array(NpgsqlDbType.Text, Column(o => o.Error?.Message)));
        command.Parameters.Add(Array(NpgsqlDbType.TimestampTz, Column(o => o.RunAt?.UtcDateTime)));
        command.Parameters.Add(Array(NpgsqlDbType.Text, Column(o => o.Reason)));
        command.Parameters.Add(Value(_options.KeepRecentFailures));
        return command;
    }

    /// <summary>With <see cref="TempestPostgreSqlOptions.KeepCompletedFor"/>: a success stays as a completed row (the
    /// maintenance deletes it when it is old enough); a failed or timed-out end is deleted all the same (its run is in
    /// the recent failures, kept longer).</summary>
    private string KeptCompletions(string task, string unlease) => $"""
        kept AS (
            UPDATE {_s}.jobs j SET state = 4, finished_at = now(), unique_held = false, {task}, {unlease}
            FROM t WHERE {Leased} AND t.status = 0 RETURNING j.id, j.attempt, j.task, t.token),
        dropped AS (DELETE FROM {_s}.jobs j USING t WHERE {Leased} AND t.status <> 0 RETURNING j.id, j.attempt, j.task, t.token),
        """;

    /// <summary>The condition of every outcome: the row is running under the delivery's token.</summary>
    private const string Leased = "j.id = t.id AND j.lease_token = t.token AND j.state = 2";

    /// <summary>Records a success; a refusal cannot be reported here, so it is ignored.</summary>
    public async ValueTask AcknowledgeAsync(TempestMessage message, CancellationToken cancellationToken = default) =>
        await RecordAsync([new TempestOutcome(TempestOutcomeKind.Completed, message ?? throw new ArgumentNullException(nameof(message))) { Status = TempestTaskStatus.Success }], cancellationToken).ConfigureAwait(false);

    /// <summary>Records a return; a refusal cannot be reported here, so it is ignored.</summary>
    public async ValueTask ReturnAsync(TempestMessage message, CancellationToken cancellationToken = default) =>
        await RecordAsync([new TempestOutcome(TempestOutcomeKind.Returned, message ?? throw new ArgumentNullException(nameof(message)))], cancellationToken).ConfigureAwait(false);

    /// <summary>Records a dead letter with <paramref name="reason"/>; a refusal cannot be reported here, so it is ignored.</summary>
    public async ValueTask DeadLetterAsync(TempestMessage message, string reason, CancellationToken cancellationToken = default) =>
        await RecordAsync([new TempestOutcome(TempestOutcomeKind.DeadLettered, message ?? throw new ArgumentNullException(nameof(message))) { Reason = reason }], cancellationToken).ConfigureAwait(false);
}
