using System.Collections;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace TaskTempest.Generators.Tests;

/// <summary>The generator's named steps stay cached when an edit does not concern them, and models hold no Roslyn objects.</summary>
public class IncrementalityTests
{
    private const string Source = """
        using TaskTempest;
        namespace App;
        [Tempest(Threads = 2)] public partial class AppTempest;
        [TempestTask] public sealed class Adder : TempestTask { public void Process(int a, int b) { } }
        """;

    private static readonly string[] TrackedSteps =
    [
        TrackingNames.TaskResults, TrackingNames.Tasks, TrackingNames.AllTasks, TrackingNames.EngineResults,
        TrackingNames.Engines, TrackingNames.EnginesWithTasks, TrackingNames.Diagnostics, TrackingNames.ReferencedTasks,
    ];

    [Fact]
    public void An_unrelated_edit_leaves_every_step_cached_or_unchanged()
    {
        var compilation = GeneratorHarness.Compile(Source);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        var first = driver.GetRunResult().Results.Single();
        AssertNoRoslynObjects(first);

        var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace App; public class Unrelated { }", new CSharpParseOptions(LanguageVersion.Latest)));
        var second = driver.RunGenerators(edited).GetRunResult().Results.Single();

        foreach (var step in TrackedSteps)
        {
            Assert.True(second.TrackedSteps.ContainsKey(step), $"step {step} did not run");
            var reasons = second.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
            Assert.All(reasons, r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {r}"));
        }
        Assert.All(second.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    [Fact]
    public void Editing_a_task_body_changes_no_model_and_no_output()
    {
        var compilation = GeneratorHarness.Compile(Source);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var oldTree = compilation.SyntaxTrees.Single();
        var newTree = oldTree.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From(
            Source.Replace("public void Process(int a, int b) { }", "public void Process(int a, int b) { System.Console.WriteLine(a + b); }", StringComparison.Ordinal)));
        var second = driver.RunGenerators(compilation.ReplaceSyntaxTree(oldTree, newTree)).GetRunResult().Results.Single();

        Assert.All(second.TrackedSteps[TrackingNames.TaskResults].SelectMany(s => s.Outputs),
            o => Assert.Equal(IncrementalStepRunReason.Unchanged, o.Reason)); // re-parsed, equal model
        Assert.All(second.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    [Fact]
    public void A_new_task_regenerates_the_engine()
    {
        var compilation = GeneratorHarness.Compile(Source);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText(
            "using TaskTempest; namespace App; [TempestTask] public sealed class Ping : TempestTask { public void Process() { } }",
            new CSharpParseOptions(LanguageVersion.Latest)));
        var second = driver.RunGenerators(edited).GetRunResult().Results.Single();

        Assert.Contains(second.TrackedSteps[TrackingNames.EnginesWithTasks].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Equal(4, second.GeneratedSources.Length); // the engine, two messages and the manifest
    }

    /// <summary>Walks every tracked step's output objects and fails on an ISymbol, SyntaxNode, Location or Compilation.</summary>
    private static void AssertNoRoslynObjects(GeneratorRunResult result)
    {
        foreach (var (name, steps) in result.TrackedSteps)
        {
            // ForAttributeWithMetadataName's own internal steps carry syntax by design; ours must not.
            if (!TrackedSteps.Contains(name)) continue;
            foreach (var output in steps.SelectMany(s => s.Outputs)) Walk(output.Value, name, 0);
        }
    }

    private static void Walk(object? value, string step, int depth)
    {
        if (value is null || depth > 8 || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum) return;
        Assert.False(value is ISymbol or SyntaxNode or Compilation or Location or SemanticModel,
            $"step {step} holds a {value.GetType().Name}, which defeats caching");
        if (value is IEnumerable items)
        {
            foreach (var item in items) Walk(item, step, depth + 1);
            return;
        }
        foreach (var property in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0))
            Walk(property.GetValue(value), step, depth + 1);
    }
}
