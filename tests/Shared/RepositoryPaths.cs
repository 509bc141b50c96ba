namespace TaskTempest.Tests.Shared;

/// <summary>Where the repository and the dotnet host are, for code that runs the repository's projects as processes.
/// Linked into both runtime test projects and the throughput harness.</summary>
internal static class RepositoryPaths
{
    /// <summary>The folder holding TaskTempest.sln, found upwards from the running binaries.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TaskTempest.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("TaskTempest.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The dotnet host that runs these tests (the SDK's), else dotnet on PATH.</summary>
    public static string DotnetHost => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
}
