namespace TaskTempest;

/// <summary>
/// Marks a <c>partial</c> class as a TaskTempest engine. The generator completes it with typed
/// <c>Submit</c> methods for every <see cref="TempestTaskAttribute"/> task, a static <c>Default</c>
/// instance, the name-to-task dispatch table and the engine's configuration.
/// </summary>
/// <remarks>The original gem's <c>configure</c> block; values known at compile time live here and are
/// checked by the generator.</remarks>
[AttributeUsage(AttributeTargets.Class, Inherited = false, AllowMultiple = false)]
public sealed class TempestAttribute : Attribute
{
    /// <summary>The engine's name, used for log file names and log lines. Default: the class name.</summary>
    public string? Name { get; set; }

    /// <summary>How many worker threads run tasks, and so how many tasks run at once. Default: 10.</summary>
    public int Threads { get; set; } = TempestDefaults.Threads;

    /// <summary>
    /// Runs the engine cooperatively (the original's <c>fibers</c>): this many tasks in flight at once,
    /// all interleaved on one event-loop thread, so task code needs no locks but must not block. Default:
    /// 0, thread-pool mode. Setting both Fibers and Threads is an error (TT0018).
    /// </summary>
    public int Fibers { get; set; }

    /// <summary>Seconds a graceful stop waits for running tasks before reporting them aborted
    /// (the original's <c>shutdown_timeout</c>). Default: 30; <see cref="double.PositiveInfinity"/> waits forever.</summary>
    public double ShutdownTimeoutSeconds { get; set; } = 30;

    /// <summary>Seconds a worker sleeps when a queue that cannot wait returned nothing (the original's <c>queue_poll_interval</c>). Default: 1.</summary>
    public double QueuePollIntervalSeconds { get; set; } = 1;

    /// <summary>The main log file (the original's <c>log_file</c>); relative paths go under the root. Default: <c>&lt;Name&gt;.log</c>.</summary>
    public string? LogFile { get; set; }

    /// <summary>The task log file (the original's <c>task_log_file</c>). Default: <c>&lt;Name&gt;.task.log</c>.</summary>
    public string? TaskLogFile { get; set; }

    /// <summary>The main log's minimum level (the original's <c>log_level</c>). Default: Information.</summary>
    public Microsoft.Extensions.Logging.LogLevel LogLevel { get; set; } = Microsoft.Extensions.Logging.LogLevel.Information;

    /// <summary>The task log's minimum level (the original's <c>task_log_level</c>). Default: Information.</summary>
    public Microsoft.Extensions.Logging.LogLevel TaskLogLevel { get; set; } = Microsoft.Extensions.Logging.LogLevel.Information;

    /// <summary>The main log's line template (the original's <c>log_format</c>), e.g.
    /// <c>{timestamp:yyyy/MM/dd HH:mm:ss} [{level}] {message}</c>, the default.</summary>
    public string? LogFormat { get; set; }

    /// <summary>The task log's line template (the original's <c>task_log_format</c>).</summary>
    public string? TaskLogFormat { get; set; }
}
