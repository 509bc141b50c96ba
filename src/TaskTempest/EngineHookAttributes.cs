namespace TaskTempest;

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
