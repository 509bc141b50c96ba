using Npgsql;
using TaskTempest.Queues;

namespace TaskTempest.PostgreSql;

/// <summary>Submits inside the caller's own PostgreSQL transaction: the transactional outbox.</summary>
public static class TempestPostgreSqlSubmitting
{
    /// <summary>
    /// A submitter whose jobs are inserted through <paramref name="transaction"/> into the queue's table:
    /// a job exists only if the transaction commits, together with the business write beside it, and vanishes with a
    /// rollback. It keeps every typed <c>Submit{Task}</c> method and composes with the others
    /// (<c>engine.InTransaction(tx).After(...)</c>, <c>.Batch()</c>: one insert for the batch). The transaction
    /// must be on a connection to the queue's database; the queue's tables must exist (they do once a worker ran, or
    /// after <see cref="TempestPostgreSqlQueue.MigrateAsync"/>). Its NOTIFY goes out with the commit, so idle workers
    /// wake when the job is there, and never for a rolled-back one.
    /// </summary>
    /// <remarks>This overload puts the jobs into the engine's own queue, which must be a <see cref="TempestPostgreSqlQueue"/>;
    /// the other names the queue (another schema, or an engine whose queue is not PostgreSQL).</remarks>
    public static TSubmitter InTransaction<TSubmitter>(this ITempestSubmitter<TSubmitter> submitter, NpgsqlTransaction transaction)
        where TSubmitter : TempestSubmitter
    {
        ArgumentNullException.ThrowIfNull(submitter);
        var engine = submitter.WithSubmitOptions(submitter.SubmitOptions).Engine;
        var queue = engine.Queue as TempestPostgreSqlQueue ?? throw new InvalidOperationException(
            $"The engine {engine.Name} runs on {engine.Queue.GetType().Name}, not on a TempestPostgreSqlQueue: name the queue, InTransaction(queue, transaction).");
        return submitter.InTransaction(queue, transaction);
    }

    /// <inheritdoc cref="InTransaction{TSubmitter}(ITempestSubmitter{TSubmitter}, NpgsqlTransaction)"/>
    /// <param name="submitter">The engine, or one of its submitters.</param>
    /// <param name="queue">The queue whose table the jobs go into.</param>
    /// <param name="transaction">The caller's transaction, on a connection to the queue's database.</param>
    public static TSubmitter InTransaction<TSubmitter>(this ITempestSubmitter<TSubmitter> submitter, TempestPostgreSqlQueue queue, NpgsqlTransaction transaction)
        where TSubmitter : TempestSubmitter
    {
        ArgumentNullException.ThrowIfNull(submitter);
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(transaction);
        return submitter.WithSubmitOptions(submitter.SubmitOptions with { Target = new TransactionTarget(queue, transaction) });
    }

    /// <summary>A queue's insert, on the caller's transaction: unique keys and named queues as the queue keeps them.</summary>
    private sealed class TransactionTarget(TempestPostgreSqlQueue queue, NpgsqlTransaction transaction) : ITempestSubmitTarget
    {
        public TempestQueueFeatures Features => queue.Features;

        public ValueTask EnqueueAsync(TempestMessage message, CancellationToken cancellationToken = default) =>
            EnqueueBatchAsync([message ?? throw new ArgumentNullException(nameof(message))], cancellationToken);

        public async ValueTask EnqueueBatchAsync(IReadOnlyList<TempestMessage> messages, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(messages);
            if (messages.Count == 0) return;
            var connection = transaction.Connection ?? throw new InvalidOperationException("The transaction has ended: a job cannot join it.");
            var rows = new TempestPostgreSqlQueue.Rows(messages.Count);
            for (int i = 0; i < messages.Count; i++) rows.Add(queue.Prepare(messages[i]));
            await using (var batch = queue.CreateInsertBatch(rows, connection))
            {
                batch.Transaction = transaction;
                await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>The queue's unique insert (one statement, which never raises on a key, so the caller's transaction
        /// goes on): null when added, else the holder's id. A key taken here is held from the commit on for other
        /// sessions; a racing submit waits for the commit, or the rollback, to know.</summary>
        public async ValueTask<string?> EnqueueUniqueAsync(TempestMessage message, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(message);
            var row = queue.Prepare(message);
            if (row.Envelope?.EffectiveUniqueScope is null or TempestUniqueScope.None)
            {
                await EnqueueAsync(message, cancellationToken).ConfigureAwait(false);
                return null;
            }
            var connection = transaction.Connection ?? throw new InvalidOperationException("The transaction has ended: a job cannot join it.");
            return await queue.EnqueueUniqueAsync(row, connection, transaction, cancellationToken).ConfigureAwait(false);
        }
    }
}
