using Microsoft.Extensions.Logging;
using TaskTempest.Logging;
using TaskTempest.Queues;

namespace TaskTempest;

/// <summary>
/// An engine's run-time settings. The queue instance, the root folder, loggers and time are known only
/// at run time; the others default to what the engine's <see cref="TempestAttribute"/> says (null here
/// means "as the attribute says"), so a host can still override them. The queue and the clock are fixed
/// at the first submit or when <c>Run</c> starts, whichever comes first; the rest are read once when
/// <c>Run</c> starts, after the before-initialize hooks, which may set them, and hold for that run.
/// </summary>
public sealed class TempestOptions
{
    private ITempestQueue? _queue;
    private TimeProvider _timeProvider = TimeProvider.System;
    private volatile bool _queueAndClockFixed;

    /// <summary>The queue (the original's <c>queue</c>). Default: a new <see cref="TempestMemoryQueue"/>.
    /// Fixed at the engine's first submit or when <c>Run</c> starts (after the before-initialize hooks),
    /// whichever comes first; setting it afterwards throws.</summary>
    /// <exception cref="InvalidOperationException">The engine has already fixed its queue.</exception>
    public ITempestQueue? Queue
    {
        get => _queue;
        set
        {
            ThrowIfFixed(nameof(Queue));
            _queue = value;
        }
    }

    /// <summary>
    /// The named queues this engine consumes, each with an optional concurrency limit and weight, in the order of
    /// <see cref="QueueOrder"/>: <c>options.Queues.Add(new("critical")); options.Queues.Add(new("mail") { MaxConcurrency = 2 });</c>.
    /// Empty (the default): the <c>default</c> queue alone. Read when <c>Run</c> starts; named queues other than
    /// <c>default</c> need a queue with <see cref="TempestQueueFeatures.NamedQueues"/>.
    /// </summary>
    public IList<TempestNamedQueue> Queues { get; } = new List<TempestNamedQueue>();

    /// <summary>How the engine orders <see cref="Queues"/> at each claim: strictly (the default) or by weight.</summary>
    public TempestQueueOrder QueueOrder { get; set; }

    /// <summary>The folder relative log paths go under (the original's <c>root</c>). Default: the current directory.</summary>
    public string? Root { get; set; }

    /// <summary>Overrides <see cref="TempestAttribute.LogFile"/>.</summary>
    public string? LogFile { get; set; }

    /// <summary>Overrides <see cref="TempestAttribute.TaskLogFile"/>.</summary>
    public string? TaskLogFile { get; set; }

    /// <summary>Overrides <see cref="TempestAttribute.LogLevel"/>.</summary>
    public LogLevel? LogLevel { get; set; }

    /// <summary>Overrides <see cref="TempestAttribute.TaskLogLevel"/>.</summary>
    public LogLevel? TaskLogLevel { get; set; }

    /// <summary>Overrides <see cref="TempestAttribute.LogFormat"/>.</summary>
    public string? LogFormat { get; set; }

    /// <summary>Overrides <see cref="TempestAttribute.TaskLogFormat"/>.</summary>
    public string? TaskLogFormat { get; set; }

    /// <summary>
    /// The services that task constructors ask for. Each job that needs them gets its own scope,
    /// disposed when the job has ended, so a scoped service (a DbContext) lives for one task.
    /// </summary>
    public IServiceProvider? Services { get; set; }

    /// <summary>Writes the main log instead of the log file (the original's <c>log_file</c> given a logger). The engine does not dispose it.</summary>
    public ILoggerFactory? MainLoggerFactory { get; set; }

    /// <summary>Writes the task log instead of the task log file. The engine does not dispose it.</summary>
    public ILoggerFactory? TaskLoggerFactory { get; set; }

    /// <summary>Overrides <see cref="TempestAttribute.ShutdownTimeoutSeconds"/>; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</summary>
    public TimeSpan? ShutdownTimeout { get; set; }

    /// <summary>Overrides <see cref="TempestAttribute.QueuePollIntervalSeconds"/>.</summary>
    public TimeSpan? QueuePollInterval { get; set; }

    /// <summary>
    /// How long a task that ran past its timeout gets to notice its cancelled token before its worker
    /// thread is interrupted (breaking Sleep, Wait, Join and lock waits), and again before the worker is
    /// given up as orphaned and replaced. Default: 1 s.
    /// </summary>
    public TimeSpan TimeoutGrace { get; set; } = TempestDefaults.TimeoutGrace;

    /// <summary>
    /// How many workers may be orphaned (stuck in a task that ignored its timeout, its token and an
    /// interrupt) and replaced. Past it the engine logs itself unhealthy and runs on with fewer workers
    /// rather than grow without bound. Default: the engine's thread count.
    /// </summary>
    public int? MaxOrphanedWorkers { get; set; }

    /// <summary>The clock for durations, deadlines, log timestamps and waits. Default: <see cref="TimeProvider.System"/>.
    /// Fixed with <see cref="Queue"/> (the memory queue keeps its delays on it); setting it afterwards throws.</summary>
    /// <exception cref="InvalidOperationException">The engine has already fixed its clock.</exception>
    public TimeProvider TimeProvider
    {
        get => _timeProvider;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            ThrowIfFixed(nameof(TimeProvider));
            _timeProvider = value;
        }
    }

    /// <summary>Called by the engine at its first submit or when Run starts: from here on the queue and the clock stay.</summary>
    internal void FixQueueAndClock() => _queueAndClockFixed = true;

    private void ThrowIfFixed(string option)
    {
        if (_queueAndClockFixed)
            throw new InvalidOperationException(
                $"TempestOptions.{option} cannot change any more: the engine fixed its queue and clock at its first submit or when Run started (after the before-initialize hooks). Set it before either.");
    }

    /// <summary>
    /// Cooperative mode: how long one step of task code may hold the event loop before the watchdog logs
    /// a warning naming the task (a task that blocks the loop cannot be preempted). Default: 1 s.
    /// </summary>
    public TimeSpan LoopBlockedThreshold { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Whether <c>Run</c> stops gracefully on SIGINT and SIGTERM (as the original did; a repeated signal changes nothing). Default: true.
    /// Hosts that manage their own lifetime, and tests, turn it off and call <c>Stop</c> or cancel instead.</summary>
    public bool HandleSignals { get; set; } = true;
}
