namespace TaskTempest.Queues;

/// <summary>
/// What a queue gives, stated by <see cref="ITempestQueue.Features"/>: the engine and the conformance kit act
/// on it. The interface-backed features (acknowledgements, leases, counting, inspection) are found from the
/// interfaces a queue implements; the promises about behaviour (batches, delays, order) a queue states itself.
/// </summary>
[Flags]
public enum TempestQueueFeatures
{
    /// <summary>Enqueue and dequeue only: at-most-once, a message is gone once dequeued.</summary>
    None = 0,

    /// <summary><see cref="IAcknowledgingTempestQueue"/>: a message stays until its outcome is recorded (at-least-once).</summary>
    Acknowledgements = 1,

    /// <summary><see cref="ILeasingTempestQueue"/>: deliveries are leased to an owner with a token; an expired lease comes back.</summary>
    Leases = 2,

    /// <summary><see cref="TempestEnvelope.RunAt"/> is honoured: a message is not handed out before it.
    /// A queue without it refuses a message with a run-at (<see cref="NotSupportedException"/>).</summary>
    Delays = 4,

    /// <summary><see cref="ITempestQueue.DequeueBatchAsync(int, CancellationToken)"/> hands out more than one message per call.</summary>
    Batches = 8,

    /// <summary>One consumer, without retries or delays, gets messages in enqueue order at any batch size.
    /// Nothing is promised across consumers or after a return.</summary>
    FifoForOneConsumer = 16,

    /// <summary><see cref="ICountingTempestQueue"/>: it can say how many messages wait.</summary>
    Counting = 32,

    /// <summary><see cref="ITempestQueueInspector"/>: operators and the dashboard can see and repair what is in it.</summary>
    Inspection = 64,

    /// <summary><see cref="ITempestQueue.EnqueueUniqueAsync"/>: the store keeps a unique key to one job within its
    /// <see cref="TempestUniqueScope"/>. A queue without it refuses a message with a key (<see cref="NotSupportedException"/>).</summary>
    UniqueKeys = 128,

    /// <summary>Jobs wait in their named queue (<see cref="TempestEnvelope.Queue"/>), and a claim over several named queues
    /// takes from each no more than asked, in the order asked. A queue without it keeps one queue, <c>default</c>.</summary>
    NamedQueues = 256,

    /// <summary><see cref="ITempestScheduleStore"/>: recurring schedules and their last tick live in the queue's store, so
    /// that each tick runs once across every worker process on it.</summary>
    Schedules = 512,
}

/// <summary>Finds the interface-backed features of a queue.</summary>
public static class TempestQueueFeaturesExtensions
{
    /// <summary>The features <paramref name="queue"/>'s interfaces give.</summary>
    public static TempestQueueFeatures FromInterfaces(ITempestQueue queue) =>
        (queue is IAcknowledgingTempestQueue ? TempestQueueFeatures.Acknowledgements : 0)
        | (queue is ILeasingTempestQueue ? TempestQueueFeatures.Leases : 0)
        | (queue is ICountingTempestQueue ? TempestQueueFeatures.Counting : 0)
        | (queue is ITempestQueueInspector ? TempestQueueFeatures.Inspection : 0)
        | (queue is ITempestScheduleStore ? TempestQueueFeatures.Schedules : 0);
}
