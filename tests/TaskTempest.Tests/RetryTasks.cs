using TaskTempest.Tests.Support;

namespace TaskTempest.Tests;

/// <summary>Fails its first <c>failures</c> runs, then succeeds; three retries on the default backoff. Records each step.</summary>
[TempestTask(Retries = 3)]
public sealed class Flaky : TempestTask
{
    public void Process(int failures)
    {
        Recorder.Step(TaskId, $"run{Attempt}" + (WillRetry ? " (WillRetry set while running!)" : ""));
        if (Attempt <= failures) throw new InvalidOperationException($"fail {Attempt}");
    }

    [AfterFailure]
    public void Failed(Exception exception) => Recorder.Step(TaskId, $"failed(will retry: {WillRetry})");

    [AfterRetriesExhausted]
    public void GaveUp(Exception? exception) => Recorder.Step(TaskId, "exhausted:" + exception?.Message);

    [AfterSuccess]
    public void Done() => Recorder.Step(TaskId, "success");
}

/// <summary>Two retries, ten seconds times the attempt apart (its own backoff), and a timeout: a run that blocks on its gate times out.</summary>
[TempestTask(Retries = 2, TimeoutSeconds = 5)]
public sealed class Patient : TempestTask
{
    public static readonly TimeSpan Step = TimeSpan.FromSeconds(10);

    public async Task Process(string gate, int failures, CancellationToken cancellationToken)
    {
        Recorder.Step(TaskId, $"run{Attempt}");
        if (Attempt > failures) return;
        Gates.Get(gate).Started.TrySetResult();
        await Task.Delay(Timeout.Infinite, cancellationToken); // until the deadline
    }

    [RetryBackoff]
    public static TimeSpan Backoff(int attempt, Exception? exception) => Step * attempt;

    [AfterTimeout]
    public void Late() => Recorder.Step(TaskId, $"timeout(will retry: {WillRetry})");

    [AfterRetriesExhausted]
    public void GaveUp() => Recorder.Step(TaskId, "exhausted");
}

/// <summary>No retries (the default): its one failure is final, and the after-retries-exhausted callback still runs once.</summary>
[TempestTask]
public sealed class FailsForGood : TempestTask
{
    public void Process() => throw new InvalidOperationException("for good");

    [AfterRetriesExhausted]
    public void GaveUp(Exception? exception) => Recorder.Step(TaskId, "exhausted:" + exception?.Message);
}

/// <summary>One retry; its backoff method throws, so the default backoff is used.</summary>
[TempestTask(Retries = 1)]
public sealed class BadBackoff : TempestTask
{
    public void Process() => throw new InvalidOperationException("boom");

    [RetryBackoff]
    public static TimeSpan Backoff(int attempt) => throw new InvalidOperationException("backoff broke");
}
