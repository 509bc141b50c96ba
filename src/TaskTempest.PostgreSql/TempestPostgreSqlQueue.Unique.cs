using Npgsql;
using TaskTempest.Queues;

namespace TaskTempest.PostgreSql;

public sealed partial class TempestPostgreSqlQueue
{
    // EnqueueUniqueAsync is one statement that adds the job or returns the holder, decided by the store: the insert's
    // ON CONFLICT on the key's index (or on unique_locks for a Period key) updates the holder's row to itself, so that
    // RETURNING names it even when it was committed by a racing submit after this statement's snapshot (DO NOTHING and a
    // SELECT would see nothing then). It never raises on a key or an id, so it can run inside a caller's transaction.

    /// <summary>
    /// Adds <paramref name="message"/> unless a job of this queue name holds its unique key within its scope
    /// (<see cref="TempestEnvelope.EffectiveUniqueScope"/>); one round trip, safe under races. Null: it was added; else the
    /// holder's id (the message's own id when a job with that id is there already). A message without a key is enqueued.
    /// </summary>
    public async ValueTask<string?> EnqueueUniqueAsync(TempestMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        var row = Prepare(message);
        if (row.Envelope?.EffectiveUniqueScope is null or TempestUniqueScope.None)
        {
            await EnqueueAsync(message, cancellationToken).ConfigureAwait(false);
            return null;
        }
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        string? holder = await EnqueueUniqueAsync(row, connection: null, transaction: null, cancellationToken).ConfigureAwait(false);
        if (holder is null) Wake();
        return holder;
    }

    /// <summary>The unique insert of <paramref name="row"/> (which has a key) on the queue's data source, or on
    /// <paramref name="connection"/> in <paramref name="transaction"/>.</summary>
    internal async Task<string?> EnqueueUniqueAsync(Row row, NpgsqlConnection? connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        var rows = new Rows(1);
        rows.Add(row);
        string sql = row.Envelope!.EffectiveUniqueScope == TempestUniqueScope.Period ? InsertUniqueForPeriodSql : InsertUniqueSql;
        await using var batch = CreateBatch(sql, rows, connection);
        if (transaction is not null) batch.Transaction = transaction;
        object? holder;
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            holder = await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? reader.GetString(0) : null;
        // No row: a job with this id is there already (it is not added again).
        return holder is string id ? id == row.Id ? null : id : row.Id;
    }

    /// <summary>A key held by the job row (Queued, QueuedOrRunning): the insert, or the holder through ON CONFLICT on jobs_unique.</summary>
    internal string InsertUniqueSql => $"""
        {InsertJobs(RowsSource, $" WHERE NOT EXISTS (SELECT 1 FROM {_s}.jobs e WHERE e.id = t.id)")}
        ON CONFLICT (queue, unique_key) WHERE unique_held DO UPDATE SET unique_key = EXCLUDED.unique_key
        RETURNING id
        """;

    private string HeldLocksReturned => $"""
        job_id = CASE WHEN {_s}.unique_locks.until <= now() THEN EXCLUDED.job_id ELSE {_s}.unique_locks.job_id END,
                          until = CASE WHEN {_s}.unique_locks.until <= now() THEN EXCLUDED.until ELSE {_s}.unique_locks.until END
        """;

    /// <summary>A Period key: the lock (a free one is taken, a held one is rewritten as it is, so that it comes back), then
    /// the job when the lock is its own.</summary>
    internal string InsertUniqueForPeriodSql => $"""
        WITH t AS (SELECT * FROM {RowsSource}),
        locked AS ({LockPeriods(HeldLocksReturned)}),
        added AS (
            {InsertJobs("t", $" WHERE t.id IN (SELECT job_id FROM locked) AND NOT EXISTS (SELECT 1 FROM {_s}.jobs e WHERE e.id = t.id)")}
            ON CONFLICT DO NOTHING)
        SELECT job_id FROM locked
        """;
}
