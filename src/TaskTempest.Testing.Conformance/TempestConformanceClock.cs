using Microsoft.Extensions.Time.Testing;

namespace TaskTempest.Testing.Conformance;

/// <summary>
/// The clock the queue under test compares run-at and lease-until with, as the kit sees and moves it. A queue on a
/// <see cref="System.TimeProvider"/> gets a <see cref="FakeConformanceClock"/> (time moves only when the kit says,
/// so the suite runs in no time); a queue on a server's clock gets a <see cref="RealConformanceClock"/>, where the
/// kit waits for real, short intervals.
/// </summary>
public abstract class TempestConformanceClock
{
    /// <summary>The queue's current time.</summary>
    public abstract DateTimeOffset Now { get; }

    /// <summary>The provider to hand to a queue that takes one (the fake provider, or <see cref="TimeProvider.System"/>).</summary>
    public abstract TimeProvider TimeProvider { get; }

    /// <summary>Lets <paramref name="by"/> pass on the queue's clock. The one place where the kit lets time pass.</summary>
    public abstract ValueTask AdvanceAsync(TimeSpan by);

    /// <summary>The lease the lease cases claim with; they wait about twice this on the clock per expiry.</summary>
    public abstract TimeSpan ShortLease { get; }

    /// <summary>How far in the future the delay and retry cases schedule a message.</summary>
    public abstract TimeSpan ShortDelay { get; }

    /// <summary>How far a time the queue reports (a lease's until) may be from the one the kit computes with <see cref="Now"/>.</summary>
    public abstract TimeSpan Tolerance { get; }
}

/// <summary>
/// A clock on a <see cref="FakeTimeProvider"/>: for queues that take a <see cref="System.TimeProvider"/>. Time moves
/// only in <see cref="AdvanceAsync"/>; a lease is 2 s and a delay a minute, which costs no real time.
/// </summary>
public sealed class FakeConformanceClock : TempestConformanceClock
{
    /// <summary>A clock on a new fake provider (which starts at 2000-01-01 UTC), or on <paramref name="provider"/>.</summary>
    public FakeConformanceClock(FakeTimeProvider? provider = null) => FakeTimeProvider = provider ?? new FakeTimeProvider();

    /// <summary>The fake provider: give it to the queue under test.</summary>
    public FakeTimeProvider FakeTimeProvider { get; }

    /// <inheritdoc/>
    public override TimeProvider TimeProvider => FakeTimeProvider;

    /// <inheritdoc/>
    public override DateTimeOffset Now => FakeTimeProvider.GetUtcNow();

    /// <inheritdoc/>
    public override TimeSpan ShortLease => TimeSpan.FromSeconds(2);

    /// <inheritdoc/>
    public override TimeSpan ShortDelay => TimeSpan.FromMinutes(1);

    /// <inheritdoc/>
    public override TimeSpan Tolerance => TimeSpan.FromMilliseconds(1);

    /// <summary>Advances the fake provider (its timers fire on this thread), then yields so that what they woke runs.</summary>
    public override async ValueTask AdvanceAsync(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        FakeTimeProvider.Advance(by);
        await Task.Yield();
    }
}

/// <summary>
/// The real clock, for queues that compare times on a server (PostgreSQL's <c>now()</c>, Redis's <c>TIME</c>):
/// <see cref="AdvanceAsync"/> waits for real, so keep <see cref="ShortLease"/> and <see cref="ShortDelay"/> short
/// (2 s each by default) and the server's clock near this machine's (<see cref="Tolerance"/>, 1 s by default).
/// </summary>
public sealed class RealConformanceClock : TempestConformanceClock
{
    /// <summary>A real clock with the given lease, delay and tolerance (2 s, 2 s and 1 s when null).</summary>
    public RealConformanceClock(TimeSpan? shortLease = null, TimeSpan? shortDelay = null, TimeSpan? tolerance = null)
    {
        ShortLease = shortLease ?? TimeSpan.FromSeconds(2);
        ShortDelay = shortDelay ?? TimeSpan.FromSeconds(2);
        Tolerance = tolerance ?? TimeSpan.FromSeconds(1);
    }

    /// <inheritdoc/>
    public override TimeProvider TimeProvider => TimeProvider.System;

    /// <inheritdoc/>
    public override DateTimeOffset Now => TimeProvider.System.GetUtcNow();

    /// <inheritdoc/>
    public override TimeSpan ShortLease { get; }

    /// <inheritdoc/>
    public override TimeSpan ShortDelay { get; }

    /// <inheritdoc/>
    public override TimeSpan Tolerance { get; }

    /// <summary>Waits <paramref name="by"/> of real time.</summary>
    public override async ValueTask AdvanceAsync(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        await Task.Delay(by);
    }
}

/// <summary>What a case asks of the queue it creates. A queue without leases ignores the lease settings.</summary>
public sealed record TempestConformanceSettings
{
    /// <summary>How long a claim or an extension holds a lease (<see cref="Queues.ILeasingTempestQueue.LeaseDuration"/>).</summary>
    public required TimeSpan LeaseDuration { get; init; }

    /// <summary>The poison threshold: a message whose lease expired this many times goes to the dead letters (default 3).</summary>
    public int MaxLeaseExpiries { get; init; } = 3;

    /// <summary>A name no other queue of the run has (letters, digits and '-'), for a queue on a server to keep its
    /// storage apart in (a key prefix, a table or a schema): cases run in parallel and must not see each other's jobs.</summary>
    public required string Name { get; init; }
}
