namespace TaskTempest.PostgreSql;

/// <summary>Settings of a <see cref="TempestPostgreSqlQueue"/>.</summary>
public sealed class TempestPostgreSqlOptions
{
    /// <summary>The schema that holds the queue's tables, created and migrated at first use (see
    /// <see cref="TempestPostgreSqlSchema"/>). A lower-case identifier; default <c>tempest</c>.</summary>
    public string Schema { get; set; } = "tempest";

    /// <summary>The named queue this instance enqueues to and claims from (the envelope's queue wins at enqueue); default <c>default</c>.</summary>
    public string QueueName { get; set; } = "default";

    /// <summary>How long a claim or a heartbeat holds a lease, on the server's clock. Default 30 s; the engine beats every third of it.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A message whose lease expired this many times is poison and goes to the dead letters. Default 3.</summary>
    public int MaxLeaseExpiries { get; set; } = 3;

    /// <summary>How often an idle claim looks again for due jobs (delays that came due, jobs whose NOTIFY was lost or
    /// not listened for), with up to a fifth more at random so that idle workers do not poll together. Default 1 s.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Whether idle claims LISTEN for the NOTIFY every enqueue sends (one dedicated connection per queue
    /// instance). Off: poll only, for PgBouncer in transaction mode, which does not carry LISTEN. Default true.</summary>
    public bool Listen { get; set; } = true;

    /// <summary>Whether <c>RecordAsync</c> keeps the recent failed runs (failures and timeouts) for the inspector. Default true.</summary>
    public bool KeepRecentFailures { get; set; } = true;

    // ---- retention: one maintenance run per MaintenanceInterval across every worker on the schema (the leader row)

    /// <summary>How long a succeeded job's row is kept (as <see cref="Queues.TempestJobState.Completed"/>, for the
    /// inspector) before the maintenance deletes it. Default zero: deleted at its acknowledgement, which keeps the table
    /// small. A failed end is deleted all the same; its run stays in the recent failures.</summary>
    public TimeSpan KeepCompletedFor { get; set; }

    /// <summary>How long the recent-failure log keeps a failed run. Default 7 days.</summary>
    public TimeSpan KeepFailuresFor { get; set; } = TimeSpan.FromDays(7);

    /// <summary>The most failed runs the recent-failure log keeps (the newest). Default 10,000.</summary>
    public int MaxFailures { get; set; } = 10_000;

    /// <summary>How long a dead letter is kept for an operator to look at, requeue or delete. Default 30 days.</summary>
    public TimeSpan KeepDeadLettersFor { get; set; } = TimeSpan.FromDays(30);

    /// <summary>The most dead letters kept (the newest). Default 100,000.</summary>
    public int MaxDeadLetters { get; set; } = 100_000;

    /// <summary>How long a worker that stopped heartbeating (killed, or cut off) stays in the registry. Default 1 hour.</summary>
    public TimeSpan ForgetSilentWorkersAfter { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often the clean-up runs: at most once per interval across all workers on the schema (the first whose
    /// rescue beat finds the turn free takes it, in the <c>leaders</c> table). Default 1 minute.</summary>
    public TimeSpan MaintenanceInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Where the queue logs what goes wrong around the jobs (a lost wake-up connection, a failed maintenance run),
    /// under the category <c>TaskTempest.PostgreSql</c>. Default: nowhere.</summary>
    public Microsoft.Extensions.Logging.ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>The clock of the poll waits and of the NOTIFY throttle (never of leases or run-ats: those are the server's). Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    internal void Validate()
    {
        if (!TempestPostgreSqlSchema.IsIdentifier(Schema))
            throw new ArgumentException($"The schema name '{Schema}' is not a lower-case identifier (a-z, 0-9, _; at most 63; not starting with a digit).", nameof(Schema));
        ArgumentException.ThrowIfNullOrWhiteSpace(QueueName);
        if (LeaseDuration <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(LeaseDuration), LeaseDuration, "The lease must be positive.");
        if (MaxLeaseExpiries < 1) throw new ArgumentOutOfRangeException(nameof(MaxLeaseExpiries), MaxLeaseExpiries, "At least 1.");
        if (PollInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(PollInterval), PollInterval, "The poll interval must be positive.");
        ArgumentNullException.ThrowIfNull(TimeProvider);
        if (KeepCompletedFor < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(KeepCompletedFor), KeepCompletedFor, "Zero (delete at once) or more.");
        if (KeepFailuresFor < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(KeepFailuresFor), KeepFailuresFor, "Zero or more.");
        if (KeepDeadLettersFor < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(KeepDeadLettersFor), KeepDeadLettersFor, "Zero or more.");
        if (ForgetSilentWorkersAfter < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ForgetSilentWorkersAfter), ForgetSilentWorkersAfter, "Zero or more.");
        if (MaxFailures < 0) throw new ArgumentOutOfRangeException(nameof(MaxFailures), MaxFailures, "Zero or more.");
        if (MaxDeadLetters < 0) throw new ArgumentOutOfRangeException(nameof(MaxDeadLetters), MaxDeadLetters, "Zero or more.");
        if (MaintenanceInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(MaintenanceInterval), MaintenanceInterval, "The maintenance interval must be positive.");
    }
}
