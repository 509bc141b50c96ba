using System.ComponentModel;
using TaskTempest.Queues;

namespace TaskTempest;

/// <summary>
/// Recurring schedules known at run time, beside the generated ones (<see cref="RecurringAttribute"/>):
/// <code>
/// engine.AddRecurring("report-" + tenant, "0 6 * * 1-5", s => s.SubmitReport(tenant), new() { TimeZone = "Europe/Berlin" });
/// </code>
/// Every worker process that should tick a schedule adds it before <c>Run</c> (as it runs its code); while engines run,
/// each tick is taken by one of them through the queue's <see cref="ITempestScheduleStore"/> and submitted with the unique
/// key <c>cron:{name}:{tick}</c>.
/// </summary>
public static class TempestRecurring
{
    /// <summary>
    /// Adds (or replaces) the schedule <paramref name="name"/>: at every tick of <paramref name="cron"/>, <paramref name="submit"/>
    /// submits through the typed submitter it is given (one <c>Submit{Task}</c> call). A running engine takes it up at its next
    /// tick computation; the cron expression and the time zone are checked here.
    /// </summary>
    /// <exception cref="FormatException">The cron expression is not valid (the message names the field).</exception>
    /// <exception cref="ArgumentException">The time zone is not known on this machine, or the name cannot name a schedule.</exception>
    public static void AddRecurring<TSubmitter>(this ITempestSubmitter<TSubmitter> engine, string name, string cron,
        Func<TSubmitter, TempestSubmitResult> submit, TempestScheduleOptions? options = null) where TSubmitter : TempestSubmitter =>
        Add(engine, name, cron, submit, options, replace: true);

    /// <summary>Removes the schedule <paramref name="name"/> from this engine (the store keeps its record); false when there was none.</summary>
    public static bool RemoveRecurring(this TempestEngine engine, string name)
    {
        ArgumentNullException.ThrowIfNull(engine);
        return engine.Schedules.Remove(name);
    }

    /// <summary>Adds a generated schedule (<see cref="RecurringAttribute"/>) unless one of that name was added at run time.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static void AddGeneratedRecurring<TSubmitter>(this ITempestSubmitter<TSubmitter> engine, string name, string cron,
        Func<TSubmitter, TempestSubmitResult> submit, string timeZone, TempestMisfire misfire) where TSubmitter : TempestSubmitter =>
        Add(engine, name, cron, submit, new TempestScheduleOptions { TimeZone = timeZone, Misfire = misfire }, replace: false);

    private static void Add<TSubmitter>(ITempestSubmitter<TSubmitter> engine, string name, string cron,
        Func<TSubmitter, TempestSubmitResult> submit, TempestScheduleOptions? options, bool replace) where TSubmitter : TempestSubmitter
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(submit);
        var owner = engine.WithSubmitOptions(default).Engine;
        var schedule = TempestSchedule.Create(name, cron, options ?? new TempestScheduleOptions(),
            submitOptions => submit(engine.WithSubmitOptions(submitOptions)));
        owner.Schedules.Add(schedule, replace);
    }
}
