using Npgsql;
using NpgsqlTypes;

namespace TaskTempest.Throughput.Postgres;

/// <summary>
/// The three statements TempestPostgreSqlQueue runs per job, copied for the bare loop and its producer, on the path a plain
/// job takes (no unique key, the <c>default</c> named queue, a claim of one take): the insert with its NOTIFY in one batch
/// (<c>InsertSql</c>, the batch without keys, built by <c>InsertJobs(RowsSource)</c>; <c>NotifySql</c>;
/// <c>CreateInsertBatch</c> and <c>Rows.Bind</c>), the claim over <c>takes</c> (<c>ClaimSql</c>, <c>TryClaimAsync</c>) and
/// the completion (<c>OutcomeCommand</c> for <c>Completed</c> with <c>KeepCompletedFor</c> zero: the DELETE conditional on
/// id and token, with its failures insert that a success never fills), with the same parameters.
/// </summary>
/// <remarks>
/// They mirror src/TaskTempest.PostgreSql/TempestPostgreSqlQueue*.cs (schema version 3) and must be kept in step with it,
/// text and whitespace included: with pg_stat_statements loaded, the harness compares these texts with the queue's own
/// (schema names aside) and says whether they are the same. The texts are built the way the queue builds them (the same
/// constants interpolated in the same places): a multi-line piece interpolated into a raw string keeps its own
/// indentation, and an empty piece leaves an empty line, so retyping the result by hand is easy to get wrong.
/// </remarks>
internal static class QueueStatements
{
    public const string QueueName = "default"; // TempestPostgreSqlOptions.QueueName's default (the instance's queue, $18 and the claim's $3)
    public const string NamedQueue = "default"; // TempestQueueNames.Default: the named queue of a job submitted without one
    public const double LeaseMilliseconds = 30_000; // TempestPostgreSqlOptions.LeaseDuration's default

    private const string EnvelopeColumns =
        "failures, lease_expiries, max_attempts, scheduled_for, envelope_queue, priority, unique_key, last_error_type, last_error_message, trace_parent, "
        + "unique_scope, unique_for";

    /// <summary>The rows' column arrays, $1 to $17 ($18 is the instance's queue name).</summary>
    private const string RowsSource = """
        unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::integer[], $7::timestamptz[], $8::integer[],
               $9::integer[], $10::integer[], $11::integer[], $12::text[], $13::text[], $14::text[], $15::text[], $16::smallint[],
               $17::bigint[])
             WITH ORDINALITY AS t(id, queue, task, body, body_is_envelope, priority, run_at, attempt, failures, lease_expiries,
                                  max_attempts, unique_key, error_type, error_message, trace_parent, unique_scope, unique_for, n)
        """;

    /// <summary>A row whose key its job row holds (the queue's <c>HoldsKey</c>; false for a plain job: it has no key).</summary>
    private const string HoldsKey = "(t.unique_key IS NOT NULL AND t.unique_scope <> 3)";

    private static string InsertJobs(string s, string from, string where = "") => $"""
        INSERT INTO {s}.jobs (id, queue, envelope_queue, task, body, body_is_envelope, state, priority, run_at, scheduled_for, attempt,
                               failures, lease_expiries, max_attempts, unique_key, unique_scope, unique_for, unique_held,
                               last_error_type, last_error_message, trace_parent)
        SELECT t.id, $18, t.queue, t.task, t.body, t.body_is_envelope, 0, t.priority, COALESCE(t.run_at, now()), t.run_at, t.attempt,
               t.failures, t.lease_expiries, t.max_attempts, t.unique_key, t.unique_scope, t.unique_for, {HoldsKey},
               t.error_type, t.error_message, t.trace_parent
        FROM {from}{where}
        ORDER BY t.n
        """;

    /// <summary>The queue's <c>InsertSql</c>: the insert of a batch in which no row has a key (the id's conflict only).</summary>
    public static string Insert(string s) => $"""
        {InsertJobs(s, RowsSource)}
        ON CONFLICT (id) DO NOTHING
        """;

    public static string Notify(string s) => $"SELECT pg_notify('tempest_{s}', $1)";

    /// <summary>The queue's <c>ClaimSql</c>: per named queue of <c>$1</c> (here one, <c>default</c>), a LATERAL walk of
    /// <c>jobs_claimable_named</c>; the total cut to <c>$4</c>.</summary>
    public static string Claim(string s) => $"""
        WITH takes AS (SELECT * FROM unnest($1::text[], $2::integer[]) WITH ORDINALITY AS takes(name, count, rank)),
        picked AS (
            SELECT c.id FROM takes CROSS JOIN LATERAL (
                SELECT id, priority, run_at, seq FROM {s}.jobs
                WHERE queue = $3 AND COALESCE(envelope_queue, 'default') = takes.name AND state < 2 AND run_at <= now()
                ORDER BY priority DESC, run_at, seq
                LIMIT takes.count
                FOR UPDATE SKIP LOCKED) c
            ORDER BY takes.rank, c.priority DESC, c.run_at, c.seq
            LIMIT $4)
        UPDATE {s}.jobs j
        SET state = 2, attempt = j.attempt + 1, lease_owner = $5, lease_token = nextval('{s}.lease_tokens'),
            lease_until = now() + $6 * interval '1 millisecond', unique_held = j.unique_held AND j.unique_scope <> 1
        FROM picked WHERE j.id = picked.id
        RETURNING j.id, j.body, j.body_is_envelope, j.attempt, {EnvelopeColumns}, j.lease_token, j.lease_until, j.run_at, j.seq
        """;

    /// <summary>The claim's RETURNING columns the bare loop reads: the id, the body, the token (after the 12 envelope columns).</summary>
    public const int IdColumn = 0, BodyColumn = 1, TokenColumn = 16;

    /// <summary>The kept completions' CTEs, which the queue writes only with <c>KeepCompletedFor</c> above zero: with its
    /// default (zero) their line is empty, and the empty line stays in the text.</summary>
    private const string NoKeptCompletions = "";

    public static string Complete(string s) => $"""
        WITH t AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::smallint[], $5::text[], $6::text[], $7::timestamptz[], $8::text[])
                   AS t(id, token, task, status, error_type, error_message, run_at, reason)),
        {NoKeptCompletions}
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
        p.Add(Array(NpgsqlDbType.Smallint, new short[n])); // unique_scope: TempestUniqueScope.None
        p.Add(Array(NpgsqlDbType.Bigint, new long?[n])); // unique_for: none
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

    /// <summary>The claim of up to <paramref name="maxCount"/> as the queue's <c>ClaimAsync(worker, maxCount)</c> binds it: one
    /// take, the <c>default</c> named queue with a count of <paramref name="maxCount"/>, and the total <paramref name="maxCount"/>.</summary>
    public static NpgsqlCommand ClaimCommand(NpgsqlDataSource dataSource, string schema, int maxCount, string owner)
    {
        var command = dataSource.CreateCommand(Claim(schema));
        command.Parameters.Add(Array(NpgsqlDbType.Text, new[] { NamedQueue }));
        command.Parameters.Add(Array(NpgsqlDbType.Integer, new[] { maxCount }));
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
