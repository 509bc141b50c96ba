using System.Collections.Concurrent;

namespace TaskTempest.Redis.Tests;

/// <summary>An engine of 4 worker threads; each test gives it its queue.</summary>
[Tempest(Threads = 4, ShutdownTimeoutSeconds = 10)]
public partial class RedisTempest;

/// <summary>Counts its runs per job id.</summary>
[TempestTask]
public sealed class Counted : TempestTask
{
    public static readonly ConcurrentDictionary<string, int> Runs = new();

    public void Process(int number) => Runs.AddOrUpdate(TaskId, 1, static (_, runs) => runs + 1);
}

/// <summary>Fails its first run; two retries a tenth of a second apart.</summary>
[TempestTask(Retries = 2)]
public sealed class FailsOnce : TempestTask
{
    public void Process()
    {
        if (Attempt == 1) throw new InvalidOperationException("first run fails");
    }

    [RetryBackoff]
    public static TimeSpan Backoff(int attempt) => TimeSpan.FromMilliseconds(100);
}

/// <summary>Always fails, without retries.</summary>
[TempestTask]
public sealed class AlwaysFails : TempestTask
{
    public void Process() => throw new InvalidOperationException("always fails");
}
