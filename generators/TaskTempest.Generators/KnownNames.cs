namespace TaskTempest.Generators;

/// <summary>Metadata names of the runtime types the generator looks for or emits, in one place.</summary>
internal static class KnownNames
{
    public const string TempestAttribute = "TaskTempest.TempestAttribute";
    public const string TempestTaskAttribute = "TaskTempest.TempestTaskAttribute";
    public const string TempestTask = "TaskTempest.TempestTask";
    public const string TempestTaskManifestAttribute = "TaskTempest.TempestTaskManifestAttribute";
    public const string TempestEngine = "TaskTempest.TempestEngine";
    public const string ProcessMethod = "Process";
    public const string BeforeInitializeAttribute = "TaskTempest.BeforeInitializeAttribute";
    public const string AfterInitializeAttribute = "TaskTempest.AfterInitializeAttribute";
    public const string AfterTaskStartedAttribute = "TaskTempest.AfterTaskStartedAttribute";
    public const string AfterTaskFinishedAttribute = "TaskTempest.AfterTaskFinishedAttribute";
    public const string AfterSuccessAttribute = "TaskTempest.AfterSuccessAttribute";
    public const string AfterFailureAttribute = "TaskTempest.AfterFailureAttribute";
    public const string AfterTimeoutAttribute = "TaskTempest.AfterTimeoutAttribute";
    public const string AfterRetriesExhaustedAttribute = "TaskTempest.AfterRetriesExhaustedAttribute";
    public const string RetryBackoffAttribute = "TaskTempest.RetryBackoffAttribute";
    public const string RecurringAttribute = "TaskTempest.RecurringAttribute";
    public const string UniqueKeyAttribute = "TaskTempest.UniqueKeyAttribute";

    public const string GeneratorName = "TaskTempest.Generators";
    public const string GeneratorVersion = "0.1.0";
    /// <summary>Message classes live here, under the task's own namespace, out of the user's way.</summary>
    public const string MessageNamespaceRoot = "TaskTempest.Generated";
}

/// <summary>Names of the pipeline steps, so tests can assert each one is cached.</summary>
public static class TrackingNames
{
    public const string TaskResults = nameof(TaskResults);
    public const string Tasks = nameof(Tasks);
    public const string AllTasks = nameof(AllTasks);
    public const string EngineResults = nameof(EngineResults);
    public const string Engines = nameof(Engines);
    public const string EnginesWithTasks = nameof(EnginesWithTasks);
    public const string Diagnostics = nameof(Diagnostics);
    public const string ReferencedTasks = nameof(ReferencedTasks);
}
