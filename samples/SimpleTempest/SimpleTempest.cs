using TaskTempest;
using ZLogger;

namespace TaskTempest.Samples.Simple;

/// <summary>Five workers; a graceful stop waits half a second, then reports what still runs as aborted.</summary>
[Tempest(Threads = 5, ShutdownTimeoutSeconds = 0.5)]
public partial class SimpleTempest;

/// <summary>Sleeps, then fails or succeeds; a sleep past the one-second timeout is a timeout. Its callbacks fail when told to.</summary>
[TempestTask(TimeoutSeconds = 1)]
public sealed class SimpleTask : TempestTask
{
    private bool _callbackFails;

    public void Process(int sleepMilliseconds, bool fail, bool callbackFails)
    {
        _callbackFails = callbackFails;
        TaskLogger.ZLogInformation($"sleeping {sleepMilliseconds} ms");
        Thread.Sleep(sleepMilliseconds); // ignores the token on purpose: past the timeout, the engine interrupts it
        if (fail) throw new InvalidOperationException("a random failure");
    }

    [AfterSuccess]
    public void Succeeded() => Callback("after success");

    [AfterFailure]
    public void Failed(Exception exception) => Callback($"after failure ({exception.Message})");

    [AfterTimeout]
    public void TimedOut() => Callback("after timeout");

    private void Callback(string which)
    {
        if (_callbackFails) throw new InvalidOperationException($"the {which} callback failed at random");
        TaskLogger.ZLogInformation($"{which} callback ran");
    }
}

/// <summary>
/// Fails its first <c>failures</c> attempts, then succeeds. Three retries, a fifth of a second times the attempt apart
/// (its own backoff; the default waits 16 s and more): a job that fails four times goes to the dead letters.
/// </summary>
[TempestTask(Retries = 3)]
public sealed class FlakyTask : TempestTask
{
    public void Process(int failures)
    {
        TaskLogger.ZLogInformation($"attempt {Attempt}");
        if (Attempt <= failures) throw new InvalidOperationException($"failed on attempt {Attempt}");
    }

    [RetryBackoff]
    public static TimeSpan Backoff(int attempt) => TimeSpan.FromMilliseconds(200 * attempt);

    [AfterRetriesExhausted]
    public void GaveUp(Exception? exception) => TaskLogger.ZLogWarning($"out of attempts: {exception?.Message}");
}

/// <summary>The random mix of jobs, shared by the program and its tests.</summary>
public static class SimpleWorkload
{
    /// <summary>Submits <paramref name="count"/> jobs: a quarter sleep past the timeout, a tenth fail, a tenth have failing callbacks.</summary>
    /// <param name="shortSleepMilliseconds">The longest sleep of a job that does not time out.</param>
    /// <param name="longSleepMilliseconds">The sleep of a job that times out (more than the one-second timeout).</param>
    public static IReadOnlyList<string> Submit(SimpleTempest engine, int count, Random random, int shortSleepMilliseconds = 900, int longSleepMilliseconds = 3000)
    {
        var ids = new List<string>(count);
        for (int i = 0; i < count; i++)
        {
            bool timesOut = random.Next(4) == 0;
            int sleep = timesOut ? longSleepMilliseconds : random.Next(shortSleepMilliseconds + 1);
            ids.Add(engine.SubmitSimpleTask(sleep, fail: random.Next(10) == 0, callbackFails: random.Next(10) == 0));
        }
        return ids;
    }

    /// <summary>
    /// One job that succeeds on its third attempt, one that runs out of its four, and one delayed by a second:
    /// the ids of the three.
    /// </summary>
    public static (string Recovers, string GivesUp, string Delayed) SubmitRetriesAndADelay(SimpleTempest engine) =>
        (engine.SubmitFlakyTask(failures: 2),
         engine.SubmitFlakyTask(failures: 9),
         engine.After(TimeSpan.FromSeconds(1)).SubmitSimpleTask(10, fail: false, callbackFails: false));
}
