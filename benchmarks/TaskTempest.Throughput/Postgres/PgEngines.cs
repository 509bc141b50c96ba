using TaskTempest;

namespace TaskTempest.Throughput.Postgres;

/// <summary>The engine of the PostgreSQL rows: 256 fibers, everything else as the attribute's defaults.</summary>
[Tempest(Fibers = PgFibers.Slots)]
public partial class PgFibers
{
    /// <summary>Its slots: the most jobs it takes from the queue and has not yet recorded.</summary>
    public const int Slots = 256;
}

/// <summary>
/// The latency job: its one argument is the submit time the producer stamped (UTC wall-clock ticks, the same clock
/// in both processes); it records start minus submit and counts itself done.
/// </summary>
[TempestTask]
public sealed class Stamped : TempestTask
{
    public ValueTask Process(long submittedTicks)
    {
        Latencies.Current.Record(DateTime.UtcNow.Ticks - submittedTicks);
        Finish.One();
        return default;
    }
}
