using TaskTempest.Queues;
using TaskTempest.Testing.Conformance;

namespace TaskTempest.Conformance.Tests;

/// <summary>The embedded queue on a fake clock: acknowledgements, counting, and delays and retries (one timer), no leases;
/// it hands back the objects it was given.</summary>
public class MemoryQueueConformance : TempestQueueConformance
{
    private readonly FakeConformanceClock _clock = new();

    protected override TempestConformanceClock Clock => _clock;

    protected override ValueTask<ITempestQueue> CreateQueueAsync(TempestConformanceSettings settings) =>
        new(new TempestMemoryQueue(_clock.TimeProvider));
}
