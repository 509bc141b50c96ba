namespace TaskTempest.Queues;

/// <summary>
/// A queue shared by many worker processes. Each delivery is leased to one owner with a token
/// (<see cref="TempestMessage.Lease"/>) until a time on the queue's clock; the engine's heartbeat extends the
/// leases of everything it runs (about every third of <see cref="LeaseDuration"/>), so a long job is never handed
/// to a second worker, while a crashed worker's jobs come back once their leases expire. Every outcome and
/// extension is conditional on the token, so a stale worker cannot overwrite a newer outcome.
/// </summary>
/// <remarks>
/// A lease that expires counts one <see cref="TempestEnvelope.LeaseExpiries"/>; once a message reaches the
/// queue's poison threshold (3 by default) it goes to the dead letters with the reason <c>lease expired 3 times</c>.
/// Queues on a server compare run-at and lease-until with the server's clock, never the workers'.
/// </remarks>
public interface ILeasingTempestQueue : IAcknowledgingTempestQueue
{
    /// <summary>How long a claim or an extension holds a lease.</summary>
    TimeSpan LeaseDuration { get; }

    /// <summary>
    /// Claims up to <paramref name="maxCount"/> due messages for <paramref name="worker"/>, each with a fresh lease
    /// and its <see cref="TempestMessage.Attempt"/> counted. Waits as <see cref="ITempestQueue.DequeueAsync"/> does.
    /// </summary>
    ValueTask<IReadOnlyList<TempestMessage>> ClaimAsync(TempestWorkerInfo worker, int maxCount, CancellationToken cancellationToken);

    /// <summary>
    /// Claims as <see cref="ClaimAsync(TempestWorkerInfo, int, CancellationToken)"/> does, from the named queues of
    /// <paramref name="takes"/> in their order (see <see cref="ITempestQueue.DequeueBatchAsync(IReadOnlyList{TempestQueueTake}, int, CancellationToken)"/>).
    /// By default, for a queue without <see cref="TempestQueueFeatures.NamedQueues"/>: the plain claim when the only
    /// queue asked for is <c>default</c>, else <see cref="NotSupportedException"/>.
    /// </summary>
    ValueTask<IReadOnlyList<TempestMessage>> ClaimAsync(TempestWorkerInfo worker, IReadOnlyList<TempestQueueTake> takes, int maxCount, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(takes);
        return TempestQueueTakes.OnlyDefault(takes, maxCount) is int count
            ? ClaimAsync(worker, count, cancellationToken)
            : throw TempestQueueTakes.NotSupported(GetType());
    }

    /// <summary>
    /// The engine's heartbeat: records that <paramref name="worker"/> is alive (the registry of workers) and
    /// extends the leases of <paramref name="running"/>. Returns the messages whose lease is no longer theirs;
    /// the engine cancels those jobs' tokens.
    /// </summary>
    ValueTask<IReadOnlyList<TempestMessage>> HeartbeatAsync(TempestWorkerInfo worker, IReadOnlyList<TempestMessage> running, CancellationToken cancellationToken);

    /// <summary>
    /// Puts back every message whose lease expired, counting a lease expiry each, and dead-letters those past the
    /// poison threshold. Every engine calls it with its heartbeat; the queue makes sure one rescue runs at a time.
    /// </summary>
    ValueTask<TempestRescue> RescueExpiredAsync(CancellationToken cancellationToken);

    /// <summary>The worker's run ended: it leaves the registry (its outcomes are recorded by then).</summary>
    ValueTask WorkerStoppedAsync(TempestWorkerInfo worker, CancellationToken cancellationToken);
}
