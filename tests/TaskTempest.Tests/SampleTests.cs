using System.Text.RegularExpressions;
using TaskTempest.Samples.Deadlock;
using TaskTempest.Samples.Fiber;
using TaskTempest.Samples.Simple;
using TaskTempest.Tests.Support;

namespace TaskTempest.Tests;

/// <summary>
/// The gem's simple and deadlock examples, scaled down and run in process. They check the invariant
/// that matters most: every task that started ends with exactly one final status line, whatever
/// mix of success, failure, timeout, failing callbacks and shutdown aborts it met. Nothing here is
/// timed: the runs take real seconds (the samples' timeouts are compile-time constants), and the tests
/// wait on log lines, never on the clock.
/// </summary>
public sealed partial class SampleTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    private static TempestOptions Options(RecordingLoggerFactory main) => new()
    {
        MainLoggerFactory = main,
        TaskLoggerFactory = new RecordingLoggerFactory(),
        HandleSignals = false,
        TimeoutGrace = TimeSpan.FromMilliseconds(100), // interrupt sleepers soon after their deadline
    };

    [Fact]
    public async Task Simple_every_started_task_ends_with_exactly_one_final_status()
    {
        var main = new RecordingLoggerFactory();
        var engine = new SimpleTempest(Options(main));
        var (recovers, givesUp, delayed) = SimpleWorkload.SubmitRetriesAndADelay(engine);
        await RunTheMixThenStopAsync(engine, main, "SimpleTask",
            (count, seed, shortMs, longMs) => SimpleWorkload.Submit(engine, count, new Random(seed), shortMs, longMs),
            () => main.WaitForAsync(lines => lines.Any(l => l.Message.StartsWith($"{{{recovers}}} <FlakyTask> success", StringComparison.Ordinal))
                && lines.Any(l => l.Message.StartsWith($"{{{givesUp}}} <FlakyTask> failure", StringComparison.Ordinal) && l.Message.EndsWith("(attempt 4 of 4, out of attempts, dead-lettered)", StringComparison.Ordinal))
                && lines.Any(l => l.Message.StartsWith($"{{{delayed}}} <SimpleTask> success", StringComparison.Ordinal)),
                "the retried jobs and the delayed one to end"));

        // The retry lines: each failed attempt says what comes next, on the task's own backoff.
        string Final(string id, int attempt) => Assert.Single(main.Messages, m => m.StartsWith($"{{{id}}} <FlakyTask> failure", StringComparison.Ordinal) && m.Contains($"(attempt {attempt} of 4", StringComparison.Ordinal));
        Assert.EndsWith("(attempt 1 of 4, retry in 0.2 s)", Final(recovers, 1), StringComparison.Ordinal);
        Assert.EndsWith("(attempt 2 of 4, retry in 0.4 s)", Final(recovers, 2), StringComparison.Ordinal);
        Assert.EndsWith("(attempt 3 of 4, retry in 0.6 s)", Final(givesUp, 3), StringComparison.Ordinal);
        var dead = Assert.Single(((TaskTempest.Queues.TempestMemoryQueue)engine.Queue).DeadLetters, d => d.Message.Id == givesUp);
        Assert.Equal("out of attempts (attempt 4 of 4); last error System.InvalidOperationException: failed on attempt 4", dead.Reason);
        // The delayed job ran once (that it waits its second is SubmitterTests' to show, on a fake clock).
        Assert.Single(main.Messages, m => m == $"{{{delayed}}} <SimpleTask> started");
    }

    [Fact]
    public async Task Fiber_every_started_task_ends_with_exactly_one_final_status_on_one_event_loop()
    {
        var main = new RecordingLoggerFactory();
        var engine = new FiberTempest(Options(main));
        await RunTheMixThenStopAsync(engine, main, "FiberTask",
            (count, seed, shortMs, longMs) => FiberWorkload.Submit(engine, count, new Random(seed), shortMs, longMs));
        Assert.Contains("fiber pool initialized (5 fibers on one event loop)", main.Messages);
    }

    /// <summary>
    /// Runs 60 jobs of the sample's random mix (short jobs, timeouts, failures, failing callbacks) to
    /// their end, then stops while five long jobs run, so they are aborted within the half-second bound.
    /// </summary>
    private static async Task RunTheMixThenStopAsync(TempestEngine engine, RecordingLoggerFactory main, string taskName,
        Func<int, int, int, int, IReadOnlyList<string>> submit, Func<Task>? alsoEnded = null)
    {
        var ids = submit(60, 20101, 5, 10_000);
        var run = engine.RunAsync();

        await main.WaitForAsync(lines => ids.All(FinalLines(lines).ContainsKey), "all 60 jobs to end");
        if (alsoEnded is not null) await alsoEnded();
        submit(10, 7, 10_000, 10_000);
        await main.WaitForAsync(lines => lines.Count(l => l.Message.EndsWith($"<{taskName}> started", StringComparison.Ordinal)) >= ids.Count + 5, "five more jobs to start");
        engine.Stop();
        var result = await run.WaitAsync(Bound);

        var lines = main.Lines;
        AssertEveryStartedTaskEndedOnce(lines);
        var statuses = FinalLines(lines).Values.GroupBy(s => s).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(statuses.GetValueOrDefault("timeout") > 0, "the mix has timeouts");
        Assert.True(statuses.GetValueOrDefault("failure") > 0, "the mix has failures");
        Assert.True(statuses.GetValueOrDefault("aborted") > 0, "the stop aborted running jobs");
        Assert.Contains(lines, l => l.Message.Contains("failure in callback", StringComparison.Ordinal));
        Assert.Equal(1, result.ExitCode);
        Assert.Equal(statuses.GetValueOrDefault("aborted"), result.AbortedTaskIds.Count);
        Assert.Equal(result.TasksStarted, result.TasksSucceeded + result.TasksFailed + result.TasksTimedOut + result.AbortedTaskIds.Count);
    }

    [Fact]
    public async Task Deadlock_the_engine_times_out_every_task_stays_alive_and_stops_within_its_bound()
    {
        var main = new RecordingLoggerFactory();
        var engine = new DeadlockTempest(Options(main));
        var ids = Enumerable.Range(0, 15).Select(engine.SubmitDeadlock).ToList();
        var run = engine.RunAsync();

        await main.WaitForAsync(lines => FinalLines(lines).Count == ids.Count, "all 15 deadlocked jobs to time out");
        Assert.All(FinalLines(main.Lines).Values, status => Assert.Equal("timeout", status));

        // The engine is alive: new jobs start (and deadlock again); a stop aborts them and returns.
        for (int i = 0; i < 5; i++) engine.SubmitDeadlock(i);
        await main.WaitForAsync(lines => lines.Count(l => l.Message.EndsWith("<Deadlock> started", StringComparison.Ordinal)) == 20, "five more jobs to start");
        engine.Stop();
        var result = await run.WaitAsync(Bound);

        AssertEveryStartedTaskEndedOnce(main.Lines);
        Assert.Equal(15, result.TasksTimedOut);
        Assert.Equal(5, result.AbortedTaskIds.Count);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("shutdown requested (StopRequested): waiting up to 0.5 s for running tasks", main.Messages);
        Assert.DoesNotContain(main.Lines, l => l.Level >= Microsoft.Extensions.Logging.LogLevel.Error);
    }

    /// <summary>
    /// Per attempt: every started attempt of an id has exactly one final line, and no final line lacks its start. A job
    /// runs again only when retried, and then each of its failed attempts' lines numbers itself: 1, 2, ... in order.
    /// </summary>
    private static void AssertEveryStartedTaskEndedOnce(IReadOnlyList<LogLine> lines)
    {
        var started = lines.Select(l => StartedLine().Match(l.Message)).Where(m => m.Success).GroupBy(m => m.Groups["id"].Value).ToDictionary(g => g.Key, g => g.Count());
        var finals = lines.Select(l => FinalLine().Match(l.Message)).Where(m => m.Success).GroupBy(m => m.Groups["id"].Value).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(started.Keys.Order(StringComparer.Ordinal), finals.Keys.Order(StringComparer.Ordinal));
        var mismatched = started.Where(s => finals[s.Key].Count != s.Value).Select(s => $"{s.Key} started {s.Value} times, ended {finals[s.Key].Count}").ToList();
        Assert.True(mismatched.Count == 0, string.Join("; ", mismatched));
        foreach (var (id, ends) in finals)
        {
            if (ends.Count == 1) continue;
            var attempts = ends.Where(m => m.Groups["attempt"].Success).Select(m => int.Parse(m.Groups["attempt"].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.True(attempts.SequenceEqual(Enumerable.Range(1, attempts.Count)), $"{id} ended attempts {string.Join(",", attempts)}");
        }
    }

    private static Dictionary<string, string> FinalLines(IReadOnlyList<LogLine> lines) =>
        lines.Select(l => FinalLine().Match(l.Message)).Where(m => m.Success)
            .GroupBy(m => m.Groups["id"].Value).ToDictionary(g => g.Key, g => g.First().Groups["status"].Value);

    [GeneratedRegex(@"^\{(?<id>[0-9a-z]{16})\} <\w+> started$")]
    private static partial Regex StartedLine();

    [GeneratedRegex(@"^\{(?<id>[0-9a-z]{16})\} <\w+> (?<status>success|failure|timeout) \d+\.\d{4}( \(attempt (?<attempt>\d+) of \d+, [^)]+\))?$|^\{(?<id>[0-9a-z]{16})\} <\w+> (?<status>aborted)$")]
    private static partial Regex FinalLine();
}
