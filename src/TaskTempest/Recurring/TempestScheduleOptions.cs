using TaskTempest.Queues;

namespace TaskTempest;

/// <summary>How a recurring schedule ticks (<see cref="TempestRecurring.AddRecurring"/>).</summary>
public sealed record TempestScheduleOptions
{
    /// <summary>The time zone the cron expression is read in, as an IANA id (<c>Europe/Berlin</c>); default <c>UTC</c>.
    /// Daylight-saving edges follow Cronos: a tick in the spring gap runs at the gap's end, one in the autumn overlap once.</summary>
    public string TimeZone { get; init; } = "UTC";

    /// <summary>What happens to ticks missed while no worker ran; default <see cref="TempestMisfire.RunOnce"/>.</summary>
    public TempestMisfire Misfire { get; init; }

    /// <summary>How late a tick may be taken and still count as on time, not missed (a slow start, a pause); default 1 minute.</summary>
    public TimeSpan MisfireThreshold { get; init; } = TimeSpan.FromMinutes(1);
}
