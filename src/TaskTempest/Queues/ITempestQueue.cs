namespace TaskTempest.Queues;

/// <summary>
/// The least a queue must do, as in the original: enqueue and dequeue. An engine on such a queue gets
/// at-most-once delivery: a message is gone from the queue once dequeued, so a job that is running
/// when the process dies is lost. Implement <see cref="IAcknowledgingTempestQueue"/> for at-least-once,
/// and <see cref="ILeasingTempestQueue"/> for a queue shared by many processes.
/// </summary>
/// <remarks>
/// The members with bodies are the contract's later additions: a queue written against the first contract
/// compiles unchanged and keeps its meaning. Override them to do better (a batch in one round trip).
/// </remarks>
public interface ITempestQueue
{
    /// <summary>Adds a message (its id is already assigned). A queue without <see cref="TempestQueueFeatures.Delays"/>
    /// throws <see cref="NotSupportedException"/> for a message whose envelope has a run-at.</summary>
    ValueTask EnqueueAsync(TempestMessage message, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes the next message. A queue that can wait for one does so until a message arrives or
    /// <paramref name="cancellationToken"/> is cancelled (then it throws <see cref="OperationCanceledException"/>);
    /// a queue that cannot wait returns <see langword="null"/> at once, and the engine waits its
    /// queue poll interval before asking again.
    /// </summary>
    ValueTask<TempestMessage?> DequeueAsync(CancellationToken cancellationToken);

    /// <summary>What this queue gives; the engine and the conformance kit act on it.
    /// By default the features its interfaces give (<see cref="TempestQueueFeaturesExtensions.FromInterfaces"/>).</summary>
    TempestQueueFeatures Features => TempestQueueFeaturesExtensions.FromInterfaces(this);

    /// <summary>
    /// Takes up to <paramref name="maxCount"/> messages: the engine asks for as many as it has free slots.
    /// Waits as <see cref="DequeueAsync"/> does; an empty list means "none now" from a queue that cannot wait.
    /// By default one <see cref="DequeueAsync"/>.
    /// </summary>
    async ValueTask<IReadOnlyList<TempestMessage>> DequeueBatchAsync(int maxCount, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        return await DequeueAsync(cancellationToken).ConfigureAwait(false) is { } message ? [message] : [];
    }

    /// <summary>Adds many messages, in one round trip where the queue can. By default one <see cref="EnqueueAsync"/> each.</summary>
    async ValueTask EnqueueBatchAsync(IReadOnlyList<TempestMessage> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        for (int i = 0; i < messages.Count; i++) await EnqueueAsync(messages[i], cancellationToken).ConfigureAwait(false);
    }
}
