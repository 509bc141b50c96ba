using StackExchange.Redis;
using TaskTempest.Queues;

namespace TaskTempest.Redis;

public sealed partial class TempestRedisQueue
{
    /// <summary>
    /// Records outcomes in one script call, each acting only where the job still runs under the delivery's token.
    /// Completed removes the job, or keeps a success for <see cref="TempestRedisOptions.KeepCompletedFor"/> (a failure or
    /// timeout goes to the recent failures first); Retry counts a failure, keeps the error and waits in the retry set for
    /// its run-at; Returned puts it back in its place; ReturnedUnstarted with the claim's attempt undone; DeadLettered
    /// keeps it aside with the reason (a failed run's counts its failure). Returns the messages refused because their
    /// lease is not theirs.
    /// </summary>
    public async ValueTask<IReadOnlyList<TempestMessage>> RecordAsync(IReadOnlyList<TempestOutcome> outcomes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        if (outcomes.Count == 0) return [];
        const int Fixed = 5;
        var values = new RedisValue[Fixed + outcomes.Count * TempestRedisScripts.OutcomeFields];
        values[0] = _options.KeepRecentFailures ? 1 : 0;
        values[1] = _options.MaxFailures;
        values[2] = Ms(_options.KeepCompletedFor);
        values[3] = Ms(_options.KeepDeadLettersFor);
        values[4] = _options.MaxDeadLetters;
        for (int i = 0; i < outcomes.Count; i++)
        {
            var outcome = outcomes[i];
            if (outcome.Message is null) throw new ArgumentException($"Outcome {i} has no message.", nameof(outcomes));
            if (outcome.Kind is < TempestOutcomeKind.Completed or > TempestOutcomeKind.DeadLettered)
                throw new ArgumentException($"Outcome {i} has an unknown kind: {outcome.Kind}.", nameof(outcomes));
            int at = Fixed + i * TempestRedisScripts.OutcomeFields;
            values[at] = (int)outcome.Kind;
            values[at + 1] = ReceiptId(outcome.Message);
            values[at + 2] = outcome.Message.Lease is { } lease ? lease.Token : -1; // no lease: refused
            values[at + 3] = outcome.Message is RawTempestMessage ? "" : outcome.Message.TaskName; // '': the stored name stays
            values[at + 4] = (int)outcome.Status;
            values[at + 5] = outcome.Error?.Type ?? "";
            values[at + 6] = outcome.Error?.Message ?? "";
            values[at + 7] = outcome.RunAt is { } runAt ? runAt.ToUnixTimeMilliseconds() : "";
            values[at + 8] = outcome.Reason ?? "";
        }
        var recorded = (RedisResult[])(await RunAsync(TempestRedisScripts.Record, values).WaitAsync(cancellationToken).ConfigureAwait(false))!;
        if (outcomes.Any(o => o.Kind is TempestOutcomeKind.Retry or TempestOutcomeKind.Returned or TempestOutcomeKind.ReturnedUnstarted)) Wake();
        var refused = new List<TempestMessage>();
        for (int i = 0; i < outcomes.Count; i++)
        {
            if ((long)recorded[i] != 1) refused.Add(outcomes[i].Message);
        }
        return refused;
    }

    /// <summary>Records a success; a refusal cannot be reported here, so it is ignored.</summary>
    public async ValueTask AcknowledgeAsync(TempestMessage message, CancellationToken cancellationToken = default) =>
        await RecordAsync([new TempestOutcome(TempestOutcomeKind.Completed, message ?? throw new ArgumentNullException(nameof(message))) { Status = TempestTaskStatus.Success }], cancellationToken).ConfigureAwait(false);

    /// <summary>Records a return; a refusal cannot be reported here, so it is ignored.</summary>
    public async ValueTask ReturnAsync(TempestMessage message, CancellationToken cancellationToken = default) =>
        await RecordAsync([new TempestOutcome(TempestOutcomeKind.Returned, message ?? throw new ArgumentNullException(nameof(message)))], cancellationToken).ConfigureAwait(false);

    /// <summary>Records a dead letter with <paramref name="reason"/>; a refusal cannot be reported here, so it is ignored.</summary>
    public async ValueTask DeadLetterAsync(TempestMessage message, string reason, CancellationToken cancellationToken = default) =>
        await RecordAsync([new TempestOutcome(TempestOutcomeKind.DeadLettered, message ?? throw new ArgumentNullException(nameof(message))) { Reason = reason }], cancellationToken).ConfigureAwait(false);
}
