using Microsoft.Extensions.Logging;

namespace TaskTempest.Logging;

/// <summary>The main log and the task log of one run; disposing flushes the files the engine opened.</summary>
internal sealed class TempestLogs : IDisposable
{
    private readonly ILoggerFactory? _ownedMainFactory;
    private readonly ILoggerFactory? _ownedTaskFactory;

    public TempestLogs(Engine.RunSettings settings)
    {
        var mainFactory = settings.MainLog.Factory ?? (_ownedMainFactory = Open(settings.MainLog, settings.Time));
        var taskFactory = settings.TaskLog.Factory ?? (_ownedTaskFactory = Open(settings.TaskLog, settings.Time));
        Main = mainFactory.CreateLogger(settings.EngineName);
        Task = taskFactory.CreateLogger(settings.EngineName);
    }

    private static ILoggerFactory Open(Engine.RunSettings.LogSettings log, TimeProvider time) =>
        TempestLogFiles.CreateFactory(log.FilePath, log.Level, log.Format, time);

    /// <summary>One line when each task starts and one when it ends, plus the engine's own story.</summary>
    public ILogger Main { get; }

    /// <summary>What tasks log, each line prefixed <c>{id} &lt;Task&gt;</c>, and failed tasks' exceptions.</summary>
    public ILogger Task { get; }

    public void Dispose()
    {
        _ownedMainFactory?.Dispose();
        _ownedTaskFactory?.Dispose();
    }
}
