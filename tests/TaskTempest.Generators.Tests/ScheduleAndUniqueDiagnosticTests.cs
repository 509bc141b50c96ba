using Microsoft.CodeAnalysis;

namespace TaskTempest.Generators.Tests;

/// <summary>[Recurring], named queues and unique keys: each misuse gives its TTxxxx diagnostic at the text that is wrong
/// (a cron expression's bad field, the attribute, the class), and the corrected code compiles clean.</summary>
public class ScheduleAndUniqueDiagnosticTests
{
    private const string Usings = "using System; using System.Threading.Tasks; using TaskTempest; using TaskTempest.Queues;\n";

    /// <summary>(id, wrong, right, the text the diagnostic marks)</summary>
    public static TheoryData<string, string, string, string> Cases => new()
    {
        { "TT0024", "[TempestTask, Recurring(\"*/5 * * *\")] public sealed class T : TempestTask { public void Process() { } }",
                    "[TempestTask, Recurring(\"*/5 * * * *\")] public sealed class T : TempestTask { public void Process() { } }", "*/5 * * *" },
        { "TT0024", "[TempestTask, Recurring(\"61 * * * *\")] public sealed class T : TempestTask { public void Process() { } }",
                    "[TempestTask, Recurring(\"59 * * * *\")] public sealed class T : TempestTask { public void Process() { } }", "61" },
        { "TT0024", "[TempestTask, Recurring(\"0  25 * * MON-FRI\")] public sealed class T : TempestTask { public void Process() { } }",
                    "[TempestTask, Recurring(\"0  23 * * MON-FRI\")] public sealed class T : TempestTask { public void Process() { } }", "25" },
        { "TT0024", "[TempestTask, Recurring(\"*/10 * * * * FUNDAY\")] public sealed class T : TempestTask { public void Process() { } }",
                    "[TempestTask, Recurring(\"*/10 * * * * SUN\")] public sealed class T : TempestTask { public void Process() { } }", "FUNDAY" },
        { "TT0026", "[TempestTask, Recurring(\"* * * * *\")] public sealed class T : TempestTask { public void Process(int a) { } }",
                    "[TempestTask, Recurring(\"* * * * *\", 3)] public sealed class T : TempestTask { public void Process(int a) { } }", "Recurring(\"* * * * *\")" },
        { "TT0026", "[TempestTask, Recurring(\"* * * * *\", \"x\")] public sealed class T : TempestTask { public void Process(int a, string b = \"\") { } }",
                    "[TempestTask, Recurring(\"* * * * *\", 1, \"x\")] public sealed class T : TempestTask { public void Process(int a, string b = \"\") { } }", "Recurring(\"* * * * *\", \"x\")" },
        { "TT0026", "[TempestTask, Recurring(\"* * * * *\", 1, 2)] public sealed class T : TempestTask { public void Process(int a) { } }",
                    "[TempestTask, Recurring(\"* * * * *\", 1, 2)] public sealed class T : TempestTask { public void Process(int a, params int[] more) { } }", "Recurring(\"* * * * *\", 1, 2)" },
        { "TT0027", "[TempestTask, Recurring(\"0 * * * *\"), Recurring(\"30 * * * *\")] public sealed class T : TempestTask { public void Process() { } }",
                    "[TempestTask, Recurring(\"0 * * * *\"), Recurring(\"30 * * * *\", Name = \"half-past\")] public sealed class T : TempestTask { public void Process() { } }", "Recurring(\"30 * * * *\")" },
        { "TT0028", "[TempestTask, Recurring(\"0 * * * *\", Name = \"every hour\")] public sealed class T : TempestTask { public void Process() { } }",
                    "[TempestTask, Recurring(\"0 * * * *\", Name = \"every-hour\")] public sealed class T : TempestTask { public void Process() { } }", "Recurring(\"0 * * * *\", Name = \"every hour\")" },
        { "TT0028", "[TempestTask(Queue = \"mail box\")] public sealed class T : TempestTask { public void Process() { } }",
                    "[TempestTask(Queue = \"mail\")] public sealed class T : TempestTask { public void Process() { } }", "T" },
        { "TT0029", "[TempestTask(UniqueBy = new[] { \"customer\" })] public sealed class T : TempestTask { public void Process(int customerId) { } }",
                    "[TempestTask(UniqueBy = new[] { \"customerId\" })] public sealed class T : TempestTask { public void Process(int customerId) { } }", "T" },
        { "TT0029", "[TempestTask] public sealed class T : TempestTask { public Task Process(int a, [UniqueKey] System.Threading.CancellationToken token) => Task.CompletedTask; }",
                    "[TempestTask] public sealed class T : TempestTask { public Task Process([UniqueKey] int a, System.Threading.CancellationToken token) => Task.CompletedTask; }", "T" },
        { "TT0030", "[TempestTask(Unique = TempestUniqueScope.Period)] public sealed class T : TempestTask { public void Process(int a) { } }",
                    "[TempestTask(Unique = TempestUniqueScope.Period, UniqueForSeconds = 60)] public sealed class T : TempestTask { public void Process(int a) { } }", "T" },
        { "TT0030", "[TempestTask(UniqueForSeconds = 60)] public sealed class T : TempestTask { public void Process(int a) { } }",
                    "[TempestTask(Unique = TempestUniqueScope.Queued)] public sealed class T : TempestTask { public void Process(int a) { } }", "T" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Misuse_is_reported_at_what_is_wrong_and_the_fix_compiles_clean(string id, string wrong, string right, string flagged)
    {
        string source = Usings + "[Tempest] public partial class E;\n" + wrong;
        var (badResult, _) = GeneratorHarness.Run(source);
        var diagnostic = Assert.Single(badResult.Diagnostics, d => d.Id.StartsWith("TT", StringComparison.Ordinal));
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal($"docs/diagnostics.md#{id.ToLowerInvariant()}", diagnostic.Descriptor.HelpLinkUri);
        Assert.Equal("Source0.cs", diagnostic.Location.GetLineSpan().Path);
        Assert.Equal(flagged, source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));

        var (goodResult, goodOutput) = GeneratorHarness.Run(Usings + "[Tempest] public partial class E;\n" + right);
        Assert.Empty(GeneratorHarness.AllDiagnostics(goodResult, goodOutput));
    }

    [Fact]
    public void A_bad_cron_field_is_named_with_the_reason()
    {
        var (result, _) = GeneratorHarness.Run(Usings + "[TempestTask, Recurring(\"0 25 * * *\", Name = \"nightly\")] public sealed class Report : TempestTask { public void Process() { } }");

        string message = Assert.Single(result.Diagnostics).GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.StartsWith("The schedule 'nightly' of 'Report' has the cron expression \"0 25 * * *\": the hour field '25' is not valid (", message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_expression_that_never_fires_is_a_warning_and_the_task_still_builds()
    {
        var (result, output) = GeneratorHarness.Run(Usings + """
            [Tempest] public partial class E;
            [TempestTask, Recurring("0 0 30 2 *")] public sealed class Leap : TempestTask { public void Process() { } }
            """);

        var warning = Assert.Single(GeneratorHarness.AllDiagnostics(result, output));
        Assert.Equal(("TT0025", DiagnosticSeverity.Warning), (warning.Id, warning.Severity));
        Assert.Equal("The schedule 'Leap' of 'Leap' has the cron expression \"0 0 30 2 *\", which never fires (no date matches it)",
            warning.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains(result.GeneratedTrees, tree => tree.FilePath.EndsWith("LeapMessage.g.cs", StringComparison.Ordinal));
    }

    [Fact]
    public void Two_tasks_with_one_schedule_name_are_reported()
    {
        var (result, _) = GeneratorHarness.Run(Usings + """
            [TempestTask, Recurring("0 * * * *", Name = "hourly")] public sealed class A : TempestTask { public void Process() { } }
            [TempestTask, Recurring("30 * * * *", Name = "hourly")] public sealed class B : TempestTask { public void Process() { } }
            """);

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("TT0027", diagnostic.Id);
        Assert.Equal("The schedule name 'hourly' is used by 'A' and by 'B'; each tick of a schedule is taken by its name, so they would take each other's ticks",
            diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }
}
