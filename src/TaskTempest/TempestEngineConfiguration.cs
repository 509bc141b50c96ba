using Microsoft.Extensions.Logging;
using TaskTempest.Logging;

namespace TaskTempest;

/// <summary>
/// An engine's compile-time configuration, emitted by the generator from <see cref="TempestAttribute"/>
/// (a derived engine's attribute merged over its base engine's).
/// </summary>
public sealed class TempestEngineConfiguration
{
    /// <summary>The engine's name (log file names, log lines).</summary>
    public required string Name { get; init; }

    /// <summary>Worker threads: how many tasks run at once (thread-pool mode).</summary>
    public int Threads { get; init; } = TempestDefaults.Threads;

    /// <summary>Tasks in flight on the one event-loop thread; 0 for thread-pool mode.</summary>
    public int Fibers { get; init; }

    /// <summary>How long a graceful stop waits for running tasks.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TempestDefaults.ShutdownTimeout;

    /// <summary>How long a worker sleeps when a queue that cannot wait returned nothing.</summary>
    public TimeSpan QueuePollInterval { get; init; } = TempestDefaults.QueuePollInterval;

    /// <summary>The main log file; null for <c>&lt;Name&gt;.log</c>. Relative paths go under the root.</summary>
    public string? LogFile { get; init; }

    /// <summary>The task log file; null for <c>&lt;Name&gt;.task.log</c>. Relative paths go under the root.</summary>
    public string? TaskLogFile { get; init; }

    /// <summary>The main log's minimum level.</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    /// <summary>The task log's minimum level.</summary>
    public LogLevel TaskLogLevel { get; init; } = LogLevel.Information;

    /// <summary>The main log's line template (see <see cref="LogLineFormat"/>).</summary>
    public string LogFormat { get; init; } = LogLineFormat.Default;

    /// <summary>The task log's line template.</summary>
    public string TaskLogFormat { get; init; } = LogLineFormat.Default;
}
