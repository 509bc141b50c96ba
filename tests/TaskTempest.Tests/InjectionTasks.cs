using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using TaskTempest.Tests.Support;

namespace TaskTempest.Tests;

/// <summary>A scoped service: one per job, disposed when the job has ended.</summary>
public sealed class ScopedProbe : IDisposable
{
    public static readonly ConcurrentDictionary<Guid, ScopedProbe> All = new();

    public ScopedProbe() => All[Id] = this;

    public Guid Id { get; } = Guid.NewGuid();
    public bool IsDisposed { get; private set; }
    public TaskCompletionSource Disposed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Dispose()
    {
        IsDisposed = true;
        Disposed.TrySetResult();
    }
}

/// <summary>Gets a scoped service and an optional one through its constructor; runs Perform instead of Process.</summary>
[TempestTask(ProcessMethod = nameof(Perform))]
public sealed class Injected(ScopedProbe probe, IFormatProvider? notRegistered) : TempestTask
{
    public void Perform(string label) => Recorder.Record(TaskId, $"{label} {probe.Id} {notRegistered is null}");

    [AfterSuccess]
    public void StillAlive() => Recorder.Step(TaskId, probe.IsDisposed ? "scope-already-disposed" : "scope-alive-in-callback");
}

/// <summary>Logs to a logger of its own (the original's task <c>logger</c> option).</summary>
[TempestTask]
public sealed class OwnLogger : TempestTask
{
    public static readonly RecordingLoggerFactory Sink = new();

    public void Process(string text) => TaskLogger.LogInformation("own logger says {Text}", text);

    protected override ILogger? CustomLogger => Sink.CreateLogger("own");
}
