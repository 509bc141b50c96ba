namespace TaskTempest.Queues;

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
