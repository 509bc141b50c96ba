using Microsoft.Extensions.Logging;
using Npgsql;

namespace TaskTempest.PostgreSql;

/// <summary>What one maintenance run deleted.</summary>
/// <param name="Completed">Succeeded jobs older than <see cref="TempestPostgreSqlOptions.KeepCompletedFor"/>.</param>
/// <param name="DeadLetters">Dead letters older than <see cref="TempestPostgreSqlOptions.KeepDeadLettersFor"/> or beyond <see cref="TempestPostgreSqlOptions.MaxDeadLetters"/>.</param>
/// <param name="Failures">Failed runs older than <see cref="TempestPostgreSqlOptions.KeepFailuresFor"/> or beyond <see cref="TempestPostgreSqlOptions.MaxFailures"/>.</param>
/// <param name="Workers">Registry entries silent for <see cref="TempestPostgreSqlOptions.ForgetSilentWorkersAfter"/>.</param>
public sealed record TempestPostgreSqlMaintenance(long Completed, long DeadLetters, long Failures, long Workers)
{
    /// <summary>Unique keys whose period (<see cref="TaskTempest.Queues.TempestUniqueScope.Period"/>) had ended.</summary>
    public long UniqueLocks { get; init; }
}

public sealed partial class TempestPostgreSqlQueue
{
    // Retention keeps the hot table small: a maintenance run deletes what is past its keep, in batches of
    // MaintenanceBatch rows, each its own short statement (no long lock, no long transaction holding back vacuum).
    // One run per MaintenanceInterval across all workers of the schema: the turn is a row in the leaders table with an
    // expiry (no session advisory lock, which PgBouncer's transaction pooling would break). The engine's heartbeat loop
    // offers the turn after each rescue; the run itself goes on in the background so that it never delays a heartbeat.

    /// <summary>Rows one delete statement of the maintenance removes at most.</summary>
    public const int MaintenanceBatch = 1_000;

    private const int MaxBatchesPerKind = 100; // a run deletes at most 100,000 rows of each kind; the next run goes on

    private readonly string _instanceId = Guid.NewGuid().ToString("N");
    private long? _lastMaintenanceOffer;
    private Task? _maintenance;

    /// <summary>
    /// Runs the clean-up if it is this instance's turn: no worker on the schema ran it within
    /// <see cref="TempestPostgreSqlOptions.MaintenanceInterval"/> (the turn is then this instance's for an interval).
    /// Null when another instance holds the turn. Workers call it on their own; call it yourself from a job or a script
    /// to clean up on your schedule.
    /// </summary>
    public async ValueTask<TempestPostgreSqlMaintenance?> MaintainAsync(CancellationToken cancellationToken = default)
    {
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        await using (var turn = _dataSource.CreateCommand($"""
            INSERT INTO {_s}.leaders (name, owner, until) VALUES ('maintenance', $1, now() + $2 * interval '1 millisecond')
            ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, until = EXCLUDED.until WHERE {_s}.leaders.until <= now()
            RETURNING owner
            """))
        {
            turn.Parameters.Add(Value(_instanceId));
            turn.Parameters.Add(Value(_options.MaintenanceInterval.TotalMilliseconds));
            if (await turn.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null) return null;
        }
        return await CleanUpAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The clean-up itself, whoever's turn it is.</summary>
    private async Task<TempestPostgreSqlMaintenance> CleanUpAsync(CancellationToken cancellationToken)
    {
        const string Batch = "LIMIT $2 FOR UPDATE SKIP LOCKED"; // rows a worker holds are left for the next run
        long completed = await DeleteInBatchesAsync($"""
            DELETE FROM {_s}.jobs WHERE id IN (
                SELECT id FROM {_s}.jobs WHERE state = 4 AND finished_at < now() - $1 * interval '1 millisecond' {Batch})
            """, _options.KeepCompletedFor, cancellationToken).ConfigureAwait(false);
        long dead = await DeleteInBatchesAsync($"""
            DELETE FROM {_s}.jobs WHERE id IN (
                SELECT id FROM {_s}.jobs WHERE state = 3 AND dead_at < now() - $1 * interval '1 millisecond' {Batch})
            """, _options.KeepDeadLettersFor, cancellationToken).ConfigureAwait(false);
        dead += await DeleteInBatchesAsync($"""
            DELETE FROM {_s}.jobs WHERE id IN (
                SELECT id FROM {_s}.jobs WHERE state = 3 ORDER BY dead_at DESC, seq DESC OFFSET $1 {Batch})
            """, _options.MaxDeadLetters, cancellationToken).ConfigureAwait(false);
        long failures = await DeleteInBatchesAsync($"""
            DELETE FROM {_s}.failures WHERE seq IN (
                SELECT seq FROM {_s}.failures WHERE failed_at < now() - $1 * interval '1 millisecond' ORDER BY seq {Batch})
            """, _options.KeepFailuresFor, cancellationToken).ConfigureAwait(false);
        failures += await DeleteInBatchesAsync($"""
            DELETE FROM {_s}.failures WHERE seq IN (
                SELECT seq FROM {_s}.failures ORDER BY seq DESC OFFSET $1 {Batch})
            """, _options.MaxFailures, cancellationToken).ConfigureAwait(false);
        long workers = await DeleteInBatchesAsync($"""
            DELETE FROM {_s}.workers WHERE id IN (
                SELECT id FROM {_s}.workers WHERE last_heartbeat < now() - $1 * interval '1 millisecond' {Batch})
            """, _options.ForgetSilentWorkersAfter, cancellationToken).ConfigureAwait(false);
        // An ended period's lock already lets the next submit in; deleting it only keeps the table small.
        long locks = await DeleteInBatchesAsync($"""
            DELETE FROM {_s}.unique_locks WHERE (queue, key) IN (
                SELECT queue, key FROM {_s}.unique_locks WHERE until < now() - $1 * interval '1 millisecond' {Batch})
            """, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        return new TempestPostgreSqlMaintenance(completed, dead, failures, workers) { UniqueLocks = locks };
    }

    private Task<long> DeleteInBatchesAsync(string sql, TimeSpan keep, CancellationToken cancellationToken) =>
        DeleteInBatchesAsync(sql, Value(keep.TotalMilliseconds), cancellationToken);

    private Task<long> DeleteInBatchesAsync(string sql, int keep, CancellationToken cancellationToken) =>
        DeleteInBatchesAsync(sql, Value((long)keep), cancellationToken);

    private async Task<long> DeleteInBatchesAsync(string sql, NpgsqlParameter keep, CancellationToken cancellationToken)
    {
        long deleted = 0;
        for (int batch = 0; batch < MaxBatchesPerKind; batch++)
        {
            await using var command = _dataSource.CreateCommand(sql);
            command.Parameters.Add(keep.Clone());
            command.Parameters.Add(Value(MaintenanceBatch));
            int rows = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            deleted += rows;
            if (rows < MaintenanceBatch) break;
        }
        return deleted;
    }

    /// <summary>Offers the maintenance turn (from the rescue beat) at most once per interval from this instance, in the
    /// background; a failure is logged and the next interval tries again.</summary>
    private readonly Lock _maintenanceGate = new();

    private void OfferMaintenance()
    {
        var clock = _options.TimeProvider;
        long now = clock.GetTimestamp();
        lock (_maintenanceGate)
        {
            if (_lastMaintenanceOffer is { } last && clock.GetElapsedTime(last, now) < _options.MaintenanceInterval) return;
            if (_maintenance is { IsCompleted: false }) return;
            _lastMaintenanceOffer = now;
            _maintenance = Task.Run(MaintainInBackgroundAsync);
        }
    }

    private async Task MaintainInBackgroundAsync()
    {
        try
        {
            if (await MaintainAsync(_disposed.Token).ConfigureAwait(false) is { } done
                && (done.Completed | done.DeadLetters | done.Failures | done.Workers | done.UniqueLocks) != 0)
            {
                _logger.LogInformation(
                    "PostgreSQL queue {Schema}: maintenance deleted {Completed} completed jobs, {DeadLetters} dead letters, {Failures} failed runs, {Workers} silent workers and {UniqueLocks} ended unique periods",
                    _s, done.Completed, done.DeadLetters, done.Failures, done.Workers, done.UniqueLocks);
            }
        }
        catch (OperationCanceledException) when (_disposed.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is NpgsqlException or System.IO.IOException or InvalidOperationException or TimeoutException)
        {
            _logger.LogWarning("PostgreSQL queue {Schema}: maintenance failed ({Error}); the next interval tries again", _s, Describe(e));
        }
    }
}
