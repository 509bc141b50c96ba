namespace TaskTempest;

/// <summary>What engine hooks learn about a task.</summary>
/// <param name="TaskId">The message id.</param>
/// <param name="TaskName">The task's wire name.</param>
/// <param name="Status">The final status; null when the task has just started.</param>
/// <param name="Duration">How long it ran (zero when it has just started).</param>
/// <param name="Logger">The main logger.</param>
public readonly record struct TempestTaskEvent(string TaskId, string TaskName, TempestTaskStatus? Status, TimeSpan Duration,
    Microsoft.Extensions.Logging.ILogger Logger);
