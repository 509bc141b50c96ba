using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using TaskTempest.Queues;
using TaskTempest.Wire;

namespace TaskTempest.PostgreSql;

/// <summary>
/// A queue on PostgreSQL, shared by any number of worker processes on one database. A claim is one statement that
/// takes up to the free slots' worth of due jobs with <c>FOR UPDATE SKIP LOCKED</c> and leases them on the server's
/// clock (owner, token, until); the engine's heartbeat extends all of a worker's leases in one statement; every
/// outcome is a batched statement conditional on the lease token, so a stale worker cannot overwrite a newer outcome;
/// a rescue (one at a time, under a transaction-scoped advisory lock) returns expired leases, and dead-letters a job
/// whose lease expired <see cref="TempestPostgreSqlOptions.MaxLeaseExpiries"/> times. Retries and delays are a run-at
/// column. A finished job's row is deleted (its failure, if it failed, stays in the recent-failure log), or a success is
/// kept for <see cref="TempestPostgreSqlOptions.KeepCompletedFor"/>; one maintenance run per interval across all workers
/// deletes what is past its keep (<see cref="MaintainAsync"/>).
/// </summary>
/// <remarks>
/// Enqueue is idempotent by id: a message whose id the table already holds is not added again. The tables are created
/// at first use (<see cref="TempestPostgreSqlSchema"/>). Named queues (<see cref="TempestEnvelope.Queue"/>) live within
/// the instance's <see cref="TempestPostgreSqlOptions.QueueName"/>: one claim statement takes from several in the order
/// asked; the plain claim takes <c>default</c>. Unique keys are the store's (a partial unique index, a lock row for a
/// period), and recurring schedules' last ticks are a table (<see cref="ITempestScheduleStore"/>).
/// </remarks>
public sealed partial class TempestPostgreSqlQueue : ILeasingTempestQueue, ICountingTempestQueue, ITempestScheduleStore, IAsyncDisposable
{
    private const short Waiting = 0, Retrying = 1, Running = 2, Dead = 3, Completed = 4;

    private readonly NpgsqlDataSource _dataSource;
    private readonly TempestPostgreSqlOptions _options;
    private readonly string _s; // the schema, validated: safe to write into the statements
    private readonly ILogger _logger;
    private readonly Lock _migrationGate = new();
    private Task? _migration;
    private readonly CancellationTokenSource _disposed = new();
    // Waiting claims of this process: woken by its own enqueues at once, by everything else at the next poll.
    private readonly ClaimWaits _claimWaits;

    /// <summary>A queue on <paramref name="dataSource"/> (its connections; the queue does not dispose it).</summary>
    public TempestPostgreSqlQueue(NpgsqlDataSource dataSource, TempestPostgreSqlOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        _dataSource = dataSource;
        _options = options ?? new TempestPostgreSqlOptions();
        _options.Validate();
        _s = _options.Schema;
        _logger = (_options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("TaskTempest.PostgreSql");
        _throttle = new WakeThrottle(_options.TimeProvider, NotifyInterval, () => { if (!_disposed.IsCancellationRequested) _ = NotifyAsync(); });
        _claimWaits = new ClaimWaits(_options.TimeProvider, _options.PollInterval);
    }

    /// <summary>The settings it was made with.</summary>
    public TempestPostgreSqlOptions Options => _options;

    /// <inheritdoc/>
    public TimeSpan LeaseDuration => _options.LeaseDuration;

    /// <inheritdoc/>
    public TempestQueueFeatures Features =>
        TempestQueueFeatures.Acknowledgements | TempestQueueFeatures.Leases | TempestQueueFeatures.Delays
        | TempestQueueFeatures.Batches | TempestQueueFeatures.FifoForOneConsumer | TempestQueueFeatures.Counting
        | TempestQueueFeatures.Inspection | TempestQueueFeatures.UniqueKeys | TempestQueueFeatures.NamedQueues | TempestQueueFeatures.Schedules;

    /// <summary>Creates the tables if they are missing (also done at first use).</summary>
    public Task MigrateAsync(CancellationToken cancellationToken = default) => EnsureMigratedAsync(cancellationToken);

    private Task EnsureMigratedAsync(CancellationToken cancellationToken)
    {
        var migration = Volatile.Read(ref _migration);
        if (migration is { IsCompletedSuccessfully: true }) return migration;
        lock (_migrationGate)
        {
            if (_migration is null || _migration.IsFaulted || _migration.IsCanceled)
                _migration = TempestPostgreSqlSchema.MigrateAsync(_dataSource, _s, CancellationToken.None);
            return _migration.WaitAsync(cancellationToken);
        }
    }

    // ------------------------------------------------------------------ enqueue

    /// <inheritdoc/>
    public ValueTask EnqueueAsync(TempestMessage message, CancellationToken cancellationToken = default) =>
        EnqueueBatchAsync([message ?? throw new ArgumentNullException(nameof(message))], cancellationToken);

    /// <summary>Adds every message in one statement (one round trip), in order; a message whose id is taken is skipped, and
    /// so is one whose unique key a job holds (in the batch, the first of a key wins).</summary>
    public async ValueTask EnqueueBatchAsync(IReadOnlyList<TempestMessage> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count == 0) return;
        var rows = new Rows(messages.Count);
        for (int i = 0; i < messages.Count; i++) rows.Add(Prepare(messages[i]));
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        await using (var batch = CreateInsertBatch(rows, connection: null))
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        Wake();
    }

    /// <summary>The insert and, when it is this instance's turn (<see cref="NotifyInterval"/>), its wake-up, in one round trip:
    /// on the queue's data source, or on <paramref name="connection"/> (in the caller's transaction, where the notice goes
    /// out at the commit).</summary>
    internal NpgsqlBatch CreateInsertBatch(Rows rows, NpgsqlConnection? connection) =>
        CreateBatch(rows.HasPeriodKeys ? InsertWithLocksSql : rows.HasKeys ? InsertSkippingKeysSql : InsertSql, rows, connection);

    /// <summary>A statement over <paramref name="rows"/> (bound as $1 to $18) and the wake-up when it is this instance's turn.</summary>
    private NpgsqlBatch CreateBatch(string sql, Rows rows, NpgsqlConnection? connection)
    {
        var batch = connection is null ? _dataSource.CreateBatch() : new NpgsqlBatch(connection);
        var insert = new NpgsqlBatchCommand(sql);
        rows.Bind(insert.Parameters, _options.QueueName);
        batch.BatchCommands.Add(insert);
        if (TakeNotifyTurn())
        {
            var notify = new NpgsqlBatchCommand(NotifySql);
            notify.Parameters.Add(Value(_options.QueueName));
            batch.BatchCommands.Add(notify);
        }
        return batch;
    }

    // Unique keys are the store's: a job of scope Queued or QueuedOrRunning holds its key as long as its row's unique_held
    // is set (the partial unique index jobs_unique), a Period key is a row of unique_locks until its end. A batch with
    // keys skips a duplicate by ON CONFLICT DO NOTHING without a target, which covers every unique index (the id's and
    // the key's), so a keyed message costs no extra statement; a Period key adds a CTE that takes its lock first. A
    // batch without keys keeps the id's conflict alone.

    /// <summary>The rows' column arrays, $1 to $17 ($18 is the instance's queue name).</summary>
    private const string RowsSource = """
        unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::integer[], $7::timestamptz[], $8::integer[],
               $9::integer[], $10::integer[], $11::integer[], $12::text[], $13::text[], $14::text[], $15::text[], $16::smallint[],
               $17::bigint[])
             WITH ORDINALITY AS t(id, queue, task, body, body_is_envelope, priority, run_at, attempt, failures, lease_expiries,
                                  max_attempts, unique_key, error_type, error_message, trace_parent, unique_scope, unique_for, n)
        """;

    /// <summary>A row whose key its job row holds (scopes Queued and QueuedOrRunning; no scope with a key is the latter).</summary>
    private const string HoldsKey = "(t.unique_key IS NOT NULL AND t.unique_scope <> 3)";

    /// <summary>A row whose key is a lock for a period.</summary>
    private const string PeriodKey = "(t.unique_key IS NOT NULL AND t.unique_scope = 3)";

    private string InsertJobs(string from, string where = "") => $"""
        INSERT INTO {_s}.jobs (id, queue, envelope_queue, task, body, body_is_envelope, state, priority, run_at, scheduled_for, attempt,
                               failures, lease_expiries, max_attempts, unique_key, unique_scope, unique_for, unique_held,
                               last_error_type, last_error_message, trace_parent)
        SELECT t.id, $18, t.queue, t.task, t.body, t.body_is_envelope, 0, t.priority, COALESCE(t.run_at, now()), t.run_at, t.attempt,
               t.failures, t.lease_expiries, t.max_attempts, t.unique_key, t.unique_scope, t.unique_for, {HoldsKey},
               t.error_type, t.error_message, t.trace_parent
        FROM {from}{where}
        ORDER BY t.n
        """;

    /// <summary>The statement behind <see cref="EnqueueBatchAsync"/> when no row has a key: the id's conflict only.</summary>
    internal string InsertSql => _insertSql ??= $"""
        {InsertJobs(RowsSource)}
        ON CONFLICT (id) DO NOTHING
        """;

    /// <summary>The insert of rows with keys (none for a period): ON CONFLICT without a target skips a row whose id or key
    /// is taken (the key's index covers rows of this statement too, so the first of a key in a batch wins).</summary>
    internal string InsertSkippingKeysSql => _insertSkippingKeysSql ??= $"""
        {InsertJobs(RowsSource)}
        ON CONFLICT DO NOTHING
        """;

    private string? _insertSql, _insertSkippingKeysSql;

    /// <summary>Takes the Period keys of the rows in <c>t</c> (the first row of a key in the batch) that are free, on the
    /// server's clock; returns the job ids that took one.</summary>
    private string LockPeriods(string onConflict) => $"""
        INSERT INTO {_s}.unique_locks (queue, key, job_id, until)
            SELECT DISTINCT ON (t.unique_key) $18, t.unique_key, t.id, now() + COALESCE(t.unique_for, 0) * interval '1 millisecond'
            FROM t WHERE {PeriodKey}
            ORDER BY t.unique_key, t.n
            ON CONFLICT (queue, key) DO UPDATE SET {onConflict}
            RETURNING job_id
        """;

    private string FreeLocksOnly => $"job_id = EXCLUDED.job_id, until = EXCLUDED.until WHERE {_s}.unique_locks.until <= now()";

    /// <summary>The insert of a batch with Period keys: a row with one is added only if it took its lock.</summary>
    internal string InsertWithLocksSql => $"""
        WITH t AS (SELECT * FROM {RowsSource}),
        locked AS ({LockPeriods(FreeLocksOnly)})
        {InsertJobs("t", $" WHERE NOT {PeriodKey} OR t.id IN (SELECT job_id FROM locked)")}
        ON CONFLICT DO NOTHING
        """;

    /// <summary>One row to insert: a typed message as its envelope text, another program's text as it is (its header read).</summary>
    internal Row Prepare(TempestMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message is RawTempestMessage raw) return PrepareRaw(raw);
        string id = message.Id ?? throw new ArgumentException("The message has no id: the engine assigns one before it enqueues.", nameof(message));
        string text = message.ToEnvelopeJson();
        return new Row(id, message.TaskName, text, IsEnvelopeText(text), Math.Max(0, message.Attempt), message.Envelope);
    }

    private static Row PrepareRaw(RawTempestMessage raw)
    {
        var (id, task, attempt, envelope) = TempestWire.ReadStoredHeader(raw);
        return new Row(id, task, raw.Json, IsEnvelopeText(raw.Json), attempt, envelope);
    }

    private static bool IsEnvelopeText(string text) => text.AsSpan().TrimStart(" \t\r\n").StartsWith('{');

    internal readonly record struct Row(string Id, string Task, string Body, bool BodyIsEnvelope, int Attempt, TempestEnvelope? Envelope);

    /// <summary>Rows as the insert's column arrays.</summary>
    internal sealed class Rows(int capacity)
    {
        private readonly List<Row> _rows = new(capacity);

        public void Add(Row row)
        {
            _rows.Add(row);
            if (row.Envelope?.UniqueKey is null) return;
            HasKeys = true;
            if (row.Envelope.EffectiveUniqueScope == TempestUniqueScope.Period) HasPeriodKeys = true;
        }

        /// <summary>Whether a row has a unique key.</summary>
        public bool HasKeys { get; private set; }

        /// <summary>Whether a row's key is held for a period (the insert then takes locks first).</summary>
        public bool HasPeriodKeys { get; private set; }

        public void Bind(NpgsqlParameterCollection parameters, string queueName)
        {
            T[] Column<T>(Func<Row, T> pick) => _rows.Select(pick).ToArray();
            parameters.Add(Array(NpgsqlDbType.Text, Column(r => r.Id)));
            parameters.Add(Array(NpgsqlDbType.Text, Column(r => r.Envelope?.Queue)));
            parameters.Add(Array(NpgsqlDbType.Text, Column(r => r.Task)));
            parameters.Add(Array(NpgsqlDbType.Text, Column(r => r.Body)));
            parameters.Add(Array(NpgsqlDbType.Boolean, Column(r => r.BodyIsEnvelope)));
            parameters.Add(Array(NpgsqlDbType.Integer, Column(r => r.Envelope?.Priority ?? 0)));
            parameters.Add(Array(NpgsqlDbType.TimestampTz, Column(r => r.Envelope?.RunAt?.UtcDateTime)));
            parameters.Add(Array(NpgsqlDbType.Integer, Column(r => r.Attempt)));
            parameters.Add(Array(NpgsqlDbType.Integer, Column(r => r.Envelope?.Failures ?? 0)));
            parameters.Add(Array(NpgsqlDbType.Integer, Column(r => r.Envelope?.LeaseExpiries ?? 0)));
            parameters.Add(Array(NpgsqlDbType.Integer, Column(r => r.Envelope?.MaxAttempts)));
            parameters.Add(Array(NpgsqlDbType.Text, Column(r => r.Envelope?.UniqueKey)));
            parameters.Add(Array(NpgsqlDbType.Text, Column(r => r.Envelope?.LastError?.Type)));
            parameters.Add(Array(NpgsqlDbType.Text, Column(r => r.Envelope?.LastError?.Message)));
            parameters.Add(Array(NpgsqlDbType.Text, Column(r => r.Envelope?.TraceParent)));
            parameters.Add(Array(NpgsqlDbType.Smallint, Column(r => (short)(r.Envelope?.UniqueScope ?? TempestUniqueScope.None))));
            parameters.Add(Array(NpgsqlDbType.Bigint, Column(r => r.Envelope?.UniqueFor is { } period ? (long?)(long)period.TotalMilliseconds : null)));
            parameters.Add(Value(queueName));
        }
    }

    private static NpgsqlParameter Array<T>(NpgsqlDbType element, T[] values) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | element, Value = values };

    private static NpgsqlParameter Value<T>(T value) => new NpgsqlParameter<T> { TypedValue = value };

    private void Wake() => _claimWaits.Wake();

    // ------------------------------------------------------------------ claim

    /// <summary>Claims one message of the <c>default</c> queue for an anonymous owner: through the two-method contract the
    /// queue still leases, so a delivery nobody records comes back when its lease expires.</summary>
    public async ValueTask<TempestMessage?> DequeueAsync(CancellationToken cancellationToken)
    {
        var claimed = await ClaimAsync(AnonymousWorker, 1, cancellationToken).ConfigureAwait(false);
        return claimed[0];
    }

    /// <summary>Claims for an anonymous owner from the named queues of <paramref name="takes"/> (see
    /// <see cref="ClaimAsync(TempestWorkerInfo, IReadOnlyList{TempestQueueTake}, int, CancellationToken)"/>).</summary>
    public ValueTask<IReadOnlyList<TempestMessage>> DequeueBatchAsync(IReadOnlyList<TempestQueueTake> takes, int maxCount, CancellationToken cancellationToken) =>
        ClaimAsync(AnonymousWorker, takes, maxCount, cancellationToken);

    private static readonly TempestWorkerInfo AnonymousWorker =
        new("anonymous", "", Environment.MachineName, Environment.ProcessId, 1, DateTimeOffset.UnixEpoch);

    /// <summary>
    /// Claims up to <paramref name="maxCount"/> due jobs of the <c>default</c> queue in one statement (by priority, then
    /// run-at, then enqueue order), each leased to <paramref name="worker"/> with a fresh token until now plus
    /// <see cref="LeaseDuration"/> on the server's clock, and its attempt counted. When none is due it waits for a wake-up
    /// (this process's enqueue, another's NOTIFY), or polls (<see cref="TempestPostgreSqlOptions.PollInterval"/> with
    /// jitter; right after a claim that found jobs, sooner: 5 ms doubling to 80 ms), until <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public ValueTask<IReadOnlyList<TempestMessage>> ClaimAsync(TempestWorkerInfo worker, int maxCount, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        return ClaimAsync(worker, [new TempestQueueTake(TempestQueueNames.Default, maxCount)], maxCount, cancellationToken);
    }

    /// <summary>
    /// Claims as <see cref="ClaimAsync(TempestWorkerInfo, int, CancellationToken)"/> does, from the named queues of
    /// <paramref name="takes"/> in their order, in one statement: from the first up to its count, then from the next, never
    /// more than <paramref name="maxCount"/> in all (a queue named twice counts once, at its first place). It waits while
    /// none of them has a due job; wake-ups and polls are the instance's, whatever the named queue.
    /// </summary>
    public async ValueTask<IReadOnlyList<TempestMessage>> ClaimAsync(TempestWorkerInfo worker, IReadOnlyList<TempestQueueTake> takes, int maxCount,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        var (names, counts) = ValidateTakes(takes, maxCount);
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        return await _claimWaits.ClaimAsync(token => TryClaimAsync(worker.Id, names, counts, maxCount, token), EnsureListening, this, _disposed.Token,
            cancellationToken).ConfigureAwait(false);
    }

    private static (string[] Names, int[] Counts) ValidateTakes(IReadOnlyList<TempestQueueTake> takes, int maxCount)
    {
        ArgumentNullException.ThrowIfNull(takes);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        if (takes.Count == 0) throw new ArgumentException("A claim names at least one queue.", nameof(takes));
        var names = new List<string>(takes.Count);
        var counts = new List<int>(takes.Count);
        foreach (var take in takes)
        {
            TempestQueueNames.Validate(take.Queue, nameof(takes));
            if (take.MaxCount < 1) throw new ArgumentOutOfRangeException(nameof(takes), "Each queue of a claim takes at least one message.");
            if (names.Contains(take.Queue)) continue; // its first place decides: two laterals must not pick one row twice
            names.Add(take.Queue);
            counts.Add(Math.Min(take.MaxCount, maxCount));
        }
        return (names.ToArray(), counts.ToArray());
    }

    /// <summary>The claim: per named queue, in the order asked, a walk of <c>jobs_claimable_named</c> that locks up to its
    /// count (SKIP LOCKED); the total is cut to <c>$4</c> by rank, so a few rows past it are locked for the statement's
    /// length only. A Queued key is released here.</summary>
    internal string ClaimSql => $"""
        WITH takes AS (SELECT * FROM unnest($1::text[], $2::integer[]) WITH ORDINALITY AS takes(name, count, rank)),
        picked AS (
            SELECT c.id FROM takes CROSS JOIN LATERAL (
                SELECT id, priority, run_at, seq FROM {_s}.jobs
                WHERE queue = $3 AND COALESCE(envelope_queue, 'default') = takes.name AND state < 2 AND run_at <= now()
                ORDER BY priority DESC, run_at, seq
                LIMIT takes.count
                FOR UPDATE SKIP LOCKED) c
            ORDER BY takes.rank, c.priority DESC, c.run_at, c.seq
            LIMIT $4)
        UPDATE {_s}.jobs j
        SET state = 2, attempt = j.attempt + 1, lease_owner = $5, lease_token = nextval('{_s}.lease_tokens'),
            lease_until = now() + $6 * interval '1 millisecond', unique_held = j.unique_held AND j.unique_scope <> 1
        FROM picked WHERE j.id = picked.id
        RETURNING j.id, j.body, j.body_is_envelope, j.attempt, {EnvelopeColumns}, j.lease_token, j.lease_until, j.run_at, j.seq
        """;

    private async Task<List<TempestMessage>> TryClaimAsync(string owner, string[] names, int[] counts, int maxCount, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(ClaimSql);
        command.Parameters.Add(Array(NpgsqlDbType.Text, names));
        command.Parameters.Add(Array(NpgsqlDbType.Integer, counts));
        command.Parameters.Add(Value(_options.QueueName));
        command.Parameters.Add(Value(maxCount));
        command.Parameters.Add(Value(owner));
        command.Parameters.Add(Value(_options.LeaseDuration.TotalMilliseconds));
        var claimed = new List<(int Rank, int Priority, DateTime RunAt, long Seq, TempestMessage Message)>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                string id = reader.GetString(0);
                var envelope = ReadEnvelope(reader, 4);
                bool bodyIsEnvelope = reader.GetBoolean(2);
                var delivery = new RawTempestMessage(reader.GetString(1), id) // an id-less text runs under the row's id
                {
                    Attempt = reader.GetInt32(3),
                    Envelope = envelope.IsDefault && !bodyIsEnvelope ? null : envelope,
                    Lease = new TempestLease(owner, reader.GetInt64(16), reader.GetFieldValue<DateTimeOffset>(17)),
                    Receipt = id,
                };
                claimed.Add((System.Array.IndexOf(names, TempestQueueNames.Of(envelope)), envelope.Priority, reader.GetDateTime(18), reader.GetInt64(19), delivery));
            }
        }
        // RETURNING keeps no order: hand them out in the order the claim took them.
        claimed.Sort(static (a, b) => a.Rank != b.Rank ? a.Rank.CompareTo(b.Rank)
            : a.Priority != b.Priority ? b.Priority.CompareTo(a.Priority)
            : a.RunAt != b.RunAt ? a.RunAt.CompareTo(b.RunAt) : a.Seq.CompareTo(b.Seq));
        return claimed.ConvertAll(c => c.Message);
    }

    /// <summary>The envelope's columns, in the order every query here selects them (<see cref="EnvelopeColumns"/>) from <paramref name="first"/> on.</summary>
    private static TempestEnvelope ReadEnvelope(System.Data.Common.DbDataReader r, int first)
    {
        string? Text(int i) => r.IsDBNull(first + i) ? null : r.GetString(first + i);
        return new TempestEnvelope
        {
            Failures = r.GetInt32(first),
            LeaseExpiries = r.GetInt32(first + 1),
            MaxAttempts = r.IsDBNull(first + 2) ? null : r.GetInt32(first + 2),
            RunAt = r.IsDBNull(first + 3) ? null : r.GetFieldValue<DateTimeOffset>(first + 3),
            Queue = Text(4),
            Priority = r.GetInt32(first + 5),
            UniqueKey = Text(6),
            LastError = Text(7) is { } type ? new TempestError(type, Text(8) ?? "") : null,
            TraceParent = Text(9),
            UniqueScope = (TempestUniqueScope)r.GetInt16(first + 10),
            UniqueFor = r.IsDBNull(first + 11) ? null : TimeSpan.FromMilliseconds(r.GetInt64(first + 11)),
        };
    }

    /// <summary>The envelope's columns as <see cref="ReadEnvelope"/> reads them.</summary>
    private const string EnvelopeColumns =
        "failures, lease_expiries, max_attempts, scheduled_for, envelope_queue, priority, unique_key, last_error_type, last_error_message, trace_parent, "
        + "unique_scope, unique_for";

    // ------------------------------------------------------------------ heartbeat, rescue, registry

    /// <summary>Registers <paramref name="worker"/>'s heartbeat and extends the leases of <paramref name="running"/> in one
    /// round trip; returns those whose lease (id and token) is no longer theirs.</summary>
    public async ValueTask<IReadOnlyList<TempestMessage>> HeartbeatAsync(TempestWorkerInfo worker, IReadOnlyList<TempestMessage> running, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentNullException.ThrowIfNull(running);
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        var leased = running.Where(m => m?.Lease is not null).ToList();
        await using var batch = _dataSource.CreateBatch();
        // The extension first: its rows are the reader's first result (a statement without RETURNING gives none). It
        // never waits for a row lock (SKIP LOCKED): an outcome flush of this worker may hold some of these rows, and two
        // statements locking one worker's rows in different orders deadlock. A skipped row still ours (by the statement's
        // snapshot) keeps its lease until the next beat; only a row no longer ours is reported lost.
        var extend = new NpgsqlBatchCommand($"""
            WITH t AS (SELECT * FROM unnest($1::text[], $2::bigint[]) AS t(id, token)),
            mine AS (
                SELECT j.id FROM {_s}.jobs j JOIN t ON j.id = t.id AND j.lease_token = t.token
                WHERE j.state = 2
                FOR UPDATE OF j SKIP LOCKED),
            extended AS (
                UPDATE {_s}.jobs j SET lease_until = now() + $3 * interval '1 millisecond'
                FROM mine WHERE j.id = mine.id
                RETURNING j.id, j.lease_until)
            SELECT t.id, extended.lease_until
            FROM t JOIN {_s}.jobs j ON j.id = t.id AND j.lease_token = t.token AND j.state = 2
            LEFT JOIN extended ON extended.id = t.id
            """);
        extend.Parameters.Add(Array(NpgsqlDbType.Text, leased.Select(ReceiptId).ToArray()));
        extend.Parameters.Add(Array(NpgsqlDbType.Bigint, leased.Select(m => m.Lease!.Token).ToArray()));
        extend.Parameters.Add(Value(_options.LeaseDuration.TotalMilliseconds));
        batch.BatchCommands.Add(extend);
        var register = new NpgsqlBatchCommand($"""
            INSERT INTO {_s}.workers (id, engine, host, pid, slots, started_at, last_heartbeat, running)
            VALUES ($1, $2, $3, $4, $5, $6, now(), $7)
            ON CONFLICT (id) DO UPDATE SET last_heartbeat = now(), running = EXCLUDED.running
            """);
        register.Parameters.Add(Value(worker.Id));
        register.Parameters.Add(Value(worker.EngineName));
        register.Parameters.Add(Value(worker.Host));
        register.Parameters.Add(Value(worker.ProcessId));
        register.Parameters.Add(Value(worker.Slots));
        register.Parameters.Add(Value(worker.StartedAt.UtcDateTime));
        register.Parameters.Add(Value(running.Count));
        batch.BatchCommands.Add(register);
        var ours = new Dictionary<string, DateTimeOffset?>(StringComparer.Ordinal); // still ours: the new until, or null if skipped
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                ours[reader.GetString(0)] = reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1);
        }
        var lost = new List<TempestMessage>();
        foreach (var message in running)
        {
            if (message?.Lease is { } lease && ours.TryGetValue(ReceiptId(message), out var until))
            {
                if (until is { } extendedUntil) lease.Until = extendedUntil;
            }
            else if (message is not null) lost.Add(message);
        }
        return lost;
    }

    /// <summary>The row a delivery came from: its receipt (the engine may give an id-less text a new id at its parse).</summary>
    private static string ReceiptId(TempestMessage message) => message.Receipt as string ?? message.Id ?? "";

    /// <summary>
    /// Returns every job whose lease expired (on the server's clock) to the waiting jobs, counting a lease expiry each,
    /// and dead-letters those that reach <see cref="TempestPostgreSqlOptions.MaxLeaseExpiries"/>
    /// (<c>lease expired 3 times</c>). A returned job keeps its run-at, so it runs before the jobs that came due after
    /// it (a crashed worker's jobs are not sent to the back of a deep queue). One rescue runs at a time across all
    /// workers (a transaction-scoped advisory lock: a worker that finds it taken does nothing this time).
    /// </summary>
    public async ValueTask<TempestRescue> RescueExpiredAsync(CancellationToken cancellationToken)
    {
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand($"""
            WITH rescuer AS (SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ours),
            expired AS (
                SELECT id FROM {_s}.jobs, rescuer
                WHERE rescuer.ours AND state = 2 AND lease_until < now()
                FOR UPDATE SKIP LOCKED),
            rescued AS (
                UPDATE {_s}.jobs j
                SET lease_expiries = j.lease_expiries + 1,
                    state = CASE WHEN j.lease_expiries + 1 >= $2 THEN 3 ELSE 0 END,
                    dead_reason = CASE WHEN j.lease_expiries + 1 >= $2 THEN 'lease expired ' || (j.lease_expiries + 1) || ' times' END,
                    dead_at = CASE WHEN j.lease_expiries + 1 >= $2 THEN now() END,
                    unique_held = j.unique_held AND j.lease_expiries + 1 < $2, -- a dead letter frees its key
                    lease_owner = NULL, lease_token = NULL, lease_until = NULL
                FROM expired WHERE j.id = expired.id
                RETURNING j.state)
            SELECT count(*) FILTER (WHERE state = 0), count(*) FILTER (WHERE state = 3) FROM rescued
            """, connection, transaction);
        command.Parameters.Add(Value("tasktempest-rescue:" + _s));
        command.Parameters.Add(Value(_options.MaxLeaseExpiries));
        int returned, dead;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            returned = (int)reader.GetInt64(0);
            dead = (int)reader.GetInt64(1);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        if (returned > 0) Wake();
        OfferMaintenance();
        return new TempestRescue(returned, dead);
    }

    /// <inheritdoc/>
    public async ValueTask WorkerStoppedAsync(TempestWorkerInfo worker, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        await using var command = _dataSource.CreateCommand($"DELETE FROM {_s}.workers WHERE id = $1");
        command.Parameters.Add(Value(worker.Id));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    // ------------------------------------------------------------------ counting

    /// <summary>The due jobs waiting in this queue's name, in all its named queues: counted exactly up to <see cref="ExactCountLimit"/> (a bounded
    /// walk of the claim index), and above that the planner's estimate, so that a deep queue never costs a full count.</summary>
    public async ValueTask<long> CountAsync(CancellationToken cancellationToken = default)
    {
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        await using var command = _dataSource.CreateCommand($"""
            SELECT count(*) FROM (SELECT 1 FROM {_s}.jobs WHERE queue = $1 AND state < 2 AND run_at <= now() LIMIT $2) AS due
            """);
        command.Parameters.Add(Value(_options.QueueName));
        command.Parameters.Add(Value(ExactCountLimit + 1));
        long count = (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        if (count <= ExactCountLimit) return count;
        await using var estimate = _dataSource.CreateCommand($"SELECT reltuples::bigint FROM pg_class WHERE oid = '{_s}.jobs'::regclass");
        long rows = (long)(await estimate.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        return Math.Max(rows, count);
    }

    /// <summary>Up to this many due jobs are counted exactly.</summary>
    public const int ExactCountLimit = 10_000;

    /// <summary>Ends the waits of claims in progress and the wake-up listener; the data source stays the caller's.</summary>
    public async ValueTask DisposeAsync()
    {
        bool noticeOwed = _throttle.CancelTrailing();
        if (noticeOwed && !_disposed.IsCancellationRequested) await NotifyAsync().ConfigureAwait(false); // the last inserts' notice
        await _disposed.CancelAsync().ConfigureAwait(false);
        if (Volatile.Read(ref _maintenance) is { } maintenance) await maintenance.ConfigureAwait(false); // it logs its own errors
        if (Volatile.Read(ref _listener) is { } listener)
        {
            try { await listener.ConfigureAwait(false); }
            catch (Exception e) when (e is OperationCanceledException or NpgsqlException) { }
        }
    }
}
