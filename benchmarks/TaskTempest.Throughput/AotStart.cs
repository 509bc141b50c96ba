using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace TaskTempest.Throughput;

/// <summary>
/// Start-up of the NativeAOT MathTempest sample: from just before <c>Process.Start</c> until its
/// <c>MathTempest.log</c> (in a fresh temp working directory) holds a line with <c>&gt; success</c>, the
/// log polled every ~0.2 ms; then SIGINT (the binary drains and exits; killed only if still running
/// after 5 s). Min, median and max over the runs, and the binary's size.
/// </summary>
internal static partial class AotStart
{
    private const int SigInt = 2;
    private static readonly TimeSpan GiveUp = TimeSpan.FromSeconds(10);

    public static void Run(string binary, int runs)
    {
        binary = Path.GetFullPath(binary);
        if (!File.Exists(binary)) throw new FileNotFoundException($"no MathTempest binary at {binary}", binary);
        long size = new FileInfo(binary).Length;
        Console.WriteLine($"NativeAOT start-up: {binary}, {size / 1048576.0:0.00} MiB ({size:N0} bytes); {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}");
        Console.WriteLine($"reproduce: dotnet publish samples/MathTempest -c Release -r linux-x64 -o /tmp/mathaot && dotnet run -c Release --project benchmarks/TaskTempest.Throughput -- aot-start {binary} {runs}");
        Console.WriteLine("  time from just before Process.Start until MathTempest.log has a '> success' line (polled every ~0.2 ms, FileShare.ReadWrite)");

        var times = new List<double>();
        for (int i = 1; i <= runs; i++)
        {
            var (elapsed, exitCode) = RunOnce(binary);
            times.Add(elapsed.TotalMilliseconds);
            Console.WriteLine($"  run {i}: {elapsed.TotalMilliseconds:0.0} ms to the first success line; exit code after SIGINT {exitCode}");
        }
        Console.WriteLine();
        Console.WriteLine("| binary size MiB | start to first success, min ms | median ms | max ms | runs |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        Console.WriteLine($"| {size / 1048576.0:0.00} | {times.Min():0.0} | {Measurement.Median(times):0.0} | {times.Max():0.0} | {runs} |");
    }

    private static (TimeSpan Elapsed, string ExitCode) RunOnce(string binary)
    {
        string directory = Directory.CreateTempSubdirectory("mathtempest-start-").FullName;
        try
        {
            string log = Path.Combine(directory, "MathTempest.log");
            var start = new ProcessStartInfo(binary)
            {
                WorkingDirectory = directory,
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            var clock = Stopwatch.StartNew();
            using var process = Process.Start(start) ?? throw new InvalidOperationException($"{binary} did not start");
            process.OutputDataReceived += static (_, _) => { };
            process.ErrorDataReceived += static (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();

            var elapsed = WaitForSuccess(log, clock, process);
            if (Kill(process.Id, SigInt) != 0) Console.WriteLine($"  kill -INT failed: errno {Marshal.GetLastPInvokeError()}");
            if (!process.WaitForExit(5000))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                return (elapsed, "none: killed after 5 s");
            }
            return (elapsed, process.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static TimeSpan WaitForSuccess(string log, Stopwatch clock, Process process)
    {
        FileStream? stream = null;
        var text = new StringBuilder();
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                if (stream is null && File.Exists(log))
                {
                    try { stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete); }
                    catch (FileNotFoundException) { }
                }
                if (stream is not null)
                {
                    int read;
                    while ((read = stream.Read(buffer)) > 0) text.Append(Encoding.UTF8.GetString(buffer, 0, read));
                    if (text.ToString().Contains("> success", StringComparison.Ordinal)) return clock.Elapsed;
                }
                if (process.HasExited) throw new InvalidOperationException($"MathTempest exited ({process.ExitCode}) before logging a success");
                if (clock.Elapsed > GiveUp)
                {
                    process.Kill(entireProcessTree: true);
                    throw new TimeoutException($"no '> success' line in {log} after {GiveUp.TotalSeconds} s");
                }
                _ = USleep(200);
            }
        }
        finally
        {
            stream?.Dispose();
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "usleep")]
    private static partial int USleep(uint microseconds);
}
