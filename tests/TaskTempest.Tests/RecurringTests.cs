using Microsoft.Extensions.Time.Testing;
using TaskTempest.Queues;
using TaskTempest.Tests.Support;

namespace TaskTempest.Tests;

/// <summary>
/// Recurring schedules on FakeTimeProvider time, through the run-time API (the generated [Recurring] schedules take the
/// same path; the PostgreSQL sample runs one across two processes): ticks, their jobs and unique keys, the main log,
/// misfires after a stop, two engines on one queue, time zones and daylight saving, and bad expressions.
/// Each test waits for the schedule's registration line before it moves the clock, so that no tick falls before it.
/// </summary>
public class RecurringTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 10, 0, 30, TimeSpan.Zero);

    private static Task RegisteredAsync(IHarness h, string name) => h.MainLog.WaitForLineAsync($"schedule {name} (");

    private static Task SubmittedAsync(IHarness h, string name, string tick) => h.MainLog.WaitForLineAsync($"schedule {name}: tick {tick}");

    private static string JobOf(IHarness h, string name, string tick)
    {
        string line = Assert.Single(h.MainLog.Messages, m => m.StartsWith($"schedule {name}: tick {tick}", StringComparison.Ordinal));
        int from = line.IndexOf("as {", StringComparison.Ordinal) + 4;
        return line[from..line.IndexOf('}', from)];
    }

    [Fact]
    public async Task A_schedule_submits_one_job_per_tick_with_the_ticks_unique_key()
    {
        var time = new FakeTimeProvider(Start);
        await using var h = Harness.Test(time);
        h.Engine.AddRecurring("every-minute", "* * * * *", s => s.SubmitSum(1, 2));
        h.Start();
        await RegisteredAsync(h, "every-minute");
        Assert.Contains(h.MainLog.Messages, m => m == "schedule every-minute (* * * * *, UTC, misfire RunOnce): Sum, next run 2026-12-01T10:01:00.000Z");

        time.Advance(TimeSpan.FromSeconds(30));
        await SubmittedAsync(h, "every-minute", "2026-12-01T10:01:00.000Z");
        string first = JobOf(h, "every-minute", "2026-12-01T10:01:00.000Z");
        await h.FinishedAsync(first);
        Assert.Equal("2:3", Recorder.Get(first));
        Assert.EndsWith("<Sum>; next run 2026-12-01T10:02:00.000Z", Assert.Single(h.MainLog.Messages, m => m.Contains(first, StringComparison.Ordinal) && m.StartsWith("schedule", StringComparison.Ordinal)));

        time.Advance(TimeSpan.FromMinutes(1));
        await SubmittedAsync(h, "every-minute", "2026-12-01T10:02:00.000Z");
        string second = JobOf(h, "every-minute", "2026-12-01T10:02:00.000Z");
        await h.FinishedAsync(second);
        await h.StopAsync();

        var schedule = Assert.Single(await h.Queue.GetSchedulesAsync());
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 10, 2, 0, TimeSpan.Zero), schedule.LastTick);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 10, 3, 0, TimeSpan.Zero), schedule.NextRun);
        Assert.Equal(second, schedule.LastJobId);
        Assert.Equal(("Sum", "* * * * *", "UTC"), (schedule.TaskName, schedule.Cron, schedule.TimeZone));
        Assert.Equal(2, h.MainLog.Messages.Count(m => m.StartsWith("schedule every-minute: tick", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Ticks_missed_while_no_engine_ran_run_once_or_are_skipped_as_each_schedule_says()
    {
        var time = new FakeTimeProvider(Start);
        await using var h = Harness.Test(time);
        h.Engine.AddRecurring("catch-up", "*/5 * * * *", s => s.SubmitSum(5));
        h.Engine.AddRecurring("skipper", "*/5 * * * *", s => s.SubmitSum(6), new TempestScheduleOptions { Misfire = TempestMisfire.Skip });
        h.Start();
        await RegisteredAsync(h, "catch-up");
        await RegisteredAsync(h, "skipper");
        await h.StopAsync();

        time.Advance(TimeSpan.FromMinutes(33)); // nobody runs through six ticks (10:05 ... 10:30), each over a minute late by now
        h.Start();
        await SubmittedAsync(h, "catch-up", "2026-12-01T10:30:00.000Z (missed 6 ticks)");
        await SubmittedAsync(h, "skipper", "2026-12-01T10:30:00.000Z (missed 6 ticks) skipped");
        string caughtUp = JobOf(h, "catch-up", "2026-12-01T10:30:00.000Z");
        await h.FinishedAsync(caughtUp);
        await h.StopAsync();

        Assert.Equal("1:5", Recorder.Get(caughtUp));
        Assert.Single(h.MainLog.Messages, m => m.StartsWith("schedule catch-up: tick", StringComparison.Ordinal)); // once for all six
        Assert.Single(h.MainLog.Messages, m => m.StartsWith("schedule skipper: tick", StringComparison.Ordinal));
        Assert.Equal(1, h.MainLog.Messages.Count(m => m.Contains("<Sum> success", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Ticks_late_by_less_than_the_misfire_threshold_each_run()
    {
        var time = new FakeTimeProvider(Start);
        await using var h = Harness.Test(time);
        h.Engine.AddRecurring("held-up", "* * * * *", s => s.SubmitSum(4), new TempestScheduleOptions { MisfireThreshold = TimeSpan.FromMinutes(5) });
        h.Start();
        await RegisteredAsync(h, "held-up");

        time.Advance(TimeSpan.FromMinutes(3)); // one wake-up three ticks late, all within the threshold
        foreach (var tick in new[] { "10:01", "10:02", "10:03" }) await SubmittedAsync(h, "held-up", $"2026-12-01T{tick}:00.000Z submitted");
        await h.StopAsync();
        Assert.DoesNotContain(h.MainLog.Messages, m => m.Contains("missed", StringComparison.Ordinal));
        Assert.Equal(3, h.MainLog.Messages.Count(m => m.StartsWith("schedule held-up: tick", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Two_engines_on_one_queue_take_each_tick_once()
    {
        var time = new FakeTimeProvider(Start);
        await using var a = Harness.Test(time);
        var shared = a.Queue;
        await using var b = new Harness<TestTempest>(o => { o.Queue = shared; return new TestTempest(o); }, (e, n) => e.SubmitSum(n), time);
        foreach (var engine in new[] { a.Engine, b.Engine }) engine.AddRecurring("shared", "* * * * *", s => s.SubmitSum(7));
        a.Start();
        b.Start();
        await RegisteredAsync(a, "shared");
        await RegisteredAsync(b, "shared");

        for (int minute = 1; minute <= 3; minute++)
        {
            time.Advance(TimeSpan.FromMinutes(1));
            string tick = $"2026-12-01T10:0{minute}:00.000Z";
            var submitter = await Task.WhenAny(SubmittedAsync(a, "shared", tick + " submitted").ContinueWith(_ => (IHarness)a, TaskScheduler.Default),
                SubmittedAsync(b, "shared", tick + " submitted").ContinueWith(_ => (IHarness)b, TaskScheduler.Default)).Unwrap().WaitAsync(TimeSpan.FromSeconds(30));
            // Its job runs in either engine: both have seen it end before the engines stop.
            string job = JobOf(submitter, "shared", tick);
            await Task.WhenAny(a.FinishedAsync(job), b.FinishedAsync(job)).Unwrap().WaitAsync(TimeSpan.FromSeconds(30));
        }
        await a.StopAsync();
        await b.StopAsync(); // after both stop, no late second submit of a tick can come

        var submitted = a.MainLog.Messages.Concat(b.MainLog.Messages)
            .Where(m => m.StartsWith("schedule shared: tick", StringComparison.Ordinal) && m.Contains(" submitted as ", StringComparison.Ordinal)).ToList();
        Assert.True(submitted.Count == 3, string.Join("\n", submitted));
        Assert.Equal(3, submitted.Select(m => m[..42]).Distinct().Count());
        Assert.Equal(0, shared.Count); // the two engines drained all three jobs, one run each
    }

    [Fact]
    public async Task A_schedule_in_a_time_zone_follows_daylight_saving()
    {
        // 02:30 in Berlin does not exist on 2026-03-29 (clocks go from 02:00 to 03:00): Cronos runs it at 03:00 CEST, 01:00 UTC.
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 28, 12, 0, 0, TimeSpan.Zero));
        await using var h = Harness.Test(time);
        h.Engine.AddRecurring("nightly", "30 2 * * *", s => s.SubmitSum(8), new TempestScheduleOptions { TimeZone = "Europe/Berlin" });
        h.Start();
        await RegisteredAsync(h, "nightly");
        Assert.Contains(h.MainLog.Messages, m => m.StartsWith("schedule nightly (30 2 * * *, Europe/Berlin", StringComparison.Ordinal) && m.EndsWith("next run 2026-03-29T01:00:00.000Z", StringComparison.Ordinal));

        time.Advance(TimeSpan.FromHours(13));
        await SubmittedAsync(h, "nightly", "2026-03-29T01:00:00.000Z");
        Assert.EndsWith("next run 2026-03-30T00:30:00.000Z", JobLine(h, "nightly")); // summer time from then on: 02:30 CEST
    }

    private static string JobLine(IHarness h, string name) => Assert.Single(h.MainLog.Messages, m => m.StartsWith($"schedule {name}: tick", StringComparison.Ordinal));

    [Fact]
    public async Task A_schedule_added_while_the_engine_runs_ticks_too_and_a_removed_one_stops()
    {
        var time = new FakeTimeProvider(Start);
        await using var h = Harness.Test(time).Start();
        h.Engine.AddRecurring("late", "* * * * *", s => s.SubmitSum(9));
        await RegisteredAsync(h, "late");
        time.Advance(TimeSpan.FromSeconds(30));
        await SubmittedAsync(h, "late", "2026-12-01T10:01:00.000Z");

        Assert.True(h.Engine.RemoveRecurring("late"));
        Assert.False(h.Engine.RemoveRecurring("late"));
        await h.FinishedAsync(JobOf(h, "late", "2026-12-01T10:01:00.000Z"));
        time.Advance(TimeSpan.FromMinutes(5));
        await h.StopAsync();
        Assert.Single(h.MainLog.Messages, m => m.StartsWith("schedule late: tick", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("*/5 * * *", "5 fields")]
    [InlineData("61 * * * *", "Minutes")]
    [InlineData("* * * * * * *", "not 7")]
    public void A_bad_cron_expression_is_refused_when_added(string cron, string says)
    {
        var engine = new TestTempest();
        var error = Assert.Throws<FormatException>(() => engine.AddRecurring("bad", cron, s => s.SubmitSum(1)));
        Assert.Contains(says, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_time_zone_and_a_bad_name_are_refused_when_added()
    {
        var engine = new TestTempest();
        var zone = Assert.Throws<ArgumentException>(() => engine.AddRecurring("ok", "* * * * *", s => s.SubmitSum(1), new TempestScheduleOptions { TimeZone = "Mars/Olympus_Mons" }));
        Assert.Contains("IANA", zone.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => engine.AddRecurring("a name with spaces", "* * * * *", s => s.SubmitSum(1)));
    }
}
