using PublicApiGenerator;
using TaskTempest.Tests.Shared;

namespace TaskTempest.Dashboard.Tests;

/// <summary>
/// The dashboard package's public API, checked in as text like the runtime's (tests/TaskTempest.Tests/PublicApiTests.cs). A
/// change writes PublicApiTests.TaskTempest.Dashboard.received.txt beside the snapshot; TASKTEMPEST_UPDATE_SNAPSHOTS=1 accepts it.
/// </summary>
public class PublicApiTests
{
    [Fact]
    public void The_dashboard_packages_public_API_is_the_one_checked_in()
    {
        string actual = typeof(TempestDashboardOptions).Assembly
            // The extension methods live in ASP.NET Core's and DI's namespaces, which the generator leaves out unless told.
            .GeneratePublicApi(new ApiGeneratorOptions
            {
                IncludeAssemblyAttributes = false,
                AllowNamespacePrefixes = ["Microsoft.Extensions.DependencyInjection", "Microsoft.AspNetCore"],
            })
            .ReplaceLineEndings("\n");
        string folder = Path.Combine(RepositoryPaths.Root, "tests", "TaskTempest.Dashboard.Tests", "_api");
        SnapshotFile.Check(Path.Combine(folder, "PublicApiTests.TaskTempest.Dashboard.verified.txt"),
            Path.Combine(folder, "PublicApiTests.TaskTempest.Dashboard.received.txt"), actual, "The dashboard package's public API");
    }
}
