using System.Globalization;
using TaskTempest;

namespace TaskTempest.Throughput;

// Engines at equal concurrency in both modes. The harness sets their logging per run: null logger
// factories (log lines off) or the default log files under a temp folder.

[Tempest(Threads = 1)] public partial class Threads1;
[Tempest(Threads = 2)] public partial class Threads2;
[Tempest(Fibers = 1)] public partial class Fibers1;
[Tempest(Fibers = 2)] public partial class Fibers2;
[Tempest(Threads = 50)] public partial class Threads50;
[Tempest(Fibers = 50)] public partial class Fibers50;

/// <summary>A no-op async task (completes synchronously, as most cached/in-memory work does).</summary>
[TempestTask]
public sealed class NoOp : TempestTask
{
    public ValueTask Process(int a, int b)
    {
        Finish.One();
        return default;
    }
}

/// <summary>An I/O-like task: awaits a short delay.</summary>
[TempestTask]
public sealed class IoLike : TempestTask
{
    public async Task Process(int milliseconds)
    {
        await Task.Delay(milliseconds);
        Finish.One();
    }
}

/// <summary>
/// The latency job: its one argument is the submit time the producer stamped (UTC wall-clock ticks, the same clock
/// in both processes); it records start minus submit and counts itself done.
/// </summary>
[TempestTask]
public sealed class Stamped : TempestTask
{
    public ValueTask Process(long submittedTicks)
    {
        Latencies.Current.Record(DateTime.UtcNow.Ticks - submittedTicks);
        Finish.One();
        return default;
    }

    /// <summary>The stamp of a latency job's stored text, <c>["id","Stamped",ticks]</c>: its last number (for the bare loops,
    /// which read the text themselves).</summary>
    internal static long StampOf(string body)
    {
        var text = body.AsSpan();
        int end = text.LastIndexOf(']');
        int start = text[..end].LastIndexOf(',') + 1;
        return long.Parse(text[start..end], NumberStyles.Integer, CultureInfo.InvariantCulture);
    }
}
