using Xunit;

namespace TaskTempest.Tests.Shared;

/// <summary>The steps both server queues' CrashTests share around the drill (CrashDrill.cs): the worker sample's build,
/// and what a clean drill must show.</summary>
internal static class CrashTestSteps
{
    private static readonly TimeSpan BuildBound = TimeSpan.FromMinutes(5);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<Task<string>>> s_builds = new();

    /// <summary>Builds samples/<paramref name="sample"/> in Release into an artifacts folder of its own under the test's
    /// output (it never touches the Debug build under test, and a second run builds incrementally); returns its dll. Once
    /// per test process: test classes that run at the same time share one build (two builds into one artifacts folder
    /// wait on each other's files until the bound).</summary>
    public static Task<string> BuildSampleAsync(string sample) =>
        s_builds.GetOrAdd(sample, name => new Lazy<Task<string>>(() => BuildAsync(name))).Value;

    private static async Task<string> BuildAsync(string sample)
    {
        string artifacts = Path.Combine(AppContext.BaseDirectory, "crash-sample");
        var build = await ChildProcess.RunAsync(RepositoryPaths.DotnetHost,
            ["build", Path.Combine(RepositoryPaths.Root, "samples", sample, sample + ".csproj"), "-c", "Release",
             "--artifacts-path", artifacts, "-nodeReuse:false", "--disable-build-servers"],
            RepositoryPaths.Root, BuildBound);
        Assert.True(build.ExitCode == 0, $"the {sample} sample's Release build failed:\n" + build.Output);
        return Path.Combine(artifacts, "bin", sample, "release", sample + ".dll");
    }

    /// <summary>Every kill happened as armed and its jobs came back; every job completed, none is a dead letter or left in
    /// the queue; both workers stopped cleanly, and their logs hold no lost lease and no error. Duplicates and recovery
    /// times are the report's, not asserted: at-least-once allows them. Deletes the workers' logs when all holds.</summary>
    public static void AssertNothingLost(CrashDrillReport report)
    {
        var killAt = report.Settings.KillAt;
        Assert.Equal(killAt.Count, report.Kills.Count);
        for (int i = 0; i < killAt.Count; i++)
        {
            var kill = report.Kills[i];
            // At or after its point, and while jobs still ran: a loaded machine (the suite's classes run in parallel) can put
            // a kill a thousand completions late, and the next kill then follows it.
            Assert.InRange(kill.CompletionsAtKill, Math.Max(killAt[i], i > 0 ? report.Kills[i - 1].CompletionsAtKill + 1 : 0), report.Settings.Jobs - 1);
            Assert.Equal(137, kill.ExitCode); // 128 + SIGKILL: Process.Kill() sent SIGKILL, no graceful stop
            Assert.True(kill.Held > 0, $"kill {i + 1} found no job leased to the dead worker");
            Assert.True(kill.RecoverySeconds is not null, $"the jobs held at kill {i + 1} never all completed");
        }
        Assert.Equal(0, report.MissingNumbers);
        Assert.Equal(report.Settings.Jobs, report.DistinctCompleted);
        Assert.Equal(0, report.DeadLetters);
        Assert.Equal(0, report.RowsLeft);
        Assert.Equal([0, 0], report.ExitCodes);
        // A surviving worker loses no lease to a kill, and its heartbeat and outcome flush never fail (on PostgreSQL they
        // once deadlocked).
        Assert.Equal(0, report.LeaseLostWarnings);
        Assert.Equal(0, report.ErrorLines);
        Directory.Delete(report.Logs, recursive: true); // kept when an assertion fails, for a look at the workers' logs
    }
}
