namespace TaskTempest.Queues;

/// <summary>
/// What an operator (and the dashboard) can see and repair in a queue: counts by state, paged lists,
/// one job by id, the recent failures, the workers, and the repairs (cancel, requeue a dead letter, delete).
/// </summary>
public interface ITempestQueueInspector
{
    /// <summary>How many jobs are in each state. A count the queue cannot know is null.</summary>
    ValueTask<TempestQueueCounts> GetCountsAsync(CancellationToken cancellationToken = default);

    /// <summary>A page of the jobs in <paramref name="state"/>: running by lease-until, scheduled and retrying by
    /// run-at, ready in the order they would run, dead newest first.</summary>
    ValueTask<IReadOnlyList<TempestJobInfo>> ListAsync(TempestJobState state, int offset, int limit, CancellationToken cancellationToken = default);

    /// <summary>One job, in whatever state, or null when the queue holds no job with that id.</summary>
    ValueTask<TempestJobInfo?> GetAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>The most recent failed runs, newest first; the queue caps this log by count and age.</summary>
    ValueTask<IReadOnlyList<TempestFailureRecord>> GetRecentFailuresAsync(int limit, CancellationToken cancellationToken = default);

    /// <summary>The worker processes that heartbeat to this queue, with their last heartbeat.</summary>
    ValueTask<IReadOnlyList<TempestWorkerStatus>> GetWorkersAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Cancels a job: a waiting one is removed; a running one loses its lease (its worker's next heartbeat cancels its
    /// token and its outcome is refused). False when there is no such job, or it is dead.
    /// </summary>
    ValueTask<bool> CancelAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Puts a dead letter back to run, with the same id and fresh counts. False when it is not a dead letter.</summary>
    ValueTask<bool> RequeueDeadAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Puts every dead letter back to run (same ids, fresh counts); returns how many.</summary>
    ValueTask<int> RequeueAllDeadAsync(CancellationToken cancellationToken = default);

    /// <summary>Deletes a job that is not running (waiting, scheduled or dead). False when there is none, or it is running.</summary>
    ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Deletes every dead letter; returns how many.</summary>
    ValueTask<int> DeleteAllDeadAsync(CancellationToken cancellationToken = default);

    /// <summary>The recurring schedules the queue's store knows, with their last tick and next run; none when the queue
    /// keeps no schedules (<see cref="ITempestScheduleStore"/>).</summary>
    ValueTask<IReadOnlyList<TempestScheduleInfo>> GetSchedulesAsync(CancellationToken cancellationToken = default) =>
        this is ITempestScheduleStore store ? store.GetSchedulesAsync(cancellationToken) : new([]);
}

/// <summary>Where a job is.</summary>
public enum TempestJobState
{
    /// <summary>Due and waiting for a worker.</summary>
    Ready,

    /// <summary>Waiting for its run-at (a delayed submit).</summary>
    Scheduled,

    /// <summary>Waiting for its run-at after a failed run.</summary>
    Retrying,

    /// <summary>Leased to a worker (or handed to one, on a queue without leases).</summary>
    Running,

    /// <summary>In the dead letters.</summary>
    Dead,

    /// <summary>Succeeded, and kept for a while where the queue keeps finished jobs (most delete them at once).</summary>
    Completed,
}

/// <summary>How many jobs are in each state; null where the queue cannot know.</summary>
public sealed record TempestQueueCounts(long? Ready, long? Scheduled, long? Retrying, long? Running, long? Dead)
{
    /// <summary>Succeeded jobs still kept (<see cref="TempestJobState.Completed"/>); null where the queue keeps none.</summary>
    public long? Completed { get; init; }
}

/// <summary>One job as the inspector shows it.</summary>
public sealed record TempestJobInfo
{
    /// <summary>The message id.</summary>
    public required string Id { get; init; }

    /// <summary>The task's wire name (<see cref="RawTempestMessage.RawTaskName"/> if it never parsed).</summary>
    public required string TaskName { get; init; }

    /// <summary>Where it is.</summary>
    public required TempestJobState State { get; init; }

    /// <summary>Runs started.</summary>
    public int Attempt { get; init; }

    /// <summary>The message's envelope (the three counts' other two, run-at, queue, last error...); null: defaults.</summary>
    public TempestEnvelope? Envelope { get; init; }

    /// <summary>For a running job: its lease (owner, token, until).</summary>
    public TempestLease? Lease { get; init; }

    /// <summary>For a dead letter: why, and when.</summary>
    public string? DeadReason { get; init; }

    /// <summary>For a dead letter: when it was put aside.</summary>
    public DateTimeOffset? DeadAt { get; init; }

    /// <summary>When it was enqueued, where the queue knows.</summary>
    public DateTimeOffset? EnqueuedAt { get; init; }

    /// <summary>The message in the wire format (it may hold personal data: show it only where the user allows).</summary>
    public string? Message { get; init; }
}

/// <summary>One failed run, as the recent-failure log keeps it.</summary>
/// <param name="Id">The message id.</param>
/// <param name="TaskName">The task's wire name.</param>
/// <param name="Attempt">Which run failed.</param>
/// <param name="Status">Failure or timeout.</param>
/// <param name="Error">What went wrong, where known.</param>
/// <param name="FailedAt">When the queue recorded it.</param>
public sealed record TempestFailureRecord(string Id, string TaskName, int Attempt, TempestTaskStatus Status, TempestError? Error, DateTimeOffset FailedAt);
