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
