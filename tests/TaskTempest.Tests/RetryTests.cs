using System.Text.RegularExpressions;
using Microsoft.Extensions.Time.Testing;
using TaskTempest.Queues;
using TaskTempest.Testing;
using TaskTempest.Tests.Support;

namespace TaskTempest.Tests;

/// <summary>
/// Retries on FakeTimeProvider time: the decision, the line, the callbacks, the durable run-at on the queue (nothing
/// waits in a slot), the dead letters at the end, and a queue that cannot delay. The fate of a job is recorded before
/// its final line, so a test that has seen the line can look at the memory queue at once.
/// </summary>
public class RetryTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static Task FinalLineAsync(IHarness h, string id, int attempt) => h.MainLog.WaitForAsync(
        lines => lines.Any(l => l.Message.StartsWith($"{{{id}}} <", StringComparison.Ordinal) && l.Message.Contains($"(attempt {attempt} of", StringComparison.Ordinal)),
        $"attempt {attempt} of {id} to end");

    private static string Line(IHarness h, string id, string contains) =>
        Assert.Single(h.MainLog.Messages, m => m.StartsWith($"{{{id}}} ", StringComparison.Ordinal) && m.Contains(contains, StringComparison.Ordinal));

    [Fact]
    public async Task A_failed_job_waits_its_default_backoff_on_the_queue_then_runs_again_and_succeeds()
    {
        var time = new FakeTimeProvider();
        await using var h = Harness.Second(time).Start();
        string id = h.Engine.SubmitFlaky(1);

        await FinalLineAsync(h, id, 1);
        Assert.Matches(new Regex($@"^\{{{id}\}} <Flaky> failure 0\.0000 \(attempt 1 of 4, retry in (1[6-9]|2[0-6]) s\)$"), Line(h, id, "failure"));
        Assert.Equal(1, h.Queue.DelayedCount); // on the queue, not in a slot
        Assert.Equal(0, h.Queue.Count);
        time.Advance(TimeSpan.FromSeconds(15)); // the least the first backoff can be is 16 s
        Assert.Equal(1, h.Queue.DelayedCount);
        time.Advance(TimeSpan.FromSeconds(12)); // the most is 26 s
        await h.FinishedAsync(id);
        await h.MainLog.WaitForLineAsync($"{{{id}}} <Flaky> success");

        Assert.Equal("run1,failed(will retry: True),run2,success", Recorder.Trail(id));
        Assert.Empty(h.Queue.DeadLetters);
        var result = await h.StopAsync();
        Assert.Equal(2, result.TasksStarted);
        Assert.Equal(1, result.TasksFailed);
        Assert.Equal(1, result.TasksSucceeded);
    }

    [Fact]
    public async Task A_job_out_of_attempts_is_dead_lettered_with_its_last_error_after_one_final_line_per_attempt()
    {
        var time = new FakeTimeProvider();
        await using var h = Harness.Second(time).Start();
        string id = h.Engine.SubmitFlaky(99);

        for (int attempt = 1; attempt <= 3; attempt++)
        {
            await FinalLineAsync(h, id, attempt);
            Assert.Contains($"(attempt {attempt} of 4, retry in ", Line(h, id, $"(attempt {attempt} of"), StringComparison.Ordinal);
            time.Advance(TimeSpan.FromMinutes(3)); // past the third backoff's most (81 + 15 + 30 s)
        }
        await FinalLineAsync(h, id, 4);

        Assert.Equal($"{{{id}}} <Flaky> failure 0.0000 (attempt 4 of 4, out of attempts, dead-lettered)", Line(h, id, "(attempt 4 of"));
        var dead = Assert.Single(h.Queue.DeadLetters);
        Assert.Same(id, dead.Message.Id);
        Assert.Equal("out of attempts (attempt 4 of 4); last error System.InvalidOperationException: fail 4", dead.Reason);
        Assert.Equal(4, dead.Message.Envelope!.Failures);
        Assert.Equal(new TempestError("System.InvalidOperationException", "fail 4"), dead.Message.Envelope.LastError);
        Assert.Equal(0, h.Queue.DelayedCount);
        Assert.Equal("run1,failed(will retry: True),run2,failed(will retry: True),run3,failed(will retry: True),run4,failed(will retry: False),exhausted:fail 4",
            Recorder.Trail(id));
        // Every started attempt ended with exactly one final line.
        Assert.Equal(4, h.MainLog.Messages.Count(m => m == $"{{{id}}} <Flaky> started"));
        Assert.Equal(4, h.MainLog.Messages.Count(m => m.StartsWith($"{{{id}}} <Flaky> failure ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_timeout_retries_like_a_failure_on_the_tasks_own_backoff()
    {
        var time = new SignalingFakeTime();
        await using var h = Harness.Second(time).Start();
        string gate = Gates.NewName();
        string id = h.Engine.SubmitPatient(gate, 1);
        await Gates.Get(gate).Started.Task.WaitAsync(Bound);
        await time.TimerCreated(TimeSpan.FromSeconds(5));
        time.Advance(TimeSpan.FromSeconds(5));

        await FinalLineAsync(h, id, 1);
        Assert.Equal($"{{{id}}} <Patient> timeout 5.0000 (attempt 1 of 3, retry in 10 s)", Line(h, id, "timeout"));
        Assert.Equal(1, h.Queue.DelayedCount);
        time.Advance(Patient.Step - TimeSpan.FromTicks(1));
        Assert.Equal(1, h.Queue.DelayedCount); // not a tick early
        time.Advance(TimeSpan.FromTicks(1));
        await h.MainLog.WaitForLineAsync($"{{{id}}} <Patient> success");

        Assert.Equal("run1,timeout(will retry: True),run2", Recorder.Trail(id));
        Assert.Empty(h.Queue.DeadLetters);
    }

    [Fact]
    public async Task Without_retries_a_failure_is_final_as_in_the_original_and_the_exhausted_callback_runs_once()
    {
        var time = new FakeTimeProvider();
        await using var h = Harness.Second(time).Start();
        string id = h.Engine.SubmitFailsForGood();

        await h.FinishedAsync(id);
        var result = await h.StopAsync();

        Assert.Equal($"{{{id}}} <FailsForGood> failure 0.0000", Line(h, id, "failure"));
        Assert.Equal("exhausted:for good", Recorder.Trail(id));
        Assert.Empty(h.Queue.DeadLetters);
        Assert.Equal(0, h.Queue.DelayedCount);
        Assert.Equal(1, result.TasksStarted);
    }

    [Fact]
    public async Task A_backoff_method_that_throws_is_logged_and_the_default_backoff_is_used()
    {
        var time = new FakeTimeProvider();
        await using var h = Harness.Second(time).Start();
        string id = h.Engine.SubmitBadBackoff();

        await FinalLineAsync(h, id, 1);

        Assert.Contains($"{{{id}}} <BadBackoff> failure in its retry backoff method; the default backoff is used", h.MainLog.Messages);
        Assert.Matches(new Regex($@"^\{{{id}\}} <BadBackoff> failure 0\.0000 \(attempt 1 of 2, retry in (1[6-9]|2[0-6]) s\)$"), Line(h, id, "(attempt 1"));
        Assert.Contains(h.TaskLog.Lines, l => l.Exception?.Message == "backoff broke");
    }

    [Fact]
    public async Task On_a_queue_that_cannot_delay_a_retry_is_not_possible_so_the_failure_is_final_and_dead_lettered()
    {
        var inner = new TempestMemoryQueue();
        var queue = new AcknowledgingOnlyQueue(inner);
        var main = new RecordingLoggerFactory();
        var engine = new SecondTempest(new TempestOptions { Queue = queue, MainLoggerFactory = main, TaskLoggerFactory = new RecordingLoggerFactory(), HandleSignals = false });
        Assert.Throws<NotSupportedException>(() => engine.After(TimeSpan.FromMinutes(1)).SubmitSum(1)); // at submit: nothing queued
        Assert.Equal(0, inner.Count);
        var running = engine.RunAsync();
        string id = engine.SubmitFlaky(1);

        await main.WaitForLineAsync($"{{{id}}} <Flaky> failure");
        engine.Stop();
        await running.WaitAsync(Bound); // the outcome is handed over before Run returns

        Assert.EndsWith("(attempt 1 of 4, retry not possible: the queue cannot delay, dead-lettered)", main.Messages.Single(m => m.StartsWith($"{{{id}}} <Flaky> failure", StringComparison.Ordinal)), StringComparison.Ordinal);
        var dead = Assert.Single(inner.DeadLetters);
        Assert.Equal("retry not possible: the queue cannot delay (attempt 1 of 4); last error System.InvalidOperationException: fail 1", dead.Reason);
        Assert.Equal("run1,failed(will retry: False),exhausted:fail 1", Recorder.Trail(id));
        Assert.Equal(0, inner.Count + inner.DelayedCount); // it did not run again, and nothing waits
    }

    [Fact]
    public async Task On_a_leasing_queue_the_retry_is_a_recorded_outcome_with_a_run_at_that_another_run_picks_up()
    {
        var time = new FakeTimeProvider();
        var queue = new TempestLeasingMemoryQueue(time);
        var main = new RecordingLoggerFactory();
        var engine = new SecondTempest(new TempestOptions { Queue = queue, TimeProvider = time, MainLoggerFactory = main, TaskLoggerFactory = new RecordingLoggerFactory(), HandleSignals = false });
        string id = engine.SubmitPatient(Gates.NewName(), 0); // succeeds on any attempt once due
        // A first run that fails: Flaky with one failure, then the retry is due only after its backoff.
        string flaky = engine.SubmitFlaky(1);
        var running = engine.RunAsync();
        await main.WaitForLineAsync($"{{{flaky}}} <Flaky> failure");
        await main.WaitForLineAsync($"{{{id}}} <Patient> success");
        engine.Stop();
        await running.WaitAsync(Bound);

        var info = await queue.GetAsync(flaky);
        Assert.NotNull(info);
        Assert.Equal(TempestJobState.Retrying, info.State);
        Assert.Equal(1, info.Envelope?.Failures);
        Assert.Equal("fail 1", info.Envelope?.LastError?.Message);
        var failures = await queue.GetRecentFailuresAsync(10);
        Assert.Contains(failures, f => f.Id == flaky);

        running = engine.RunAsync();
        time.Advance(TimeSpan.FromSeconds(27));
        await main.WaitForLineAsync($"{{{flaky}}} <Flaky> success");
        engine.Stop();
        await running.WaitAsync(Bound);
        Assert.Equal("run1,failed(will retry: True),run2,success", Recorder.Trail(flaky));
    }

    [Fact]
    public async Task A_cooperative_engine_retries_the_same_way()
    {
        var time = new FakeTimeProvider();
        await using var h = CooperativeTests.Fibers(time).Start();
        string id = h.Engine.SubmitFlaky(1);

        await FinalLineAsync(h, id, 1);
        Assert.Equal(1, h.Queue.DelayedCount);
        time.Advance(TimeSpan.FromSeconds(27));
        await h.MainLog.WaitForLineAsync($"{{{id}}} <Flaky> success");
        Assert.Equal("run1,failed(will retry: True),run2,success", Recorder.Trail(id));
    }

    [Fact]
    public void The_default_backoff_is_attempt_to_the_fourth_plus_15_seconds_plus_up_to_10_seconds_per_attempt()
    {
        Assert.Equal(TimeSpan.FromSeconds(16), TempestBackoff.Exponential(1, 0));
        Assert.Equal(TimeSpan.FromSeconds(26), TempestBackoff.Exponential(1, 1));
        Assert.Equal(TimeSpan.FromSeconds(31 + 10), TempestBackoff.Exponential(2, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(25.0 * 25 * 25 * 25 + 15), TempestBackoff.Exponential(25, 0));
        Assert.Equal(TempestBackoff.MaxDelay, TempestBackoff.Exponential(1000, 1));
        for (int i = 0; i < 100; i++)
        {
            var delay = TempestBackoff.Default(3);
            Assert.InRange(delay, TimeSpan.FromSeconds(96), TimeSpan.FromSeconds(126));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => TempestBackoff.Exponential(0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => TempestBackoff.Exponential(1, 1.5));
    }
}
