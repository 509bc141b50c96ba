using System;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TaskTempest.Generators.Diagnostics;
using TaskTempest.Generators.Emit;
using TaskTempest.Generators.Model;
using TaskTempest.Generators.Parsing;

namespace TaskTempest.Generators;

/// <summary>
/// Finds [TempestTask] classes and [Tempest] engine partials and emits, per task, a typed message
/// class and, per engine, its typed Submit methods, Default instance and name-to-task dispatch table.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class TempestGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var taskResults = context.SyntaxProvider.ForAttributeWithMetadataName(
                KnownNames.TempestTaskAttribute,
                static (node, _) => node is ClassDeclarationSyntax,
                TaskParser.Parse)
            .WithTrackingName(TrackingNames.TaskResults);

        var tasks = taskResults
            .Where(static r => r.Model is not null)
            .Select(static (r, _) => r.Model!)
            .WithTrackingName(TrackingNames.Tasks);

        var ownTasks = tasks.Collect();

        // Tasks declared in referenced projects, read from their manifests; the value is equal from one
        // compilation to the next unless a reference changed, so everything downstream stays cached.
        var referencedTasks = context.CompilationProvider
            .Select(static (compilation, ct) => ReferencedTaskReader.Read(compilation, ct))
            .WithTrackingName(TrackingNames.ReferencedTasks);

        var allTasks = ownTasks.Combine(referencedTasks)
            .Select(static (all, _) => all.Left.Concat(all.Right).OrderBy(t => t.WireName, StringComparer.Ordinal).ToEquatableArray())
            .WithTrackingName(TrackingNames.AllTasks);

        var engineResults = context.SyntaxProvider.ForAttributeWithMetadataName(
                KnownNames.TempestAttribute,
                static (node, _) => node is ClassDeclarationSyntax,
                EngineParser.Parse)
            .WithTrackingName(TrackingNames.EngineResults);

        var engines = engineResults
            .Where(static r => r.Model is not null)
            .Select(static (r, _) => r.Model!)
            .WithTrackingName(TrackingNames.Engines);

        var enginesWithTasks = engines.Combine(allTasks).WithTrackingName(TrackingNames.EnginesWithTasks);

        // Diagnostics travel apart from source output, so a diagnostic change never re-emits code.
        var cooperativeEngines = engines
            .Where(static e => e.Fibers > 0)
            .Select(static (e, _) => e.ClassName)
            .Collect();
        var diagnostics = taskResults.Select(static (r, _) => r.Diagnostics).Collect()
            .Combine(engineResults.Select(static (r, _) => r.Diagnostics).Collect())
            .Combine(allTasks)
            .Combine(cooperativeEngines)
            .Select(static (all, _) => all.Left.Left.Left.SelectMany(d => d)
                .Concat(all.Left.Left.Right.SelectMany(d => d))
                .Concat(DuplicateNames(all.Left.Right))
                .Concat(BlockingTasks(all.Left.Right, all.Right))
                .ToEquatableArray())
            .WithTrackingName(TrackingNames.Diagnostics);

        context.RegisterSourceOutput(tasks, static (spc, task) =>
            spc.AddSource(MessageEmitter.HintName(task), MessageEmitter.Emit(task)));

        context.RegisterSourceOutput(enginesWithTasks, static (spc, pair) =>
            spc.AddSource(EngineEmitter.HintName(pair.Left), EngineEmitter.Emit(pair.Left, pair.Right)));

        // This project's manifest: how engines in projects that reference this one find its public tasks.
        context.RegisterSourceOutput(ownTasks, static (spc, own) =>
        {
            var exported = own.Where(t => t.IsPublic).OrderBy(t => t.MessageFullName, StringComparer.Ordinal).ToList();
            if (exported.Count > 0) spc.AddSource("TaskTempest.TaskManifest.g.cs", ManifestEmitter.Emit(exported));
        });

        context.RegisterSourceOutput(diagnostics, static (spc, all) =>
        {
            foreach (var diagnostic in all) spc.ReportDiagnostic(diagnostic.ToDiagnostic());
        });
    }

    /// <summary>A warning for each synchronous task that a cooperative engine of this project would run on its loop.</summary>
    private static System.Collections.Generic.IEnumerable<DiagnosticInfo> BlockingTasks(EquatableArray<TaskModel> tasks, System.Collections.Immutable.ImmutableArray<string> cooperativeEngines)
    {
        if (cooperativeEngines.IsEmpty) yield break;
        string engineNames = string.Join(", ", cooperativeEngines.OrderBy(n => n, StringComparer.Ordinal));
        foreach (var task in tasks.Where(t => t.Return == ProcessReturn.Void))
            yield return new DiagnosticInfo(DiagnosticDescriptors.BlockingTaskOnFibers.Id, task.Location,
                new[] { task.ClassName, task.ProcessMethodName.TrimStart('@'), engineNames }.ToEquatableArray());
    }

    private static System.Collections.Generic.IEnumerable<DiagnosticInfo> DuplicateNames(EquatableArray<TaskModel> tasks)
    {
        // Submit methods are named after the class: two classes of one name would give an engine two identical methods.
        foreach (var group in tasks.GroupBy(t => t.ClassName, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            var first = group.First();
            foreach (var task in group.Skip(1))
                yield return new DiagnosticInfo(DiagnosticDescriptors.DuplicateTaskClassName.Id, task.Location,
                    new[] { first.FullyQualifiedName.Replace("global::", ""), task.FullyQualifiedName.Replace("global::", ""), task.ClassName }.ToEquatableArray());
        }

        // A schedule's ticks are taken by its name: two tasks' schedules of one name would take each other's.
        var scheduleNames = new System.Collections.Generic.Dictionary<string, TaskModel>(StringComparer.Ordinal);
        foreach (var task in tasks)
        {
            foreach (var schedule in task.Schedules.Select(s => s.Name).Distinct())
            {
                if (!scheduleNames.TryGetValue(schedule, out var first)) scheduleNames.Add(schedule, task);
                else yield return new DiagnosticInfo(DiagnosticDescriptors.DuplicateScheduleName.Id, task.Location,
                    new[] { schedule, first.ClassName, task.ClassName }.ToEquatableArray());
            }
        }

        // Sorted by wire name: duplicates are neighbours. Each later claimant is reported against the first.
        for (int i = 1; i < tasks.Count; i++)
        {
            var first = tasks[i - 1];
            var task = tasks[i];
            if (task.WireName != first.WireName) continue;
            yield return new DiagnosticInfo(DiagnosticDescriptors.DuplicateTaskName.Id, task.Location,
                new[] { first.FullyQualifiedName.Replace("global::", ""), task.FullyQualifiedName.Replace("global::", ""), task.WireName }.ToEquatableArray());
        }
    }
}
