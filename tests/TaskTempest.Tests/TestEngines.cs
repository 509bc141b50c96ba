using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace TaskTempest.Tests;

/// <summary>An engine that sets every compile-time option and every hook; its hooks record their order in <see cref="Trail"/>.</summary>
[Tempest(Threads = 1, ShutdownTimeoutSeconds = 2, QueuePollIntervalSeconds = 0.25, LogFile = "logs/main.txt", TaskLogFile = "logs/tasks.txt",
    LogLevel = LogLevel.Warning, TaskLogFormat = "{level}|{message}|{timestamp:yyyy}")]
public partial class ConfiguredTempest
{
    public ConcurrentQueue<string> Trail { get; } = new();

    /// <summary>Set by a test: the root that the before-initialize hook puts in the options (the original's lazy root).</summary>
    public string? RootFromHook { get; set; }

    public bool FailFinishedHook { get; set; }

    /// <summary>Set by a test: what the before-initialize hook does to the options besides the root.</summary>
    public Action<TempestOptions>? InBeforeInitialize { get; set; }

    /// <summary>Completes after the after-task-finished hook has seen this many tasks.</summary>
    public int FinishedTarget { get; set; } = int.MaxValue;
    public TaskCompletionSource ReachedTarget { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _finished;

    [BeforeInitialize]
    private void LoadApplication()
    {
        Trail.Enqueue("before-1");
        if (RootFromHook is not null) Options.Root = RootFromHook;
        InBeforeInitialize?.Invoke(Options);
    }

    [BeforeInitialize]
    private void AlsoBefore() => Trail.Enqueue("before-2");

    [AfterInitialize]
    private void Ready(ILogger mainLogger)
    {
        Trail.Enqueue("after-init");
        mainLogger.LogWarning("hook says ready");
    }

    [AfterTaskStarted]
    private void TaskStarted(TempestTaskEvent e) => Trail.Enqueue($"started {e.TaskName} {e.Status?.ToString() ?? "-"}");

    [AfterTaskFinished]
    private void TaskFinished(TempestTaskEvent e)
    {
        Trail.Enqueue($"finished {e.TaskName} {e.Status} {e.Duration}");
        if (FailFinishedHook) throw new InvalidOperationException("hook failed");
        if (Interlocked.Increment(ref _finished) >= FinishedTarget) ReachedTarget.TrySetResult();
    }
}

/// <summary>Inherits ConfiguredTempest's options and hooks; sets its own name and threads and adds a hook.</summary>
[Tempest(Threads = 2, Name = "Derived")]
public partial class DerivedTempest : ConfiguredTempest
{
    [BeforeInitialize]
    private void OwnBefore() => Trail.Enqueue("derived-before");
}
