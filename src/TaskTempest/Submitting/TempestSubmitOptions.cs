using System.ComponentModel;
using TaskTempest.Queues;

namespace TaskTempest;

/// <summary>
/// How a submit is sent: when the job may run, where it goes, and whether it waits in a batch. A generated submitter
/// (<c>engine.After(...)</c>, <c>engine.At(...)</c>, <c>engine.Batch()</c>) carries one; packages add their own part
/// through <see cref="ITempestSubmitter{TSubmitter}"/> (a target bound to a transaction, say). The default sends the
/// job to the engine's queue, to run at once.
/// </summary>
public readonly record struct TempestSubmitOptions
{
    /// <summary>Run no sooner than this long after the submit (on the engine's <see cref="TempestOptions.TimeProvider"/>); null: at once.</summary>
    public TimeSpan? Delay { get; init; }

    /// <summary>Run no sooner than this time; null: at once. At most one of <see cref="Delay"/> and this is set.</summary>
    public DateTimeOffset? RunAt { get; init; }

    /// <summary>Where the job goes instead of the engine's queue (a package's, e.g. the queue within a database
    /// transaction); null: the engine's queue.</summary>
    public ITempestSubmitTarget? Target { get; init; }

    /// <summary>The batch that collects the job instead of sending it now; null: sent at once.</summary>
    public TempestBatch? Batch { get; init; }

    /// <summary>The named queue the job goes to, over the task's own (<see cref="TempestTaskAttribute.Queue"/>); null: the task's, or <c>default</c>.</summary>
    public string? Queue { get; init; }

    /// <summary>The job's priority within its queue, over the task's own; null: the task's (0 by default). Higher runs first.</summary>
    public int? Priority { get; init; }

    /// <summary>The job's unique key, over one the task computes from its arguments; the queue stores it after the task's
    /// wire name and a colon. Null: the task's, or none.</summary>
    public string? UniqueKey { get; init; }

    /// <summary>How long the unique key keeps duplicates out, over the task's; null: the task's (<see cref="TempestUniqueScope.QueuedOrRunning"/> by default).</summary>
    public TempestUniqueScope? UniqueScope { get; init; }

    /// <summary>For <see cref="TempestUniqueScope.Period"/>: how long the key holds from the submit.</summary>
    public TimeSpan? UniqueFor { get; init; }

    /// <summary>These options, to run no sooner than <paramref name="delay"/> after each submit.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative.</exception>
    public TempestSubmitOptions After(TimeSpan delay)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        return this with { Delay = delay, RunAt = null };
    }

    /// <summary>These options, to run no sooner than <paramref name="runAt"/>.</summary>
    public TempestSubmitOptions At(DateTimeOffset runAt) => this with { RunAt = runAt, Delay = null };

    /// <summary>These options with a new, empty batch that sends to their target: what <c>engine.Batch()</c> returns.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public TempestSubmitOptions WithNewBatch(TempestEngine engine) => this with { Batch = new TempestBatch(engine, Target) };

    /// <summary>When a job submitted now may run, on <paramref name="time"/>'s clock; null: at once.</summary>
    internal DateTimeOffset? RunAtFrom(TimeProvider time) => Delay is { } delay ? time.GetUtcNow() + delay : RunAt;

    /// <summary>Whether this is the plain submit: at once, to the engine's queue.</summary>
    internal bool IsDefault => Delay is null && RunAt is null && Target is null && Batch is null && Queue is null && Priority is null
        && UniqueKey is null && UniqueScope is null && UniqueFor is null;
}
