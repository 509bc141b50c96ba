namespace TaskTempest.Queues;

/// <summary>
/// How long a job's unique key (<see cref="TempestEnvelope.UniqueKey"/>) keeps a second job with the same key out. The
/// queue's store enforces it (a partial unique index, <c>SET NX</c>, a dictionary under a lock), never a check before an
/// insert; a duplicate submit adds nothing and returns the holder's id (<see cref="TempestSubmitResult.Duplicate"/>).
/// </summary>
public enum TempestUniqueScope
{
    /// <summary>No uniqueness (the default when no key is set).</summary>
    None = 0,

    /// <summary>While the job waits (ready, scheduled): the key is free again once a worker has taken it, so a new job can
    /// queue while the first runs. A retry does not take the key again.</summary>
    Queued = 1,

    /// <summary>While the job waits, runs or waits for a retry: free again once it succeeded or went to the dead letters
    /// (or was cancelled or deleted). The default when a key is set.</summary>
    QueuedOrRunning = 2,

    /// <summary>For <see cref="TempestEnvelope.UniqueFor"/> from the submit, whatever happens to the job meanwhile (at most
    /// one job per key per period: a rate limit).</summary>
    Period = 3,
}
