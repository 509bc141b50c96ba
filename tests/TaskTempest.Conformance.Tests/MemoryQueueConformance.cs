using TaskTempest.Queues;
using TaskTempest.Testing.Conformance;

namespace TaskTempest.Conformance.Tests;

/// <summary>The embedded queue: acknowledgements and counting, no leases, no delays; it hands back the objects it was given.</summary>
public class MemoryQueueConformance : TempestQueueConformance
{
    private readonly FakeConformanceClock _clock = new();

    protected override TempestConformanceClock Clock => _clock;

    protected override ValueTask<ITempestQueue> CreateQueueAsync(TempestConformanceSettings settings) =>
        new(new TempestMemoryQueue(_clock.TimeProvider));
}
