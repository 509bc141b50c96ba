using System;
using System.Collections.Generic;
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

            string name = type.Name;
            int threads = DefaultThreads;
            foreach (var argument in context.Attributes[0].NamedArguments)
            {
                switch (argument.Key)
                {
                    case "Name" when argument.Value.Value is string s && s.Trim().Length > 0: name = s; break;
                    case "Threads" when argument.Value.Value is int n: threads = n; break;
                }
            }
            if (threads <= 0) Report(DiagnosticDescriptors.InvalidThreads, type.Name, threads.ToString(System.Globalization.CultureInfo.InvariantCulture));

            if (diagnostics.Count > 0) return new(null, diagnostics.ToEquatableArray());

            bool declaresBaseType = type.BaseType is { SpecialType: not SpecialType.System_Object };
            var model = new EngineModel(
                Namespace: type.ContainingNamespace.IsGlobalNamespace ? "" : type.ContainingNamespace.ToDisplayString(),
                ContainingTypes: containing.ToEquatableArray(),
                ClassName: type.Name,
                FullyQualifiedName: WireTypes.Fq(type),
                DeclaresBaseType: declaresBaseType,
                Name: name,
                Threads: threads);
            return new(model, EquatableArray<DiagnosticInfo>.Empty);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Report(DiagnosticDescriptors.UnexpectedError, type.Name, e.Message);
            return new(null, diagnostics.ToEquatableArray());
        }
    }
}
