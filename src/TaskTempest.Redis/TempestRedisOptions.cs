namespace TaskTempest.Redis;

/// <summary>Settings of a <see cref="TempestRedisQueue"/>.</summary>
public sealed class TempestRedisOptions
{
    /// <summary>The queue's name: its keys are <c>{KeyPrefix}{tempest:{QueueName}}:...</c>, all in one hash tag (one
    /// cluster slot). Letters, digits, '-', '_', '.' or ':'; default <c>default</c>.</summary>
    public string QueueName { get; set; } = "default";

    /// <summary>Put before every key, to keep several applications apart on one server (e.g. <c>billing:</c>); default none.
    /// Without braces (the hash tag is the queue name's).</summary>
    public string KeyPrefix { get; set; } = "";

    /// <summary>The database number (<c>SELECT</c>); default -1, the connection's default (0). Redis Cluster has only 0.</summary>
    public int Database { get; set; } = -1;

    /// <summary>How long a claim or a heartbeat holds a lease, on the server's clock. Default 30 s; the engine beats every third of it.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A message whose lease expired this many times is poison and goes to the dead letters. Default 3.</summary>
    public int MaxLeaseExpiries { get; set; } = 3;

    /// <summary>How often an idle claim looks again for due jobs (delays that came due, another program's <c>RPUSH</c>,
    /// a lost wake-up), with up to a fifth more at random so that idle workers do not poll together. Default 1 s.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Whether idle claims subscribe to the wake-ups enqueues publish. Off: poll only. Default true.</summary>
    public bool Subscribe { get; set; } = true;

    /// <summary>Whether outcomes keep the recent failed runs (failures and timeouts) for the inspector. Default true.</summary>
    public bool KeepRecentFailures { get; set; } = true;

    /// <summary>How long a succeeded job is kept (as <see cref="Queues.TempestJobState.Completed"/>, for the inspector).
    /// Default zero: removed at its acknowledgement, so that memory does not grow with finished jobs.</summary>
    public TimeSpan KeepCompletedFor { get; set; }

    /// <summary>The most succeeded jobs kept when <see cref="KeepCompletedFor"/> is set (the newest). Default 10,000.</summary>
    public int MaxCompleted { get; set; } = 10_000;

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

    /// <summary>Skip the check that refuses a server whose <c>maxmemory-policy</c> can evict keys
    /// (<see cref="TempestRedisServerCheck"/>): only for a server that serves nothing but its queues and can never fill.</summary>
    public bool AllowEviction { get; set; }

    /// <summary>Where the queue logs what goes wrong around the jobs (a lost subscription, a failed wake-up), under the
    /// category <c>TaskTempest.Redis</c>. Default: nowhere.</summary>
    public Microsoft.Extensions.Logging.ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>The clock of the poll waits and of the wake-up throttle (never of leases or run-ats: those are the server's). Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    internal void Validate()
    {
        if (!TempestId.IsAcceptable(QueueName))
            throw new ArgumentException($"The queue name '{Logging.LogText.Escape(QueueName ?? "")}' must be 1 to {TempestId.MaxAcceptedLength} letters, digits, '-', '_', '.' or ':'.", nameof(QueueName));
        ArgumentNullException.ThrowIfNull(KeyPrefix);
        if (KeyPrefix.AsSpan().IndexOfAny('{', '}') >= 0)
            throw new ArgumentException("The key prefix must not hold braces: the queue's hash tag is {tempest:<QueueName>}.", nameof(KeyPrefix));
        if (LeaseDuration < TimeSpan.FromMilliseconds(1)) throw new ArgumentOutOfRangeException(nameof(LeaseDuration), LeaseDuration, "The lease must be at least 1 ms.");
        if (MaxLeaseExpiries < 1) throw new ArgumentOutOfRangeException(nameof(MaxLeaseExpiries), MaxLeaseExpiries, "At least 1.");
        if (PollInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(PollInterval), PollInterval, "The poll interval must be positive.");
        ArgumentNullException.ThrowIfNull(TimeProvider);
        if (KeepCompletedFor < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(KeepCompletedFor), KeepCompletedFor, "Zero (remove at once) or more.");
        if (KeepFailuresFor < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(KeepFailuresFor), KeepFailuresFor, "Zero or more.");
        if (KeepDeadLettersFor < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(KeepDeadLettersFor), KeepDeadLettersFor, "Zero or more.");
        if (ForgetSilentWorkersAfter < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ForgetSilentWorkersAfter), ForgetSilentWorkersAfter, "Zero or more.");
        if (MaxCompleted < 0) throw new ArgumentOutOfRangeException(nameof(MaxCompleted), MaxCompleted, "Zero or more.");
        if (MaxFailures < 1) throw new ArgumentOutOfRangeException(nameof(MaxFailures), MaxFailures, "At least 1 (turn the log off with KeepRecentFailures).");
        if (MaxDeadLetters < 0) throw new ArgumentOutOfRangeException(nameof(MaxDeadLetters), MaxDeadLetters, "Zero or more.");
    }
}
