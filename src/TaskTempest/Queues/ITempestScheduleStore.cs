namespace TaskTempest.Queues;

/// <summary>
/// Where recurring schedules keep their last tick, so that each tick of a schedule runs once across every worker
/// process on the queue: every running engine ticks each schedule on its own clock (no leader to lose), and the store
/// lets one of them through per tick with a compare-and-set that enqueues the tick's job in the same step.
/// Queues on a server implement it in their store; the memory queues in process. An engine on a queue without it keeps
/// the last ticks in its own process.
/// </summary>
public interface ITempestScheduleStore
{
    /// <summary>
    /// Records <paramref name="schedule"/>'s definition (cron, time zone, misfire, task, next run) for the inspector and
    /// returns the last tick the store knows. A schedule the store has never seen gets <paramref name="firstTick"/> as its
    /// last tick (the engine passes now: a new schedule does not run for the time before it existed), which comes back.
    /// </summary>
    ValueTask<DateTimeOffset> RegisterScheduleAsync(TempestScheduleInfo schedule, DateTimeOffset firstTick, CancellationToken cancellationToken = default);

    /// <summary>
    /// In one step: when the schedule's last tick is before <paramref name="tick"/>, moves it to <paramref name="tick"/>,
    /// records <paramref name="nextRun"/>, and enqueues <paramref name="job"/> (null: the tick is skipped, as a misfire
    /// may be). True when this call did it; false when another worker (or an earlier call) had that tick or a later one.
    /// </summary>
    ValueTask<bool> TryTakeTickAsync(string scheduleName, DateTimeOffset tick, DateTimeOffset? nextRun, TempestMessage? job, CancellationToken cancellationToken = default);

    /// <summary>Every schedule the store knows, by name.</summary>
    ValueTask<IReadOnlyList<TempestScheduleInfo>> GetSchedulesAsync(CancellationToken cancellationToken = default);
}

/// <summary>What happens to ticks of a recurring schedule that came while no worker ran (or the engine was held up).</summary>
public enum TempestMisfire
{
    /// <summary>The missed ticks run once, as one job, when a worker is back (the default; Hangfire's "relaxed").</summary>
    RunOnce = 0,

    /// <summary>Missed ticks are skipped: the schedule goes on from its next tick.</summary>
    Skip = 1,
}

/// <summary>A recurring schedule as a store keeps it.</summary>
/// <param name="Name">Its name, unique on the queue (a generated schedule's is its task's wire name).</param>
/// <param name="Cron">The cron expression: five fields, or six with seconds first.</param>
/// <param name="TimeZone">The time zone its ticks are computed in (an IANA id, e.g. <c>Europe/Berlin</c>; <c>UTC</c> by default).</param>
/// <param name="Misfire">What happens to ticks missed while no worker ran.</param>
/// <param name="TaskName">The wire name of the task each tick submits.</param>
public sealed record TempestScheduleInfo(string Name, string Cron, string TimeZone, TempestMisfire Misfire, string TaskName)
{
    /// <summary>The last tick taken (run or skipped); null for a definition not yet registered.</summary>
    public DateTimeOffset? LastTick { get; init; }

    /// <summary>The next tick, as the last engine that registered or ticked it computed.</summary>
    public DateTimeOffset? NextRun { get; init; }

    /// <summary>The id of the job the last run tick enqueued; null when none has run yet (or the last was skipped).</summary>
    public string? LastJobId { get; init; }
}
