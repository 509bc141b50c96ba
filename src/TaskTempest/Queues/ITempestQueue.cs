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

    /// <summary>
    /// Adds a message whose envelope has a <see cref="TempestEnvelope.UniqueKey"/>, unless a job holds that key within
    /// its scope (<see cref="TempestEnvelope.EffectiveUniqueScope"/>): then nothing is added and the holder's id comes
    /// back. The store decides in one step (an index, <c>SET NX</c>, a dictionary under a lock), never a read before
    /// the write, so two racing submits add one job. Null: the message was added. A queue with
    /// <see cref="TempestQueueFeatures.UniqueKeys"/> also honours keys in <see cref="EnqueueAsync"/> and
    /// <see cref="EnqueueBatchAsync"/>, where a duplicate is skipped. By default (a queue without the feature) it throws
    /// <see cref="NotSupportedException"/>.
    /// </summary>
    ValueTask<string?> EnqueueUniqueAsync(TempestMessage message, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException(
            $"The queue {GetType().Name} cannot keep a job unique, so {message?.TaskName} was not submitted: use a queue whose Features include UniqueKeys (the memory, PostgreSQL and Redis queues have them).");

    /// <summary>
    /// Takes up to <paramref name="maxCount"/> due messages from the named queues of <paramref name="takes"/>, in their
    /// order: from the first as many as it has up to its <see cref="TempestQueueTake.MaxCount"/>, then from the next, and so
    /// on (the engine orders them strictly, or by weight, and sizes them by each queue's concurrency limit). Waits as
    /// <see cref="DequeueAsync"/> does when none of them has a due message. By default, for a queue without
    /// <see cref="TempestQueueFeatures.NamedQueues"/>: <see cref="DequeueBatchAsync(int, CancellationToken)"/> when the
    /// only queue asked for is <c>default</c>, else <see cref="NotSupportedException"/>.
    /// </summary>
    ValueTask<IReadOnlyList<TempestMessage>> DequeueBatchAsync(IReadOnlyList<TempestQueueTake> takes, int maxCount, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(takes);
        return TempestQueueTakes.OnlyDefault(takes, maxCount) is int count
            ? DequeueBatchAsync(count, cancellationToken)
            : throw TempestQueueTakes.NotSupported(GetType());
    }
}

/// <summary>Claims over named queues: the checks every queue's implementation shares, and the contract's defaults.</summary>
public static class TempestQueueTakes
{
    /// <summary>The count to take when <paramref name="takes"/> asks for the <c>default</c> queue alone; null otherwise.</summary>
    internal static int? OnlyDefault(IReadOnlyList<TempestQueueTake> takes, int maxCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        return takes.Count == 1 && takes[0].Queue == TempestQueueNames.Default ? Math.Max(1, Math.Min(maxCount, takes[0].MaxCount)) : null;
    }

    internal static NotSupportedException NotSupported(Type queueType) =>
        new($"The queue {queueType.Name} keeps one queue, default: an engine on it cannot consume named queues. Use a queue whose Features include NamedQueues (the memory, PostgreSQL and Redis queues have them).");

    /// <summary>Checks a claim's arguments: at least one queue, valid names, each count and the total at least 1.</summary>
    public static void Validate(IReadOnlyList<TempestQueueTake> takes, int maxCount)
    {
        ArgumentNullException.ThrowIfNull(takes);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        if (takes.Count == 0) throw new ArgumentException("A claim names at least one queue.", nameof(takes));
        for (int i = 0; i < takes.Count; i++)
        {
            TempestQueueNames.Validate(takes[i].Queue, nameof(takes));
            if (takes[i].MaxCount < 1) throw new ArgumentOutOfRangeException(nameof(takes), "Each queue of a claim takes at least one message.");
        }
    }
}
