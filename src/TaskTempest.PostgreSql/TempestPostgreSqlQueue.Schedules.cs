using Npgsql;
using NpgsqlTypes;
using TaskTempest.Queues;

namespace TaskTempest.PostgreSql;

public sealed partial class TempestPostgreSqlQueue
{
    // Recurring schedules live in the schedules table, one row per (queue name, schedule). Every engine ticks every
    // schedule; a tick is taken by one statement that compare-and-sets last_tick (an upsert whose update applies only to
    // an earlier last tick) and inserts the tick's job from the same statement only when it did: racing workers queue
    // one job per tick.

    /// <inheritdoc/>
    public async ValueTask<DateTimeOffset> RegisterScheduleAsync(TempestScheduleInfo schedule, DateTimeOffset firstTick, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        await using var command = _dataSource.CreateCommand($"""
            INSERT INTO {_s}.schedules (queue, name, cron, time_zone, misfire, task, last_tick, next_run)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (queue, name) DO UPDATE SET cron = EXCLUDED.cron, time_zone = EXCLUDED.time_zone, misfire = EXCLUDED.misfire,
                task = EXCLUDED.task, next_run = COALESCE(EXCLUDED.next_run, {_s}.schedules.next_run), updated_at = now()
            RETURNING last_tick
            """);
        command.Parameters.Add(Value(_options.QueueName));
        command.Parameters.Add(Value(schedule.Name));
        command.Parameters.Add(Value(schedule.Cron));
        command.Parameters.Add(Value(schedule.TimeZone));
        command.Parameters.Add(Value((short)schedule.Misfire));
        command.Parameters.Add(Value(schedule.TaskName));
        command.Parameters.Add(Value(firstTick.UtcDateTime));
        command.Parameters.Add(Timestamp(schedule.NextRun));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return reader.GetFieldValue<DateTimeOffset>(0);
    }

    /// <inheritdoc/>
    /// <remarks>One statement: the compare-and-set, and the job's insert (its unique key honoured: a duplicate is skipped,
    /// the tick still taken) only when the compare-and-set succeeded. A schedule never registered is created by it.</remarks>
    public async ValueTask<bool> TryTakeTickAsync(string scheduleName, DateTimeOffset tick, DateTimeOffset? nextRun, TempestMessage? job,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scheduleName);
        var rows = new Rows(1);
        string? jobId = null, task = null;
        if (job is not null)
        {
            var row = Prepare(job);
            rows.Add(row);
            (jobId, task) = (row.Id, row.Task);
        }
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = CreateBatch(TakeTickSql, rows, connection: null);
        var parameters = batch.BatchCommands[0].Parameters;
        parameters.Add(Value(scheduleName));
        parameters.Add(Value(task ?? ""));
        parameters.Add(Value(tick.UtcDateTime));
        parameters.Add(Timestamp(nextRun));
        parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)jobId ?? DBNull.Value });
        long taken;
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            taken = reader.GetInt64(0);
        }
        if (taken > 0 && job is not null) Wake();
        return taken > 0;
    }

    /// <summary>The tick: $18 the instance's queue name, $19 the schedule, $20 the task of a schedule it creates, $21 the
    /// tick, $22 the next run, $23 the job's id; the job (none for a skipped tick) as the rows $1 to $17.</summary>
    internal string TakeTickSql => $"""
        WITH tick AS (
            INSERT INTO {_s}.schedules (queue, name, task, last_tick, next_run, last_job_id) VALUES ($18, $19, $20, $21, $22, $23)
            ON CONFLICT (queue, name) DO UPDATE SET last_tick = EXCLUDED.last_tick, next_run = EXCLUDED.next_run,
                last_job_id = EXCLUDED.last_job_id, updated_at = now()
            WHERE {_s}.schedules.last_tick < EXCLUDED.last_tick
            RETURNING 1),
        t AS (SELECT * FROM {RowsSource} WHERE EXISTS (SELECT 1 FROM tick)),
        locked AS ({LockPeriods(FreeLocksOnly)}),
        added AS (
            {InsertJobs("t", $" WHERE NOT {PeriodKey} OR t.id IN (SELECT job_id FROM locked)")}
            ON CONFLICT DO NOTHING)
        SELECT count(*) FROM tick
        """;

    private static NpgsqlParameter Timestamp(DateTimeOffset? value) =>
        new() { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = value is { } time ? time.UtcDateTime : DBNull.Value };

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<TempestScheduleInfo>> GetSchedulesAsync(CancellationToken cancellationToken = default)
    {
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        await using var command = _dataSource.CreateCommand($"""
            SELECT name, cron, time_zone, misfire, task, last_tick, next_run, last_job_id FROM {_s}.schedules
            WHERE queue = $1 ORDER BY name COLLATE "C"
            """);
        command.Parameters.Add(Value(_options.QueueName));
        var schedules = new List<TempestScheduleInfo>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            schedules.Add(new TempestScheduleInfo(reader.GetString(0), reader.GetString(1), reader.GetString(2), (TempestMisfire)reader.GetInt16(3), reader.GetString(4))
            {
                LastTick = reader.GetFieldValue<DateTimeOffset>(5),
                NextRun = reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6),
                LastJobId = reader.IsDBNull(7) ? null : reader.GetString(7),
            });
        }
        return schedules;
    }
}
