using Microsoft.Extensions.Logging;

namespace TaskTempest.Logging;

/// <summary>The main log and the task log of one run; disposing flushes the files the engine opened.</summary>
internal sealed class TempestLogs : IDisposable
{
    private readonly ILoggerFactory? _ownedMainFactory;
    private readonly ILoggerFactory? _ownedTaskFactory;

    public TempestLogs(string engineName, TempestEngineConfiguration configuration, TempestOptions options)
    {
        string root = options.Root ?? Directory.GetCurrentDirectory();
        // Formats are parsed before any file opens, so a bad one fails Run at once.
        var mainFormat = LogLineFormat.Parse(options.LogFormat ?? configuration.LogFormat);
        var taskFormat = LogLineFormat.Parse(options.TaskLogFormat ?? configuration.TaskLogFormat);
        var mainFactory = options.MainLoggerFactory
            ?? (_ownedMainFactory = TempestLogFiles.CreateFactory(
                Path.Combine(root, options.LogFile ?? configuration.LogFile ?? engineName + ".log"),
                options.LogLevel ?? configuration.LogLevel, mainFormat, options.TimeProvider));
        var taskFactory = options.TaskLoggerFactory
            ?? (_ownedTaskFactory = TempestLogFiles.CreateFactory(
                Path.Combine(root, options.TaskLogFile ?? configuration.TaskLogFile ?? engineName + ".task.log"),
                options.TaskLogLevel ?? configuration.TaskLogLevel, taskFormat, options.TimeProvider));
        Main = mainFactory.CreateLogger(engineName);
        Task = taskFactory.CreateLogger(engineName);
    }

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
