namespace TaskTempest.Testing;

/// <summary>The settings of a <see cref="TempestLeasingMemoryQueue"/>; every one must be positive.</summary>
public sealed record TempestLeasingMemoryQueueOptions
{
    /// <summary>How long a claim or a heartbeat holds a lease; 30 seconds by default.</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The poison threshold: a message whose lease expired this many times goes to the dead letters; 3 by default.</summary>
    public int MaxLeaseExpiries { get; init; } = 3;

    /// <summary>The most failed runs the recent-failure log keeps (the oldest go first); 1000 by default.</summary>
    public int RecentFailureLimit { get; init; } = 1000;

    /// <summary>How long the recent-failure log keeps a failed run; 7 days by default.</summary>
    public TimeSpan RecentFailureMaxAge { get; init; } = TimeSpan.FromDays(7);

    /// <summary>The most dead letters kept; beyond it the oldest is deleted. 10 000 by default.</summary>
    public int DeadLetterLimit { get; init; } = 10_000;
}
