using Microsoft.Extensions.Logging;

namespace TaskTempest.Hosting.Tests;

/// <summary>The engine most tests host: the attribute's default shutdown timeout, 30 s.</summary>
[Tempest(Threads = 2)]
public partial class HostedTempest;

/// <summary>A second engine in the same host.</summary>
[Tempest(Threads = 1)]
public partial class SecondTempest;

/// <summary>An engine whose own shutdown timeout (2 s) is shorter than what a 5 s host allows.</summary>
[Tempest(Threads = 1, ShutdownTimeoutSeconds = 2)]
public partial class ShortDrainTempest;

/// <summary>Signals the test through the host's singleton <see cref="Probe"/>, and logs one task-log line.</summary>
[TempestTask]
public sealed class Signal(Probe probe) : TempestTask
{
    public void Process(string label)
    {
        TaskLogger.LogInformation("signal {Label}", label);
        probe.Done(label).TrySetResult(TaskId);
    }
}

/// <summary>Says it started, then holds its worker until the test opens its gate (ignoring its token on purpose).</summary>
[TempestTask]
public sealed class Hold(Probe probe) : TempestTask
{
    public async Task Process(string label)
    {
        probe.Started(label).TrySetResult(TaskId);
        await probe.Gate(label).Task.ConfigureAwait(false);
        probe.Done(label).TrySetResult(TaskId);
    }
}

/// <summary>Records which <see cref="ScopedThing"/> its job got.</summary>
[TempestTask]
public sealed class UsesScope(ScopedThing thing, Probe probe) : TempestTask
{
    public void Process(string label)
    {
        probe.Things[label] = thing;
        probe.Done(label).TrySetResult(TaskId);
    }
}

/// <summary>Ignores its timeout, its token and an interrupt (a spin, which no interrupt breaks) until the test releases it:
/// its worker is orphaned.</summary>
[TempestTask(TimeoutSeconds = 1)]
public sealed class Stuck(Probe probe) : TempestTask
{
    public void Process(string label)
    {
        probe.Started(label).TrySetResult(TaskId);
        while (!probe.Gate(label).Task.IsCompleted) Thread.SpinWait(1000);
    }
}
