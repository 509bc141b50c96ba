using Xunit.Abstractions;
using TaskTempest.Tests.Shared;

namespace TaskTempest.Tests;

/// <summary>Heavy tests that run dotnet publish/pack: one at a time, beside the fast ones.</summary>
[CollectionDefinition(Name)]
public sealed class PublishingCollection
{
    public const string Name = "Publishing";
}

/// <summary>
/// Both routes of the README's "Use it in your project", tried from scratch folders outside the
/// repository as a new user would. The package route: pack the runtime into a folder, `dotnet add
/// package TaskTempest --source` it into a class library, pack that, and build an app that references only
/// the library's package (the library's nuspec says exclude="Build,Analyzers" for TaskTempest, yet the SDK
/// still gives the app the generator). The project route: a ProjectReference to src/TaskTempest alone fails
/// with TT0020 in plain words, and with the generator added as an analyzer reference it builds and runs a job.
/// Each project declares an engine and a task, so each build fails unless the generator ran in it.
/// </summary>
[Collection(PublishingCollection.Name)]
public sealed class PackageTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_package_brings_the_generator_to_direct_and_transitive_consumers()
    {
        string work = Directory.CreateTempSubdirectory("tasktempest-package-").FullName;
        // A version of its own, so no package cache can hand back an older build of this one.
        string version = "0.1.0-test." + Guid.NewGuid().ToString("N")[..12];
        var pack = await ChildProcess.RunRestoringAsync(RepositoryPaths.DotnetHost,
            ["pack", Path.Combine(RepositoryPaths.Root, "src", "TaskTempest", "TaskTempest.csproj"), "-c", "Release",
             "-o", Path.Combine(work, "feed"), $"-p:Version={version}", "--artifacts-path", Path.Combine(work, "artifacts"),
             "-nodeReuse:false", "--disable-build-servers"],
            RepositoryPaths.Root);
        output.WriteLine(pack.Output);
        Assert.True(pack.ExitCode == 0, "pack failed:\n" + pack.Output);

        string userPackages = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.WriteAllText(Path.Combine(work, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources><add key="local" value="feed" /></packageSources>
              <fallbackPackageFolders><add key="user" value="{userPackages}" /></fallbackPackageFolders>
            </configuration>
            """);
        const string Settings = "<TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable><TreatWarningsAsErrors>true</TreatWarningsAsErrors><NoWarn>NU1603</NoWarn>";
        Write(work, "Lib/Lib.csproj", $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>{Settings}</PropertyGroup>
            </Project>
            """);
        // The README's command (with the test's own version: a plain `dotnet add package` takes the newest stable one).
        var add = await ChildProcess.RunAsync(RepositoryPaths.DotnetHost,
            ["add", Path.Combine(work, "Lib", "Lib.csproj"), "package", "TaskTempest", "--source", Path.Combine(work, "feed"),
             "--version", version, "--package-directory", Path.Combine(work, "packages")],
            work);
        output.WriteLine(add.Output);
        Assert.True(add.ExitCode == 0, "dotnet add package failed:\n" + add.Output);
        Write(work, "Lib/LibTasks.cs", """
            using TaskTempest;
            namespace Lib;
            [Tempest(Threads = 1)] public partial class LibTempest;
            [TempestTask] public sealed class LibPing : TempestTask { public void Process(int n) { } }
            """);
        Write(work, "App/App.csproj", $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><OutputType>Exe</OutputType>{Settings}</PropertyGroup>
              <ItemGroup><PackageReference Include="Lib" Version="{version}" /></ItemGroup>
            </Project>
            """);
        Write(work, "App/Program.cs", """
            using TaskTempest;
            System.Console.WriteLine(new AppTempest().ParseMessage("[null,\"AppPing\",\"hi\"]").TaskName + " and " + new Lib.LibTempest().ParseMessage("[null,\"LibPing\",1]").TaskName);
            [Tempest(Threads = 1)] public partial class AppTempest;
            [TempestTask] public sealed class AppPing : TempestTask { public void Process(string s) { } }
            """);

        var packLib = await ChildProcess.RunAsync(RepositoryPaths.DotnetHost,
            ["pack", Path.Combine(work, "Lib", "Lib.csproj"), "-o", Path.Combine(work, "feed"), $"-p:Version={version}",
             "--packages", Path.Combine(work, "packages"), "-nodeReuse:false", "--disable-build-servers"],
            work);
        output.WriteLine(packLib.Output);
        Assert.True(packLib.ExitCode == 0, "the library did not build or pack:\n" + packLib.Output);

        var run = await ChildProcess.RunAsync(RepositoryPaths.DotnetHost,
            ["run", "--project", Path.Combine(work, "App", "App.csproj"), "--packages", Path.Combine(work, "packages"),
             "-nodeReuse:false", "--disable-build-servers"],
            work);
        output.WriteLine(run.Output);

        Assert.True(run.ExitCode == 0, "the consumer did not build or run:\n" + run.Output);
        Assert.Contains("AppPing and LibPing", run.Output, StringComparison.Ordinal);
        Directory.Delete(work, recursive: true);
    }

    [Fact]
    public async Task A_project_reference_needs_the_generator_beside_it_and_says_so_when_it_is_missing()
    {
        string work = Directory.CreateTempSubdirectory("tasktempest-project-").FullName;
        string runtime = Path.Combine(RepositoryPaths.Root, "src", "TaskTempest", "TaskTempest.csproj");
        string generator = Path.Combine(RepositoryPaths.Root, "generators", "TaskTempest.Generators", "TaskTempest.Generators.csproj");
        const string Settings = "<OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable><ImplicitUsings>enable</ImplicitUsings><NoWarn>NU1603</NoWarn>";
        Write(work, "App/Program.cs", """
            using TaskTempest;

            var engine = new MyTempest(new TempestOptions { HandleSignals = false });
            engine.SubmitHello("world");
            var run = engine.RunAsync();
            await Hello.Said.Task.WaitAsync(TimeSpan.FromSeconds(30));
            engine.Stop();
            var result = await run;
            Console.WriteLine($"{MyTempest.Default.Name}: said hello to {Hello.Said.Task.Result}, {result.TasksSucceeded} succeeded");
            """);
        Write(work, "App/MyTempest.cs", """
            using TaskTempest;

            [Tempest(Threads = 1)]
            public partial class MyTempest;

            [TempestTask]
            public sealed class Hello : TempestTask
            {
                public static readonly TaskCompletionSource<string> Said = new(TaskCreationOptions.RunContinuationsAsynchronously);

                public void Process(string name) => Said.TrySetResult(name);
            }
            """);
        // Built outside the repository's folders, so that its obj/ and bin/ stay untouched by this test.
        string[] build = ["--artifacts-path", Path.Combine(work, "artifacts"), "-nodeReuse:false", "--disable-build-servers"];

        // The runtime alone: no generator, and the build says so in plain words.
        Write(work, "App/App.csproj", $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>{Settings}</PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="{runtime}" />
              </ItemGroup>
            </Project>
            """);
        var missing = await ChildProcess.RunAsync(RepositoryPaths.DotnetHost, ["build", Path.Combine(work, "App", "App.csproj"), .. build], work);
        output.WriteLine(missing.Output);
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("error TT0020", missing.Output, StringComparison.Ordinal);
        Assert.Contains("the generator is not running in this project", missing.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("CS0117", missing.Output, StringComparison.Ordinal);

        // The runtime and the generator as an analyzer, as the README says: it builds and runs a job.
        Write(work, "App/App.csproj", $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>{Settings}</PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="{runtime}" />
                <ProjectReference Include="{generator}" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
              </ItemGroup>
            </Project>
            """);
        var run = await ChildProcess.RunAsync(RepositoryPaths.DotnetHost, ["run", "--project", Path.Combine(work, "App", "App.csproj"), .. build], Path.Combine(work, "App"));
        output.WriteLine(run.Output);
        Assert.True(run.ExitCode == 0, "the project route did not build or run:\n" + run.Output);
        Assert.Contains("MyTempest: said hello to world, 1 succeeded", run.Output, StringComparison.Ordinal);
        Directory.Delete(work, recursive: true);
    }

    private static void Write(string root, string relativePath, string text)
    {
        string path = Path.Combine(root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }
}
