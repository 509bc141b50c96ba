using Microsoft.CodeAnalysis;

namespace TaskTempest.Generators.Tests;

public class SnapshotTests
{
    private const string Quickstart = """
        using TaskTempest;
        using System.Threading;
        using System.Threading.Tasks;

        namespace Samples.Math;

        [Tempest(Threads = 2)]
        public partial class MathTempest;

        [TempestTask]
        public sealed class Adder : TempestTask
        {
            public void Process(int a, int b) { }
        }

        [TempestTask]
        public sealed class Averager : TempestTask
        {
            public void Process(params int[] numbers) { }
        }

        [TempestTask("fib")]
        public sealed class Fibonacci : TempestTask
        {
            public Task Process(int n, CancellationToken cancellationToken) => Task.CompletedTask;
        }
        """;

    /// <summary>The generated code compiles clean (no error, no warning), and each file matches its snapshot.</summary>
    private static void VerifyClean(GeneratorDriverRunResult result, Compilation output, Func<string, bool>? which = null,
        [System.Runtime.CompilerServices.CallerMemberName] string testMethod = "")
    {
        Assert.Empty(GeneratorHarness.AllDiagnostics(result, output));
        foreach (var source in result.Results.Single().GeneratedSources.Where(s => which?.Invoke(s.HintName) ?? true))
            Snapshots.Verify(nameof(SnapshotTests), source.HintName, source.SourceText.ToString(), testMethod);
    }

    [Fact]
    public void Named_queues_priorities_unique_keys_and_recurring_schedules()
    {
        var (result, output) = GeneratorHarness.Run("""
            using TaskTempest;
            using TaskTempest.Queues;

            namespace Billing;

            [Tempest(Threads = 2)]
            public partial class BillingTempest;

            [TempestTask(Queue = "mail", Priority = 5, UniqueBy = new[] { "customerId" }, Unique = TempestUniqueScope.Period, UniqueForSeconds = 90)]
            public sealed class Invoice : TempestTask
            {
                public void Process(int customerId, [UniqueKey] string month, string note = "") { }
            }

            [TempestTask(Unique = TempestUniqueScope.Queued)]
            [Recurring("*/5 * * * *")]
            [Recurring("30 6 * * MON-FRI", "eu", 7L, Shade.Blue, Name = "eu-morning", TimeZone = "Europe/Berlin", Misfire = TempestMisfire.Skip)]
            public sealed class Digest : TempestTask
            {
                public void Process(string region = "all", long days = 1, Shade shade = Shade.Red, params int[] extra) { }
            }

            public enum Shade { Red, Blue }
            """);

        VerifyClean(result, output);
    }

    [Fact]
    public void Quickstart_engine_and_tasks()
    {
        var (result, output) = GeneratorHarness.Run(Quickstart);

        Assert.Empty(GeneratorHarness.AllDiagnostics(result, output));
        var sources = result.Results.Single().GeneratedSources;
        Assert.Equal(5, sources.Length); // an engine, three messages and the manifest
        foreach (var source in sources) Snapshots.Verify(nameof(SnapshotTests), source.HintName, source.SourceText.ToString());
    }

    [Fact]
    public void Every_carriable_type_optional_values_and_ValueTask()
    {
        var (result, output) = GeneratorHarness.Run("""
            using System;
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using TaskTempest;

            public enum Shade : byte { Red, Green }

            [Tempest(Name = "Kinds", Threads = 3)]
            internal partial class KindsTempest;

            [TempestTask]
            internal sealed class Kinds : TempestTask
            {
                public ValueTask Process(long l, short s, sbyte sb, byte b, uint ui, ulong ul, ushort us, float f, double d, decimal m,
                    bool flag, char c, string text, string? maybeText, Guid g, DateTime dt, DateTimeOffset dto, TimeSpan ts, Shade shade,
                    int? maybe, int[] numbers, List<string> names, Shade?[]? shades, int @class = 5, string label = "x\"y", double ratio = 0.5,
                    Shade defaultShade = Shade.Green, int? nothing = null) => default;
            }
            """);

        VerifyClean(result, output);
    }

    [Fact]
    public void Engine_nested_in_a_partial_type_in_the_global_namespace()
    {
        var (result, output) = GeneratorHarness.Run("""
            using TaskTempest;

            public static partial class Host
            {
                [Tempest]
                public partial class NestedTempest;
            }

            [TempestTask]
            public sealed class Ping : TempestTask
            {
                public void Process() { }
            }
            """);

        VerifyClean(result, output);
    }

    [Fact]
    public void Timeout_and_callbacks_with_an_inherited_task()
    {
        var (result, output) = GeneratorHarness.Run("""
            using System;
            using TaskTempest;

            namespace Jobs;

            [TempestTask(TimeoutSeconds = 1.5)]
            public class Mailer : TempestTask
            {
                public void Process(string to) { }
                [AfterSuccess] public void Sent() { }
                [AfterFailure] public void Bounced(Exception exception) { }
            }

            [TempestTask("urgent-mail")]
            public sealed class UrgentMailer : Mailer
            {
                [AfterSuccess] internal void Logged() { }
                [AfterTimeout] public void Late() { }
            }
            """);

        VerifyClean(result, output);
    }

    [Fact]
    public void Retries_a_backoff_method_and_exhausted_callbacks_inherited()
    {
        var (result, output) = GeneratorHarness.Run("""
            using System;
            using TaskTempest;

            namespace Billing;

            [TempestTask(Retries = 5)]
            public class Charge : TempestTask
            {
                public void Process(string invoice) { }
                [AfterFailure] public void Failed(Exception exception) { }
                [AfterRetriesExhausted] public void GaveUp(Exception? exception) { }
                [RetryBackoff] internal static TimeSpan Backoff(int attempt, Exception? exception) => TimeSpan.FromSeconds(attempt * 10);
            }

            [TempestTask(Retries = 2, TimeoutSeconds = 3)]
            public sealed class Refund : Charge
            {
                [AfterRetriesExhausted] public void Alert() { }
            }

            [TempestTask(Retries = 1)]
            public sealed class Receipt : TempestTask
            {
                public void Process() { }
                [RetryBackoff] public static TimeSpan Soon(int attempt) => TimeSpan.FromSeconds(1);
            }
            """);

        VerifyClean(result, output);
    }

    [Fact]
    public void Engine_options_hooks_and_a_derived_engine()
    {
        var (result, output) = GeneratorHarness.Run("""
            using Microsoft.Extensions.Logging;
            using TaskTempest;

            namespace Hosting;

            [Tempest(Threads = 3, ShutdownTimeoutSeconds = double.PositiveInfinity, QueuePollIntervalSeconds = 0.5, LogFile = "logs/main.log",
                TaskLogFile = "logs/task.log", LogLevel = LogLevel.Warning, TaskLogLevel = LogLevel.Debug, LogFormat = "{timestamp:HH:mm:ss} {level} {message}")]
            public partial class BaseTempest
            {
                [BeforeInitialize] private void Load() { }
                [AfterInitialize] private static void Ready(ILogger logger) { }
                [AfterTaskFinished] private void Finished(TempestTaskEvent e) { }
            }

            [Tempest(Name = "worker")]
            public sealed partial class WorkerTempest : BaseTempest
            {
                [AfterTaskStarted] private void Started() { }
            }

            [TempestTask]
            public sealed class Ping : TempestTask
            {
                public void Process() { }
            }
            """);

        VerifyClean(result, output, hintName => hintName.Contains("Tempest.g", StringComparison.Ordinal));
    }

    [Fact]
    public void Constructor_injection_and_a_custom_process_method()
    {
        var (result, output) = GeneratorHarness.Run("""
            using Microsoft.Extensions.Logging;
            using TaskTempest;

            namespace Billing;

            public interface IInvoices { void Send(int id); }

            [TempestTask(ProcessMethod = nameof(Perform))]
            public sealed class SendInvoice(IInvoices invoices, ILogger<SendInvoice>? logger, int retries = 3, int? region = null) : TempestTask
            {
                public void Perform(int invoiceId) => invoices.Send(invoiceId + retries + (region ?? 0));
                protected override ILogger? CustomLogger => logger;
            }

            internal enum Priority { Low, High }

            [Tempest] public partial class BillingTempest;

            [TempestTask(ProcessMethod = "do")]
            internal sealed class Urgent : TempestTask
            {
                public void @do(Priority priority) { }
                [AfterSuccess] public void Done() { }
            }
            """);

        VerifyClean(result, output);
    }

    [Fact]
    public void Several_engines_in_one_project_each_dispatch_every_task()
    {
        var (result, output) = GeneratorHarness.Run("""
            using System.Threading.Tasks;
            using TaskTempest;

            namespace Several.Engines;

            [Tempest(Threads = 4)] public partial class Background;
            [Tempest(Fibers = 20, Name = "io")] public partial class Io;

            [TempestTask] public sealed class Fetch : TempestTask { public Task Process(string url) => Task.CompletedTask; }
            [TempestTask] public sealed class Resize : TempestTask { public ValueTask Process(int width, int height) => default; }
            """);

        Assert.Empty(GeneratorHarness.AllDiagnostics(result, output));
        var engines = result.Results.Single().GeneratedSources.Where(s => s.HintName.EndsWith(".Tempest.g.cs", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, engines.Count);
        foreach (var source in engines) Snapshots.Verify(nameof(SnapshotTests), source.HintName, source.SourceText.ToString());
    }
}
