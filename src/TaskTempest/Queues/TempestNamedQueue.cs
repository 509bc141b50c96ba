namespace TaskTempest.Queues;

/// <summary>
/// A named queue an engine consumes (<see cref="TempestOptions.Queues"/>), with its share of the engine's slots.
/// </summary>
/// <param name="Name">The queue's name (<see cref="TempestEnvelope.Queue"/>; <c>default</c> for jobs submitted without one).</param>
public sealed record TempestNamedQueue(string Name)
{
    /// <summary>The most of this queue's jobs that run at once in this engine; 0 (the default): as many as the engine has slots.
    /// A slow queue with a limit cannot take every slot.</summary>
    public int MaxConcurrency { get; init; }

    /// <summary>Its weight under <see cref="TempestQueueOrder.Weighted"/> (1 by default): a queue of weight 3 is asked first
    /// three times as often as one of weight 1.</summary>
    public int Weight { get; init; } = 1;
}

/// <summary>In which order an engine asks its named queues for jobs when it has free slots.</summary>
public enum TempestQueueOrder
{
    /// <summary>In the order of <see cref="TempestOptions.Queues"/>: a later queue gets slots only while the earlier ones have
    /// nothing due (or are at their limit). The default.</summary>
    Strict = 0,

    /// <summary>In an order drawn at each claim with each queue's chance of coming first in proportion to its
    /// <see cref="TempestNamedQueue.Weight"/> (as Sidekiq's weighted queues): busy queues share the slots by weight, and none starves.</summary>
    Weighted = 1,
}
