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

/// <summary>Marks an engine method to run when <c>Run</c> starts, before anything else (no parameters;
/// the place to load a host application, or to set <c>Options.Root</c>). Several run in declared order, base engine first.</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false, AllowMultiple = false)]
public sealed class BeforeInitializeAttribute : Attribute;

/// <summary>Marks an engine method to run once logging, the worker pool and the dispatcher exist, before the
/// first task; it may take the main logger (<see cref="Microsoft.Extensions.Logging.ILogger"/>).</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false, AllowMultiple = false)]
public sealed class AfterInitializeAttribute : Attribute;

/// <summary>Marks an engine method that is given a <see cref="TempestTaskEvent"/> when each task starts.</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false, AllowMultiple = false)]
public sealed class AfterTaskStartedAttribute : Attribute;

/// <summary>Marks an engine method that is given a <see cref="TempestTaskEvent"/> when each task has ended.</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false, AllowMultiple = false)]
public sealed class AfterTaskFinishedAttribute : Attribute;

/// <summary>What engine hooks learn about a task.</summary>
/// <param name="TaskId">The message id.</param>
/// <param name="TaskName">The task's wire name.</param>
/// <param name="Status">The final status; null when the task has just started.</param>
/// <param name="Duration">How long it ran (zero when it has just started).</param>
/// <param name="Logger">The main logger.</param>
public readonly record struct TempestTaskEvent(string TaskId, string TaskName, TempestTaskStatus? Status, TimeSpan Duration,
    Microsoft.Extensions.Logging.ILogger Logger);

/// <summary>
/// Marks a class deriving from <see cref="TempestTask"/> as a task that engines can run. The class
/// declares one public <c>Process</c> method; its parameters become the typed arguments of the
/// engine's generated <c>Submit{Task}</c> method.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false, AllowMultiple = false)]
public sealed class TempestTaskAttribute : Attribute
{
    /// <summary>Names the task on the wire by its class name.</summary>
    public TempestTaskAttribute() { }

    /// <summary>Names the task on the wire explicitly, so renaming or moving the class does not strand
    /// messages already queued.</summary>
    /// <param name="name">The task's wire name, e.g. <c>"adder"</c>.</param>
    public TempestTaskAttribute(string name) => Name = name;

    /// <summary>The task's wire name, or <see langword="null"/> for the class name.</summary>
    public string? Name { get; }

    /// <summary>
    /// Seconds the task may run (the original's <c>timeout</c>); 0, the default, means no limit. At the
    /// deadline the task's CancellationToken is cancelled and the task counts as <c>timeout</c>.
    /// </summary>
    public double TimeoutSeconds { get; set; }

    /// <summary>The name of the method that processes a job (the original's <c>process_method</c>). Default: <c>Process</c>.</summary>
    public string? ProcessMethod { get; set; }
}

/// <summary>Marks a task method (no parameters, returns void) to run after <c>Process</c> succeeded. Several run in declared order, base class first.</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false, AllowMultiple = false)]
public sealed class AfterSuccessAttribute : Attribute;

/// <summary>Marks a task method (an <see cref="Exception"/> parameter or none, returns void) to run after <c>Process</c> threw.</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false, AllowMultiple = false)]
public sealed class AfterFailureAttribute : Attribute;

/// <summary>Marks a task method (no parameters, returns void) to run after the task timed out.</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false, AllowMultiple = false)]
public sealed class AfterTimeoutAttribute : Attribute;

/// <summary>Defaults shared by the runtime and the documentation.</summary>
public static class TempestDefaults
{
    /// <summary>Worker threads of an engine that does not set <see cref="TempestAttribute.Threads"/>.</summary>
    public const int Threads = 10;

    /// <summary>How long a graceful stop waits for running tasks: 30 s, like the .NET host.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long a timed-out task gets before its worker is interrupted, and again before it is orphaned: 1 s.</summary>
    public static readonly TimeSpan TimeoutGrace = TimeSpan.FromSeconds(1);

    /// <summary>How long a worker sleeps when a queue that cannot wait returned nothing: 1 s.</summary>
    public static readonly TimeSpan QueuePollInterval = TimeSpan.FromSeconds(1);
}

/// <summary>
/// Emitted by the generator, once per public task, into the assembly that declares the task: the manifest
/// through which an engine in another project finds the task and its generated message class at compile
/// time (no reflection at run time).
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true, Inherited = false)]
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public sealed class TempestTaskManifestAttribute(Type message, Type task) : Attribute
{
    /// <summary>The generated message class.</summary>
    public Type Message { get; } = message;

    /// <summary>The task class.</summary>
    public Type Task { get; } = task;
}
