using System.Collections.Concurrent;

namespace TaskTempest.Dashboard.Tests;

/// <summary>The engine every dashboard test hosts.</summary>
[Tempest(Threads = 2)]
public partial class DashTempest;

/// <summary>What the tasks tell the tests, and the switch that makes <see cref="Flaky"/> fail.</summary>
public sealed class Probe
{
    public volatile bool FailFlaky = true;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> _succeeded = new();

    /// <summary>Opened by the test to let <see cref="Hold"/> jobs end.</summary>
    public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<string> Succeeded(string label) =>
        _succeeded.GetOrAdd(label, _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously));
}

/// <summary>A short job, long enough to be seen running.</summary>
[TempestTask]
public sealed class Quick : TempestTask
{
    public Task Process(int n, CancellationToken cancellationToken) => Task.Delay(20 + n % 5 * 20, cancellationToken);
}

/// <summary>Always fails: one quick retry, then its job goes to the dead letters with its arguments (a task without
/// retries fails for good and keeps no dead letter).</summary>
[TempestTask(Retries = 1)]
public sealed class Fail : TempestTask
{
    public void Process(string text) => throw new InvalidOperationException("refused: " + text);

    [RetryBackoff]
    public static TimeSpan Backoff(int attempt) => TimeSpan.FromMilliseconds(10);
}

/// <summary>Fails while the probe says so, then succeeds: a dead letter that a requeue repairs.</summary>
[TempestTask(Retries = 1)]
public sealed class Flaky(Probe probe) : TempestTask
{
    [RetryBackoff]
    public static TimeSpan Backoff(int attempt) => TimeSpan.FromMilliseconds(10);

    public void Process(string label)
    {
        if (probe.FailFlaky) throw new InvalidOperationException("not yet");
        probe.Succeeded(label).TrySetResult(TaskId);
    }
}

/// <summary>Runs until the test opens the probe's gate: a job to see in the running list.</summary>
[TempestTask]
public sealed class Hold(Probe probe) : TempestTask
{
    public Task Process(string label) => probe.Gate.Task;
}
