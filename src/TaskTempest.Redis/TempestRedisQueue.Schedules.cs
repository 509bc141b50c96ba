using StackExchange.Redis;
using TaskTempest.Queues;

namespace TaskTempest.Redis;

public sealed partial class TempestRedisQueue
{
    // A schedule is a hash under the queue's hash tag (schedule:<name>), its name in the set `schedules`. Ticks are ms
    // since the epoch; a tick is taken by one script that compares and sets the last tick and enqueues the tick's job, so
    // that of many engines ticking one schedule exactly one enqueues per tick.

    /// <inheritdoc/>
    public async ValueTask<DateTimeOffset> RegisterScheduleAsync(TempestScheduleInfo schedule, DateTimeOffset firstTick, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        RedisValue[] values =
        [
            schedule.Name, schedule.Cron, schedule.TimeZone, (int)schedule.Misfire, schedule.TaskName,
            schedule.NextRun is { } next ? next.ToUnixTimeMilliseconds() : "", firstTick.ToUnixTimeMilliseconds(),
        ];
        var last = await RunAsync(TempestRedisScripts.RegisterSchedule, values).WaitAsync(cancellationToken).ConfigureAwait(false);
        return FromMs((long)last);
    }

    /// <inheritdoc/>
    public async ValueTask<bool> TryTakeTickAsync(string scheduleName, DateTimeOffset tick, DateTimeOffset? nextRun, TempestMessage? job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scheduleName);
        var values = new RedisValue[4 + (job is null ? 0 : TempestRedisScripts.EnqueueFields)];
        values[0] = scheduleName;
        values[1] = tick.ToUnixTimeMilliseconds();
        values[2] = nextRun is { } next ? next.ToUnixTimeMilliseconds() : "";
        values[3] = job is not null && _throttle.TakeTurn() ? 1 : 0;
        if (job is not null) WriteEnqueueFields(job, values, 4);
        bool taken = (long)await RunAsync(TempestRedisScripts.TakeTick, values).WaitAsync(cancellationToken).ConfigureAwait(false) == 1;
        if (taken && job is not null) Wake();
        return taken;
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<TempestScheduleInfo>> GetSchedulesAsync(CancellationToken cancellationToken = default)
    {
        var rows = (RedisResult[])(await RunAsync(TempestRedisScripts.Schedules, []).WaitAsync(cancellationToken).ConfigureAwait(false))!;
        var schedules = new List<TempestScheduleInfo>(rows.Length);
        foreach (var row in rows)
        {
            var fields = new JobFields((RedisResult[])row[1]!);
            long? misfire = fields.Long("misfire");
            schedules.Add(new TempestScheduleInfo((string)row[0]!, fields.Text("cron") ?? "", fields.Text("tz") ?? "UTC",
                misfire is (long)TempestMisfire.Skip ? TempestMisfire.Skip : TempestMisfire.RunOnce, fields.Text("task") ?? "")
            {
                LastTick = fields.Long("last_tick") is { } last ? FromMs(last) : null,
                NextRun = fields.Long("next_run") is { } next ? FromMs(next) : null,
                LastJobId = fields.Text("last_job_id"),
            });
        }
        return schedules;
    }
}
