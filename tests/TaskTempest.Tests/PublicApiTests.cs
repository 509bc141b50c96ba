using PublicApiGenerator;
using TaskTempest.Tests.Shared;

namespace TaskTempest.Tests;

/// <summary>
/// The runtime's public API, checked in as text, so that every change to it shows in review. A change
/// writes PublicApiTests.TaskTempest.received.txt beside the snapshot; TASKTEMPEST_UPDATE_SNAPSHOTS=1 accepts it.
/// </summary>
public class PublicApiTests
{
    [Fact]
    public void The_runtimes_public_API_is_the_one_checked_in()
    {
        string actual = typeof(TempestEngine).Assembly
            .GeneratePublicApi(new ApiGeneratorOptions { IncludeAssemblyAttributes = false })
            .ReplaceLineEndings("\n");
        string folder = Path.Combine(RepositoryPaths.Root, "tests", "TaskTempest.Tests", "_api");
        SnapshotFile.Check(Path.Combine(folder, "PublicApiTests.TaskTempest.verified.txt"),
            Path.Combine(folder, "PublicApiTests.TaskTempest.received.txt"), actual, "The public API");
    }
}
