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
            else if (!type.InstanceConstructors.Any(c => c.Parameters.Length == 0 && c.DeclaredAccessibility is Accessibility.Public or Accessibility.Internal))
                Report(DiagnosticDescriptors.TaskNotConstructible, className, "it has no public or internal parameterless constructor");

            string wireName = className;
            var attribute = context.Attributes[0];
            if (attribute.ConstructorArguments.Length == 1)
            {
                wireName = attribute.ConstructorArguments[0].Value as string ?? "";
                if (wireName.Trim().Length == 0) Report(DiagnosticDescriptors.InvalidWireName, className);
            }

            var processMethods = type.GetMembers(KnownNames.ProcessMethod).OfType<IMethodSymbol>()
                .Where(m => m.MethodKind == MethodKind.Ordinary && !m.IsStatic && m.DeclaredAccessibility == Accessibility.Public)
                .ToList();
            if (processMethods.Count == 0)
            {
                Report(DiagnosticDescriptors.ProcessMethodMissing, className, "declares no public instance method named Process");
                return new(null, diagnostics.ToEquatableArray());
            }
            if (processMethods.Count > 1)
            {
                Report(DiagnosticDescriptors.ProcessMethodMissing, className, $"declares {processMethods.Count} public Process methods; a message could not say which one to call");
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

            if (diagnostics.Count > 0 || returns is null) return new(null, diagnostics.ToEquatableArray());

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
                ProcessMethodName: process.Name,
                Return: returns.Value,
                Parameters: parameters.ToEquatableArray(),
                Location: location);
            return new(model, EquatableArray<DiagnosticInfo>.Empty);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Report(DiagnosticDescriptors.UnexpectedError, type.Name, e.Message);
            return new(null, diagnostics.ToEquatableArray());
        }
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
    private static string DefaultLiteral(IParameterSymbol parameter)
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

    private static string Escape(string identifier) =>
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
