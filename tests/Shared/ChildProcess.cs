using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace TaskTempest.Tests.Shared;

/// <summary>Other programs run as processes: to their exit, or started so that SIGINT reaches them. Linked into the
/// runtime test projects and the throughput harness (a project that links it needs AllowUnsafeBlocks: LibraryImport).</summary>
internal static partial class ChildProcess
{
    /// <summary>How long <see cref="RunAsync"/> waits for a process by default.</summary>
    public static readonly TimeSpan DefaultBound = TimeSpan.FromMinutes(5);

    /// <summary>Runs <paramref name="file"/> to its exit (at most <paramref name="bound"/>, default
    /// <see cref="DefaultBound"/>) and returns its exit code and its standard output followed by its standard error.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string file, string[] arguments, string workingDirectory, TimeSpan? bound = null)
    {
        var info = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        var text = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(bound ?? DefaultBound);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        text.Append(await stdout).Append(await stderr);
        return (process.ExitCode, text.ToString());
    }

    /// <summary>
    /// <see cref="RunAsync"/> for a dotnet command that restores, run once more when NuGet's restore failed without saying
    /// why (MSB4181, "RestoreTask returned false but did not log an error"): a transient failure seen in the suite while
    /// other builds restored at the same moment. Any other failure is returned as it is.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunRestoringAsync(string file, string[] arguments, string workingDirectory, TimeSpan? bound = null)
    {
        var first = await RunAsync(file, arguments, workingDirectory, bound);
        if (first.ExitCode == 0 || !first.Output.Contains("error MSB4181", StringComparison.Ordinal)) return first;
        var second = await RunAsync(file, arguments, workingDirectory, bound);
        return (second.ExitCode, "(the first attempt's restore failed with MSB4181; run again)\n" + first.Output + second.Output);
    }

    /// <summary>
    /// Starts <paramref name="file"/> as a terminal would start it, with SIGINT at its default, its standard output and
    /// error redirected: a test run that a shell started in the background inherits SIGINT as ignored, and an ignored
    /// signal stays ignored across exec, so the program would never see the interrupt. <c>env --default-signal</c>
    /// (coreutils) resets it, then execs the program in the same process (the returned process's id is the program's).
    /// </summary>
    public static Process StartInterruptible(string file, IEnumerable<string> arguments, string workingDirectory) =>
        Process.Start(StartInfoInterruptible(file, arguments, workingDirectory)) ?? throw new InvalidOperationException($"{file} did not start");

    /// <summary>What <see cref="StartInterruptible"/> starts, for a caller that adds to it (environment variables) first.</summary>
    public static ProcessStartInfo StartInfoInterruptible(string file, IEnumerable<string> arguments, string workingDirectory)
    {
        var start = new ProcessStartInfo("env")
        {
            WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.ArgumentList.Add("--default-signal=INT");
        start.ArgumentList.Add(file);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        return start;
    }

    /// <summary>Sends SIGINT to the process <paramref name="processId"/>.</summary>
    /// <exception cref="Win32Exception">kill(2) failed (the process is gone, say).</exception>
    public static void Interrupt(int processId)
    {
        if (Kill(processId, SigInt) != 0) throw new Win32Exception(Marshal.GetLastPInvokeError(), $"kill -INT {processId} failed");
    }

    private const int SigInt = 2;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
