namespace TaskTempest.Queues;

/// <summary>A queue that can say how many messages wait in it; the engine reports the count at shutdown.</summary>
public interface ICountingTempestQueue
{
    /// <summary>How many messages wait to be dequeued (an estimate where the queue is shared and busy).</summary>
    ValueTask<long> CountAsync(CancellationToken cancellationToken = default);
}
