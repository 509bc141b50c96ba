using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace TaskTempest.Generators.Diagnostics;

/// <summary>
/// Every diagnostic the generator reports, with fixed ids. Each id has a wrong and a right example in
/// docs/diagnostics.md, which the help link points at.
/// </summary>
public static class DiagnosticDescriptors
{
    private const string Category = "TaskTempest";
    // Relative to the repository root: docs/diagnostics.md has a wrong and a right example per id.
    private const string HelpBase = "docs/diagnostics.md#";

    public static readonly DiagnosticDescriptor EngineNotPartial = Error("TT0001",
        "Engine class must be partial",
        "The engine class '{0}' must be declared partial so that TaskTempest can generate its Submit methods and dispatch table",
        "Add the partial modifier, as in '[Tempest] public partial class MathTempest;'.");

    public static readonly DiagnosticDescriptor TaskNotATempestTask = Error("TT0002",
        "Task class must derive from TempestTask",
        "The task class '{0}' must derive from TaskTempest.TempestTask",
        "Derive the class from TempestTask, which gives it its TaskId and TaskLogger, as in 'public sealed class Adder : TempestTask'.");

    public static readonly DiagnosticDescriptor TaskNotConstructible = Error("TT0003",
        "Task class must be a concrete, non-generic class with a parameterless constructor",
        "The task class '{0}' cannot be created per job: {1}",
        "The engine creates one instance per job with 'new', so the class must not be abstract or generic and needs an accessible parameterless constructor.");

    public static readonly DiagnosticDescriptor ProcessMethodMissing = Error("TT0004",
        "Task class needs exactly one public Process method",
        "The task class '{0}' {1}",
        "Declare exactly one public instance method named Process; its parameters are the task's arguments.");

    public static readonly DiagnosticDescriptor ProcessReturnType = Error("TT0005",
        "Process must return void, Task or ValueTask",
        "'{0}.Process' {1}",
        "Return void for synchronous work, Task or ValueTask for asynchronous work. 'async void' cannot be awaited, so the engine could not tell when the task ends or whether it failed.");

    public static readonly DiagnosticDescriptor ProcessRefParameter = Error("TT0006",
        "Process parameters cannot be ref, out or in",
        "Parameter '{1}' of '{0}.Process' is passed by reference; task arguments come from a queued message and can only be passed by value",
        "Remove the ref, out or in modifier.");

    public static readonly DiagnosticDescriptor ParameterNotCarriable = Error("TT0007",
        "Process parameter type cannot travel in a message",
        "Parameter '{1}' of '{0}.Process' has type '{2}', which the wire format cannot carry",
        "Use a primitive, string, bool, char, enum, Guid, DateTime, DateTimeOffset, TimeSpan, decimal, a nullable form of these, or an array or List<T> of them. Every queue must be able to carry every task, so the rule holds for the memory queue too.");

    public static readonly DiagnosticDescriptor InvalidThreads = Error("TT0008",
        "Threads and Fibers must be at least 1",
        "The engine '{0}' sets {1} = {2}; an engine needs at least one",
        "Set Threads (or Fibers, for cooperative mode) to 1 or more, or leave Threads out for the default of 10.");

    public static readonly DiagnosticDescriptor DuplicateTaskName = Error("TT0009",
        "Two tasks share a wire name",
        "The tasks '{0}' and '{1}' are both named '{2}' on the wire; a message could not say which one it means",
        "Give one of them an explicit wire name: [TempestTask(\"other-name\")].");

    public static readonly DiagnosticDescriptor EngineShape = Error("TT0010",
        "Engine class cannot be generic or nested in a non-partial type",
        "The engine class '{0}' {1}",
        "Declare the engine as a non-generic class; if it is nested, make every containing type partial.");

    public static readonly DiagnosticDescriptor InvalidWireName = Error("TT0011",
        "Task wire name must be non-empty and printable",
        "The task class '{0}' sets a wire name that {1}",
        "Give a non-empty name without control characters, line breaks or bidirectional overrides (it is written into every log line of the task's jobs), or use [TempestTask] for the class name.");

    public static readonly DiagnosticDescriptor InvalidTimeout = Error("TT0012",
        "Timeout must be zero or positive",
        "The task class '{0}' sets TimeoutSeconds = {1}; a timeout is a number of seconds, 0 for none",
        "Set TimeoutSeconds to a positive number of seconds, or leave it out for no timeout.");

    public static readonly DiagnosticDescriptor CallbackSignature = Error("TT0013",
        "Task callback has the wrong shape",
        "The callback '{0}.{1}' {2}",
        "A callback is an instance method the engine can call, returning void: [AfterSuccess] and [AfterTimeout] take no parameters, [AfterFailure] takes the Exception or nothing, [AfterRetriesExhausted] takes an 'Exception?' or nothing.");

    public static readonly DiagnosticDescriptor InvalidEngineTiming = Error("TT0014",
        "Engine timing must be a valid number of seconds",
        "The engine '{0}' sets {1} = {2}; {3}",
        "ShutdownTimeoutSeconds is 0 or more (double.PositiveInfinity waits forever); QueuePollIntervalSeconds is more than 0.");

    public static readonly DiagnosticDescriptor InvalidLogFormat = Error("TT0015",
        "Log format is not a valid template",
        "The engine '{0}' sets {1} = \"{2}\": {3}",
        "A log format is text with the placeholders {timestamp}, {timestamp:FORMAT}, {level} and {message}; {message} appears exactly once.");

    public static readonly DiagnosticDescriptor HookSignature = Error("TT0016",
        "Engine hook has the wrong shape",
        "The hook '{0}.{1}' {2}",
        "Engine hooks return void. [BeforeInitialize] takes no parameters; [AfterInitialize] takes the main ILogger or nothing; [AfterTaskStarted] and [AfterTaskFinished] take a TempestTaskEvent or nothing.");

    public static readonly DiagnosticDescriptor DuplicateTaskClassName = Error("TT0017",
        "Two tasks share a class name",
        "The tasks '{0}' and '{1}' have the same class name, so an engine's Submit{2} methods would collide",
        "Rename one of the classes; tasks in one compilation need distinct class names (their wire names may differ or not).");

    public static readonly DiagnosticDescriptor ThreadsAndFibers = Error("TT0018",
        "An engine runs on threads or on fibers, not both",
        "The engine '{0}' sets both Threads and Fibers; choose thread-pool mode (Threads) or cooperative mode (Fibers)",
        "Threads = N runs tasks on N worker threads; Fibers = N runs N tasks interleaved on one event-loop thread. Keep one.");

    public static readonly DiagnosticDescriptor BlockingTaskOnFibers = new("TT0019",
        "A synchronous task blocks a cooperative engine's event loop",
        "The task '{0}' has a synchronous {1}, which blocks the event loop of the cooperative engine '{2}' while it runs",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true,
        description: "A cooperative engine interleaves its tasks at their awaits on one thread; a synchronous Process never yields, so no other task runs meanwhile. Return Task or ValueTask and await I/O instead. The task still works.",
        helpLinkUri: HelpBase + "tt0019");

    public static readonly DiagnosticDescriptor InvalidRetries = Error("TT0021",
        "Retries must be from 0 to 1000",
        "The task class '{0}' sets Retries = {1}; it is how many times a failed job runs again, 0 for none",
        "Set Retries to a number from 0 (the default: a failure is final) to 1000.");

    public static readonly DiagnosticDescriptor BackoffSignature = Error("TT0022",
        "Retry backoff method has the wrong shape",
        "The retry backoff method '{0}.{1}' {2}",
        "A [RetryBackoff] method is static, public or internal, and reads 'static TimeSpan Backoff(int attempt)' or 'static TimeSpan Backoff(int attempt, Exception? exception)'; a task class declares at most one.");

    public static readonly DiagnosticDescriptor BackoffWithoutRetries = new("TT0023",
        "Retry backoff method on a task without retries",
        "The task class '{0}' declares the retry backoff method '{1}' but no Retries, so it is never called",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true,
        description: "A backoff method says how long a failed job waits before its next attempt; a task retries only when its [TempestTask] sets Retries (or a base task's does). Set Retries = N, or remove the method.",
        helpLinkUri: HelpBase + "tt0023");

    public static readonly DiagnosticDescriptor InvalidCron = Error("TT0024",
        "Cron expression is not valid",
        "The schedule '{0}' of '{1}' has the cron expression \"{2}\": {3}",
        "A cron expression has five fields (minute 0-59, hour 0-23, day of month 1-31, month 1-12 or JAN-DEC, day of week 0-6 or SUN-SAT) or six with seconds first; each is *, a number, a range a-b, a step */n or a-b/n, or a comma list of these. The diagnostic points at the field that does not parse.");

    public static readonly DiagnosticDescriptor CronNeverFires = new("TT0025",
        "Cron expression never fires",
        "The schedule '{0}' of '{1}' has the cron expression \"{2}\", which never fires (no date matches it)",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true,
        description: "The expression parses, but no date matches it (e.g. the 30th of February): the schedule would never submit a job. Fix the day or the month.",
        helpLinkUri: HelpBase + "tt0025");

    public static readonly DiagnosticDescriptor RecurringArguments = Error("TT0026",
        "Recurring arguments do not fit Process",
        "The schedule '{0}' of '{1}' {2}",
        "The arguments after the cron expression are Process's arguments for each tick, in order: constants of the parameters' types (a parameter with a default, or a params array, may be left out). For values known only at run time, add the schedule with engine.AddRecurring(...).");

    public static readonly DiagnosticDescriptor DuplicateScheduleName = Error("TT0027",
        "Two schedules share a name",
        "The schedule name '{0}' is used by '{1}' and by '{2}'; each tick of a schedule is taken by its name, so they would take each other's ticks",
        "Give each [Recurring] its own Name (a task's first schedule is named after its wire name): [Recurring(\"0 * * * *\", Name = \"hourly\")].");

    public static readonly DiagnosticDescriptor InvalidQueueOrScheduleName = Error("TT0028",
        "Queue or schedule name is not valid",
        "'{0}' sets {1} = \"{2}\", which cannot name a {3}",
        "Use 1 to 100 letters, digits, '-', '_', '.' or ':' (the name travels in messages and keys, and is written to logs).");

    public static readonly DiagnosticDescriptor UniqueKeyParameter = Error("TT0029",
        "Unique key names a parameter Process does not have",
        "'{0}' makes its unique key from '{1}', but {2}",
        "UniqueBy lists Process parameter names (nameof(customerId) keeps them in step with renames); a CancellationToken is not an argument. [UniqueKey] on a parameter says the same.");

    public static readonly DiagnosticDescriptor UniqueScopeSettings = Error("TT0030",
        "Unique scope and period do not agree",
        "'{0}' {1}",
        "Unique = TempestUniqueScope.Period needs UniqueForSeconds > 0 (how long the key holds from the submit); the other scopes end with the job and take no period.");

    public static readonly DiagnosticDescriptor UnexpectedError = new("TT9999",
        "TaskTempest generator failed unexpectedly",
        "The TaskTempest generator failed while processing '{0}': {1}. Please report this with the code that triggers it.",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "An unexpected exception inside the generator; nothing was generated for this symbol.",
        helpLinkUri: HelpBase + "tt9999");

    private static readonly Dictionary<string, DiagnosticDescriptor> s_byId = new[]
    {
        EngineNotPartial, TaskNotATempestTask, TaskNotConstructible, ProcessMethodMissing, ProcessReturnType,
        ProcessRefParameter, ParameterNotCarriable, InvalidThreads, DuplicateTaskName, EngineShape, InvalidWireName,
        InvalidTimeout, CallbackSignature, InvalidEngineTiming, InvalidLogFormat, HookSignature, DuplicateTaskClassName, ThreadsAndFibers, BlockingTaskOnFibers,
        InvalidRetries, BackoffSignature, BackoffWithoutRetries, InvalidCron, CronNeverFires, RecurringArguments, DuplicateScheduleName,
        InvalidQueueOrScheduleName, UniqueKeyParameter, UniqueScopeSettings, UnexpectedError,
    }.ToDictionary(d => d.Id);

    public static DiagnosticDescriptor ById(string id) => s_byId[id];

    private static DiagnosticDescriptor Error(string id, string title, string message, string description) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
            description: description, helpLinkUri: HelpBase + id.ToLowerInvariant());
}
