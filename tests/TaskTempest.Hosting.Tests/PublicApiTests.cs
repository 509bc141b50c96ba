using PublicApiGenerator;
using TaskTempest.Tests.Shared;

namespace TaskTempest.Hosting.Tests;

/// <summary>
/// The hosting package's public API, checked in as text like the runtime's (tests/TaskTempest.Tests/PublicApiTests.cs). A
/// change writes PublicApiTests.TaskTempest.Hosting.received.txt beside the snapshot; TASKTEMPEST_UPDATE_SNAPSHOTS=1 accepts it.
/// </summary>
public class PublicApiTests
{
    [Fact]
    public void The_hosting_packages_public_API_is_the_one_checked_in()
    {
        string actual = typeof(TempestHostOptions).Assembly
            // The extension methods live in Microsoft.Extensions.DependencyInjection, which the generator leaves out unless told.
            .GeneratePublicApi(new ApiGeneratorOptions { IncludeAssemblyAttributes = false, AllowNamespacePrefixes = ["Microsoft.Extensions.DependencyInjection"] })
            .ReplaceLineEndings("\n");
        string folder = Path.Combine(RepositoryPaths.Root, "tests", "TaskTempest.Hosting.Tests", "_api");
        SnapshotFile.Check(Path.Combine(folder, "PublicApiTests.TaskTempest.Hosting.verified.txt"),
            Path.Combine(folder, "PublicApiTests.TaskTempest.Hosting.received.txt"), actual, "The hosting package's public API");
    }
}
