using TaskTempest.Tests.Support;

namespace TaskTempest.Tests;

// Tasks with timeouts and callbacks. Timeouts are 5 s of FakeTimeProvider time in the tests that use them.

/// <summary>Waits on its gate with the token it is given: ends as soon as the deadline cancels it.</summary>
[TempestTask(TimeoutSeconds = 5)]
public sealed class CooperativeSlow : TempestTask
{
    public async Task Process(string gate, CancellationToken cancellationToken)
    {
        Gates.Get(gate).Started.TrySetResult();
        await Gates.Get(gate).Released.Task.WaitAsync(cancellationToken);
        Recorder.Step(TaskId, "finished");
    }

    [AfterTimeout]
    public void NoteTimeout() => Recorder.Step(TaskId, "after-timeout");

    [AfterSuccess]
    public void NoteSuccess() => Recorder.Step(TaskId, "after-success");
}

/// <summary>Ignores its token and sleeps: only an interrupt frees it.</summary>
[TempestTask(TimeoutSeconds = 5)]
public sealed class Sleeper : TempestTask
{
    public void Process(string gate)
    {
        Gates.Get(gate).Started.TrySetResult();
        try
        {
            Thread.Sleep(Timeout.Infinite);
        }
        catch (ThreadInterruptedException)
        {
            Recorder.Step(TaskId, "interrupted");
            throw;
        }
    }

    [AfterTimeout]
    public void NoteTimeout() => Recorder.Step(TaskId, "after-timeout");
}

/// <summary>Spins without ever blocking: neither its token nor an interrupt reaches it, so its worker is orphaned.</summary>
[TempestTask(TimeoutSeconds = 5)]
public sealed class Spinner : TempestTask
{
    public void Process(string gate)
    {
        var g = Gates.Get(gate);
        g.Started.TrySetResult();
        while (!g.Released.Task.IsCompleted) Thread.SpinWait(1000);
        g.Finished.TrySetResult();
    }

    [AfterTimeout]
    public void NoteTimeout() => Recorder.Step(TaskId, "after-timeout");
}

/// <summary>Callbacks in declared order; the middle success callback throws when asked to.</summary>
[TempestTask]
public sealed class Callbacks : TempestTask
{
    private string _mode = "";

    public void Process(string mode)
    {
        _mode = mode;
        Recorder.Step(TaskId, "process");
        if (mode == "fail") throw new InvalidOperationException("process failed");
    }

    [AfterSuccess]
    public void First() => Recorder.Step(TaskId, "first");

    [AfterSuccess]
    public void Second()
    {
        Recorder.Step(TaskId, "second");
        if (_mode == "bad-callback") throw new InvalidOperationException("callback failed");
    }

    [AfterSuccess]
    public void Third() => Recorder.Step(TaskId, "third");

    [AfterFailure]
    public void Failed(Exception exception) => Recorder.Step(TaskId, "failed:" + exception.Message);

    [AfterFailure]
    public void FailedToo() => Recorder.Step(TaskId, "failed-too");
}

/// <summary>A task class that others derive from: its timeout and callbacks are inherited.</summary>
[TempestTask(TimeoutSeconds = 5)]
public class TimedBase : TempestTask
{
    public async Task Process(string gate, CancellationToken cancellationToken)
    {
        Gates.Get(gate).Started.TrySetResult();
        await Gates.Get(gate).Released.Task.WaitAsync(cancellationToken);
    }

    [AfterTimeout]
    public void BaseTimeout() => Recorder.Step(TaskId, "base-timeout");
}

/// <summary>Inherits TimedBase's Process, timeout and callback, and adds a callback of its own.</summary>
[TempestTask]
public sealed class TimedDerived : TimedBase
{
    [AfterTimeout]
    public void DerivedTimeout() => Recorder.Step(TaskId, "derived-timeout");
}

/// <summary>Its success callback moves the test's fake clock on, as a slow callback would take time.</summary>
[TempestTask]
public sealed class SlowCallback : TempestTask
{
    public static Microsoft.Extensions.Time.Testing.FakeTimeProvider? Clock { get; set; }

    public void Process()
    {
    }

    [AfterSuccess]
    public void TakeTime() => Clock!.Advance(TimeSpan.FromSeconds(10));
}
