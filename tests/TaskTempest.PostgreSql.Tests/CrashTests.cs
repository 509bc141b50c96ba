using TaskTempest.PostgreSql.Tests.Support;
using TaskTempest.Tests.Shared;
using Xunit.Abstractions;

namespace TaskTempest.PostgreSql.Tests;

/// <summary>
/// The PostgreSQL queue survives SIGKILL: two worker processes (samples/PostgreSqlTempest, a framework-dependent
/// Release build) share 5,000 jobs of 2-10 ms, 50 at a time each, and each job records its completion as a row in the
/// same database; worker b is SIGKILLed after about 1,000, 2,500 and 4,000 completions and started again. With 2 s
/// leases the dead worker's jobs run again elsewhere within seconds: every job ends with a completion row, nothing is
/// dead-lettered (MaxLeaseExpiries 10, above the three kills), the jobs table ends empty, and both workers stop cleanly
/// on SIGINT. Duplicates (jobs that completed but whose acknowledgement died with the worker) and recovery times are
/// measured and written to the output, not asserted: at-least-once allows them. The drill itself is
/// tests/Shared/PostgresCrashDrill.cs; the throughput harness runs it with 20,000 jobs (crash-pg).
/// </summary>
public sealed class CrashTests(PostgresDatabase<CrashTests> database, ITestOutputHelper output) : IClassFixture<PostgresDatabase<CrashTests>>
{
    private static readonly TimeSpan DrillBound = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Two_workers_lose_no_job_when_one_is_SIGKILLed_three_times()
    {
        string worker = await CrashTestSteps.BuildSampleAsync("PostgreSqlTempest");

        int[] killAt = [1_000, 2_500, 4_000];
        var settings = new CrashDrillSettings(database.ConnectionString, "crash", RepositoryPaths.DotnetHost, worker, 5_000, killAt)
        {
            Lease = TimeSpan.FromSeconds(2),
            MaxLeaseExpiries = 10,
            Bound = DrillBound,
        };
        var report = await PostgresCrashDrill.RunAsync(settings, output.WriteLine);
        foreach (var line in report.Lines()) output.WriteLine(line);

        CrashTestSteps.AssertNothingLost(report);
    }
}
