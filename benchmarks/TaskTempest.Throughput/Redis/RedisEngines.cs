using TaskTempest;

namespace TaskTempest.Throughput.Redis;

/// <summary>The engine of the Redis rows: 256 fibers, everything else as the attribute's defaults.</summary>
[Tempest(Fibers = RedisFibers.Slots)]
public partial class RedisFibers
{
    /// <summary>Its slots: the most jobs it takes from the queue and has not yet recorded. Every contender of the redis
    /// mode runs at this concurrency (the bare loop's slots, BullMQ's concurrency, Sidekiq's -c).</summary>
    public const int Slots = 256;
}
