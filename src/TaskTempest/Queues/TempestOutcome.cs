namespace TaskTempest.Queues;

/// <summary>What the engine tells a queue about one delivery.</summary>
public enum TempestOutcomeKind
{
    /// <summary>The job ended (success, or a final failure or timeout): the message is done.</summary>
    Completed,

    /// <summary>The run failed and the job runs again at <see cref="TempestOutcome.RunAt"/> (needs <see cref="TempestQueueFeatures.Delays"/>).</summary>
    Retry,

    /// <summary>The job started and was aborted at shutdown: back to the queue, counting neither a failure nor a lease expiry.</summary>
    Returned,

    /// <summary>Fetched and never started (the engine was stopping): back to the queue, and the claim's attempt is undone.</summary>
    ReturnedUnstarted,

    /// <summary>It can never run (an unknown task, arguments that do not fit): kept aside with <see cref="TempestOutcome.Reason"/>.</summary>
    DeadLettered,
}

/// <summary>
/// One delivery's outcome, handed to <see cref="IAcknowledgingTempestQueue.RecordAsync"/> in batches. On a
/// leasing queue it counts only while <see cref="TempestMessage.Lease"/>'s token is still the message's.
/// </summary>
/// <param name="Kind">What happened.</param>
/// <param name="Message">The delivery (with its <see cref="TempestMessage.Lease"/> and <see cref="TempestMessage.Receipt"/>).</param>
public readonly record struct TempestOutcome(TempestOutcomeKind Kind, TempestMessage Message)
{
    /// <summary>For <see cref="TempestOutcomeKind.Completed"/> and <see cref="TempestOutcomeKind.Retry"/>: how the run ended.</summary>
    public TempestTaskStatus Status { get; init; }

    /// <summary>For a failure or timeout, a retry or a dead letter: what went wrong.</summary>
    public TempestError? Error { get; init; }

    /// <summary>For <see cref="TempestOutcomeKind.Retry"/>: when to run again (null: at once).</summary>
    public DateTimeOffset? RunAt { get; init; }

    /// <summary>For <see cref="TempestOutcomeKind.DeadLettered"/>: why, already escaped and cut.</summary>
    public string? Reason { get; init; }
}
