using TaskTempest;
using ZLogger;

namespace TaskTempest.Samples.Fiber;

/// <summary>Five tasks in flight, interleaved on one event-loop thread; a graceful stop waits half a second.</summary>
[Tempest(Fibers = 5, ShutdownTimeoutSeconds = 0.5)]
public partial class FiberTempest;

/// <summary>
/// Fiber-aware work: it awaits instead of sleeping, so the other fibers run meanwhile. It fails at
/// random, and a wait past the one-second timeout is cut short by its token. Its callbacks fail at random.
/// Everything here runs on the event loop, so the counters need no locks.
/// </summary>
[TempestTask(TimeoutSeconds = 1)]
public sealed class FiberTask : TempestTask
{
    private bool _callbackFails;

    /// <summary>Jobs that have run their Process so far (only the loop thread touches it).</summary>
    public static int Processed { get; private set; }

    public async Task Process(int waitMilliseconds, bool fail, bool callbackFails, CancellationToken cancellationToken)
    {
        _callbackFails = callbackFails;
        Processed++;
        TaskLogger.ZLogInformation($"waiting {waitMilliseconds} ms");
        await Task.Delay(waitMilliseconds, cancellationToken);
        if (fail) throw new InvalidOperationException("a random failure");
    }

    [AfterSuccess]
    public void Succeeded() => Callback("after success");

    [AfterFailure]
    public void Failed(Exception exception) => Callback($"after failure ({exception.GetType().Name})");

    [AfterTimeout]
    public void TimedOut() => Callback("after timeout");

    private void Callback(string which)
    {
        if (_callbackFails) throw new InvalidOperationException($"the {which} callback failed at random");
        TaskLogger.ZLogInformation($"{which} callback ran");
    }
}

/// <summary>The random mix of jobs, shared by the program and its tests.</summary>
public static class FiberWorkload
{
    /// <summary>Submits <paramref name="count"/> jobs: a quarter wait past the timeout, a tenth fail, a tenth have failing callbacks.</summary>
    public static IReadOnlyList<string> Submit(FiberTempest engine, int count, Random random, int shortWaitMilliseconds = 900, int longWaitMilliseconds = 3000)
    {
        var ids = new List<string>(count);
        for (int i = 0; i < count; i++)
        {
            bool timesOut = random.Next(4) == 0;
            int wait = timesOut ? longWaitMilliseconds : random.Next(shortWaitMilliseconds + 1);
            ids.Add(engine.SubmitFiberTask(wait, fail: random.Next(10) == 0, callbackFails: random.Next(10) == 0));
        }
        return ids;
    }
}
