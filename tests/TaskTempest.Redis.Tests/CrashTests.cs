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
    private static readonly TimeSpan BuildBound = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan DrillBound = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Two_workers_lose_no_job_when_one_is_SIGKILLed_three_times()
    {
        await RedisServer.ConnectionAsync(); // fails with the way to start a server when there is none
        // Release, into an artifacts folder of its own under this test's output: it never touches the Debug build under
        // test, and a second run builds incrementally.
        string artifacts = Path.Combine(AppContext.BaseDirectory, "crash-sample");
        var build = await ChildProcess.RunAsync(RepositoryPaths.DotnetHost,
            ["build", Path.Combine(RepositoryPaths.Root, "samples", "RedisTempest", "RedisTempest.csproj"), "-c", "Release",
             "--artifacts-path", artifacts, "-nodeReuse:false", "--disable-build-servers"],
            RepositoryPaths.Root, BuildBound);
        Assert.True(build.ExitCode == 0, "the sample's Release build failed:\n" + build.Output);
        string worker = Path.Combine(artifacts, "bin", "RedisTempest", "release", "RedisTempest.dll");

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

        Assert.Equal(3, report.Kills.Count);
        for (int i = 0; i < killAt.Length; i++)
        {
            var kill = report.Kills[i];
            // At or after its point, and while jobs still ran: a loaded machine (the suite's classes run in parallel) can put
            // a kill a thousand completions late, and the next kill then follows it.
            Assert.InRange(kill.CompletionsAtKill, Math.Max(killAt[i], i > 0 ? report.Kills[i - 1].CompletionsAtKill + 1 : 0), settings.Jobs - 1);
            Assert.Equal(137, kill.ExitCode); // 128 + SIGKILL: Process.Kill() sent SIGKILL, no graceful stop
            Assert.True(kill.Held > 0, $"kill {i + 1} found no job leased to the dead worker");
            Assert.True(kill.RecoverySeconds is not null, $"the jobs held at kill {i + 1} never all completed");
        }
        Assert.Equal(0, report.MissingNumbers);
        Assert.Equal(settings.Jobs, report.DistinctCompleted);
        Assert.Equal(0, report.DeadLetters);
        Assert.Equal(0, report.RowsLeft);
        Assert.Equal([0, 0], report.ExitCodes);
        // A surviving worker loses no lease to a kill, and its heartbeat and outcome flush never fail.
        Assert.Equal(0, report.LeaseLostWarnings);
        Assert.Equal(0, report.ErrorLines);
        Directory.Delete(report.Logs, recursive: true); // kept when an assertion fails, for a look at the workers' logs
    }
}
