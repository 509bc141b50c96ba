using TaskTempest;

namespace TaskTempest.Throughput.Postgres;

/// <summary>The engine of the PostgreSQL rows: 256 fibers, everything else as the attribute's defaults.</summary>
[Tempest(Fibers = PgFibers.Slots)]
public partial class PgFibers
{
    /// <summary>Its slots: the most jobs it takes from the queue and has not yet recorded.</summary>
    public const int Slots = 256;
}
