using System.Runtime.Loader;
using Microsoft.CodeAnalysis;

namespace TaskTempest.Generators.Tests;

/// <summary>
/// Tasks declared in a referenced class library: the library's generator emits its message classes
/// and a manifest; the app's engine finds them at compile time and dispatches them without reflection.
/// These tests build both projects in memory, and the last one runs the result.
/// </summary>
public class CrossProjectTests
{
    private const string Library = """
        using System.Threading.Tasks;
        using TaskTempest;

        namespace Lib;

        public static class Results
        {
            public static readonly TaskCompletionSource<string> Sum = new();
        }

        [TempestTask("lib-adder")]
        public sealed class LibAdder : TempestTask
        {
            public void Process(int a, int b = 10, params int[] more) => Results.Sum.TrySetResult($"{TaskId}:{a + b + System.Linq.Enumerable.Sum(more)}");
        }

        internal sealed class NotExported : TempestTask { public void Process() { } }
        """;

    private const string App = """
        using System;
        using System.Threading.Tasks;
        using Microsoft.Extensions.Logging.Abstractions;
        using TaskTempest;

        namespace App;

        [Tempest(Threads = 1)]
        public partial class AppTempest;

        [TempestTask]
        public sealed class Local : TempestTask { public void Process() { } }

        public static class Check
        {
            public static async Task<string> RunAsync()
            {
                var engine = new AppTempest(new TempestOptions
                {
                    MainLoggerFactory = NullLoggerFactory.Instance, TaskLoggerFactory = NullLoggerFactory.Instance, HandleSignals = false,
                });
                string id = engine.SubmitLibAdder(2, 5, 1, 1);
                var run = engine.RunAsync();
                string result = await Lib.Results.Sum.Task.WaitAsync(TimeSpan.FromSeconds(60));
                engine.Stop();
                await run;
                var parsed = engine.ParseMessage("[null,\"lib-adder\",3]");
                return $"{result == id + ":9"} {parsed.TaskName} {parsed.ToJson().Substring(parsed.ToJson().IndexOf(',') + 1)}";
            }
        }
        """;

    private static (Compilation Library, Compilation App, GeneratorDriverRunResult AppRun) Build()
    {
        var libraryRun = GeneratorHarness.CreateDriver()
            .RunGeneratorsAndUpdateCompilation(GeneratorHarness.Compile(Library).WithAssemblyName("Lib"), out var library, out _).GetRunResult();
        Assert.Empty(GeneratorHarness.AllDiagnostics(libraryRun, library));
        var appInput = GeneratorHarness.Compile(App).AddReferences(library.ToMetadataReference());
        var driver = GeneratorHarness.CreateDriver().RunGeneratorsAndUpdateCompilation(appInput, out var app, out _);
        var appRun = driver.GetRunResult();
        Assert.Empty(GeneratorHarness.AllDiagnostics(appRun, app));
        return (library, app, appRun);
    }

    [Fact]
    public void The_library_exports_its_public_tasks_in_a_manifest()
    {
        var (libraryRun, _) = GeneratorHarness.Run(Library);

        var manifest = Assert.Single(libraryRun.Results.Single().GeneratedSources, s => s.HintName == "TaskTempest.TaskManifest.g.cs");
        Snapshots.Verify(nameof(CrossProjectTests), manifest.HintName, manifest.SourceText.ToString());
    }

    [Fact]
    public void An_engine_gets_Submit_methods_and_dispatch_for_a_referenced_projects_tasks()
    {
        var (_, _, appRun) = Build();

        var engine = Assert.Single(appRun.Results.Single().GeneratedSources, s => s.HintName == "App.AppTempest.Tempest.g.cs");
        Snapshots.Verify(nameof(CrossProjectTests), engine.HintName, engine.SourceText.ToString());
    }

    [Fact]
    public async Task The_two_projects_compile_and_run_together()
    {
        var (library, app, _) = Build();

        var context = new AssemblyLoadContext("cross-project", isCollectible: true);
        try
        {
            context.LoadFromStream(Emit(library));
            var check = context.LoadFromStream(Emit(app)).GetType("App.Check")!;
            var result = await (Task<string>)check.GetMethod("RunAsync")!.Invoke(null, null)!;

            Assert.Equal("True lib-adder \"lib-adder\",3,10]", result); // optional argument's default filled in
        }
        finally
        {
            context.Unload();
        }
    }

    private static MemoryStream Emit(Compilation compilation)
    {
        var stream = new MemoryStream();
        var emitted = compilation.Emit(stream);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        stream.Position = 0;
        return stream;
    }
}
