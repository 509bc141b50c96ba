using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using TaskTempest.Tests.Shared;

namespace TaskTempest.Generators.Tests;

/// <summary>
/// Snapshot checks in Verify's file layout, without Verify (it is not served here):
/// _snapshots/{TestClass}.{TestMethod}#{HintName}.verified.cs next to this file. A mismatch writes a
/// .received.cs beside it; TASKTEMPEST_UPDATE_SNAPSHOTS=1 accepts the new output on purpose.
/// </summary>
public static partial class Snapshots
{
    public static void Verify(string testClass, string hintName, string actual, [CallerMemberName] string testMethod = "",
        [CallerFilePath] string callerFile = "")
    {
        string folder = Path.Combine(Path.GetDirectoryName(callerFile)!, "_snapshots");
        string baseName = Path.Combine(folder, $"{testClass}.{testMethod}#{hintName.Replace(".cs", "", StringComparison.Ordinal)}");
        SnapshotFile.Check(baseName + ".verified.cs", baseName + ".received.cs", Scrub(actual), "Generated code");
    }

    /// <summary>The generator version changes with every release; snapshots should not.</summary>
    private static string Scrub(string text) => GeneratorVersion().Replace(text.ReplaceLineEndings("\n"), "GeneratedCode(\"TaskTempest.Generators\", \"{version}\")");

    [GeneratedRegex("GeneratedCode\\(\"TaskTempest.Generators\", \"[^\"]+\"\\)")]
    private static partial Regex GeneratorVersion();
}
