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

/// <summary>
/// The whole queue contract: after a job ends the engine tells the queue the message's fate, so a
/// queue that keeps dequeued messages until then delivers every job at least once.
/// </summary>
public interface IAcknowledgingTempestQueue : ITempestQueue
{
    /// <summary>The job ended (success, failure or timeout): the message is done.</summary>
    ValueTask AcknowledgeAsync(TempestMessage message, CancellationToken cancellationToken = default);

    /// <summary>The job did not end (aborted at shutdown, or fetched but never started): put the
    /// message back so another worker runs it.</summary>
    ValueTask ReturnAsync(TempestMessage message, CancellationToken cancellationToken = default);

    /// <summary>The message can never run (unknown task, arguments that do not fit): keep it aside,
    /// with <paramref name="reason"/>, where an operator can inspect it.</summary>
    ValueTask DeadLetterAsync(TempestMessage message, string reason, CancellationToken cancellationToken = default);
}

/// <summary>A queue that can say how many messages wait in it; the engine reports the count at shutdown.</summary>
public interface ICountingTempestQueue
{
    /// <summary>How many messages wait to be dequeued (an estimate where the queue is shared and busy).</summary>
    ValueTask<long> CountAsync(CancellationToken cancellationToken = default);
}

/// <summary>A message that could not run, with why.</summary>
/// <param name="Message">The message as it was dequeued (a <see cref="RawTempestMessage"/> if it never parsed).</param>
/// <param name="Reason">Why it was dead-lettered, e.g. <c>task class not found: Adderr</c>.</param>
/// <param name="DeadLetteredAt">When.</param>
public sealed record TempestDeadLetter(TempestMessage Message, string Reason, DateTimeOffset DeadLetteredAt);
