using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace TaskTempest.Generators.Model;

// Pipeline models: strings, numbers and EquatableArrays only, never ISymbol, SyntaxNode, Location or
// Compilation, so that an edit elsewhere leaves them equal and the generator's output cached.

/// <summary>How Process returns: the invocation code differs for each.</summary>
public enum ProcessReturn { Void, Task, ValueTask }

/// <summary>One Process parameter.</summary>
/// <param name="Name">The identifier, escaped with @ where it is a keyword.</param>
/// <param name="Type">The fully qualified type, e.g. <c>int</c> or <c>global::System.Guid</c>.</param>
/// <param name="IsCancellationToken">Supplied by the engine, not part of the message.</param>
/// <param name="IsParams">A <c>params</c> array: the message's remaining arguments.</param>
/// <param name="DefaultValue">The default value's C# literal for optional parameters, else null.</param>
/// <param name="ReadExpression">Reads the argument from <c>reader</c>.</param>
/// <param name="WriteStatement">Writes <c>this.Name</c> to <c>writer</c>.</param>
public sealed record ParameterModel(
    string Name, string Type, bool IsCancellationToken, bool IsParams, string? DefaultValue,
    string ReadExpression, string WriteStatement);

/// <summary>Which status a task callback follows; Exhausted: a failure or timeout after which the job will not run again.</summary>
public enum CallbackKind { Success, Failure, Timeout, Exhausted }

/// <summary>A task callback: a method of the task class (or a base) marked [AfterSuccess], [AfterFailure], [AfterTimeout] or [AfterRetriesExhausted].</summary>
public sealed record CallbackModel(CallbackKind Kind, string MethodName, bool TakesException);

/// <summary>A valid [TempestTask] class: everything needed to emit its message class and Submit methods.</summary>
/// <param name="BackoffCall">The call of its [RetryBackoff] method with <c>attempt</c> (and <c>exception</c>), or null for the default backoff.</param>
public sealed record TaskModel(
    string WireName,
    string ClassName,
    string FullyQualifiedName,
    string MessageNamespace,
    string MessageClassName,
    bool IsPublic,
    bool SubmitIsPublic,
    string ProcessMethodName,
    ProcessReturn Return,
    EquatableArray<ParameterModel> Parameters,
    long TimeoutTicks,
    int Retries,
    string? BackoffCall,
    EquatableArray<CallbackModel> Callbacks,
    EquatableArray<string> ConstructorArguments,
    bool RequiresServices,
    LocationInfo? Location,
    SubmitDefaultsModel? SubmitDefaults = null,
    EquatableArray<ScheduleModel> Schedules = default)
{
    public string MessageFullName => $"global::{MessageNamespace}.{MessageClassName}";
}

/// <summary>A task's submit defaults ([TempestTask(Queue, Priority, UniqueBy, Unique, UniqueForSeconds)], [UniqueKey]).</summary>
/// <param name="Queue">The named queue, or null for default.</param>
/// <param name="UniqueScope">0 none, 1 queued, 2 queued or running, 3 period (TempestUniqueScope).</param>
/// <param name="UniqueArguments">The write statements of the arguments that make the unique key, in Process order; empty without a key.</param>
public sealed record SubmitDefaultsModel(string? Queue, int Priority, int UniqueScope, long UniqueForTicks, bool HasUniqueKey, EquatableArray<string> UniqueArguments);

/// <summary>A [Recurring] schedule of a task: the generated engine adds it when it runs.</summary>
/// <param name="Arguments">The Submit call's arguments as C# literals.</param>
public sealed record ScheduleModel(string Name, string Cron, string TimeZone, int Misfire, EquatableArray<string> Arguments);

/// <summary>Which moment an engine hook follows.</summary>
public enum HookKind { BeforeInitialize, AfterInitialize, AfterTaskStarted, AfterTaskFinished }

/// <summary>An engine method marked with a hook attribute; <paramref name="TakesArgument"/>: it takes the logger or the task event.</summary>
public sealed record HookModel(HookKind Kind, string MethodName, bool TakesArgument);

/// <summary>A valid [Tempest] engine partial, its attribute merged over its base engines' (nearest wins).</summary>
/// <param name="Namespace">The namespace, empty for the global namespace.</param>
/// <param name="ContainingTypes">Declarations of the partial types it is nested in, outermost first, e.g. <c>partial class Host</c>.</param>
/// <param name="Settings">Configuration property initializers, e.g. <c>Threads = 2</c>, in a fixed order.</param>
public sealed record EngineModel(
    string Namespace,
    EquatableArray<string> ContainingTypes,
    string ClassName,
    string FullyQualifiedName,
    bool DeclaresBaseType,
    bool DerivesFromEngine,
    bool IsSealed,
    string Name,
    int Threads,
    int Fibers,
    EquatableArray<string> Settings,
    EquatableArray<HookModel> Hooks);

/// <summary>The outcome of looking at one attributed class: a model when it is valid, and what is wrong otherwise.</summary>
public sealed record ParseResult<T>(T? Model, EquatableArray<DiagnosticInfo> Diagnostics) where T : class;

/// <summary>A Location reduced to values.</summary>
public sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

    public static LocationInfo? From(Location? location) =>
        location?.SourceTree is null ? null : new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);
}

/// <summary>A diagnostic reduced to values: the descriptor's id, where, and the message arguments.</summary>
public sealed record DiagnosticInfo(string Id, LocationInfo? Location, EquatableArray<string> Arguments)
{
    public Diagnostic ToDiagnostic() =>
        Diagnostic.Create(Diagnostics.DiagnosticDescriptors.ById(Id), Location?.ToLocation(), Arguments.Select(a => (object)a).ToArray());
}

