using Microsoft.Extensions.Logging;
using TaskTempest.Queues;

namespace TaskTempest.Hosting;

/// <summary>
/// The settings of a hosted engine that configuration can hold, bound from the section <c>Tempest:&lt;EngineName&gt;</c>
/// (<see cref="SectionName"/>) by the configuration binder's source generator. Instances (the queue, the clock, services)
/// stay in code, in <c>AddTempest</c>'s <see cref="TempestOptions"/> callback. Each value that is set here overrides the
/// same <see cref="TempestOptions"/> value set in code, so that operations can retune a deployed worker without a rebuild;
/// a value left unset changes nothing. Durations are <see cref="TimeSpan"/> text, <c>"00:00:05"</c> (a bare <c>"5"</c>
/// reads as five days).
/// </summary>
public sealed class TempestHostOptions
{
    /// <summary>The configuration section that holds one section per engine, named after the engine: <c>Tempest:MathTempest</c>.</summary>
    public const string SectionName = "Tempest";

    /// <summary>Overrides <see cref="TempestOptions.ShutdownTimeout"/>; the host still keeps it within its own shutdown timeout.</summary>
    public TimeSpan? ShutdownTimeout { get; set; }

    /// <summary>Overrides <see cref="TempestOptions.QueuePollInterval"/>.</summary>
    public TimeSpan? QueuePollInterval { get; set; }

    /// <summary>Overrides <see cref="TempestOptions.TimeoutGrace"/>.</summary>
    public TimeSpan? TimeoutGrace { get; set; }

    /// <summary>Overrides <see cref="TempestOptions.MaxOrphanedWorkers"/>.</summary>
    public int? MaxOrphanedWorkers { get; set; }

    /// <summary>Overrides <see cref="TempestOptions.LoopBlockedThreshold"/> (cooperative engines).</summary>
    public TimeSpan? LoopBlockedThreshold { get; set; }

    /// <summary>Overrides <see cref="TempestOptions.LogLevel"/>: the main log's minimum level, in the log file or in the host's
    /// logging (where the host's own filters apply as well).</summary>
    public LogLevel? LogLevel { get; set; }

    /// <summary>Overrides <see cref="TempestOptions.TaskLogLevel"/>, as <see cref="LogLevel"/> does for the task log.</summary>
    public LogLevel? TaskLogLevel { get; set; }

    /// <summary>
    /// Whether the engine writes its own two log files (<c>&lt;Name&gt;.log</c> and <c>&lt;Name&gt;.task.log</c> under
    /// <see cref="Root"/>) instead of logging to the host's <see cref="ILoggerFactory"/>. Default: false, the host's logging,
    /// under the categories <c>TaskTempest.&lt;Name&gt;</c> and <c>TaskTempest.&lt;Name&gt;.Tasks</c>. Loggers set in code win
    /// either way.
    /// </summary>
    public bool? LogFiles { get; set; }

    /// <summary>Overrides <see cref="TempestOptions.Root"/>: the folder the log files go under.</summary>
    public string? Root { get; set; }

    /// <summary>Overrides <see cref="TempestOptions.LogFile"/>.</summary>
    public string? LogFile { get; set; }

    /// <summary>Overrides <see cref="TempestOptions.TaskLogFile"/>.</summary>
    public string? TaskLogFile { get; set; }

    /// <summary>Overrides <see cref="TempestOptions.LogFormat"/>.</summary>
    public string? LogFormat { get; set; }

    /// <summary>Overrides <see cref="TempestOptions.TaskLogFormat"/>.</summary>
    public string? TaskLogFormat { get; set; }

    /// <summary>Replaces <see cref="TempestOptions.Queues"/> when it holds any: the named queues consumed, in order
    /// (<c>Tempest:MathTempest:Queues:0:Name = critical</c>, <c>...:Queues:1:Name = mail</c>, <c>...:Queues:1:MaxConcurrency = 2</c>).</summary>
    public IList<TempestHostQueue> Queues { get; } = new List<TempestHostQueue>();

    /// <summary>Overrides <see cref="TempestOptions.QueueOrder"/>.</summary>
    public TempestQueueOrder? QueueOrder { get; set; }

    /// <summary>Writes every value that is set over <paramref name="options"/>.</summary>
    internal void ApplyTo(TempestOptions options)
    {
        if (ShutdownTimeout is { } shutdownTimeout) options.ShutdownTimeout = shutdownTimeout;
        if (QueuePollInterval is { } pollInterval) options.QueuePollInterval = pollInterval;
        if (TimeoutGrace is { } grace) options.TimeoutGrace = grace;
        if (MaxOrphanedWorkers is { } orphans) options.MaxOrphanedWorkers = orphans;
        if (LoopBlockedThreshold is { } blocked) options.LoopBlockedThreshold = blocked;
        if (LogLevel is { } level) options.LogLevel = level;
        if (TaskLogLevel is { } taskLevel) options.TaskLogLevel = taskLevel;
        if (Root is { } root) options.Root = root;
        if (LogFile is { } logFile) options.LogFile = logFile;
        if (TaskLogFile is { } taskLogFile) options.TaskLogFile = taskLogFile;
        if (LogFormat is { } format) options.LogFormat = format;
        if (TaskLogFormat is { } taskFormat) options.TaskLogFormat = taskFormat;
        if (QueueOrder is { } order) options.QueueOrder = order;
        if (Queues.Count > 0)
        {
            options.Queues.Clear();
            foreach (var queue in Queues)
                options.Queues.Add(new TempestNamedQueue(queue.Name ?? "") { MaxConcurrency = queue.MaxConcurrency, Weight = queue.Weight });
        }
    }
}

/// <summary>A named queue in configuration (<see cref="TempestHostOptions.Queues"/>); see <see cref="TempestNamedQueue"/>.</summary>
public sealed class TempestHostQueue
{
    /// <summary>The queue's name (<see cref="TempestNamedQueue.Name"/>).</summary>
    public string? Name { get; set; }

    /// <summary>See <see cref="TempestNamedQueue.MaxConcurrency"/>; 0: no limit.</summary>
    public int MaxConcurrency { get; set; }

    /// <summary>See <see cref="TempestNamedQueue.Weight"/>; 1 by default.</summary>
    public int Weight { get; set; } = 1;
}
