using TaskTempest.Queues;

namespace TaskTempest;

/// <summary>
/// Where and how a submit goes, on any engine or submitter (<c>engine.ToQueue("mail").SubmitMail(...)</c>): its named
/// queue, its priority, its unique key. Each returns a submitter with the same typed <c>Submit{Task}</c> methods.
/// </summary>
public static class TempestSubmitterExtensions
{
    /// <summary>Submits to the named queue <paramref name="queue"/> (over the task's <see cref="TempestTaskAttribute.Queue"/>).</summary>
    public static TSubmitter ToQueue<TSubmitter>(this ITempestSubmitter<TSubmitter> submitter, string queue) where TSubmitter : TempestSubmitter
    {
        ArgumentNullException.ThrowIfNull(submitter);
        TempestQueueNames.Validate(queue, nameof(queue));
        return submitter.WithSubmitOptions(submitter.SubmitOptions with { Queue = queue });
    }

    /// <summary>Submits with <paramref name="priority"/> within the queue (higher first; over the task's <see cref="TempestTaskAttribute.Priority"/>).</summary>
    public static TSubmitter WithPriority<TSubmitter>(this ITempestSubmitter<TSubmitter> submitter, int priority) where TSubmitter : TempestSubmitter
    {
        ArgumentNullException.ThrowIfNull(submitter);
        return submitter.WithSubmitOptions(submitter.SubmitOptions with { Priority = priority });
    }

    /// <summary>
    /// Submits with the unique key <paramref name="key"/> (stored as <c>{task}:{key}</c>), kept for <paramref name="scope"/>:
    /// a submit while a job holds the key queues nothing and returns the holder's id (<see cref="TempestSubmitResult.Duplicate"/>).
    /// <paramref name="period"/> is for <see cref="TempestUniqueScope.Period"/>, and required by it.
    /// </summary>
    public static TSubmitter Unique<TSubmitter>(this ITempestSubmitter<TSubmitter> submitter, string key,
        TempestUniqueScope scope = TempestUniqueScope.QueuedOrRunning, TimeSpan? period = null) where TSubmitter : TempestSubmitter
    {
        ArgumentNullException.ThrowIfNull(submitter);
        ArgumentException.ThrowIfNullOrEmpty(key);
        TempestUniqueKeys.ValidateScope(scope, period);
        return submitter.WithSubmitOptions(submitter.SubmitOptions with { UniqueKey = key, UniqueScope = scope, UniqueFor = period });
    }
}

/// <summary>Unique keys: how they are checked and composed.</summary>
public static class TempestUniqueKeys
{
    /// <summary>The longest key a queue stores (the task's name, a colon, and the key).</summary>
    public const int MaxLength = 1000;

    /// <summary>The stored key of <paramref name="taskName"/>'s job with <paramref name="key"/>: <c>{task}:{key}</c>.</summary>
    public static string Compose(string taskName, string key)
    {
        string composed = taskName + ":" + key;
        return composed.Length <= MaxLength ? composed
            : throw new ArgumentException($"The unique key of {taskName} is {composed.Length} characters long; at most {MaxLength} are kept. Key by fewer or shorter arguments.", nameof(key));
    }

    /// <summary>Throws for a scope that cannot be kept: <see cref="TempestUniqueScope.Period"/> needs a positive period, and only it takes one.</summary>
    public static void ValidateScope(TempestUniqueScope scope, TimeSpan? period)
    {
        if (scope is < TempestUniqueScope.Queued or > TempestUniqueScope.Period)
            throw new ArgumentOutOfRangeException(nameof(scope), scope, "A unique key needs a scope: Queued, QueuedOrRunning or Period.");
        if (scope == TempestUniqueScope.Period && period is not { Ticks: > 0 })
            throw new ArgumentException("TempestUniqueScope.Period needs a positive period.", nameof(period));
        if (scope != TempestUniqueScope.Period && period is not null)
            throw new ArgumentException("Only TempestUniqueScope.Period takes a period.", nameof(period));
    }
}
