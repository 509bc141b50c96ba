using System.Diagnostics;
using System.Text.RegularExpressions;
using TaskTempest.Tests.Shared;
using Xunit.Abstractions;

namespace TaskTempest.Tests;

/// <summary>
/// Publishes the Quickstart (samples/MathTempest) with NativeAOT, runs the binary, interrupts it and
/// checks that it behaved like the original: ten Adder jobs in both logs, a clean exit on SIGINT.
/// The only NativeAOT publish in the suite (one takes about a minute here).
/// </summary>
[Collection(PublishingCollection.Name)]
public sealed partial class AotPublishTests(ITestOutputHelper output)
{
    internal static readonly TimeSpan Bound = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task The_Quickstart_publishes_as_NativeAOT_without_warnings_and_runs_until_interrupted()
    {
        string work = Directory.CreateTempSubdirectory("tasktempest-aot-").FullName;
        string publishDir = Path.Combine(work, "bin");
        string runDir = Directory.CreateDirectory(Path.Combine(work, "run")).FullName;

        // Its own artifacts folder, so the publish never touches the obj/ folders of the build under test.
        var publish = await ChildProcess.RunAsync(RepositoryPaths.DotnetHost,
            ["publish", Path.Combine(RepositoryPaths.Root, "samples", "MathTempest", "MathTempest.csproj"),
             "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true", "-o", publishDir,
             "--artifacts-path", Path.Combine(work, "artifacts"), "-nodeReuse:false", "--disable-build-servers"],
            RepositoryPaths.Root, Bound);
        output.WriteLine(publish.Output);
        Assert.True(publish.ExitCode == 0, "publish failed:\n" + publish.Output);
        var trimOrAotWarnings = TrimOrAotWarning().Matches(publish.Output).Select(m => m.Value).Distinct().ToList();
        Assert.True(trimOrAotWarnings.Count == 0, "trim/AOT warnings: " + string.Join(", ", trimOrAotWarnings));

        string binary = Path.Combine(publishDir, "MathTempest");
        Assert.True(File.Exists(binary), "no native binary at " + binary);
        Assert.False(File.Exists(Path.Combine(publishDir, "MathTempest.dll")), "the publish produced IL, not a native binary");
        output.WriteLine($"binary size: {new FileInfo(binary).Length / 1024.0 / 1024.0:0.00} MiB");

        // SIGINT at its default even when this test run was started in the background (see StartInterruptible).
        using var process = ChildProcess.StartInterruptible(binary, [], runDir);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        string mainLog = Path.Combine(runDir, "MathTempest.log");
        string taskLog = Path.Combine(runDir, "MathTempest.task.log");
        try
        {
            await WhenFileSays(runDir, () => CountLines(mainLog, SuccessLine()) == 10 && CountLines(taskLog, SumLine()) == 10);
            ChildProcess.Interrupt(process.Id);
            await process.WaitForExitAsync().WaitAsync(Bound);
        }
        finally
        {
            if (!process.HasExited) process.Kill();
        }

        output.WriteLine(await stdout);
        Assert.Equal("", await stderr);
        Assert.Equal(0, process.ExitCode);
        Assert.Contains("stopped (Interrupt): 10 started, 10 success, 0 failure, 0 timeout, 0 aborted", await stdout, StringComparison.Ordinal);
        var main = File.ReadAllLines(mainLog);
        Assert.Equal(10, main.Count(l => StartedLine().IsMatch(l)));
        Assert.Contains(main, l => l.EndsWith("[INFO] shutdown requested (Interrupt): waiting up to 30 s for running tasks", StringComparison.Ordinal));
        // Every id that started has its success line and its sum in the task log.
        foreach (var id in main.Select(l => StartedLine().Match(l)).Where(m => m.Success).Select(m => m.Groups["id"].Value))
        {
            Assert.Contains(main, l => l.Contains($"{{{id}}} <Adder> success ", StringComparison.Ordinal));
            Assert.Contains(File.ReadAllLines(taskLog), l => l.Contains($"{{{id}}} <Adder> ", StringComparison.Ordinal) && SumLine().IsMatch(l));
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

    /// <summary>Completes when <paramref name="condition"/> holds, re-checking whenever a file in the folder changes.</summary>
    private static async Task WhenFileSays(string folder, Func<bool> condition)
    {
        var changed = new SemaphoreSlim(0);
        using var watcher = new FileSystemWatcher(folder) { EnableRaisingEvents = true };
        watcher.Changed += (_, _) => changed.Release();
        watcher.Created += (_, _) => changed.Release();
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > Bound) throw new TimeoutException("the binary's logs never showed the Quickstart's ten tasks");
            // A change event is the signal; the one-second bound only covers events the OS coalesced.
            await changed.WaitAsync(TimeSpan.FromSeconds(1));
        }
    }

    [GeneratedRegex(@"\b(IL[23]\d{3})\b")]
    private static partial Regex TrimOrAotWarning();

    [GeneratedRegex(@"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} \[INFO\] \{(?<id>[0-9a-z]{16})\} <Adder> started$")]
    private static partial Regex StartedLine();

    [GeneratedRegex(@"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} \[INFO\] \{[0-9a-z]{16}\} <Adder> success \d+\.\d{4}$")]
    private static partial Regex SuccessLine();

    [GeneratedRegex(@"\[INFO\] \{[0-9a-z]{16}\} <Adder> \d \+ \d = \d+$")]
    private static partial Regex SumLine();
}
