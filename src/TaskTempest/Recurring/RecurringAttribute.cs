using TaskTempest.Queues;

namespace TaskTempest;

/// <summary>
/// Runs the task on a cron schedule while an engine that dispatches it runs: <c>[Recurring("*/5 * * * *")]</c> for a task
/// without parameters, or with the arguments after the expression (<c>[Recurring("0 3 * * *", "eu", 7)]</c>), constants
/// the generator checks against <c>Process</c>. The expression has five fields (minute, hour, day of month, month, day
/// of week) or six with seconds first, in Cronos's syntax; the generator checks it and points at the field that is wrong.
/// Across every worker process on one queue each tick runs once.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false, AllowMultiple = true)]
public sealed class RecurringAttribute : Attribute
{
    /// <summary>A schedule that submits the task with <paramref name="arguments"/> at every tick of <paramref name="cron"/>.</summary>
    public RecurringAttribute(string cron, params object?[] arguments)
    {
        Cron = cron;
        Arguments = arguments;
    }

    /// <summary>The cron expression.</summary>
    public string Cron { get; }

    /// <summary>The arguments each tick's job gets, in <c>Process</c>'s order.</summary>
    public object?[] Arguments { get; }

    /// <summary>The schedule's name, unique on the queue; null: the task's wire name (a second schedule on the task needs its own).</summary>
    public string? Name { get; set; }

    /// <summary>The time zone the expression is read in, as an IANA id (<c>Europe/Berlin</c>); default <c>UTC</c>.</summary>
    public string TimeZone { get; set; } = "UTC";

    /// <summary>What happens to ticks missed while no worker ran; default <see cref="TempestMisfire.RunOnce"/>.</summary>
    public TempestMisfire Misfire { get; set; }
}
