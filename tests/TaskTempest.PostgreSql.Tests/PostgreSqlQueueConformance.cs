using TaskTempest.PostgreSql.Tests.Support;
using TaskTempest.Queues;
using TaskTempest.Testing.Conformance;

namespace TaskTempest.PostgreSql.Tests;

/// <summary>
/// The conformance kit against a real PostgreSQL: each case gets a queue in a schema of its own (in this class's
/// database), on the server's clock, polling every 50 ms so that waits for due jobs stay short. Leases of 3 s in the
/// lease cases (the kit's real-clock default is 2 s): a case's margins are a quarter of the lease (0.75 s), and a statement
/// delayed by a loaded machine (the test classes run in parallel) must not decide one.
/// </summary>
public sealed class PostgreSqlQueueConformance(PostgresDatabase<PostgreSqlQueueConformance> database)
    : TempestQueueConformance, IClassFixture<PostgresDatabase<PostgreSqlQueueConformance>>
{
    // The delay likewise: a retry case checks twice that nothing is ready before a 2 s run-at, and on a loaded machine
    // the two checks and a second of waiting took longer than that once.
    private readonly RealConformanceClock _clock = new(shortLease: TimeSpan.FromSeconds(3), shortDelay: TimeSpan.FromSeconds(4));

    protected override TempestConformanceClock Clock => _clock;

    protected override async ValueTask<ITempestQueue> CreateQueueAsync(TempestConformanceSettings settings)
    {
        var queue = new TempestPostgreSqlQueue(database.DataSource, new TempestPostgreSqlOptions
        {
            Schema = settings.Name.Replace('-', '_'),
            LeaseDuration = settings.LeaseDuration,
            MaxLeaseExpiries = settings.MaxLeaseExpiries,
            PollInterval = TimeSpan.FromMilliseconds(50),
        });
        await queue.MigrateAsync();
        return queue;
    }
}
