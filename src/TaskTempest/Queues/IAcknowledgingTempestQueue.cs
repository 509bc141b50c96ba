namespace TaskTempest.Queues;

/// <summary>
/// A queue that keeps a dequeued message until the engine tells it the message's fate, so every job is
/// delivered at least once: a job whose process dies before its outcome is recorded runs again.
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

    /// <inheritdoc/>
    TempestQueueFeatures ITempestQueue.Features => TempestQueueFeaturesExtensions.FromInterfaces(this);

    /// <summary>
    /// Records many outcomes at once (the engine's flusher hands over what waits, up to one per slot), in one
    /// round trip where the queue can. Returns the messages whose outcome was refused because their lease is no
    /// longer theirs (it expired and the message was claimed again, or was cancelled); the engine logs each.
    /// By default one call per outcome, all started together and awaited together (a retry needs
    /// <see cref="TempestQueueFeatures.Delays"/>), and nothing is refused. The default cannot tell
    /// <see cref="ReturnAsync"/> that a message never started, so a queue that counts attempts as it hands
    /// messages out overrides this to undo the count for <see cref="TempestOutcomeKind.ReturnedUnstarted"/>.
    /// </summary>
    async ValueTask<IReadOnlyList<TempestMessage>> RecordAsync(IReadOnlyList<TempestOutcome> outcomes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        for (int i = 0; i < outcomes.Count; i++)
        {
            // Before any is recorded: a batch the queue cannot take is refused whole.
            if (outcomes[i].Kind == TempestOutcomeKind.Retry)
                throw new NotSupportedException($"The queue {GetType().Name} cannot delay a message, so it cannot take a retry.");
        }
        var pending = new List<Task>(outcomes.Count);
        for (int i = 0; i < outcomes.Count; i++)
        {
            var outcome = outcomes[i];
            var recorded = outcome.Kind switch
            {
                TempestOutcomeKind.Completed => AcknowledgeAsync(outcome.Message, cancellationToken),
                TempestOutcomeKind.Returned or TempestOutcomeKind.ReturnedUnstarted => ReturnAsync(outcome.Message, cancellationToken),
                TempestOutcomeKind.DeadLettered => DeadLetterAsync(outcome.Message, outcome.Reason ?? "dead-lettered", cancellationToken),
                _ => AcknowledgeAsync(outcome.Message, cancellationToken), // unreachable: retries were refused above
            };
            if (recorded.IsCompletedSuccessfully) recorded.GetAwaiter().GetResult(); // consumed, as a pooled source needs
            else pending.Add(recorded.AsTask());
        }
        if (pending.Count > 0) await Task.WhenAll(pending).ConfigureAwait(false);
        return [];
    }
}
