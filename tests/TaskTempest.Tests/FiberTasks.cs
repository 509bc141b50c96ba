using System.Collections.Concurrent;
using TaskTempest.Tests.Support;

namespace TaskTempest.Tests;

/// <summary>A cooperative engine: five tasks in flight on one event-loop thread.</summary>
[Tempest(Fibers = 5)]
public partial class FiberTestTempest;

/// <summary>Records the managed thread of each step between its awaits.</summary>
[TempestTask]
public sealed class ThreadProbe : TempestTask
{
    public static readonly ConcurrentDictionary<string, int[]> Threads = new();

    public async Task Process()
    {
        int before = Environment.CurrentManagedThreadId;
        await Task.Yield();
        int afterYield = Environment.CurrentManagedThreadId;
        await Task.Delay(1);
        Threads[TaskId] = [before, afterYield, Environment.CurrentManagedThreadId];
    }
}

/// <summary>Counts how many of its kind (per gate) are in flight at once, and waits on the gate without watching its token.</summary>
[TempestTask]
public sealed class Overlap : TempestTask
{
    public sealed class Counts
    {
        // Touched only on the event loop: no locks needed, which is the point of cooperative mode.
        public int Running;
        public int MostAtOnce;
        public int Started;
    }

    public static readonly ConcurrentDictionary<string, Counts> ByGate = new();

    public async Task Process(string gate)
    {
        var counts = ByGate.GetOrAdd(gate, _ => new Counts());
        counts.Running++;
        counts.MostAtOnce = Math.Max(counts.MostAtOnce, counts.Running);
        if (++counts.Started == 5) Gates.Get(gate).Started.TrySetResult();
        await Gates.Get(gate).Released.Task;
        counts.Running--;
    }
}

/// <summary>Ignores its token and awaits forever: only the engine's timeout frees its slot.</summary>
[TempestTask(TimeoutSeconds = 5)]
public sealed class AwaitsForever : TempestTask
{
    public async Task Process(string gate)
    {
        Gates.Get(gate).Started.TrySetResult();
        await Gates.Get(gate).Released.Task;
        Gates.Get(gate).Finished.TrySetResult();
    }

    [AfterTimeout]
    public void NoteTimeout() => Recorder.Step(TaskId, "after-timeout on " + (SynchronizationContext.Current?.GetType().Name ?? "no context"));
}

/// <summary>Blocks the event loop synchronously until its gate opens: the watchdog's case.</summary>
[TempestTask]
public sealed class BlocksTheLoop : TempestTask
{
    public void Process(string gate)
    {
        Gates.Get(gate).Started.TrySetResult();
        Gates.Get(gate).Released.Task.Wait();
    }
}

/// <summary>Leaves the loop with ConfigureAwait(false): its code resumes elsewhere; the engine still accounts for it.</summary>
[TempestTask]
public sealed class LeavesTheLoop : TempestTask
{
    public async Task Process()
    {
        int loopThread = Environment.CurrentManagedThreadId;
        await Task.Delay(1).ConfigureAwait(false);
        Recorder.Record(TaskId, Environment.CurrentManagedThreadId == loopThread ? "same thread" : "left the loop");
    }
}
