using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TaskTempest.Generators.Diagnostics;
using TaskTempest.Generators.Model;

namespace TaskTempest.Generators.Parsing;

/// <summary>Turns a [Tempest] class into an <see cref="EngineModel"/>, or into the diagnostics that say what is wrong.</summary>
internal static class EngineParser
{
    private const int DefaultThreads = 10; // TempestDefaults.Threads in the runtime
    private const double MaxSeconds = int.MaxValue / 1000.0; // what a timer accepts: about 24 days

    private static readonly string[] LevelNames = ["Trace", "Debug", "Information", "Warning", "Error", "Critical", "None"];

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static long Ticks(double seconds) => (long)Math.Round(seconds * TimeSpan.TicksPerSecond);

    private static string Literal(string value) => SymbolDisplay.FormatLiteral(value, quote: true);

    /// <summary>The engine's own hook methods in declared order (a base engine's run first, from its own generated code).</summary>
    private static List<HookModel> ParseHooks(INamedTypeSymbol type, Action<DiagnosticDescriptor, string[]> report)
    {
        var hooks = new List<HookModel>();
        foreach (var method in type.GetMembers().OfType<IMethodSymbol>())
        {
            HookKind? kind = null;
            foreach (var attribute in method.GetAttributes())
            {
                switch (attribute.AttributeClass?.ToDisplayString())
                {
                    case KnownNames.BeforeInitializeAttribute: kind = HookKind.BeforeInitialize; break;
                    case KnownNames.AfterInitializeAttribute: kind = HookKind.AfterInitialize; break;
                    case KnownNames.AfterTaskStartedAttribute: kind = HookKind.AfterTaskStarted; break;
                    case KnownNames.AfterTaskFinishedAttribute: kind = HookKind.AfterTaskFinished; break;
                }
            }
            if (kind is null) continue;

            string? argumentType = kind switch
            {
                HookKind.AfterInitialize => "Microsoft.Extensions.Logging.ILogger",
                HookKind.AfterTaskStarted or HookKind.AfterTaskFinished => "TaskTempest.TempestTaskEvent",
                _ => null,
            };
            string? problem =
                !method.ReturnsVoid ? $"returns '{method.ReturnType.ToDisplayString()}'; a hook returns void"
                : method.IsGenericMethod ? "is generic"
                : method.Parameters.Length > 1 || method.Parameters.Length == 1 && method.Parameters[0].Type.ToDisplayString() != argumentType
                    ? argumentType is null ? "must take no parameters" : $"must take a {argumentType} or nothing"
                : null;
            if (problem is not null)
            {
                report(DiagnosticDescriptors.HookSignature, [type.Name, method.Name, problem]);
                continue;
            }
            string methodName = SyntaxFacts.GetKeywordKind(method.Name) != SyntaxKind.None ? "@" + method.Name : method.Name;
            hooks.Add(new HookModel(kind.Value, methodName, TakesArgument: method.Parameters.Length == 1));
        }
        return hooks;
    }

    public static ParseResult<EngineModel> Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var type = (INamedTypeSymbol)context.TargetSymbol;
        var syntax = (ClassDeclarationSyntax)context.TargetNode;
        var location = LocationInfo.From(syntax.Identifier.GetLocation());
        var diagnostics = new List<DiagnosticInfo>();
        void Report(DiagnosticDescriptor descriptor, params string[] args) =>
            diagnostics.Add(new DiagnosticInfo(descriptor.Id, location, args.ToEquatableArray()));

        try
        {
            if (!syntax.Modifiers.Any(SyntaxKind.PartialKeyword)) Report(DiagnosticDescriptors.EngineNotPartial, type.Name);
            if (type.IsGenericType) Report(DiagnosticDescriptors.EngineShape, type.Name, "is generic; an engine's Default instance and generated members need one concrete type");

            var containing = new List<string>();
            for (var outer = syntax.Parent as TypeDeclarationSyntax; outer is not null; outer = outer.Parent as TypeDeclarationSyntax)
            {
                if (!outer.Modifiers.Any(SyntaxKind.PartialKeyword))
                {
                    Report(DiagnosticDescriptors.EngineShape, type.Name, $"is nested in '{outer.Identifier.Text}', which is not partial, so the generated part cannot be added to it");
                    break;
                }
                string keyword = outer is RecordDeclarationSyntax record
                    ? "record " + (record.ClassOrStructKeyword.Text is { Length: > 0 } k ? k + " " : "")
                    : outer.Keyword.Text + " ";
                containing.Insert(0, $"partial {keyword}{outer.Identifier.Text}{outer.TypeParameterList}");
            }

            // The attribute's values, nearest engine first: a derived engine keeps what it does not set.
            var arguments = new Dictionary<string, TypedConstant>();
            for (INamedTypeSymbol? current = type; current is not null; current = current.BaseType)
            {
                var attribute = current.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == KnownNames.TempestAttribute);
                if (attribute is null) continue;
                foreach (var argument in attribute.NamedArguments)
                {
                    // The name is not inherited: each engine class has its own log files unless it says otherwise.
                    if (argument.Key == "Name" && !SymbolEqualityComparer.Default.Equals(current, type)) continue;
                    if (!arguments.ContainsKey(argument.Key)) arguments[argument.Key] = argument.Value;
                }
            }

            string name = arguments.TryGetValue("Name", out var n) && n.Value is string s && s.Trim().Length > 0 ? s : type.Name;
            int threads = arguments.TryGetValue("Threads", out var t) && t.Value is int count ? count : DefaultThreads;
            if (threads <= 0) Report(DiagnosticDescriptors.InvalidThreads, type.Name, "Threads", threads.ToString(CultureInfo.InvariantCulture));
            int fibers = 0;
            if (arguments.TryGetValue("Fibers", out var f) && f.Value is int fiberCount)
            {
                fibers = fiberCount;
                if (fibers <= 0) Report(DiagnosticDescriptors.InvalidThreads, type.Name, "Fibers", fibers.ToString(CultureInfo.InvariantCulture));
                if (arguments.ContainsKey("Threads")) Report(DiagnosticDescriptors.ThreadsAndFibers, type.Name);
            }

            var settings = new List<string> { $"Threads = {threads}" };
            if (fibers > 0) settings.Add($"Fibers = {fibers}");
            if (arguments.TryGetValue("ShutdownTimeoutSeconds", out var shutdown) && shutdown.Value is double shutdownSeconds)
            {
                if (double.IsPositiveInfinity(shutdownSeconds)) settings.Add("ShutdownTimeout = global::System.Threading.Timeout.InfiniteTimeSpan");
                else if (!(shutdownSeconds >= 0) || shutdownSeconds > MaxSeconds)
                    Report(DiagnosticDescriptors.InvalidEngineTiming, type.Name, "ShutdownTimeoutSeconds", Format(shutdownSeconds), "it must be 0 or more (at most 24 days), or double.PositiveInfinity to wait forever");
                else settings.Add($"ShutdownTimeout = global::System.TimeSpan.FromTicks({Ticks(shutdownSeconds)})");
            }
            if (arguments.TryGetValue("QueuePollIntervalSeconds", out var poll) && poll.Value is double pollSeconds)
            {
                if (!(pollSeconds > 0) || pollSeconds > MaxSeconds)
                    Report(DiagnosticDescriptors.InvalidEngineTiming, type.Name, "QueuePollIntervalSeconds", Format(pollSeconds), "it must be more than 0 (and at most 24 days), or a queue that cannot wait would be polled in a busy loop");
                else settings.Add($"QueuePollInterval = global::System.TimeSpan.FromTicks({Ticks(pollSeconds)})");
            }
            foreach (var file in new[] { "LogFile", "TaskLogFile" })
            {
                if (arguments.TryGetValue(file, out var path) && path.Value is string p && p.Length > 0) settings.Add($"{file} = {Literal(p)}");
            }
            foreach (var level in new[] { "LogLevel", "TaskLogLevel" })
            {
                if (arguments.TryGetValue(level, out var value) && value.Value is int l)
                    settings.Add(l is >= 0 and < 7
                        ? $"{level} = global::Microsoft.Extensions.Logging.LogLevel.{LevelNames[l]}"
                        : $"{level} = (global::Microsoft.Extensions.Logging.LogLevel){l}");
            }
            foreach (var format in new[] { "LogFormat", "TaskLogFormat" })
            {
                if (!arguments.TryGetValue(format, out var value) || value.Value is not string template) continue;
                if (LogFormatCheck.Problem(template) is { } problem) Report(DiagnosticDescriptors.InvalidLogFormat, type.Name, format, template, problem);
                else settings.Add($"{format} = {Literal(template)}");
            }

            var hooks = ParseHooks(type, Report);

            if (diagnostics.Count > 0) return new(null, diagnostics.ToEquatableArray());

            bool declaresBaseType = type.BaseType is { SpecialType: not SpecialType.System_Object };
            var model = new EngineModel(
                Namespace: type.ContainingNamespace.IsGlobalNamespace ? "" : type.ContainingNamespace.ToDisplayString(),
                ContainingTypes: containing.ToEquatableArray(),
                ClassName: type.Name,
                FullyQualifiedName: WireTypes.Fq(type),
                DeclaresBaseType: declaresBaseType,
                // Only a base engine with [Tempest] has generated Submit methods and a dispatch table to inherit.
                DerivesFromEngine: declaresBaseType && type.BaseType!.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == KnownNames.TempestAttribute),
                IsSealed: type.IsSealed,
                Name: name,
                Threads: threads,
                Fibers: fibers,
                Settings: settings.ToEquatableArray(),
                Hooks: hooks.ToEquatableArray());
            return new(model, EquatableArray<DiagnosticInfo>.Empty);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Report(DiagnosticDescriptors.UnexpectedError, type.Name, e.Message);
            return new(null, diagnostics.ToEquatableArray());
        }
    }
}
