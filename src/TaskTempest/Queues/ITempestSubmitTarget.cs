namespace TaskTempest.Queues;

/// <summary>
/// Somewhere a submit can go instead of the engine's queue (<see cref="TempestSubmitOptions.Target"/>): a package's,
/// such as the PostgreSQL queue bound to the caller's transaction. It only takes jobs; the engine's queue hands them out.
/// </summary>
public interface ITempestSubmitTarget
{
    /// <summary>What it gives; a delayed submit needs <see cref="TempestQueueFeatures.Delays"/>.</summary>
    TempestQueueFeatures Features { get; }

    /// <summary>Adds a message (its id is assigned, its envelope set).</summary>
    ValueTask EnqueueAsync(TempestMessage message, CancellationToken cancellationToken = default);

    /// <summary>Adds many messages, in one round trip where it can.</summary>
    ValueTask EnqueueBatchAsync(IReadOnlyList<TempestMessage> messages, CancellationToken cancellationToken = default);
}
