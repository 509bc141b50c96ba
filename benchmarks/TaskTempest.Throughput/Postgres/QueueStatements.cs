using Npgsql;
using NpgsqlTypes;

namespace TaskTempest.Throughput.Postgres;

/// <summary>
/// The three statements TempestPostgreSqlQueue runs per job, copied for the bare loop and its producer: the insert
/// with its NOTIFY in one batch (<c>InsertSql</c>, <c>NotifySql</c>, <c>CreateInsertBatch</c>), the claim CTE
/// (<c>TryClaimAsync</c>) and the completion (<c>OutcomeCommand</c> for <c>Completed</c>: the DELETE conditional on id
/// and token, with its failures insert that a success never fills), with the same parameters.
/// </summary>
/// <remarks>
/// They mirror src/TaskTempest.PostgreSql/TempestPostgreSqlQueue*.cs and must be kept in step with it, text and
/// whitespace included: with pg_stat_statements loaded, the harness compares these texts with the queue's own
/// (schema names aside) and says whether they are the same.
/// </remarks>
internal static class QueueStatements
{
    public const string QueueName = "default"; // TempestPostgreSqlOptions.QueueName's default
    public const double LeaseMilliseconds = 30_000; // TempestPostgreSqlOptions.LeaseDuration's default

    private const string EnvelopeColumns =
        "failures, lease_expiries, max_attempts, scheduled_for, envelope_queue, priority, unique_key, last_error_type, last_error_message, trace_parent";

    public static string Insert(string s) => $"""
        INSERT INTO {s}.jobs (id, queue, envelope_queue, task, body, body_is_envelope, state, priority, run_at, scheduled_for, attempt,
                               failures, lease_expiries, max_attempts, unique_key, last_error_type, last_error_message, trace_parent)
        SELECT t.id, $16, t.queue, t.task, t.body, t.body_is_envelope, 0, t.priority, COALESCE(t.run_at, now()), t.run_at, t.attempt,
               t.failures, t.lease_expiries, t.max_attempts, t.unique_key, t.error_type, t.error_message, t.trace_parent
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::integer[], $7::timestamptz[], $8::integer[],
                    $9::integer[], $10::integer[], $11::integer[], $12::text[], $13::text[], $14::text[], $15::text[])
             WITH ORDINALITY AS t(id, queue, task, body, body_is_envelope, priority, run_at, attempt, failures, lease_expiries,
                                  max_attempts, unique_key, error_type, error_message, trace_parent, n)
        ORDER BY t.n
        ON CONFLICT (id) DO NOTHING
        """;

    public static string Notify(string s) => $"SELECT pg_notify('tempest_{s}', $1)";

    public static string Claim(string s) => $"""
        WITH picked AS (
            SELECT id FROM {s}.jobs
            WHERE queue = $1 AND state < 2 AND run_at <= now()
            ORDER BY priority DESC, run_at, seq
            LIMIT $2
            FOR UPDATE SKIP LOCKED)
        UPDATE {s}.jobs j
        SET state = 2, attempt = j.attempt + 1, lease_owner = $3, lease_token = nextval('{s}.lease_tokens'),
            lease_until = now() + $4 * interval '1 millisecond'
        FROM picked WHERE j.id = picked.id
        RETURNING j.id, j.body, j.body_is_envelope, j.attempt, {EnvelopeColumns}, j.lease_token, j.lease_until, j.run_at, j.seq
        """;

    /// <summary>The claim's RETURNING columns the bare loop reads: the id, the body, the token.</summary>
    public const int IdColumn = 0, BodyColumn = 1, TokenColumn = 14;

    public static string Complete(string s) => $"""
        WITH t AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::smallint[], $5::text[], $6::text[], $7::timestamptz[], $8::text[])
                   AS t(id, token, task, status, error_type, error_message, run_at, reason)),
        changed AS (DELETE FROM {s}.jobs j USING t WHERE j.id = t.id AND j.lease_token = t.token AND j.state = 2 RETURNING j.id, j.attempt, j.task, t.token),
        logged AS (
            INSERT INTO {s}.failures (job_id, task, attempt, status, error_type, error_message)
            SELECT changed.id, CASE WHEN t.task = '?' THEN changed.task ELSE t.task END, changed.attempt, t.status, t.error_type, t.error_message
            FROM changed JOIN t ON t.id = changed.id
            WHERE $9 AND (t.status IN (1, 2)) AND true)
        SELECT id, token FROM changed
        """;

    /// <summary>The insert and (when <paramref name="notify"/>: the queue's throttle decides, at most one per 100 ms) its NOTIFY
    /// as one batch, bound as the queue binds rows of plain messages (no envelope, attempt 0).</summary>
    public static NpgsqlBatch InsertBatch(NpgsqlDataSource dataSource, string schema, string[] ids, string task, string[] bodies, bool notify = true)
    {
        int n = ids.Length;
        var batch = dataSource.CreateBatch();
        var insert = new NpgsqlBatchCommand(Insert(schema));
        var p = insert.Parameters;
        p.Add(Array(NpgsqlDbType.Text, ids));
        p.Add(Array(NpgsqlDbType.Text, new string?[n]));
        p.Add(Array(NpgsqlDbType.Text, Enumerable.Repeat(task, n).ToArray()));
        p.Add(Array(NpgsqlDbType.Text, bodies));
        p.Add(Array(NpgsqlDbType.Boolean, new bool[n]));
        p.Add(Array(NpgsqlDbType.Integer, new int[n]));
        p.Add(Array(NpgsqlDbType.TimestampTz, new DateTime?[n]));
        p.Add(Array(NpgsqlDbType.Integer, new int[n]));
        p.Add(Array(NpgsqlDbType.Integer, new int[n]));
        p.Add(Array(NpgsqlDbType.Integer, new int[n]));
        p.Add(Array(NpgsqlDbType.Integer, new int?[n]));
        p.Add(Array(NpgsqlDbType.Text, new string?[n]));
        p.Add(Array(NpgsqlDbType.Text, new string?[n]));
        p.Add(Array(NpgsqlDbType.Text, new string?[n]));
        p.Add(Array(NpgsqlDbType.Text, new string?[n]));
        p.Add(new NpgsqlParameter<string> { TypedValue = QueueName });
        batch.BatchCommands.Add(insert);
        if (notify) batch.BatchCommands.Add(NotifyCommand(schema));
        return batch;
    }

    /// <summary>The NOTIFY alone (the throttle's trailing notice).</summary>
    public static NpgsqlBatchCommand NotifyCommand(string schema)
    {
        var notify = new NpgsqlBatchCommand(Notify(schema));
        notify.Parameters.Add(new NpgsqlParameter<string> { TypedValue = QueueName });
        return notify;
    }

    public static NpgsqlCommand ClaimCommand(NpgsqlDataSource dataSource, string schema, int maxCount, string owner)
    {
        var command = dataSource.CreateCommand(Claim(schema));
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = QueueName });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = maxCount });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = owner });
        command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = LeaseMilliseconds });
        return command;
    }

    /// <summary>The completion of successful runs, as one batch (the queue sends a batch of one statement per outcome kind).</summary>
    public static NpgsqlBatch CompleteBatch(NpgsqlDataSource dataSource, string schema, string[] ids, long[] tokens, string task)
    {
        int n = ids.Length;
        var batch = dataSource.CreateBatch();
        var complete = new NpgsqlBatchCommand(Complete(schema));
        var p = complete.Parameters;
        p.Add(Array(NpgsqlDbType.Text, ids));
        p.Add(Array(NpgsqlDbType.Bigint, tokens.Select(t => (long?)t).ToArray()));
        p.Add(Array(NpgsqlDbType.Text, Enumerable.Repeat(task, n).ToArray()));
        p.Add(Array(NpgsqlDbType.Smallint, new short[n])); // TempestTaskStatus.Success
        p.Add(Array(NpgsqlDbType.Text, new string?[n]));
        p.Add(Array(NpgsqlDbType.Text, new string?[n]));
        p.Add(Array(NpgsqlDbType.TimestampTz, new DateTime?[n]));
        p.Add(Array(NpgsqlDbType.Text, new string?[n]));
        p.Add(new NpgsqlParameter<bool> { TypedValue = true }); // KeepRecentFailures' default
        batch.BatchCommands.Add(complete);
        return batch;
    }

    private static NpgsqlParameter Array<T>(NpgsqlDbType element, T[] values) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | element, Value = values };
}
