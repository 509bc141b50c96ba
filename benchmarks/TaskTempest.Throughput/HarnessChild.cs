using System.Diagnostics;
using System.Globalization;

namespace TaskTempest.Throughput;

/// <summary>
/// A process the harness starts for one run (a producer, or another library's workers), speaking its line protocol:
/// it prints <c>ready</c> once everything that is not measured is done, waits for <c>go</c> on its input, prints one
/// <see cref="ChildReport"/> line when its part is done, and exits when its input closes (or on its own). Its CPU is
/// read from here (<see cref="Cpu"/>), whatever it reports about itself.
/// </summary>
internal sealed class HarnessChild : IDisposable
{
    private readonly Process _process;
    private readonly string _what;

    private HarnessChild(Process process, string what)
    {
        _process = process;
        _what = what;
    }

    public int Id => _process.Id;

    /// <summary>This harness started again with <paramref name="args"/> (the producer modes, pg-produce and redis-produce).</summary>
    public static ProcessStartInfo Harness(params string[] args)
    {
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var start = new ProcessStartInfo(host);
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") start.ArgumentList.Add(typeof(HarnessChild).Assembly.Location);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        return start;
    }

    /// <summary>Starts <paramref name="start"/> (its input and output redirected here, its errors to the harness's) and waits for its <c>ready</c>.</summary>
    public static async Task<HarnessChild> StartAsync(ProcessStartInfo start, string what, TimeSpan? bound = null)
    {
        start.UseShellExecute = false;
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{what} did not start");
        var child = new HarnessChild(process, what);
        try
        {
            string? line = await process.StandardOutput.ReadLineAsync().WaitAsync(bound ?? TimeSpan.FromMinutes(2));
            if (line != "ready") throw new InvalidOperationException($"{what} said '{line}' instead of ready (exit: {(process.HasExited ? process.ExitCode : "running")})");
        }
        catch
        {
            child.Dispose();
            throw;
        }
        return child;
    }

    public void Go()
    {
        _process.StandardInput.WriteLine("go");
        _process.StandardInput.Flush();
    }

    /// <summary>Its report line (within <paramref name="bound"/>, default 10 minutes); the process may still be running.</summary>
    public async Task<ChildReport> DoneAsync(TimeSpan? bound = null)
    {
        string? line = await _process.StandardOutput.ReadLineAsync().WaitAsync(bound ?? TimeSpan.FromMinutes(10));
        if (line is null)
        {
            await _process.WaitForExitAsync();
            throw new InvalidOperationException($"{_what} ended ({_process.ExitCode}) without its report");
        }
        return ChildReport.Parse(line);
    }

    /// <summary>The CPU the process has used so far (all its threads, user and system: /proc/&lt;pid&gt;/stat), or null once it has exited.</summary>
    public TimeSpan? Cpu()
    {
        try
        {
            _process.Refresh();
            return _process.HasExited ? null : _process.TotalProcessorTime;
        }
        catch (InvalidOperationException)
        {
            return null; // exited between the two reads
        }
    }

    /// <summary>Closes its input (it exits then) and waits for its exit; killed when it is not gone within <paramref name="bound"/> (default 30 s).</summary>
    public async Task ExitAsync(TimeSpan? bound = null)
    {
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // gone already
        }
        try
        {
            await _process.WaitForExitAsync().WaitAsync(bound ?? TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            Console.WriteLine($"    {_what} did not exit within {(bound ?? TimeSpan.FromSeconds(30)).TotalSeconds:0} s of its input closing: killed");
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}

/// <summary>
/// What a child did between <c>go</c> and its report: <c>done count cpuMs roundTrips elapsedMs</c> (jobs submitted or run,
/// its own CPU as it measured it, the commands or round trips it sent, and the time it took).
/// </summary>
internal readonly record struct ChildReport(long Count, double CpuMilliseconds, long RoundTrips, double ElapsedMilliseconds)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"done {Count} {CpuMilliseconds} {RoundTrips} {ElapsedMilliseconds}");

    public static ChildReport Parse(string line)
    {
        var f = line.Split(' ');
        if (f is not ["done", _, _, _, _]) throw new FormatException($"not a report: '{line}'");
        return new ChildReport(long.Parse(f[1], CultureInfo.InvariantCulture), double.Parse(f[2], CultureInfo.InvariantCulture),
            long.Parse(f[3], CultureInfo.InvariantCulture), double.Parse(f[4], CultureInfo.InvariantCulture));
    }
}
