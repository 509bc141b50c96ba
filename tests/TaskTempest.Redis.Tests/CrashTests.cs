using TaskTempest.Redis.Tests.Support;
using TaskTempest.Tests.Shared;
using Xunit.Abstractions;

namespace TaskTempest.Redis.Tests;

/// <summary>
/// The Redis queue survives SIGKILL: two worker processes (samples/RedisTempest, a framework-dependent Release build)
/// share 5,000 jobs of 2-10 ms, 50 at a time each, and each job records its completion on the same server (its number
/// in a set, its runs counted per job id); a worker is SIGKILLed after about 1,000, 2,500 and 4,000 completions and
/// started again. With 2 s leases the dead worker's jobs run again elsewhere within seconds: every job ends recorded,
/// nothing is dead-lettered (MaxLeaseExpiries 10, above the three kills), no job hash is left, and both workers stop
/// cleanly on SIGINT. Duplicates (jobs that completed but whose acknowledgement died with the worker) and recovery times
/// are measured and written to the output, not asserted: at-least-once allows them. The drill is tests/Shared/CrashDrill.cs
/// with RedisCrashDrill.cs, as for PostgreSQL; the throughput harness runs it with 20,000 jobs (crash-redis).
/// </summary>
public sealed class CrashTests(ITestOutputHelper output)
{
    private static readonly TimeSpan DrillBound = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Two_workers_lose_no_job_when_one_is_SIGKILLed_three_times()
    {
        await RedisServer.ConnectionAsync(); // fails with the way to start a server when there is none
        string worker = await CrashTestSteps.BuildSampleAsync("RedisTempest");

        int[] killAt = [1_000, 2_500, 4_000];
        // A queue name of this class's own (its keys are deleted first): the other classes work under tt:<class>: prefixes.
        var settings = new CrashDrillSettings(RedisServer.ConfiguredEndpoint!, "tt-crash-tests", RepositoryPaths.DotnetHost, worker, 5_000, killAt)
        {
            Lease = TimeSpan.FromSeconds(2),
            MaxLeaseExpiries = 10,
            Bound = DrillBound,
        };
        var report = await RedisCrashDrill.RunAsync(settings, output.WriteLine);
        foreach (var line in report.Lines()) output.WriteLine(line);

        CrashTestSteps.AssertNothingLost(report);
    }
}
