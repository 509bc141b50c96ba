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

    /// <summary>Adds a message with a unique key unless a job holds it (see <see cref="ITempestQueue.EnqueueUniqueAsync"/>):
    /// null when added, else the holder's id. By default <see cref="NotSupportedException"/>.</summary>
    ValueTask<string?> EnqueueUniqueAsync(TempestMessage message, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"The submit target {GetType().Name} cannot keep a job unique, so {message?.TaskName} was not submitted.");
}
