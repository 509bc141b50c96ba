using System.Diagnostics;
using System.IO.Compression;
using System.Reflection.Metadata;
using System.Text;
using System.Xml.Linq;
using Xunit.Abstractions;
using TaskTempest.Tests.Shared;

namespace TaskTempest.Tests;

/// <summary>
/// The packages and the project template, as a user gets them: `dotnet pack src/Packages.proj` packs every project under
/// src/ and templates/ into a folder with a version of the test's own; each package carries its readme, licence and
/// repository (with the commit), and each assembly's pdb is in a .snupkg beside it, with Source Link to that commit.
/// Then, from a scratch folder outside the repository, `dotnet new install` puts the template into a private store,
/// `dotnet new tempest-worker` makes a worker that references the packed TaskTempest, and its own test passes.
/// </summary>
[Collection(PublishingCollection.Name)]
public sealed class TemplateTests(ITestOutputHelper output)
{
    /// <summary>Source Link's kind of custom debug information in a portable pdb.</summary>
    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");

    [Fact]
    public async Task Every_package_carries_its_metadata_and_the_template_makes_a_worker_whose_test_passes()
    {
        var total = Stopwatch.StartNew();
        string work = Directory.CreateTempSubdirectory("tasktempest-template-").FullName;
        // A version of its own, so no package cache can hand back an older build of these.
        string version = "0.1.0-test." + Guid.NewGuid().ToString("N")[..12];
        string feed = Path.Combine(work, "feed");

        var step = Stopwatch.StartNew();
        var pack = await ChildProcess.RunRestoringAsync(RepositoryPaths.DotnetHost,
            ["pack", Path.Combine(RepositoryPaths.Root, "src", "Packages.proj"), "-c", "Release", "-o", feed, $"-p:Version={version}",
             "--artifacts-path", Path.Combine(work, "artifacts"), "-nodeReuse:false", "--disable-build-servers"],
            RepositoryPaths.Root, TimeSpan.FromMinutes(10));
        output.WriteLine($"pack: {step.Elapsed.TotalSeconds:0.0} s\n{pack.Output}");
        Assert.True(pack.ExitCode == 0, "pack failed:\n" + pack.Output);

        // Exactly one package per packable project under src/ and templates/ (a new project there is packed too).
        var expected = PackableProjects().Order(StringComparer.Ordinal).ToArray();
        var packed = Directory.GetFiles(feed, "*.nupkg").Select(p => PackageId(p, version)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expected, packed);
        Assert.Contains("TaskTempest", packed);
        Assert.Contains("TaskTempest.Templates", packed);

        string repositoryUrl = RepositoryUrl();
        foreach (string id in packed) CheckPackage(feed, id, version, repositoryUrl);

        // The template, from a scratch folder outside the repository, into a template store of the test's own.
        string hive = Path.Combine(work, "hive");
        string apps = Directory.CreateDirectory(Path.Combine(work, "apps")).FullName;
        step.Restart();
        var install = await ChildProcess.RunAsync(RepositoryPaths.DotnetHost,
            ["new", "install", Path.Combine(feed, $"TaskTempest.Templates.{version}.nupkg"), "--debug:custom-hive", hive], work);
        output.WriteLine($"dotnet new install: {step.Elapsed.TotalSeconds:0.0} s\n{install.Output}");
        Assert.True(install.ExitCode == 0, "dotnet new install failed:\n" + install.Output);
        Assert.Contains("tempest-worker", install.Output, StringComparison.Ordinal);

        step.Restart();
        var create = await ChildProcess.RunAsync(RepositoryPaths.DotnetHost,
            ["new", "tempest-worker", "-n", "Acme.Worker", "--no-update-check", "--debug:custom-hive", hive], apps);
        output.WriteLine($"dotnet new tempest-worker: {step.Elapsed.TotalSeconds:0.0} s\n{create.Output}");
        Assert.True(create.ExitCode == 0, "dotnet new tempest-worker failed:\n" + create.Output);
        string solution = Path.Combine(apps, "Acme.Worker");
        string worker = File.ReadAllText(Path.Combine(solution, "Acme.Worker", "Acme.Worker.csproj"));
        Assert.Contains($"""<PackageReference Include="TaskTempest" Version="{version}" />""", worker, StringComparison.Ordinal);
        Assert.Contains("<PublishAot>true</PublishAot>", worker, StringComparison.Ordinal);
        Assert.Contains("namespace Acme.Worker;", File.ReadAllText(Path.Combine(solution, "Acme.Worker", "WorkerTempest.cs")), StringComparison.Ordinal);

        // Restore from the folder feed for TaskTempest*, nuget.org for the rest (xunit, ...), the user's packages as a
        // fallback folder (no download of what is there), and a packages folder of the test's own (none of this
        // version lands in the user's cache).
        string userPackages = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.WriteAllText(Path.Combine(work, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{Path.Combine(work, "packages")}" /></config>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="local"><package pattern="TaskTempest" /><package pattern="TaskTempest.*" /></packageSource>
                <packageSource key="nuget.org"><package pattern="*" /></packageSource>
              </packageSourceMapping>
              <fallbackPackageFolders><add key="user" value="{userPackages}" /></fallbackPackageFolders>
            </configuration>
            """);

        // `dotnet test` in the new folder, as its README says; its code must build without a warning (NU1603 is the
        // feed's: ZLogger's dependency Utf8StringInterpolation 1.3.1 is not served here).
        step.Restart();
        var test = await ChildProcess.RunAsync(RepositoryPaths.DotnetHost,
            ["test", "-warnaserror", "-warnnotaserror:NU1603", "-nodeReuse:false", "--disable-build-servers"], solution, TimeSpan.FromMinutes(10));
        output.WriteLine($"dotnet test: {step.Elapsed.TotalSeconds:0.0} s\n{test.Output}");
        Assert.True(test.ExitCode == 0, "the template's test did not build or pass:\n" + test.Output);
        Assert.Matches(@"Passed!\s+-\s+Failed:\s+0, Passed:\s+1, Skipped:\s+0, Total:\s+1", test.Output);

        output.WriteLine($"total: {total.Elapsed.TotalSeconds:0.0} s");
        Directory.Delete(work, recursive: true);
    }

    [Fact]
    public void The_templates_test_project_uses_the_test_packages_this_repository_uses()
    {
        // The template's versions are written out (a new project has no central versions): they follow the repository's.
        var central = XDocument.Load(Path.Combine(RepositoryPaths.Root, "Directory.Packages.props")).Descendants()
            .Where(e => e.Name.LocalName == "PackageVersion")
            .ToDictionary(e => (string)e.Attribute("Include")!, e => (string)e.Attribute("Version")!, StringComparer.Ordinal);
        string project = Path.Combine(RepositoryPaths.Root, "templates", "TaskTempest.Templates", "content", "tempest-worker",
            "TempestWorker.Tests", "TempestWorker.Tests.csproj");
        var references = XDocument.Load(project).Descendants().Where(e => e.Name.LocalName == "PackageReference").ToArray();
        Assert.NotEmpty(references);
        foreach (var reference in references)
        {
            string id = (string)reference.Attribute("Include")!;
            if (id.StartsWith("TaskTempest", StringComparison.Ordinal))
            {
                Assert.Equal("TASKTEMPEST_VERSION", (string?)reference.Attribute("Version")); // the packed version, put in at pack time
                continue;
            }
            Assert.True(central.TryGetValue(id, out string? repositoryVersion), $"{id} is not in Directory.Packages.props");
            Assert.Equal(repositoryVersion, (string?)reference.Attribute("Version"));
        }
    }

    /// <summary>The package ids of the projects under src/ and templates/ that do not say IsPackable=false.</summary>
    private static IEnumerable<string> PackableProjects()
    {
        foreach (string folder in new[] { "src", "templates" })
        {
            // As src/Packages.proj globs them: <folder>/*/*.csproj.
            foreach (string project in Directory.GetDirectories(Path.Combine(RepositoryPaths.Root, folder))
                .SelectMany(d => Directory.GetFiles(d, "*.csproj", SearchOption.TopDirectoryOnly)))
            {
                var properties = XDocument.Load(project).Descendants().ToArray();
                if (properties.Any(e => e.Name.LocalName == "IsPackable" && e.Value.Trim().Equals("false", StringComparison.OrdinalIgnoreCase))) continue;
                yield return properties.FirstOrDefault(e => e.Name.LocalName == "PackageId")?.Value.Trim() ?? Path.GetFileNameWithoutExtension(project);
            }
        }
    }

    private static string PackageId(string nupkg, string version)
    {
        string name = Path.GetFileName(nupkg);
        string suffix = $".{version}.nupkg";
        Assert.EndsWith(suffix, name, StringComparison.Ordinal);
        return name[..^suffix.Length];
    }

    /// <summary>The one property in src/Directory.Build.props that holds the repository's address.</summary>
    private static string RepositoryUrl() =>
        XDocument.Load(Path.Combine(RepositoryPaths.Root, "src", "Directory.Build.props")).Descendants()
            .Single(e => e.Name.LocalName == "TaskTempestRepositoryUrl").Value.Trim();

    private void CheckPackage(string feed, string id, string version, string repositoryUrl)
    {
        string path = Path.Combine(feed, $"{id}.{version}.nupkg");
        using var package = ZipFile.OpenRead(path);
        var nuspec = Load(package, $"{id}.nuspec");
        var metadata = nuspec.Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string? Value(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value;
        output.WriteLine($"{id}: {nuspec}");

        Assert.Equal(version, Value("version"));
        Assert.False(string.IsNullOrWhiteSpace(Value("description")), $"{id} has no description");
        Assert.False(string.IsNullOrWhiteSpace(Value("authors")), $"{id} has no authors");
        Assert.False(string.IsNullOrWhiteSpace(Value("tags")), $"{id} has no tags");
        Assert.Equal(repositoryUrl, Value("projectUrl"));

        // The readme NuGet renders, and the licence: an expression, with the LICENSE text beside it.
        string readme = Value("readme") ?? throw new Xunit.Sdk.XunitException($"{id} has no readme");
        Assert.StartsWith("# ", Read(package, readme), StringComparison.Ordinal);
        var license = metadata.Elements().Single(e => e.Name.LocalName == "license");
        Assert.Equal("expression", (string?)license.Attribute("type"));
        Assert.Equal("MIT", license.Value);
        Assert.Contains("MIT License", Read(package, "LICENSE"), StringComparison.Ordinal);

        // The repository, with the commit it was packed from.
        var repository = metadata.Elements().Single(e => e.Name.LocalName == "repository");
        Assert.Equal("git", (string?)repository.Attribute("type"));
        Assert.Equal(repositoryUrl, (string?)repository.Attribute("url"));
        string commit = (string?)repository.Attribute("commit") ?? "";
        Assert.Matches("^[0-9a-f]{40}$", commit);

        var assemblies = package.Entries.Where(e => e.FullName.StartsWith("lib/", StringComparison.Ordinal) && e.FullName.EndsWith(".dll", StringComparison.Ordinal)).ToArray();
        bool isTemplate = metadata.Descendants().Any(e => e.Name.LocalName == "packageType" && (string?)e.Attribute("name") == "Template");
        if (isTemplate)
        {
            // No assembly, so no symbols; the template references TaskTempest at this version by default.
            Assert.Empty(assemblies);
            Assert.False(File.Exists(Path.ChangeExtension(path, ".snupkg")), $"{id} is a template and needs no symbols package");
            Assert.Contains($"\"defaultValue\": \"{version}\"", Read(package, "content/tempest-worker/.template.config/template.json"), StringComparison.Ordinal);
            return;
        }

        // Each assembly's pdb in the .snupkg beside it, with normalized paths and Source Link to the packed commit.
        Assert.NotEmpty(assemblies);
        using var symbols = ZipFile.OpenRead(Path.ChangeExtension(path, ".snupkg"));
        foreach (var assembly in assemblies)
        {
            string pdbPath = Path.ChangeExtension(assembly.FullName, ".pdb");
            using var pdbBytes = new MemoryStream();
            using (var stream = (symbols.GetEntry(pdbPath) ?? throw new Xunit.Sdk.XunitException($"{id}'s snupkg has no {pdbPath}")).Open())
                stream.CopyTo(pdbBytes);
            pdbBytes.Position = 0;
            using var provider = MetadataReaderProvider.FromPortablePdbStream(pdbBytes);
            var pdb = provider.GetMetadataReader();

            string sourceLink = SourceLink(pdb) ?? throw new Xunit.Sdk.XunitException($"{pdbPath} of {id} has no Source Link");
            Assert.Contains("\"/_/*\"", sourceLink, StringComparison.Ordinal);
            Assert.Contains($"/{commit}/", sourceLink, StringComparison.Ordinal);

            var documents = pdb.Documents.Select(h => pdb.GetString(pdb.GetDocument(h).Name)).ToArray();
            Assert.Contains(documents, d => d.StartsWith("/_/src/", StringComparison.Ordinal));
            Assert.DoesNotContain(documents, d => d.StartsWith(RepositoryPaths.Root, StringComparison.Ordinal));
        }
    }

    private static string? SourceLink(MetadataReader pdb)
    {
        foreach (var handle in pdb.GetCustomDebugInformation(EntityHandle.ModuleDefinition))
        {
            var information = pdb.GetCustomDebugInformation(handle);
            if (pdb.GetGuid(information.Kind) == SourceLinkKind) return Encoding.UTF8.GetString(pdb.GetBlobBytes(information.Value));
        }
        return null;
    }

    private static string Read(ZipArchive package, string entry)
    {
        using var reader = new StreamReader((package.GetEntry(entry) ?? throw new Xunit.Sdk.XunitException($"the package has no {entry}")).Open());
        return reader.ReadToEnd();
    }

    private static XDocument Load(ZipArchive package, string entry) => XDocument.Parse(Read(package, entry));
}
