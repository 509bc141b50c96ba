using TaskTempest.Queues;
using TaskTempest.Testing;
using TaskTempest.Testing.Conformance;

namespace TaskTempest.Conformance.Tests;

/// <summary>The in-process leasing queue of TaskTempest.Testing, on a fake clock.</summary>
public class LeasingMemoryQueueConformance : TempestQueueConformance
{
    private readonly FakeConformanceClock _clock = new();

    protected override TempestConformanceClock Clock => _clock;

    protected override ValueTask<ITempestQueue> CreateQueueAsync(TempestConformanceSettings settings) =>
        new(new TempestLeasingMemoryQueue(_clock.TimeProvider, new TempestLeasingMemoryQueueOptions
        {
            LeaseDuration = settings.LeaseDuration,
            MaxLeaseExpiries = settings.MaxLeaseExpiries,
        }));
}
