namespace TaskTempest.Queues;

/// <summary>
/// One named queue in a claim over several (<see cref="ITempestQueue.DequeueBatchAsync(IReadOnlyList{TempestQueueTake}, int, CancellationToken)"/>,
/// <see cref="ILeasingTempestQueue.ClaimAsync(TempestWorkerInfo, IReadOnlyList{TempestQueueTake}, int, CancellationToken)"/>):
/// take up to <paramref name="MaxCount"/> due jobs from <paramref name="Queue"/>.
/// </summary>
/// <param name="Queue">The named queue (<see cref="TempestEnvelope.Queue"/>; <see cref="TempestQueueNames.Default"/> for a job without one).</param>
/// <param name="MaxCount">The most jobs to take from it (its free slots under its concurrency limit).</param>
public readonly record struct TempestQueueTake(string Queue, int MaxCount);

/// <summary>Names of queues.</summary>
public static class TempestQueueNames
{
    /// <summary>The named queue of a job submitted without one: <c>default</c>.</summary>
    public const string Default = "default";

    /// <summary>The named queue <paramref name="envelope"/> puts its job in.</summary>
    public static string Of(TempestEnvelope? envelope) => envelope?.Queue ?? Default;

    /// <summary>Whether <paramref name="name"/> may name a queue: 1 to 100 characters of letters, digits, '-', '_', '.' and ':'.</summary>
    public static bool IsValid(string? name) => name is not null && TempestId.IsAcceptable(name);

    /// <summary>Throws unless <paramref name="name"/> <see cref="IsValid"/>.</summary>
    public static string Validate(string? name, string? paramName = null) =>
        IsValid(name) ? name! : throw new ArgumentException(
            $"'{Logging.LogText.Escape(name ?? "(null)", 120)}' cannot name a queue: use 1 to 100 letters, digits, '-', '_', '.' or ':'.", paramName ?? nameof(name));
}
