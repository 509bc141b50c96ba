using System.Diagnostics;
using System.Text.RegularExpressions;
using TaskTempest.Tests.Shared;
using Xunit.Abstractions;

namespace TaskTempest.Tests;

/// <summary>
/// Publishes samples/AotCanary with NativeAOT (it references every runtime package), runs the binary, interrupts it and
/// checks what a user's worker must do: no trim or AOT warning, one job through the memory queue (an engine hosted the
/// worker-service way, TaskTempest.Hosting: a generic host, AddTempest, a health check, the host's console logging), one
/// through PostgreSQL (the suite's server, TASKTEMPEST_POSTGRES, a schema of its own) and one through Redis
/// (TASKTEMPEST_REDIS, a queue name of its own, after the server check), both log files of the two engines that run on
/// their own, the standalone dashboard's JSON on loopback, a clean exit on SIGINT. The only NativeAOT publish in the suite (one takes about a minute here).
/// </summary>
[Collection(PublishingCollection.Name)]
public sealed partial class AotPublishTests(ITestOutputHelper output)
{
    internal static readonly TimeSpan Bound = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task The_canary_publishes_as_NativeAOT_without_warnings_and_runs_a_job_through_each_queue_until_interrupted()
    {
        // Tests never skip: without the server this fails with the way to start it.
        string postgres = Environment.GetEnvironmentVariable("TASKTEMPEST_POSTGRES") ?? throw new InvalidOperationException(
            "TASKTEMPEST_POSTGRES is not set: run the suite with scripts/test.sh, or start the server with scripts/ci-services.sh start and export the connection string it prints.");
        string redis = Environment.GetEnvironmentVariable("TASKTEMPEST_REDIS") ?? throw new InvalidOperationException(
            "TASKTEMPEST_REDIS is not set: run the suite with scripts/test.sh, or start the servers with scripts/ci-services.sh start and export the endpoint it prints.");
        string work = Directory.CreateTempSubdirectory("tasktempest-aot-").FullName;
        string publishDir = Path.Combine(work, "bin");
        string runDir = Directory.CreateDirectory(Path.Combine(work, "run")).FullName;

        // Its own artifacts folder, so the publish never touches the obj/ folders of the build under test.
        var publish = await ChildProcess.RunAsync(RepositoryPaths.DotnetHost,
            ["publish", Path.Combine(RepositoryPaths.Root, "samples", "AotCanary", "AotCanary.csproj"),
             "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true", "-o", publishDir,
             "--artifacts-path", Path.Combine(work, "artifacts"), "-nodeReuse:false", "--disable-build-servers"],
            RepositoryPaths.Root);
        output.WriteLine(publish.Output);
        Assert.True(publish.ExitCode == 0, "publish failed:\n" + publish.Output);
        var trimOrAotWarnings = TrimOrAotWarning().Matches(publish.Output).Select(m => m.Value).Distinct().ToList();
        Assert.True(trimOrAotWarnings.Count == 0, "trim/AOT warnings: " + string.Join(", ", trimOrAotWarnings));

        string binary = Path.Combine(publishDir, "AotCanary");
        Assert.True(File.Exists(binary), "no native binary at " + binary);
        Assert.False(File.Exists(Path.Combine(publishDir, "AotCanary.dll")), "the publish produced IL, not a native binary");
        output.WriteLine($"binary size: {new FileInfo(binary).Length / 1024.0 / 1024.0:0.00} MiB");

        // SIGINT at its default even when this test run was started in the background (see StartInterruptible).
        var start = ChildProcess.StartInfoInterruptible(binary, ["aot_canary_" + Guid.NewGuid().ToString("N")[..12]], runDir); // a schema of its own
        start.Environment["TASKTEMPEST_POSTGRES"] = postgres;
        start.Environment["TASKTEMPEST_REDIS"] = redis;
        using var process = Process.Start(start)!;
        // Read as it comes: the hosted engine logs to the console, and the wait below watches it with the files.
        var changed = new SemaphoreSlim(0);
        var stdoutLines = new List<string>();
        string[] StdoutLines() { lock (stdoutLines) return [.. stdoutLines]; }
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not { } line) return;
            lock (stdoutLines) stdoutLines.Add(line);
            changed.Release();
        };
        process.BeginOutputReadLine();
        var stderr = process.StandardError.ReadToEndAsync();
        string[] queues = ["postgres", "redis"]; // the engines with files; the memory queue's is hosted
        try
        {
            // A binary that died early fails the test at once, not at the bound.
            try
            {
                await WhenFileSays(runDir, changed, () => process.HasExited ? throw new InvalidOperationException($"the canary exited {process.ExitCode} before its jobs ran")
                    : queues.All(q =>
                    CountLines(Path.Combine(runDir, q + ".log"), SuccessLine()) == 1 && CountLines(Path.Combine(runDir, q + ".task.log"), ChirpLine(q)) == 1
                    && CountLines(Path.Combine(runDir, q + ".log"), HeartbeatLine()) >= 1)
                    && StdoutLines() is var console && console.Count(HostedSuccessLine().IsMatch) == 1 && console.Count(HostedChirpLine().IsMatch) == 1
                    && console.Any(HostedHeartbeatLine().IsMatch));
            }
            catch (InvalidOperationException early) when (process.HasExited)
            {
                throw new InvalidOperationException($"{early.Message}:\n{string.Join('\n', StdoutLines())}{await stderr}", early);
            }
            // The standalone dashboard (TaskTempest.Dashboard, its own Kestrel on loopback) answers its JSON endpoints from
            // the native binary: the request delegates and the JSON are source-generated.
            string dashboard = Assert.Single(StdoutLines().Select(l => DashboardLine().Match(l)), m => m.Success).Groups["url"].Value;
            using (var http = new HttpClient { BaseAddress = new Uri(dashboard), Timeout = TimeSpan.FromSeconds(30) })
            {
                string overview = await http.GetStringAsync(new Uri("/api/overview", UriKind.Relative));
                output.WriteLine("dashboard overview: " + overview);
                Assert.Contains("\"title\":\"AotCanary (PostgreSQL)\"", overview, StringComparison.Ordinal);
                Assert.Contains("\"counts\":{", overview, StringComparison.Ordinal);
                Assert.Contains("\"engine\":\"CanaryTempest\"", overview, StringComparison.Ordinal); // the PostgreSQL engine's heartbeat
                Assert.StartsWith("[", await http.GetStringAsync(new Uri("/api/schedules", UriKind.Relative)), StringComparison.Ordinal);
            }
            ChildProcess.Interrupt(process.Id);
            await process.WaitForExitAsync().WaitAsync(Bound); // also waits for the redirected output's end
        }
        finally
        {
            if (!process.HasExited) process.Kill();
        }

        var lines = StdoutLines();
        string stdout = string.Join('\n', lines);
        output.WriteLine(stdout);
        Assert.Equal("", await stderr);
        Assert.Equal(0, process.ExitCode);
        Assert.Contains($"Redis {redis}: maxmemory-policy noeviction", stdout, StringComparison.Ordinal); // the Redis package's check ran
        // One chirp and a heartbeat or more each, all succeeded: the two engines on their own stopped on the signal, the
        // hosted one when its host did.
        Assert.Equal(2, Regex.Matches(stdout, "stopped \\(Interrupt\\): (?<n>[0-9]+) started, \\k<n> success, 0 failure, 0 timeout, 0 aborted").Count);
        Assert.Single(lines, l => Regex.IsMatch(l, "^stopped \\(StopRequested\\): (?<n>[0-9]+) started, \\k<n> success, 0 failure, 0 timeout, 0 aborted$"));
        Assert.Equal(3, Regex.Matches(stdout, ": a second chirp with its key is a duplicate: True").Count);

        // The hosted engine, through the host's console logging (TaskTempest.Hosting), its drain bound by the host's 30 s.
        Assert.Contains("info: TaskTempest.Hosting[1] CanaryTempest: starting; drains within 27 s on stop (its own shutdown timeout 30 s, the host's 30 s less the margin)", lines);
        Assert.Single(lines, l => l.StartsWith("health: Healthy (CanaryTempest: running; queue: ", StringComparison.Ordinal));
        string hostedId = Assert.Single(lines.Select(l => HostedStartedLine().Match(l)), m => m.Success).Groups["id"].Value;
        Assert.Contains(lines, l => l.StartsWith($"info: TaskTempest.CanaryTempest[0] {{{hostedId}}} <Chirp> success ", StringComparison.Ordinal));
        Assert.Contains($"info: TaskTempest.CanaryTempest.Tasks[0] {{{hostedId}}} <Chirp> chirp 1 through memory", lines);
        Assert.Contains("info: TaskTempest.CanaryTempest[0] shutdown requested (StopRequested): waiting up to 27 s for running tasks", lines);
        Assert.Contains(lines, l => l.StartsWith("info: TaskTempest.CanaryTempest[0] schedule Heartbeat (* * * * * *, Europe/Berlin, misfire RunOnce): Heartbeat, next run ", StringComparison.Ordinal));
        Assert.Contains(lines, l => Regex.IsMatch(l, "^info: TaskTempest\\.Hosting\\[2\\] CanaryTempest: stopped \\(StopRequested\\): (?<n>[0-9]+) started, \\k<n> success, 0 failure, 0 timeout, 0 aborted$"));
        Assert.False(File.Exists(Path.Combine(runDir, "CanaryTempest.log")), "the hosted engine wrote a log file instead of logging to the host");

        foreach (var queue in queues)
        {
            var main = File.ReadAllLines(Path.Combine(runDir, queue + ".log"));
            string id = Assert.Single(main.Select(l => StartedLine().Match(l)), m => m.Success).Groups["id"].Value;
            Assert.Contains(main, l => l.Contains($"{{{id}}} <Chirp> success ", StringComparison.Ordinal));
            Assert.Contains(main, l => l.EndsWith("[INFO] shutdown requested (Interrupt): waiting up to 30 s for running tasks", StringComparison.Ordinal));
            Assert.Contains(main, l => l.Contains("[INFO] schedule Heartbeat (* * * * * *, Europe/Berlin, misfire RunOnce): Heartbeat, next run ", StringComparison.Ordinal));
            Assert.Contains(File.ReadAllLines(Path.Combine(runDir, queue + ".task.log")), l => l.Contains($"{{{id}}} <Chirp> chirp ", StringComparison.Ordinal));
        }
        Directory.Delete(work, recursive: true);
    }

    private static int CountLines(string path, Regex pattern)
    {
        try
        {
            using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
            return reader.ReadToEnd().Split('\n').Count(pattern.IsMatch);
        }
        catch (FileNotFoundException)
        {
            return 0;
        }
    }

    /// <summary>Completes when <paramref name="condition"/> holds, re-checking whenever a file in the folder changes or
    /// <paramref name="changed"/> is released (a line on the console).</summary>
    private static async Task WhenFileSays(string folder, SemaphoreSlim changed, Func<bool> condition)
    {
        using var watcher = new FileSystemWatcher(folder) { EnableRaisingEvents = true };
        watcher.Changed += (_, _) => changed.Release();
        watcher.Created += (_, _) => changed.Release();
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > Bound) throw new TimeoutException("the binary's logs never showed a job through each queue");
            // A change event is the signal; the one-second bound only covers events the OS coalesced.
            await changed.WaitAsync(TimeSpan.FromSeconds(1));
        }
    }

    [GeneratedRegex(@"^dashboard: (?<url>http://127\.0\.0\.1:[0-9]+)$")]
    private static partial Regex DashboardLine();

    [GeneratedRegex(@"\b(IL[23]\d{3})\b")]
    private static partial Regex TrimOrAotWarning();

    [GeneratedRegex(@"\[INFO\] \{[0-9a-z]{16}\} <Heartbeat> success \d+\.\d{4}$")]
    private static partial Regex HeartbeatLine();

    [GeneratedRegex(@"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} \[INFO\] \{(?<id>[0-9a-z]{16})\} <Chirp> started$")]
    private static partial Regex StartedLine();

    [GeneratedRegex(@"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} \[INFO\] \{[0-9a-z]{16}\} <Chirp> success \d+\.\d{4}$")]
    private static partial Regex SuccessLine();

    [GeneratedRegex(@"^info: TaskTempest\.CanaryTempest\[0\] \{[0-9a-z]{16}\} <Heartbeat> success \d+\.\d{4}$")]
    private static partial Regex HostedHeartbeatLine();

    [GeneratedRegex(@"^info: TaskTempest\.CanaryTempest\[0\] \{(?<id>[0-9a-z]{16})\} <Chirp> started$")]
    private static partial Regex HostedStartedLine();

    [GeneratedRegex(@"^info: TaskTempest\.CanaryTempest\[0\] \{[0-9a-z]{16}\} <Chirp> success \d+\.\d{4}$")]
    private static partial Regex HostedSuccessLine();

    [GeneratedRegex(@"^info: TaskTempest\.CanaryTempest\.Tasks\[0\] \{[0-9a-z]{16}\} <Chirp> chirp 1 through memory$")]
    private static partial Regex HostedChirpLine();

    private static Regex ChirpLine(string queue) => new($@"\[INFO\] \{{[0-9a-z]{{16}}\}} <Chirp> chirp \d through {queue}$");
}
