using Microsoft.Extensions.Logging;
using TaskTempest.Queues;

namespace TaskTempest;

/// <summary>
/// Engine settings known only at run time (the queue instance, the root folder, loggers, time).
/// Settings known at compile time live in <see cref="TempestAttribute"/>. An engine reads these when
/// it first needs them: the queue at the first submit, the rest when <c>Run</c> starts.
/// </summary>
public sealed class TempestOptions
{
    /// <summary>The queue (the original's <c>queue</c>). Default: a new <see cref="TempestMemoryQueue"/>.</summary>
    public ITempestQueue? Queue { get; set; }

    /// <summary>The folder the log files go in (the original's <c>root</c>). Default: the current directory.</summary>
    public string? Root { get; set; }

    /// <summary>Writes the main log instead of the file <c>&lt;Root&gt;/&lt;Name&gt;.log</c>. The engine does not dispose it.</summary>
    public ILoggerFactory? MainLoggerFactory { get; set; }

    /// <summary>Writes the task log instead of the file <c>&lt;Root&gt;/&lt;Name&gt;.task.log</c>. The engine does not dispose it.</summary>
    public ILoggerFactory? TaskLoggerFactory { get; set; }

    /// <summary>How long a graceful stop waits for running tasks before reporting them <c>aborted</c>
    /// and returning their messages to the queue (the original's <c>shutdown_timeout</c>).
    /// Default: 30 s; <see cref="Timeout.InfiniteTimeSpan"/> waits forever, as the original did.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TempestDefaults.ShutdownTimeout;

    /// <summary>How long a worker sleeps when a queue that cannot wait returned nothing
    /// (the original's <c>queue_poll_interval</c>). Default: 1 s.</summary>
    public TimeSpan QueuePollInterval { get; set; } = TempestDefaults.QueuePollInterval;

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

    /// <summary>The clock for durations, log timestamps and waits. Default: <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Whether <c>Run</c> stops gracefully on SIGINT and SIGTERM (as the original did). Default: true.
    /// Hosts that manage their own lifetime, and tests, turn it off and call <c>Stop</c> or cancel instead.</summary>
    public bool HandleSignals { get; set; } = true;
}

/// <summary>An engine's compile-time configuration, emitted by the generator from <see cref="TempestAttribute"/>.</summary>
/// <param name="Name">The engine's name (log file names, log lines).</param>
/// <param name="Threads">Worker threads: how many tasks run at once.</param>
public sealed record TempestEngineConfiguration(string Name, int Threads);
