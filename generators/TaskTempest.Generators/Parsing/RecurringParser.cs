using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Cronos;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;
using TaskTempest.Generators.Diagnostics;
using TaskTempest.Generators.Model;

namespace TaskTempest.Generators.Parsing;

/// <summary>A task's [Recurring] attributes: each cron expression checked with Cronos (the runtime's parser) and located
/// to the field that is wrong, and the arguments checked against Process's parameters.</summary>
internal static class RecurringParser
{
    private static readonly string[] s_fieldNames = ["minute", "hour", "day-of-month", "month", "day-of-week"];

    public static List<ScheduleModel> Parse(INamedTypeSymbol type, string wireName, IMethodSymbol process, Compilation compilation, List<DiagnosticInfo> diagnostics)
    {
        var schedules = new List<ScheduleModel>();
        var attributes = type.GetAttributes().Where(a => a.AttributeClass?.ToDisplayString() == KnownNames.RecurringAttribute).ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var attribute in attributes)
        {
            var location = LocationInfo.From(attribute.ApplicationSyntaxReference?.GetSyntax().GetLocation()) ?? LocationInfo.From(type.Locations.FirstOrDefault());
            void Report(DiagnosticDescriptor descriptor, LocationInfo? at, params string[] args) =>
                diagnostics.Add(new DiagnosticInfo(descriptor.Id, at ?? location, args.ToEquatableArray()));

            if (attribute.ConstructorArguments.Length != 2) continue; // the compiler reports what is wrong with the attribute
            string cron = attribute.ConstructorArguments[0].Value as string ?? "";
            string name = Named(attribute, "Name") as string ?? wireName;
            string zone = Named(attribute, "TimeZone") as string ?? "UTC";
            int misfire = Named(attribute, "Misfire") is int m ? m : 0;
            bool valid = true;

            if (!IsValidName(name))
            {
                Report(DiagnosticDescriptors.InvalidQueueOrScheduleName, null, type.Name, "Name", name, "schedule");
                valid = false;
            }
            else if (!names.Add(name))
            {
                Report(DiagnosticDescriptors.DuplicateScheduleName, null, name, type.Name, type.Name);
                valid = false;
            }
            if (zone.Trim().Length == 0)
            {
                Report(DiagnosticDescriptors.InvalidQueueOrScheduleName, null, type.Name, "TimeZone", zone, "time zone");
                valid = false;
            }

            if (CheckCron(cron) is { } problem)
            {
                Report(DiagnosticDescriptors.InvalidCron, CronLocation(attribute, cron, problem.Start, problem.Length), name, type.Name, cron, problem.Message);
                valid = false;
            }
            else if (NeverFires(cron))
            {
                Report(DiagnosticDescriptors.CronNeverFires, CronLocation(attribute, cron, 0, cron.Length), name, type.Name, cron);
            }

            var arguments = Arguments(attribute, process, compilation, out string? argumentProblem);
            if (argumentProblem is not null)
            {
                Report(DiagnosticDescriptors.RecurringArguments, null, name, type.Name, argumentProblem);
                valid = false;
            }
            if (valid) schedules.Add(new ScheduleModel(name, cron, zone, misfire, arguments.ToEquatableArray()));
        }
        return schedules;
    }

    private static object? Named(AttributeData attribute, string name) =>
        attribute.NamedArguments.FirstOrDefault(a => a.Key == name).Value.Value;

    internal static bool IsValidName(string name) =>
        name.Length is > 0 and <= 100 && name.All(c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '_' or '.' or ':');

    /// <summary>What is wrong with <paramref name="cron"/>, and where (offset and length in the expression); null when it parses.</summary>
    internal static (string Message, int Start, int Length)? CheckCron(string cron)
    {
        var fields = new List<(string Text, int Start)>();
        for (int i = 0; i < cron.Length;)
        {
            if (cron[i] is ' ' or '\t') { i++; continue; }
            int start = i;
            while (i < cron.Length && cron[i] is not (' ' or '\t')) i++;
            fields.Add((cron.Substring(start, i - start), start));
        }
        if (fields.Count is not (5 or 6))
            return ($"it has {fields.Count} field{(fields.Count == 1 ? "" : "s")}, and a cron expression has 5 (minute hour day-of-month month day-of-week) or 6 with seconds first", 0, cron.Length);
        var format = fields.Count == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard;
        try
        {
            CronExpression.Parse(cron, format);
            return null;
        }
        catch (CronFormatException whole)
        {
            // Cronos names no position: parse each field alone among stars to find the one that fails.
            for (int f = 0; f < fields.Count; f++)
            {
                string alone = string.Join(" ", fields.Select((field, i) => i == f ? field.Text : "*"));
                try
                {
                    CronExpression.Parse(alone, format);
                }
                catch (CronFormatException e)
                {
                    string fieldName = fields.Count == 6 ? (f == 0 ? "second" : s_fieldNames[f - 1]) : s_fieldNames[f];
                    return ($"the {fieldName} field '{fields[f].Text}' is not valid ({e.Message})", fields[f].Start, fields[f].Text.Length);
                }
            }
            return (whole.Message, 0, cron.Length);
        }
    }

    /// <summary>Whether the expression matches no date from 2026 on (Cronos searches years ahead).</summary>
    internal static bool NeverFires(string cron)
    {
        var format = cron.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).Length == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard;
        return CronExpression.Parse(cron, format).GetNextOccurrence(new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc)) is null;
    }

    /// <summary>The cron field's characters inside the attribute's string literal, where the literal is a plain one whose
    /// text maps one to one onto its value; else the whole argument.</summary>
    private static LocationInfo? CronLocation(AttributeData attribute, string cron, int start, int length)
    {
        if (attribute.ApplicationSyntaxReference?.GetSyntax() is not AttributeSyntax { ArgumentList.Arguments.Count: > 0 } syntax) return null;
        var expression = syntax.ArgumentList.Arguments[0].Expression;
        if (expression is LiteralExpressionSyntax { Token: var token } && token.IsKind(SyntaxKind.StringLiteralToken)
            && token.Text.Length == cron.Length + 2 && token.Text[0] == '"')
        {
            var span = new TextSpan(token.SpanStart + 1 + start, Math.Max(length, 1));
            return LocationInfo.From(Location.Create(syntax.SyntaxTree, span));
        }
        return LocationInfo.From(expression.GetLocation());
    }

    /// <summary>The Submit call's arguments as literals, or the problem with them.</summary>
    private static List<string> Arguments(AttributeData attribute, IMethodSymbol process, Compilation compilation, out string? problem)
    {
        problem = null;
        var given = attribute.ConstructorArguments[1];
        var values = given.Kind == TypedConstantKind.Array ? given.Values.ToList() : [given];
        var parameters = process.Parameters.Where(p => p.Type.ToDisplayString() != "System.Threading.CancellationToken").ToList();
        var literals = new List<string>();
        for (int i = 0; i < values.Count; i++)
        {
            var parameter = i < parameters.Count ? parameters[i] : parameters.LastOrDefault(p => p.IsParams);
            if (parameter is null)
            {
                problem = $"gives {values.Count} arguments, and Process takes {parameters.Count}";
                return literals;
            }
            var target = parameter.IsParams && parameter.Type is IArrayTypeSymbol array ? array.ElementType : parameter.Type;
            if (Literal(values[i], target, compilation) is not { } literal)
            {
                string what = values[i].IsNull ? "null" : values[i].Kind == TypedConstantKind.Array ? "an array" : $"a {values[i].Type?.ToDisplayString() ?? "value"}";
                problem = $"gives {what} as argument {i + 1}, which does not fit Process's parameter '{parameter.Name}' of type {target.ToDisplayString()}";
                return literals;
            }
            literals.Add(literal);
        }
        foreach (var missing in parameters.Skip(values.Count))
        {
            if (missing.HasExplicitDefaultValue || missing.IsParams) continue;
            problem = values.Count == 0
                ? $"gives no arguments, and Process needs one for '{missing.Name}'; add them after the expression: [Recurring(\"...\", value, ...)]"
                : $"gives no argument for Process's parameter '{missing.Name}'";
            return literals;
        }
        return literals;
    }

    /// <summary>A constant as a C# expression of its own type, where it converts to <paramref name="target"/>; else null.</summary>
    private static string? Literal(TypedConstant constant, ITypeSymbol target, Compilation compilation)
    {
        if (constant.Kind == TypedConstantKind.Array) return null;
        if (constant.IsNull)
            return target.IsReferenceType || target is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } ? "null" : null;
        if (constant.Type is not { } type || !compilation.ClassifyConversion(type, target).IsImplicit) return null;
        return constant.Value switch
        {
            string s => SymbolDisplay.FormatLiteral(s, quote: true),
            char c => SymbolDisplay.FormatLiteral(c, quote: true),
            bool b => b ? "true" : "false",
            double d => $"({WireTypes.Fq(type)})({d.ToString("R", CultureInfo.InvariantCulture)})",
            float f => $"({WireTypes.Fq(type)})({f.ToString("R", CultureInfo.InvariantCulture)}f)",
            { } value => $"({WireTypes.Fq(type)})({SymbolDisplay.FormatPrimitive(value, quoteStrings: true, useHexadecimalNumbers: false)})",
            _ => null,
        };
    }
}
