using Xunit.Abstractions;
using TaskTempest.Tests.Support;

namespace TaskTempest.Tests;

/// <summary>Heavy tests that run dotnet publish/pack: one at a time, beside the fast ones.</summary>
[CollectionDefinition(Name)]
public sealed class PublishingCollection
{
    public const string Name = "Publishing";
}

/// <summary>
/// One package reference brings the generator: packs the runtime, then packs a class library that
/// references it, then builds an app that references only the library's package (the library's
/// nuspec says exclude="Build,Analyzers" for TaskTempest, yet the SDK still gives the app the
/// generator). Library and app each declare an engine and a task, so each build fails unless the
/// generator ran in it.
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
        var pack = await AotPublishTests.RunAsync(RepositoryPaths.DotnetHost,
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
              <ItemGroup><PackageReference Include="TaskTempest" Version="{version}" /></ItemGroup>
            </Project>
            """);
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

        var packLib = await AotPublishTests.RunAsync(RepositoryPaths.DotnetHost,
            ["pack", Path.Combine(work, "Lib", "Lib.csproj"), "-o", Path.Combine(work, "feed"), $"-p:Version={version}",
             "--packages", Path.Combine(work, "packages"), "-nodeReuse:false", "--disable-build-servers"],
            work);
        output.WriteLine(packLib.Output);
        Assert.True(packLib.ExitCode == 0, "the library did not build or pack:\n" + packLib.Output);

        var run = await AotPublishTests.RunAsync(RepositoryPaths.DotnetHost,
            ["run", "--project", Path.Combine(work, "App", "App.csproj"), "--packages", Path.Combine(work, "packages"),
             "-nodeReuse:false", "--disable-build-servers"],
            work);
        output.WriteLine(run.Output);

        Assert.True(run.ExitCode == 0, "the consumer did not build or run:\n" + run.Output);
        Assert.Contains("AppPing and LibPing", run.Output, StringComparison.Ordinal);
        Directory.Delete(work, recursive: true);
    }

    private static void Write(string root, string relativePath, string text)
    {
        string path = Path.Combine(root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }
}
