namespace TaskTempest.Queues;

/// <summary>
/// The least a queue must do, as in the original: enqueue and dequeue. An engine on such a queue gets
/// at-most-once delivery: a message is gone from the queue once dequeued, so a job that is running
/// when the process dies is lost. Implement <see cref="IAcknowledgingTempestQueue"/> for more.
/// </summary>
public interface ITempestQueue
{
    /// <summary>Adds a message (its id is already assigned).</summary>
    ValueTask EnqueueAsync(TempestMessage message, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes the next message. A queue that can wait for one does so until a message arrives or
    /// <paramref name="cancellationToken"/> is cancelled (then it throws <see cref="OperationCanceledException"/>);
    /// a queue that cannot wait returns <see langword="null"/> at once, and the worker sleeps the
    /// engine's queue poll interval before asking again.
    /// </summary>
    ValueTask<TempestMessage?> DequeueAsync(CancellationToken cancellationToken);
}
