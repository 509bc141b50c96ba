using Microsoft.Extensions.Logging;
using TaskTempest.Logging;
using TaskTempest.Queues;

namespace TaskTempest.Engine;

/// <summary>
/// Everything one <c>Run</c> goes by, resolved once, after the before-initialize hooks: the run-time
/// options over the attribute's configuration, validated. Immutable for the run; this is the only place
/// where an option is merged over the configuration, so everything else reads one value.
/// </summary>
internal sealed class RunSettings
{
    private RunSettings(TempestEngine engine)
    {
        var options = engine.Options;
        var configuration = engine.Configuration;
        EngineName = engine.Name;
        Threads = engine.Threads;
        Fibers = engine.Fibers;
        Queue = engine.Queue; // fixes the queue and the clock, if the first submit did not already
        Time = options.TimeProvider;
        ShutdownTimeout = options.ShutdownTimeout ?? configuration.ShutdownTimeout;
        QueuePollInterval = options.QueuePollInterval ?? configuration.QueuePollInterval;
        TimeoutGrace = options.TimeoutGrace;
        MaxOrphanedWorkers = options.MaxOrphanedWorkers ?? engine.Threads;
        LoopBlockedThreshold = options.LoopBlockedThreshold;
        HandleSignals = options.HandleSignals;
        Services = options.Services;
        HasTaskHooks = engine.HasTaskHooksInternal;
        NamedQueues = options.Queues.Count == 0 ? [new TempestNamedQueue(TempestQueueNames.Default)] : [.. options.Queues];
        QueueOrder = options.QueueOrder;

        string root = options.Root ?? Directory.GetCurrentDirectory();
        // Formats are parsed here, before any file opens, so a bad one fails Run at once.
        MainLog = new LogSettings(
            options.MainLoggerFactory,
            Path.Combine(root, options.LogFile ?? configuration.LogFile ?? EngineName + ".log"),
            options.LogLevel ?? configuration.LogLevel,
            LogLineFormat.Parse(options.LogFormat ?? configuration.LogFormat));
        TaskLog = new LogSettings(
            options.TaskLoggerFactory,
            Path.Combine(root, options.TaskLogFile ?? configuration.TaskLogFile ?? EngineName + ".task.log"),
            options.TaskLogLevel ?? configuration.TaskLogLevel,
            LogLineFormat.Parse(options.TaskLogFormat ?? configuration.TaskLogFormat));
        Validate();
    }

    /// <summary>Resolves the settings of a run that is starting; call after the before-initialize hooks.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A timing option is out of range.</exception>
    /// <exception cref="FormatException">A log line template is not valid.</exception>
    public static RunSettings Resolve(TempestEngine engine) => new(engine);

    public string EngineName { get; }
    public int Threads { get; }
    public int Fibers { get; }
    public bool Cooperative => Fibers > 0;

    /// <summary>How many jobs may be in flight at once: the worker threads, or the fibers of the event loop.</summary>
    public int Slots => Cooperative ? Fibers : Threads;

    public ITempestQueue Queue { get; }

    /// <summary>The named queues consumed, in order (<c>default</c> alone when none was given).</summary>
    public TempestNamedQueue[] NamedQueues { get; }
    public TempestQueueOrder QueueOrder { get; }

    /// <summary>Whether the engine consumes the <c>default</c> queue alone, without a limit: the plain claim.</summary>
    public bool ConsumesDefaultQueueOnly =>
        NamedQueues is [{ Name: TempestQueueNames.Default, MaxConcurrency: 0 }];

    public TimeProvider Time { get; }
    public TimeSpan ShutdownTimeout { get; }
    public TimeSpan QueuePollInterval { get; }
    public TimeSpan TimeoutGrace { get; }
    public int MaxOrphanedWorkers { get; }
    public TimeSpan LoopBlockedThreshold { get; }
    public bool HandleSignals { get; }
    public IServiceProvider? Services { get; }

    /// <summary>Whether the engine has after-task hooks: without them no job builds an event.</summary>
    public bool HasTaskHooks { get; }

    public LogSettings MainLog { get; }
    public LogSettings TaskLog { get; }

    /// <summary>One log: a factory of the user's (not disposed by the engine), or a file of the engine's.</summary>
    public sealed record LogSettings(ILoggerFactory? Factory, string FilePath, LogLevel Level, LogLineFormat Format);

    private void Validate()
    {
        // Checked when Run starts, not when shutdown first needs them.
        if (ShutdownTimeout != Timeout.InfiniteTimeSpan && (ShutdownTimeout < TimeSpan.Zero || ShutdownTimeout.TotalMilliseconds > int.MaxValue))
            throw new ArgumentOutOfRangeException("options", ShutdownTimeout,
                "ShutdownTimeout must be between 0 and 24 days, or Timeout.InfiniteTimeSpan to wait forever.");
        if (TimeoutGrace < TimeSpan.Zero || TimeoutGrace.TotalMilliseconds > int.MaxValue)
            throw new ArgumentOutOfRangeException("options", TimeoutGrace, "TimeoutGrace must be between 0 and 24 days.");
        if (MaxOrphanedWorkers < 0)
            throw new ArgumentOutOfRangeException("options", MaxOrphanedWorkers, "MaxOrphanedWorkers cannot be negative.");
        if (LoopBlockedThreshold <= TimeSpan.Zero || LoopBlockedThreshold.TotalMilliseconds > int.MaxValue)
            throw new ArgumentOutOfRangeException("options", LoopBlockedThreshold, "LoopBlockedThreshold must be more than 0 and at most 24 days.");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var named in NamedQueues)
        {
            if (named is null) throw new ArgumentException("TempestOptions.Queues holds a null entry.", "options");
            TempestQueueNames.Validate(named.Name, "options");
            if (!names.Add(named.Name)) throw new ArgumentException($"TempestOptions.Queues names the queue {named.Name} twice.", "options");
            if (named.MaxConcurrency < 0) throw new ArgumentOutOfRangeException("options", named.MaxConcurrency, $"The queue {named.Name}'s MaxConcurrency cannot be negative (0: no limit).");
            if (named.Weight < 1) throw new ArgumentOutOfRangeException("options", named.Weight, $"The queue {named.Name}'s Weight must be at least 1.");
        }
        if (!ConsumesDefaultQueueOnly && !(NamedQueues is [{ Name: TempestQueueNames.Default }]) && (Queue.Features & TempestQueueFeatures.NamedQueues) == 0)
            throw new NotSupportedException(
                $"The queue {Queue.GetType().Name} keeps one queue, so this engine cannot consume {string.Join(", ", names)}: use a queue whose Features include NamedQueues (the memory, PostgreSQL and Redis queues have them).");
        if (QueuePollInterval <= TimeSpan.Zero || QueuePollInterval.TotalMilliseconds > int.MaxValue)
            throw new ArgumentOutOfRangeException("options", QueuePollInterval,
                "QueuePollInterval must be more than 0 (a queue that cannot wait would be polled in a busy loop) and at most 24 days.");
    }
}
