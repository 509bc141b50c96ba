namespace TaskTempest.Hosting;

/// <summary>
/// The rule that keeps a hosted engine's drain within the host's shutdown timeout: the engine drains for at most the
/// host's <c>HostOptions.ShutdownTimeout</c> less a margin of 10 % of it, and at least 1 s, or for its own shutdown timeout
/// when that is shorter. The margin is the time the engine needs after the drain (aborting what still runs, returning
/// those messages to the queue, handing the queue the last outcomes, flushing its logs) and the host's other services need
/// to stop; without it the host could give up on the engine mid-drain, and the messages of aborted tasks would go back
/// late or, with a queue without leases, not at all.
/// </summary>
internal static class TempestShutdown
{
    /// <summary>The least margin kept between the engine's drain and the host's shutdown timeout.</summary>
    public static readonly TimeSpan MinimumMargin = TimeSpan.FromSeconds(1);

    /// <summary>The share of the host's shutdown timeout kept as margin, when that is more than <see cref="MinimumMargin"/>.</summary>
    public const double MarginFraction = 0.1;

    /// <summary>The margin kept below <paramref name="hostShutdownTimeout"/>: 10 % of it, at least 1 s.</summary>
    public static TimeSpan MarginFor(TimeSpan hostShutdownTimeout) =>
        TimeSpan.FromTicks(Math.Max(MinimumMargin.Ticks, (long)(hostShutdownTimeout.Ticks * MarginFraction)));

    /// <summary>
    /// How long an engine whose own shutdown timeout is <paramref name="engineShutdownTimeout"/> drains in a host that waits
    /// <paramref name="hostShutdownTimeout"/> for its services: the smaller of its own and the host's less the margin (never
    /// below zero). <see cref="Timeout.InfiniteTimeSpan"/> on either side means that side sets no bound.
    /// </summary>
    public static TimeSpan DrainTimeout(TimeSpan engineShutdownTimeout, TimeSpan hostShutdownTimeout)
    {
        if (hostShutdownTimeout == Timeout.InfiniteTimeSpan) return engineShutdownTimeout;
        var bound = hostShutdownTimeout - MarginFor(hostShutdownTimeout);
        if (bound < TimeSpan.Zero) bound = TimeSpan.Zero;
        return engineShutdownTimeout == Timeout.InfiniteTimeSpan || engineShutdownTimeout > bound ? bound : engineShutdownTimeout;
    }
}
