using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using TaskTempest.Generators.Diagnostics;
using TaskTempest.Generators.Model;

namespace TaskTempest.Generators.Parsing;

/// <summary>Turns a [TempestTask] class into a <see cref="TaskModel"/>, or into the diagnostics that say what is wrong.</summary>
internal static class TaskParser
{
    public static ParseResult<TaskModel> Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var type = (INamedTypeSymbol)context.TargetSymbol;
        var location = LocationInfo.From(type.Locations.FirstOrDefault());
        var diagnostics = new List<DiagnosticInfo>();
        void Report(DiagnosticDescriptor descriptor, params string[] args) =>
            diagnostics.Add(new DiagnosticInfo(descriptor.Id, location, args.ToEquatableArray()));

        try
        {
            string className = type.Name;
            if (!DerivesFrom(type, KnownNames.TempestTask)) Report(DiagnosticDescriptors.TaskNotATempestTask, className);
            if (type.IsAbstract) Report(DiagnosticDescriptors.TaskNotConstructible, className, "it is abstract");
            else if (type.IsGenericType) Report(DiagnosticDescriptors.TaskNotConstructible, className, "it is generic");
            var (constructorArguments, requiresServices) = ParseConstructor(type, className, Report);

            string wireName = className;
            var attribute = context.Attributes[0];
            if (attribute.ConstructorArguments.Length == 1)
            {
                wireName = attribute.ConstructorArguments[0].Value as string ?? "";
                if (wireName.Trim().Length == 0) Report(DiagnosticDescriptors.InvalidWireName, className, "is empty");
                else if (FirstUnprintable(wireName) is { } bad)
                    Report(DiagnosticDescriptors.InvalidWireName, className, $"holds the character U+{(int)bad:X4}");
            }

            // A derived task keeps its base task's timeout unless it sets its own.
            double timeoutSeconds = InheritedNamedArgument(type, "TimeoutSeconds") is double seconds ? seconds : 0;
            // A timer takes at most int.MaxValue milliseconds (about 24.8 days).
            if (!(timeoutSeconds >= 0) || timeoutSeconds > int.MaxValue / 1000.0)
                Report(DiagnosticDescriptors.InvalidTimeout, className, timeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var compilation = context.SemanticModel.Compilation;
            if (!compilation.IsSymbolAccessibleWithin(type, compilation.Assembly) || type.DeclaredAccessibility == Accessibility.Private
                || AnyContainingTypeIsPrivate(type))
                Report(DiagnosticDescriptors.TaskNotConstructible, className, "it is private (or nested in a private type), so the generated code cannot reach it");
            var callbacks = ParseCallbacks(type, className, compilation, Report);

            // Retries and the backoff are inherited like the timeout: the nearest class that sets one decides.
            int retries = InheritedNamedArgument(type, "Retries") is int r ? r : 0;
            if (retries is < 0 or > MaxRetries) Report(DiagnosticDescriptors.InvalidRetries, className, retries.ToString(System.Globalization.CultureInfo.InvariantCulture));
            string? backoffCall = ParseBackoff(type, className, retries, compilation, diagnostics, location);

            // The most derived class that declares the process method decides (a derived task may inherit it).
            string processName = InheritedNamedArgument(type, "ProcessMethod") as string is { Length: > 0 } named ? named : KnownNames.ProcessMethod;
            var processMethods = new List<IMethodSymbol>();
            for (INamedTypeSymbol? current = type; current is not null && processMethods.Count == 0; current = current.BaseType)
            {
                processMethods.AddRange(current.GetMembers(processName).OfType<IMethodSymbol>()
                    .Where(m => m.MethodKind == MethodKind.Ordinary && !m.IsStatic && m.DeclaredAccessibility == Accessibility.Public));
            }
            if (processMethods.Count == 0)
            {
                Report(DiagnosticDescriptors.ProcessMethodMissing, className, $"declares no public instance method named {processName}");
                return new(null, diagnostics.ToEquatableArray());
            }
            if (processMethods.Count > 1)
            {
                Report(DiagnosticDescriptors.ProcessMethodMissing, className, $"declares {processMethods.Count} public {processName} methods; a message could not say which one to call");
                return new(null, diagnostics.ToEquatableArray());
            }

            var process = processMethods[0];
            var returns = ProcessReturnOf(process, className, Report);
            var parameters = new List<ParameterModel>();
            foreach (var parameter in process.Parameters)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (ParseParameter(parameter, className, Report) is { } parameterModel) parameters.Add(parameterModel);
            }

            var submitDefaults = ParseSubmitDefaults(type, className, process, parameters, Report);
            var schedules = RecurringParser.Parse(type, wireName, process, compilation, diagnostics);

            // Warnings (TT0023) leave the task runnable; an error means nothing is generated for it.
            if (diagnostics.Any(d => DiagnosticDescriptors.ById(d.Id).DefaultSeverity == DiagnosticSeverity.Error) || returns is null)
                return new(null, diagnostics.ToEquatableArray());

            string typeNamespace = type.ContainingNamespace.IsGlobalNamespace ? "" : type.ContainingNamespace.ToDisplayString();
            var containing = new List<string>();
            for (var outer = type.ContainingType; outer is not null; outer = outer.ContainingType) containing.Insert(0, outer.Name);
            containing.Add(className);

            var model = new TaskModel(
                WireName: wireName,
                ClassName: className,
                FullyQualifiedName: WireTypes.Fq(type),
                MessageNamespace: typeNamespace.Length == 0 ? KnownNames.MessageNamespaceRoot : KnownNames.MessageNamespaceRoot + "." + typeNamespace,
                MessageClassName: string.Join("_", containing) + "Message",
                IsPublic: IsEffectivelyPublic(type),
                SubmitIsPublic: IsEffectivelyPublic(type) && process.Parameters.All(p => IsPublicType(p.Type)),
                ProcessMethodName: Escape(process.Name),
                Return: returns.Value,
                Parameters: parameters.ToEquatableArray(),
                TimeoutTicks: (long)Math.Round(timeoutSeconds * TimeSpan.TicksPerSecond),
                Retries: retries,
                BackoffCall: backoffCall,
                Callbacks: callbacks.ToEquatableArray(),
                ConstructorArguments: constructorArguments.ToEquatableArray(),
                RequiresServices: requiresServices,
                Location: location,
                SubmitDefaults: submitDefaults,
                Schedules: schedules.ToEquatableArray());
            return new(model, diagnostics.ToEquatableArray());
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Report(DiagnosticDescriptors.UnexpectedError, type.Name, e.Message);
            return new(null, diagnostics.ToEquatableArray());
        }
    }

    /// <summary>
    /// How the engine makes an instance: with a parameterless constructor if there is one, else with the
    /// one constructor the generated code can call, its parameters taken from the job's DI scope.
    /// </summary>
    private static (List<string> Arguments, bool RequiresServices) ParseConstructor(INamedTypeSymbol type, string className, Action<DiagnosticDescriptor, string[]> report)
    {
        var callable = type.InstanceConstructors
            .Where(c => c.DeclaredAccessibility is Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal)
            .ToList();
        if (callable.Any(c => c.Parameters.Length == 0)) return ([], false);
        if (callable.Count != 1)
        {
            if (!type.IsAbstract && !type.IsGenericType)
                report(DiagnosticDescriptors.TaskNotConstructible, [className, callable.Count == 0
                    ? "it has no public or internal constructor"
                    : $"it has {callable.Count} constructors with parameters; give it one, or a parameterless one"]);
            return ([], false);
        }
        const string Services = "global::Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions";
        var arguments = callable[0].Parameters.Select(p =>
        {
            bool optional = p.HasExplicitDefaultValue || p.Type.NullableAnnotation == NullableAnnotation.Annotated;
            if (!optional) return $"{Services}.GetRequiredService<{WireTypes.Fq(p.Type)}>(services!)";
            // An optional service that is not registered gets the parameter's default (null for references and Nullable<T>).
            string fallback = p.HasExplicitDefaultValue ? DefaultLiteral(p) : "default";
            return $"global::TaskTempest.TempestServices.GetOrDefault<{WireTypes.Fq(p.Type)}>(services!, {fallback})";
        }).ToList();
        return (arguments, true);
    }

    /// <summary>
    /// The task's submit defaults: its named queue, priority and unique key (the Process parameters of UniqueBy and
    /// [UniqueKey], in Process order; every argument when only Unique is set), inherited as the timeout is. Null when it sets none.
    /// </summary>
    private static SubmitDefaultsModel? ParseSubmitDefaults(INamedTypeSymbol type, string className, IMethodSymbol process,
        List<ParameterModel> parameters, Action<DiagnosticDescriptor, string[]> report)
    {
        string? queue = InheritedNamedArgument(type, "Queue") as string;
        int priority = InheritedNamedArgument(type, "Priority") is int p ? p : 0;
        int scope = InheritedNamedArgument(type, "Unique") is int u ? u : 0;
        double forSeconds = InheritedNamedArgument(type, "UniqueForSeconds") is double d ? d : 0;
        var uniqueBy = InheritedNamedConstant(type, "UniqueBy") is { Kind: TypedConstantKind.Array, IsNull: false } names
            ? names.Values.Select(n => n.Value as string ?? "").ToList() : [];

        if (queue is not null && !RecurringParser.IsValidName(queue)) report(DiagnosticDescriptors.InvalidQueueOrScheduleName, [className, "Queue", queue, "queue"]);
        var arguments = process.Parameters.Where(x => x.Type.ToDisplayString() != "System.Threading.CancellationToken").ToList();
        foreach (string name in uniqueBy)
        {
            if (arguments.Any(a => a.Name == name)) continue;
            string why = process.Parameters.Any(a => a.Name == name) ? $"'{name}' is the CancellationToken, which is not an argument"
                : $"Process has no parameter named '{name}' (it has: {(arguments.Count == 0 ? "none" : string.Join(", ", arguments.Select(a => a.Name)))})";
            report(DiagnosticDescriptors.UniqueKeyParameter, [className, name, why]);
        }
        var marked = process.Parameters.Where(x => x.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == KnownNames.UniqueKeyAttribute)).ToList();
        foreach (var bad in marked.Where(x => !arguments.Contains(x, SymbolEqualityComparer.Default)))
            report(DiagnosticDescriptors.UniqueKeyParameter, [className, bad.Name, $"'{bad.Name}' is the CancellationToken, which is not an argument"]);

        bool keyed = uniqueBy.Count > 0 || marked.Count > 0 || scope != 0;
        if (scope is < 0 or > 3) report(DiagnosticDescriptors.UniqueScopeSettings, [className, $"sets Unique to {scope}, which is no TempestUniqueScope"]);
        if (scope == 3 && !(forSeconds > 0)) report(DiagnosticDescriptors.UniqueScopeSettings, [className, "sets Unique = TempestUniqueScope.Period without a positive UniqueForSeconds"]);
        if (scope != 3 && forSeconds != 0) report(DiagnosticDescriptors.UniqueScopeSettings, [className, $"sets UniqueForSeconds = {forSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}, which only Unique = TempestUniqueScope.Period takes"]);
        if (forSeconds > TimeSpan.MaxValue.TotalSeconds / 2) report(DiagnosticDescriptors.UniqueScopeSettings, [className, "sets a UniqueForSeconds too long to keep"]);
        if (queue is null && priority == 0 && !keyed) return null;

        // The key's arguments in Process order: those named or marked, or all of them when only a scope is set.
        var chosen = uniqueBy.Count > 0 || marked.Count > 0
            ? arguments.Where(a => uniqueBy.Contains(a.Name) || marked.Contains(a, SymbolEqualityComparer.Default)).ToList()
            : arguments;
        var writes = chosen.Select(a => parameters.FirstOrDefault(m => m.Name == Escape(a.Name))?.WriteStatement).Where(w => w is not null).Select(w => w!).ToList();
        long forTicks = scope == 3 && forSeconds > 0 && forSeconds <= TimeSpan.MaxValue.TotalSeconds / 2 ? (long)Math.Round(forSeconds * TimeSpan.TicksPerSecond) : 0;
        return new SubmitDefaultsModel(queue, priority, scope, forTicks, keyed, writes.ToEquatableArray());
    }

    /// <summary>A named argument of [TempestTask] on the type or, where it does not set it, on the nearest base task that does.</summary>
    private static object? InheritedNamedArgument(INamedTypeSymbol type, string name) =>
        InheritedNamedConstant(type, name) is { Kind: not TypedConstantKind.Array } constant ? constant.Value : null;

    /// <summary>The named argument as the compiler gives it (an array's values are its Values).</summary>
    private static TypedConstant? InheritedNamedConstant(INamedTypeSymbol type, string name)
    {
        for (INamedTypeSymbol? current = type; current is not null; current = current.BaseType)
        {
            var attribute = current.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == KnownNames.TempestTaskAttribute);
            if (attribute is null) continue;
            foreach (var argument in attribute.NamedArguments)
            {
                if (argument.Key == name) return argument.Value;
            }
        }
        return null;
    }

    /// <summary>The callbacks of the task and its base classes, base first, each class's in declared order.</summary>
    private static List<CallbackModel> ParseCallbacks(INamedTypeSymbol type, string className, Compilation compilation, Action<DiagnosticDescriptor, string[]> report)
    {
        var chain = new List<INamedTypeSymbol>();
        for (INamedTypeSymbol? current = type; current is not null && current.ToDisplayString() != KnownNames.TempestTask; current = current.BaseType)
            chain.Insert(0, current);

        var callbacks = new List<CallbackModel>();
        foreach (var declaring in chain)
        {
            foreach (var method in declaring.GetMembers().OfType<IMethodSymbol>())
            {
                CallbackKind? kind = null;
                foreach (var attribute in method.GetAttributes())
                {
                    switch (attribute.AttributeClass?.ToDisplayString())
                    {
                        case KnownNames.AfterSuccessAttribute: kind = CallbackKind.Success; break;
                        case KnownNames.AfterFailureAttribute: kind = CallbackKind.Failure; break;
                        case KnownNames.AfterTimeoutAttribute: kind = CallbackKind.Timeout; break;
                        case KnownNames.AfterRetriesExhaustedAttribute: kind = CallbackKind.Exhausted; break;
                    }
                }
                if (kind is null) continue;
                // An override of a listed callback runs where its base method is listed (the call is virtual).
                if (method.IsOverride && OverriddenChain(method).Any(m => callbacks.Any(c => c.Kind == kind && c.MethodName == Escape(m.Name)))) continue;

                string? problem = CallbackProblem(method, kind.Value)
                    ?? (compilation.IsSymbolAccessibleWithin(method, compilation.Assembly) ? null : "is not accessible from this project (an internal method of another assembly)");
                if (problem is not null)
                {
                    report(DiagnosticDescriptors.CallbackSignature, [className, method.Name, problem]);
                    continue;
                }
                callbacks.Add(new CallbackModel(kind.Value, Escape(method.Name), TakesException: method.Parameters.Length == 1));
            }
        }
        return callbacks;
    }

    /// <summary>The most retries a task may set: more is a typo rather than a plan (the default backoff waits 30 days by then).</summary>
    private const int MaxRetries = 1000;

    /// <summary>
    /// The call of the task's [RetryBackoff] method (the nearest class that declares one), with <c>attempt</c> and, when
    /// it takes it, <c>exception</c>; null for the default backoff. A wrong shape is TT0022, a method on a task that never
    /// retries TT0023 (a warning: it still builds).
    /// </summary>
    private static string? ParseBackoff(INamedTypeSymbol type, string className, int retries, Compilation compilation, List<DiagnosticInfo> diagnostics, LocationInfo? taskLocation)
    {
        for (INamedTypeSymbol? current = type; current is not null && current.ToDisplayString() != KnownNames.TempestTask; current = current.BaseType)
        {
            var marked = current.GetMembers().OfType<IMethodSymbol>()
                .Where(m => m.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == KnownNames.RetryBackoffAttribute))
                .ToList();
            if (marked.Count == 0) continue;
            void Report(IMethodSymbol method, string problem) => diagnostics.Add(new DiagnosticInfo(DiagnosticDescriptors.BackoffSignature.Id,
                LocationInfo.From(method.Locations.FirstOrDefault()) ?? taskLocation, new[] { current.Name, method.Name, problem }.ToEquatableArray()));
            if (marked.Count > 1)
            {
                Report(marked[1], $"is the second [RetryBackoff] method of '{current.Name}' (after '{marked[0].Name}'); a task has one");
                return null;
            }
            var backoff = marked[0];
            string? problem = BackoffProblem(backoff)
                ?? (compilation.IsSymbolAccessibleWithin(backoff, compilation.Assembly) ? null : "is not accessible from this project (an internal method of another assembly)");
            if (problem is not null)
            {
                Report(backoff, problem);
                return null;
            }
            if (retries == 0 && SymbolEqualityComparer.Default.Equals(current, type))
                diagnostics.Add(new DiagnosticInfo(DiagnosticDescriptors.BackoffWithoutRetries.Id,
                    LocationInfo.From(backoff.Locations.FirstOrDefault()) ?? taskLocation, new[] { className, backoff.Name }.ToEquatableArray()));
            return $"{WireTypes.Fq(current)}.{Escape(backoff.Name)}(attempt{(backoff.Parameters.Length == 2 ? ", exception" : "")})";
        }
        return null;
    }

    private static string? BackoffProblem(IMethodSymbol method)
    {
        if (!method.IsStatic) return "is not static; it runs before any task instance of the next attempt exists";
        if (method.IsGenericMethod) return "is generic";
        if (method.ReturnType.ToDisplayString() != "System.TimeSpan") return $"returns '{method.ReturnType.ToDisplayString()}'; it returns the TimeSpan to wait";
        if (method.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal))
            return "is not public or internal, so the generated code cannot call it";
        bool attemptFirst = method.Parameters.Length >= 1 && method.Parameters[0].Type.SpecialType == SpecialType.System_Int32 && method.Parameters[0].RefKind == RefKind.None;
        if (!attemptFirst || method.Parameters.Length > 2 || method.Parameters.Length == 2 && (!IsException(method.Parameters[1].Type) || method.Parameters[1].RefKind != RefKind.None))
            return "must take (int attempt) or (int attempt, Exception? exception)";
        return null;
    }

    private static bool IsException(ITypeSymbol type) =>
        type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString() == "System.Exception";

    private static IEnumerable<IMethodSymbol> OverriddenChain(IMethodSymbol method)
    {
        for (var current = method.OverriddenMethod; current is not null; current = current.OverriddenMethod) yield return current;
    }

    /// <summary>
    /// The first character of a wire name that could break a log line (control characters, line and
    /// paragraph separators, bidirectional overrides): the same set the runtime escapes in text from outside,
    /// so that a wire name goes into every log line of its jobs as it is.
    /// </summary>
    private static char? FirstUnprintable(string name)
    {
        foreach (char c in name)
        {
            if (c < ' ' || (c >= '\u007f' && c <= '\u009f') || c is '\u2028' or '\u2029'
                || (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069'))
                return c;
        }
        return null;
    }

    private static bool AnyContainingTypeIsPrivate(INamedTypeSymbol type)
    {
        for (var outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            if (outer.DeclaredAccessibility == Accessibility.Private) return true;
        }
        return false;
    }

    /// <summary>Whether a type can appear in a public signature: public all the way out, and so are its element and type arguments.</summary>
    private static bool IsPublicType(ITypeSymbol type) => type switch
    {
        IArrayTypeSymbol array => IsPublicType(array.ElementType),
        INamedTypeSymbol named => IsEffectivelyPublic(named) && named.TypeArguments.All(IsPublicType),
        _ => true,
    };

    private static string? CallbackProblem(IMethodSymbol method, CallbackKind kind)
    {
        if (method.IsStatic) return "is static; callbacks run on the task instance";
        if (method.IsGenericMethod) return "is generic";
        if (!method.ReturnsVoid) return $"returns '{method.ReturnType.ToDisplayString()}'; a callback returns void";
        if (method.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal))
            return "is not public or internal, so the generated code cannot call it";
        if (kind == CallbackKind.Failure)
        {
            if (method.Parameters.Length > 1 || method.Parameters.Length == 1 && method.Parameters[0].Type.ToDisplayString() != "System.Exception")
                return "must take one System.Exception parameter, or none";
        }
        else if (kind == CallbackKind.Exhausted)
        {
            // A timeout may end without an exception, so the parameter is nullable.
            if (method.Parameters.Length > 1 || method.Parameters.Length == 1 && !IsException(method.Parameters[0].Type))
                return "must take one 'Exception?' parameter, or none";
        }
        else if (method.Parameters.Length > 0)
        {
            return "must take no parameters";
        }
        return null;
    }

    private static ProcessReturn? ProcessReturnOf(IMethodSymbol process, string className, Action<DiagnosticDescriptor, string[]> report)
    {
        if (process.ReturnsVoid)
        {
            if (process.IsAsync)
            {
                report(DiagnosticDescriptors.ProcessReturnType, [className, "is 'async void'; the engine could not await it, so it could not tell when it ends or whether it failed"]);
                return null;
            }
            return ProcessReturn.Void;
        }
        switch (process.ReturnType.ToDisplayString())
        {
            case "System.Threading.Tasks.Task": return ProcessReturn.Task;
            case "System.Threading.Tasks.ValueTask": return ProcessReturn.ValueTask;
            default:
                report(DiagnosticDescriptors.ProcessReturnType, [className, $"returns '{process.ReturnType.ToDisplayString()}'; a task's result has nowhere to go"]);
                return null;
        }
    }

    private static ParameterModel? ParseParameter(IParameterSymbol parameter, string className, Action<DiagnosticDescriptor, string[]> report)
    {
        string name = Escape(parameter.Name);
        string type = WireTypes.Fq(parameter.Type);
        if (parameter.RefKind != RefKind.None)
        {
            report(DiagnosticDescriptors.ProcessRefParameter, [className, parameter.Name]);
            return null;
        }
        if (parameter.Type.ToDisplayString() == "System.Threading.CancellationToken")
            return new ParameterModel(name, type, IsCancellationToken: true, IsParams: false, DefaultValue: null, ReadExpression: "", WriteStatement: "");

        string? read, write;
        if (parameter.IsParams && WireTypes.ArrayElement(parameter.Type) is { } element)
        {
            read = WireTypes.ElementReader(element, 0) is { } r ? $"global::TaskTempest.Wire.TempestWire.ReadParams(ref reader, {r})" : null;
            write = WireTypes.ElementWriter(element, 0) is { } w ? $"global::TaskTempest.Wire.TempestWire.WriteParams(writer, this.{name}, {w})" : null;
        }
        else
        {
            read = WireTypes.Read(parameter.Type, "reader");
            write = WireTypes.Write(parameter.Type, "writer", "this." + name);
        }
        if (read is null || write is null)
        {
            report(DiagnosticDescriptors.ParameterNotCarriable, [className, parameter.Name, parameter.Type.ToDisplayString()]);
            return null;
        }

        string? defaultValue = parameter.HasExplicitDefaultValue ? DefaultLiteral(parameter) : null;
        if (defaultValue is not null)
            read = $"global::TaskTempest.Wire.TempestWire.HasMore(ref reader) ? {read} : {defaultValue}";
        return new ParameterModel(name, type, IsCancellationToken: false, parameter.IsParams, defaultValue, read, write);
    }

    /// <summary>The default value as a constant expression of the parameter's type.</summary>
    internal static string DefaultLiteral(IParameterSymbol parameter)
    {
        object? value = parameter.ExplicitDefaultValue;
        if (value is null) return "default";
        string literal = value switch
        {
            string s => SymbolDisplay.FormatLiteral(s, quote: true),
            char c => SymbolDisplay.FormatLiteral(c, quote: true),
            bool b => b ? "true" : "false",
            _ => SymbolDisplay.FormatPrimitive(value, quoteStrings: true, useHexadecimalNumbers: false),
        };
        var type = parameter.Type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable
            ? nullable.TypeArguments[0] : parameter.Type;
        return value is string or bool ? literal : $"({WireTypes.Fq(type)})({literal})";
    }

    internal static string Escape(string identifier) =>
        SyntaxFacts.GetKeywordKind(identifier) != SyntaxKind.None ? "@" + identifier : identifier;

    private static bool DerivesFrom(INamedTypeSymbol type, string metadataName)
    {
        for (var current = type.BaseType; current is not null; current = current.BaseType)
        {
            if (current.ToDisplayString() == metadataName) return true;
        }
        return false;
    }

    private static bool IsEffectivelyPublic(INamedTypeSymbol type)
    {
        for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
        {
            if (current.DeclaredAccessibility != Accessibility.Public) return false;
        }
        return true;
    }
}
