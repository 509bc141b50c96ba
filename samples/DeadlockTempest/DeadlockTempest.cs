using TaskTempest;

namespace TaskTempest.Samples.Deadlock;

/// <summary>Five workers; a graceful stop waits half a second.</summary>
[Tempest(Threads = 5, ShutdownTimeoutSeconds = 0.5)]
public partial class DeadlockTempest;

/// <summary>
/// Takes the one shared lock and never lets go: the first task to get it sleeps forever inside it, and
/// every other waits on it. At the one-second timeout the engine cancels the token (ignored here), then
/// interrupts the worker, which breaks both the sleep and the lock wait: each task ends as a timeout.
/// </summary>
[TempestTask(TimeoutSeconds = 1)]
public sealed class Deadlock : TempestTask
{
    // A Monitor lock (not System.Threading.Lock): a thread waiting on it can be interrupted.
    private static readonly object s_shared = new();

    public void Process(int n)
    {
        lock (s_shared)
        {
            Thread.Sleep(Timeout.Infinite);
        }
    }
}
