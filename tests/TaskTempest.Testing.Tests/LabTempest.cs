using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TaskTempest.Testing.Tests;

/// <summary>The engine these tests run, in both modes. Two workers, so a job that never ends leaves one free.</summary>
[Tempest(Threads = 2)]
public partial class LabTempest;

/// <summary>
/// What one test's tasks did, in order: each test makes its own (through <see cref="Lab"/>), and its tasks get it from the
/// engine's services, so that tests running in parallel never see each other's steps (no static state).
/// </summary>
public sealed class Trail
{
    private readonly ConcurrentQueue<string> _steps = new();
    private int _numbers;

    public void Add(string step) => _steps.Enqueue(step);

    /// <summary>1, 2, 3...: tells this test's scoped probes apart.</summary>
    public int Next() => Interlocked.Increment(ref _numbers);

    public IReadOnlyList<string> Steps => [.. _steps];

    public override string ToString() => string.Join(",", _steps);
}

/// <summary>The engine, for tasks that submit jobs (set once the test mode made it).</summary>
public sealed class EngineRef
{
    public LabTempest? Engine { get; set; }
}

/// <summary>A gate a task waits on until the test opens it, and the signal that the task is inside <c>Process</c>.</summary>
public sealed class Gate
{
    public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource Open { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>A scoped service: one per job's DI scope, disposed with it.</summary>
public sealed class ScopedProbe(Trail trail) : IDisposable
{
    public int Number { get; } = trail.Next();
    public bool Disposed { get; private set; }

    public void Dispose()
    {
        Disposed = true;
        trail.Add($"probe{Number} disposed");
    }
}

/// <summary>One test's world: its trail, gate and engine reference, as the services its tasks take.</summary>
public sealed class Lab : IDisposable
{
    public Lab()
    {
        Services = new ServiceCollection()
            .AddSingleton(Trail).AddSingleton(Gate).AddSingleton(Engines).AddScoped<ScopedProbe>()
            .BuildServiceProvider();
    }

    public Trail Trail { get; } = new();
    public Gate Gate { get; } = new();
    public EngineRef Engines { get; } = new();
    public ServiceProvider Services { get; }

    public void Configure(TempestOptions options) => options.Services = Services;

    public void Dispose() => Services.Dispose();
}

[TempestTask]
public sealed class Adder(Trail trail) : TempestTask
{
    public void Process(int a, int b)
    {
        trail.Add($"{a}+{b}={a + b} on {Environment.CurrentManagedThreadId}");
        TaskLogger.LogInformation("{A} + {B} = {C}", a, b, a + b);
    }

    [AfterSuccess]
    public void Done() => trail.Add($"after-success attempt {Attempt}");
}

/// <summary>Truly asynchronous: it yields before it adds, so a synchronous submit has to wait for it.</summary>
[TempestTask]
public sealed class SlowAdder(Trail trail) : TempestTask
{
    public async Task Process(int a, int b, CancellationToken cancellationToken)
    {
        await Task.Yield();
        await Task.Delay(1, cancellationToken); // a timer, not a wait for work: the continuation comes from elsewhere
        trail.Add($"{a}+{b}={a + b}");
    }
}

/// <summary>Fails, synchronously or after an await; its after-failure callback runs first.</summary>
[TempestTask]
public sealed class Failing(Trail trail) : TempestTask
{
    public async ValueTask Process(string why, bool afterAnAwait)
    {
        if (afterAnAwait) await Task.Yield();
        throw new InvalidOperationException(why);
    }

    [AfterFailure]
    public void Failed(Exception exception) => trail.Add($"after-failure {exception.Message} will retry {WillRetry}");

    [AfterRetriesExhausted]
    public void GaveUp(Exception? exception) => trail.Add("exhausted");
}

/// <summary>Fails its runs until <c>succeedOn</c>; two retries, 10 s times the attempt apart.</summary>
[TempestTask(Retries = 2)]
public sealed class Flaky(Trail trail) : TempestTask
{
    public static readonly TimeSpan Step = TimeSpan.FromSeconds(10);

    public void Process(int succeedOn)
    {
        trail.Add($"run{Attempt}");
        if (Attempt < succeedOn) throw new InvalidOperationException($"fail {Attempt}");
    }

    [RetryBackoff]
    public static TimeSpan Backoff(int attempt, Exception? exception) => Step * attempt;

    [AfterFailure]
    public void Failed(Exception exception) => trail.Add($"failed({WillRetry})");

    [AfterRetriesExhausted]
    public void GaveUp(Exception? exception) => trail.Add("exhausted:" + exception?.Message);

    [AfterSuccess]
    public void Done() => trail.Add("success");
}

/// <summary>Submits a child of one less depth until 0: jobs submitted while a drain runs.</summary>
[TempestTask]
public sealed class Spawner(Trail trail, EngineRef engines) : TempestTask
{
    public void Process(int depth)
    {
        trail.Add($"spawner{depth}");
        if (depth > 0) engines.Engine!.SubmitSpawner(depth - 1);
        else engines.Engine!.After(TimeSpan.FromMinutes(1)).SubmitAdder(depth, 1); // not due in this drain
    }
}

/// <summary>Takes a scoped service: its scope lives until the job's callbacks have run.</summary>
[TempestTask]
public sealed class Scoped(ScopedProbe probe, Trail trail) : TempestTask
{
    public void Process(string name) => trail.Add($"{name} probe{probe.Number}");

    [AfterSuccess]
    public void Done() => trail.Add($"callback probe{probe.Number} disposed {probe.Disposed}");
}

/// <summary>Waits for the test's gate (or its cancellation), after saying it is in.</summary>
[TempestTask]
public sealed class Blocking(Gate gate) : TempestTask
{
    public async Task Process(CancellationToken cancellationToken)
    {
        gate.Entered.TrySetResult();
        await gate.Open.Task.WaitAsync(cancellationToken);
    }
}

/// <summary>A 5 s timeout and one retry: a run that waits for its gate times out when the test moves the clock.</summary>
[TempestTask(TimeoutSeconds = 5, Retries = 1)]
public sealed class Patient(Gate gate, Trail trail) : TempestTask
{
    public async Task Process(CancellationToken cancellationToken)
    {
        trail.Add($"run{Attempt}");
        if (Attempt > 1) return;
        gate.Entered.TrySetResult(); // the deadline's timer exists before Process starts
        await Task.Delay(Timeout.Infinite, cancellationToken);
    }

    [RetryBackoff]
    public static TimeSpan Backoff(int attempt, Exception? exception) => TimeSpan.FromSeconds(1);

    [AfterTimeout]
    public void Late() => trail.Add($"timeout({WillRetry})");
}

/// <summary>One job per order at a time (its key: the order).</summary>
[TempestTask(UniqueBy = ["order"])]
public sealed class Ship(Trail trail) : TempestTask
{
    public void Process(string order) => trail.Add($"ship {order}");
}
