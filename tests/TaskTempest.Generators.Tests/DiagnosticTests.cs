using Microsoft.CodeAnalysis;

namespace TaskTempest.Generators.Tests;

/// <summary>Each misuse gives its TTxxxx diagnostic, and the corrected code compiles clean.</summary>
public class DiagnosticTests
{
    private const string Usings = "using System; using System.Threading.Tasks; using TaskTempest;\n";

    public static TheoryData<string, string, string> Cases => new()
    {
        { "TT0001", "[Tempest] public class E;", "[Tempest] public partial class E;" },
        { "TT0002", "[TempestTask] public sealed class T { public void Process() { } }", "[TempestTask] public sealed class T : TempestTask { public void Process() { } }" },
        { "TT0003", "[TempestTask] public abstract class T : TempestTask { public void Process() { } }", "[TempestTask] public sealed class T : TempestTask { public void Process() { } }" },
        { "TT0003", "[TempestTask] public sealed class T : TempestTask { public T(int x) { } public T(string s) { } public void Process() { } }", "[TempestTask] public sealed class T : TempestTask { public T(IServiceProvider services) { } public void Process() { } }" },
        { "TT0004", "[TempestTask(ProcessMethod = \"Perform\")] public sealed class T : TempestTask { public void Process() { } }", "[TempestTask(ProcessMethod = \"Perform\")] public sealed class T : TempestTask { public void Perform() { } }" },
        { "TT0004", "[TempestTask] public sealed class T : TempestTask { public void Run() { } }", "[TempestTask] public sealed class T : TempestTask { public void Process() { } }" },
        { "TT0004", "[TempestTask] public sealed class T : TempestTask { public void Process() { } public void Process(int a) { } }", "[TempestTask] public sealed class T : TempestTask { public void Process(int a) { } }" },
        { "TT0005", "[TempestTask] public sealed class T : TempestTask { public async void Process() { await Task.Yield(); } }", "[TempestTask] public sealed class T : TempestTask { public async Task Process() { await Task.Yield(); } }" },
        { "TT0005", "[TempestTask] public sealed class T : TempestTask { public int Process() => 1; }", "[TempestTask] public sealed class T : TempestTask { public void Process() { } }" },
        { "TT0006", "[TempestTask] public sealed class T : TempestTask { public void Process(ref int a) { } }", "[TempestTask] public sealed class T : TempestTask { public void Process(int a) { } }" },
        { "TT0007", "[TempestTask] public sealed class T : TempestTask { public void Process(object o) { } }", "[TempestTask] public sealed class T : TempestTask { public void Process(string o) { } }" },
        { "TT0007", "[TempestTask] public sealed class T : TempestTask { public void Process(System.Collections.Generic.Dictionary<string, int> map) { } }", "[TempestTask] public sealed class T : TempestTask { public void Process(string[] map) { } }" },
        { "TT0008", "[Tempest(Threads = 0)] public partial class E;", "[Tempest(Threads = 1)] public partial class E;" },
        { "TT0009", "[TempestTask] public sealed class A : TempestTask { public void Process() { } } [TempestTask(\"A\")] public sealed class B : TempestTask { public void Process() { } }",
                    "[TempestTask] public sealed class A : TempestTask { public void Process() { } } [TempestTask(\"b\")] public sealed class B : TempestTask { public void Process() { } }" },
        { "TT0010", "public class Outer { [Tempest] public partial class E; }", "public partial class Outer { [Tempest] public partial class E; }" },
        { "TT0010", "[Tempest] public partial class E<T>;", "[Tempest] public partial class E;" },
        { "TT0012", "[TempestTask(TimeoutSeconds = -1)] public sealed class T : TempestTask { public void Process() { } }", "[TempestTask(TimeoutSeconds = 1.5)] public sealed class T : TempestTask { public void Process() { } }" },
        { "TT0013", "[TempestTask] public sealed class T : TempestTask { public void Process() { } [AfterSuccess] public void Done(int x) { } }", "[TempestTask] public sealed class T : TempestTask { public void Process() { } [AfterSuccess] public void Done() { } }" },
        { "TT0013", "[TempestTask] public sealed class T : TempestTask { public void Process() { } [AfterFailure] private void Failed(Exception e) { } }", "[TempestTask] public sealed class T : TempestTask { public void Process() { } [AfterFailure] internal void Failed(Exception e) { } }" },
        { "TT0013", "[TempestTask] public sealed class T : TempestTask { public void Process() { } [AfterTimeout] public static void Late() { } }", "[TempestTask] public sealed class T : TempestTask { public void Process() { } [AfterTimeout] public void Late() { } }" },
        { "TT0014", "[Tempest(ShutdownTimeoutSeconds = -1)] public partial class E;", "[Tempest(ShutdownTimeoutSeconds = double.PositiveInfinity)] public partial class E;" },
        { "TT0014", "[Tempest(QueuePollIntervalSeconds = 0)] public partial class E;", "[Tempest(QueuePollIntervalSeconds = 0.5)] public partial class E;" },
        { "TT0015", "[Tempest(LogFormat = \"{timestamp} {when}\")] public partial class E;", "[Tempest(LogFormat = \"{timestamp:HH:mm} {level} {message}\")] public partial class E;" },
        { "TT0015", "[Tempest(TaskLogFormat = \"{level}\")] public partial class E;", "[Tempest(TaskLogFormat = \"{level} {message}\")] public partial class E;" },
        { "TT0016", "[Tempest] public partial class E { [AfterTaskStarted] void S(int x) { } }", "[Tempest] public partial class E { [AfterTaskStarted] void S(TempestTaskEvent e) { } }" },
        { "TT0016", "[Tempest] public partial class E { [BeforeInitialize] int B() => 1; }", "[Tempest] public partial class E { [BeforeInitialize] static void B() { } }" },
        { "TT0012", "[TempestTask(TimeoutSeconds = 3e6)] public sealed class T : TempestTask { public void Process() { } }", "[TempestTask(TimeoutSeconds = 2e6)] public sealed class T : TempestTask { public void Process() { } }" },
        { "TT0003", "public class Outer { [TempestTask] private sealed class T : TempestTask { public void Process() { } } }", "public class Outer { [TempestTask] internal sealed class T : TempestTask { public void Process() { } } }" },
        { "TT0017", "namespace A { [TempestTask] public sealed class T : TaskTempest.TempestTask { public void Process() { } } } namespace B { [TempestTask(\"b\")] public sealed class T : TaskTempest.TempestTask { public void Process() { } } }",
                    "namespace A { [TempestTask] public sealed class T : TaskTempest.TempestTask { public void Process() { } } } namespace B { [TempestTask] public sealed class U : TaskTempest.TempestTask { public void Process() { } } }" },
        { "TT0018", "[Tempest(Threads = 2, Fibers = 5)] public partial class E;", "[Tempest(Fibers = 5)] public partial class E;" },
        { "TT0008", "[Tempest(Fibers = 0)] public partial class E;", "[Tempest(Fibers = 1)] public partial class E;" },
        { "TT0011", "[TempestTask(\" \")] public sealed class T : TempestTask { public void Process() { } }", "[TempestTask(\"t\")] public sealed class T : TempestTask { public void Process() { } }" },
        { "TT0011", "[TempestTask(\"t\\n2026/01/01 00:00:00 [INFO] {forged} <T> success\")] public sealed class T : TempestTask { public void Process() { } }", "[TempestTask(\"t\")] public sealed class T : TempestTask { public void Process() { } }" },
        { "TT0011", "[TempestTask(\"t\\u202e\")] public sealed class T : TempestTask { public void Process() { } }", "[TempestTask(\"t-2\")] public sealed class T : TempestTask { public void Process() { } }" },
        { "TT0013", "[TempestTask(Retries = 2)] public sealed class T : TempestTask { public void Process() { } [AfterRetriesExhausted] public void GaveUp(int x) { } }", "[TempestTask(Retries = 2)] public sealed class T : TempestTask { public void Process() { } [AfterRetriesExhausted] public void GaveUp(Exception? e) { } }" },
        { "TT0021", "[TempestTask(Retries = -1)] public sealed class T : TempestTask { public void Process() { } }", "[TempestTask(Retries = 3)] public sealed class T : TempestTask { public void Process() { } }" },
        { "TT0021", "[TempestTask(Retries = 5000)] public sealed class T : TempestTask { public void Process() { } }", "[TempestTask(Retries = 1000)] public sealed class T : TempestTask { public void Process() { } }" },
        { "TT0022", "[TempestTask(Retries = 3)] public sealed class T : TempestTask { public void Process() { } [RetryBackoff] public TimeSpan Backoff(int attempt) => TimeSpan.Zero; }", "[TempestTask(Retries = 3)] public sealed class T : TempestTask { public void Process() { } [RetryBackoff] public static TimeSpan Backoff(int attempt) => TimeSpan.Zero; }" },
        { "TT0022", "[TempestTask(Retries = 3)] public sealed class T : TempestTask { public void Process() { } [RetryBackoff] static TimeSpan Backoff(string attempt) => TimeSpan.Zero; }", "[TempestTask(Retries = 3)] public sealed class T : TempestTask { public void Process() { } [RetryBackoff] internal static TimeSpan Backoff(int attempt, Exception? error) => TimeSpan.Zero; }" },
        { "TT0022", "[TempestTask(Retries = 3)] public sealed class T : TempestTask { public void Process() { } [RetryBackoff] public static int Backoff(int attempt) => 1; }", "[TempestTask(Retries = 3)] public sealed class T : TempestTask { public void Process() { } [RetryBackoff] public static TimeSpan Backoff(int attempt) => TimeSpan.FromSeconds(1); }" },
        { "TT0022", "[TempestTask(Retries = 3)] public sealed class T : TempestTask { public void Process() { } [RetryBackoff] public static TimeSpan Fast(int a) => TimeSpan.Zero; [RetryBackoff] public static TimeSpan Slow(int a) => TimeSpan.Zero; }", "[TempestTask(Retries = 3)] public sealed class T : TempestTask { public void Process() { } [RetryBackoff] public static TimeSpan Fast(int a) => TimeSpan.Zero; public static TimeSpan Slow(int a) => TimeSpan.Zero; }" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Misuse_is_reported_and_the_fix_compiles_clean(string id, string wrong, string right)
    {
        var (badResult, _) = GeneratorHarness.Run(Usings + wrong);
        var diagnostic = Assert.Single(badResult.Diagnostics, d => d.Id.StartsWith("TT", StringComparison.Ordinal));
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal($"docs/diagnostics.md#{id.ToLowerInvariant()}", diagnostic.Descriptor.HelpLinkUri);
        // The diagnostic points into the user's file at the offending class (models keep locations as plain values).
        Assert.Equal("Source0.cs", diagnostic.Location.GetLineSpan().Path);
        string flagged = (Usings + wrong).Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length);
        Assert.Matches("^[A-Z][A-Za-z]*$", flagged);

        var (goodResult, goodOutput) = GeneratorHarness.Run(Usings + right);
        Assert.Empty(GeneratorHarness.AllDiagnostics(goodResult, goodOutput));
    }

    [Fact]
    public void Messages_name_the_symbol()
    {
        var (result, _) = GeneratorHarness.Run(Usings + "[TempestTask] public sealed class Mailer : TempestTask { public void Process(object payload) { } }");

        Assert.Equal("Parameter 'payload' of 'Mailer.Process' has type 'object', which the wire format cannot carry",
            Assert.Single(result.Diagnostics).GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void A_wire_name_with_a_line_break_names_the_character()
    {
        var (result, _) = GeneratorHarness.Run(Usings + "[TempestTask(\"adder\\nforged\")] public sealed class Adder : TempestTask { public void Process() { } }");

        Assert.Equal("The task class 'Adder' sets a wire name that holds the character U+000A",
            Assert.Single(result.Diagnostics).GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void A_backoff_method_on_a_task_without_retries_is_a_warning_and_the_task_still_builds()
    {
        var (result, output) = GeneratorHarness.Run(Usings + """
            [Tempest] public partial class E;
            [TempestTask] public sealed class Once : TempestTask { public void Process() { } [RetryBackoff] public static TimeSpan Backoff(int attempt) => TimeSpan.Zero; }
            """);

        var warning = Assert.Single(GeneratorHarness.AllDiagnostics(result, output));
        Assert.Equal("TT0023", warning.Id);
        Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
        Assert.Equal("The task class 'Once' declares the retry backoff method 'Backoff' but no Retries, so it is never called",
            warning.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains(result.GeneratedTrees, tree => tree.FilePath.EndsWith("OnceMessage.g.cs", StringComparison.Ordinal));
    }

    [Fact]
    public void A_synchronous_task_in_a_project_with_a_cooperative_engine_is_a_warning_naming_the_engine()
    {
        var (result, output) = GeneratorHarness.Run(Usings + """
            [Tempest(Fibers = 5)] public partial class FiberEngine;
            [TempestTask] public sealed class Blocking : TempestTask { public void Process() { } }
            [TempestTask] public sealed class Awaiting : TempestTask { public Task Process() => Task.CompletedTask; }
            """);

        var warning = Assert.Single(GeneratorHarness.AllDiagnostics(result, output));
        Assert.Equal("TT0019", warning.Id);
        Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
        Assert.Equal("The task 'Blocking' has a synchronous Process, which blocks the event loop of the cooperative engine 'FiberEngine' while it runs",
            warning.GetMessage(System.Globalization.CultureInfo.InvariantCulture));

        var (threaded, threadedOutput) = GeneratorHarness.Run(Usings + """
            [Tempest(Threads = 5)] public partial class ThreadEngine;
            [TempestTask] public sealed class Blocking : TempestTask { public void Process() { } }
            """);
        Assert.Empty(GeneratorHarness.AllDiagnostics(threaded, threadedOutput));
    }
}
