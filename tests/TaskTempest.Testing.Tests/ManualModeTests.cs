using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using TaskTempest.Generated.TaskTempest.Testing.Tests;
using TaskTempest.Queues;

namespace TaskTempest.Testing.Tests;

/// <summary>
/// Manual mode: submits are captured and inspected typed, a drain runs what is due through the real engine, and the fake
/// clock makes delayed jobs and retries due. Nothing here sleeps or polls: a drain ends on the queue's idle signal.
/// </summary>
public sealed class ManualModeTests : IDisposable
{
    private readonly Lab _lab = new();
    private readonly FakeTimeProvider _time = new();

    public void Dispose() => _lab.Dispose();

    private TempestManualHarness<LabTempest> Harness(Action<TempestOptions>? more = null, TempestManualOptions? options = null)
    {
        var jobs = TempestTesting.Manual<LabTempest>(_time, o =>
        {
            _lab.Configure(o);
            more?.Invoke(o);
        }, options);
        _lab.Engines.Engine = jobs.Engine;
        return jobs;
    }

    [Fact]
    public async Task Submits_are_captured_typed_with_their_wire_arguments_and_nothing_runs_before_a_drain()
    {
        await using var jobs = Harness();

        string id = jobs.Engine.SubmitAdder(2, 5);
        jobs.Engine.SubmitShip("o-9");

        var job = Assert.Single(jobs.Submitted<Adder>());
        Assert.Equal(id, job.Id);
        Assert.Equal("Adder", job.TaskName);
        var message = Assert.IsType<AdderMessage>(job.Message);
        Assert.Equal((2, 5), (message.a, message.b));
        Assert.Equal(5, job.MessageAs<AdderMessage>().b);
        Assert.Throws<InvalidCastException>(() => job.MessageAs<ShipMessage>());
        Assert.Equal($"[\"{id}\",\"Adder\",2,5]", job.Json);
        Assert.Equal([2, 5], job.Arguments.Select(a => a.GetInt32()));
        Assert.Equal(JsonValueKind.Number, job.Arguments[0].ValueKind);
        Assert.Equal(TempestCapturedJobState.Waiting, job.State);
        Assert.Equal(0, job.Attempt);
        Assert.Null(job.RunAt);
        Assert.Equal("default", job.Queue);
        Assert.Equal(0, job.Priority);
        Assert.Equal(_time.GetUtcNow(), job.SubmittedAt);
        Assert.Empty(job.Runs);
        Assert.Empty(_lab.Trail.Steps); // captured, not run

        var ship = Assert.Single(jobs.Submitted<Ship>());
        Assert.Equal("Ship:[\"o-9\"]", ship.UniqueKey);
        Assert.Equal(["o-9"], ship.Arguments.Select(a => a.GetString()));
        Assert.Equal([job, ship], jobs.Submitted());
        Assert.Same(ship, jobs.Find(ship.Id));
        Assert.Empty(jobs.Submitted<Flaky>());
    }

    [Fact]
    public async Task A_drain_runs_every_due_job_through_the_engine_and_says_how_each_ended()
    {
        await using var jobs = Harness();
        string first = jobs.Engine.SubmitAdder(1, 2);
        string second = await jobs.Engine.SubmitAdderAsync(3, 4);
        jobs.Engine.SubmitScoped("scoped");

        var result = await jobs.DrainAsync();

        Assert.Equal(3, result.Runs.Count);
        Assert.All(result.Runs, run =>
        {
            Assert.Equal(TempestTaskStatus.Success, run.Status);
            Assert.Equal(TempestOutcomeKind.Completed, run.Outcome);
            Assert.Equal(1, run.Attempt);
            Assert.Null(run.Exception);
        });
        Assert.Empty(result.Failures);
        Assert.Equal(3, result.EngineResult!.TasksSucceeded);
        Assert.Equal([first, second], jobs.Submitted<Adder>().Select(j => j.Id));
        Assert.All(jobs.Submitted(), job => Assert.Equal(TempestCapturedJobState.Done, job.State));
        Assert.All(jobs.Submitted(), job => Assert.Equal(1, job.Attempt));
        Assert.Same(jobs.Find(first), result.Runs.Single(r => r.Id == first).Job);
        Assert.Contains(_lab.Trail.Steps, s => s.StartsWith("1+2=3 on ", StringComparison.Ordinal));
        Assert.Contains("after-success attempt 1", _lab.Trail.Steps);
        Assert.Contains("callback probe1 disposed False", _lab.Trail.Steps); // the DI scope lived through the callbacks
        // The real engine's logs, recorded: its lines for each job, and what the tasks wrote.
        Assert.Contains(jobs.MainLog, l => l.Message.StartsWith($"{{{first}}} <Adder> success ", StringComparison.Ordinal));
        Assert.Contains(jobs.TaskLog, l => l.Message == $"{{{second}}} <Adder> 3 + 4 = 7" && l.Level == LogLevel.Information);

        var again = await jobs.DrainAsync();
        Assert.Empty(again.Runs); // nothing due: the engine did not even start
        Assert.Null(again.EngineResult);
    }

    [Fact]
    public async Task A_failed_run_throws_from_the_drain_by_default_with_the_tasks_exception()
    {
        await using var jobs = Harness();
        string id = jobs.Engine.SubmitFailing("card declined", true);

        var thrown = await Assert.ThrowsAsync<TempestJobFailedException>(() => jobs.DrainAsync());

        var inner = Assert.IsType<InvalidOperationException>(thrown.InnerException);
        Assert.Equal("card declined", inner.Message);
        Assert.Contains($"{{{id}}} <Failing> attempt 1: Failure (System.InvalidOperationException: card declined)", thrown.Message, StringComparison.Ordinal);
        var run = Assert.Single(thrown.Result.Failures);
        Assert.Same(inner, run.Exception);
        Assert.Equal(TempestOutcomeKind.Completed, run.Outcome); // no retries: the failure is final, as in the original
        Assert.Equal(TempestCapturedJobState.Done, jobs.Find(id)!.State);
        Assert.Equal(["after-failure card declined will retry False", "exhausted"], _lab.Trail.Steps);
    }

    [Fact]
    public async Task A_failing_job_retries_when_the_clock_reaches_its_backoff_and_goes_to_the_dead_letters_after_its_last_attempt()
    {
        await using var jobs = Harness(options: new TempestManualOptions { ThrowOnFailure = false });
        string id = jobs.Engine.SubmitFlaky(99);
        var job = jobs.Find(id)!;
        var start = _time.GetUtcNow();

        var first = await jobs.DrainAsync();
        var run1 = Assert.Single(first.Runs);
        Assert.Equal((1, TempestTaskStatus.Failure, TempestOutcomeKind.Retry), (run1.Attempt, run1.Status, run1.Outcome));
        Assert.Equal("fail 1", run1.Exception!.Message);
        Assert.Equal(start + Flaky.Step, run1.RetryAt);
        Assert.Equal(TempestCapturedJobState.Retrying, job.State);
        Assert.Equal(start + Flaky.Step, job.RunAt);
        Assert.Equal((1, 1), (job.Attempt, job.Failures));
        Assert.Equal(new TempestError("System.InvalidOperationException", "fail 1"), job.LastError);

        _time.Advance(Flaky.Step - TimeSpan.FromTicks(1));
        Assert.Empty((await jobs.DrainAsync()).Runs); // not a tick early
        _time.Advance(TimeSpan.FromTicks(1));
        var second = await jobs.DrainAsync();
        var run2 = Assert.Single(second.Runs);
        Assert.Equal((2, TempestOutcomeKind.Retry, "fail 2"), (run2.Attempt, run2.Outcome, run2.Exception!.Message));
        Assert.Equal(_time.GetUtcNow() + 2 * Flaky.Step, run2.RetryAt);

        _time.Advance(2 * Flaky.Step);
        var third = await jobs.DrainAsync();
        var run3 = Assert.Single(third.Runs);
        Assert.Equal((3, TempestTaskStatus.Failure, TempestOutcomeKind.DeadLettered), (run3.Attempt, run3.Status, run3.Outcome));
        Assert.Equal("out of attempts (attempt 3 of 3); last error System.InvalidOperationException: fail 3", run3.DeadLetterReason);
        Assert.Equal(TempestCapturedJobState.Dead, job.State);
        Assert.Equal(run3.DeadLetterReason, job.DeadLetterReason);
        Assert.Equal((3, 3), (job.Attempt, job.Failures));
        Assert.Equal([run1, run2, run3], job.Runs);
        Assert.Equal(id, Assert.Single(jobs.Queue.DeadLetters).Message.Id);
        Assert.Equal("run1,failed(True),run2,failed(True),run3,failed(False),exhausted:fail 3", _lab.Trail.ToString());
    }

    [Fact]
    public async Task A_retry_that_succeeds_ends_the_job()
    {
        await using var jobs = Harness();
        string id = jobs.Engine.SubmitFlaky(2);

        await jobs.DrainAsync(TempestDrainOptions.AllowFailures);
        _time.Advance(Flaky.Step);
        var result = await jobs.DrainAsync(); // throws if the retry failed

        Assert.Equal((2, TempestTaskStatus.Success), (Assert.Single(result.Runs).Attempt, result.Runs[0].Status));
        Assert.Equal(TempestCapturedJobState.Done, jobs.Find(id)!.State);
        Assert.Equal("run1,failed(True),run2,success", _lab.Trail.ToString());
    }

    [Fact]
    public async Task A_delayed_job_runs_only_once_the_clock_has_reached_its_run_at()
    {
        await using var jobs = Harness();
        var runAt = _time.GetUtcNow().AddMinutes(10);
        jobs.Engine.After(TimeSpan.FromMinutes(10)).SubmitAdder(4, 4);
        var job = Assert.Single(jobs.Submitted<Adder>());
        Assert.Equal((TempestCapturedJobState.Scheduled, runAt), (job.State, job.RunAt));

        Assert.Empty((await jobs.DrainAsync()).Runs);
        _time.Advance(TimeSpan.FromMinutes(9));
        Assert.Empty((await jobs.DrainAsync()).Runs);
        Assert.Equal(TempestCapturedJobState.Scheduled, job.State);
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(TempestCapturedJobState.Waiting, job.State); // due now
        var result = await jobs.DrainAsync();

        Assert.Equal(job.Id, Assert.Single(result.Runs).Id);
        Assert.Equal(TempestCapturedJobState.Done, job.State);
    }

    [Fact]
    public async Task Jobs_submitted_by_jobs_during_a_drain_run_in_it_when_they_are_due()
    {
        await using var jobs = Harness();
        jobs.Engine.SubmitSpawner(3);

        var result = await jobs.DrainAsync();

        Assert.Equal(["Spawner", "Spawner", "Spawner", "Spawner"], result.Runs.Select(r => r.TaskName));
        Assert.Equal("spawner3,spawner2,spawner1,spawner0", _lab.Trail.ToString());
        Assert.Equal(5, jobs.Submitted().Count); // the four and the delayed Adder the last one submitted
        var delayed = Assert.Single(jobs.Submitted<Adder>());
        Assert.Equal(TempestCapturedJobState.Scheduled, delayed.State); // not due: left for a later drain

        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(delayed.Id, Assert.Single((await jobs.DrainAsync()).Runs).Id);
    }

    [Fact]
    public async Task A_duplicate_of_a_held_unique_key_is_not_captured()
    {
        await using var jobs = Harness();

        var first = jobs.Engine.SubmitShip("o-1");
        var duplicate = jobs.Engine.SubmitShip("o-1");
        Assert.True(duplicate.Duplicate);
        Assert.Equal(first.Id, duplicate.Id);
        Assert.Single(jobs.Submitted<Ship>());

        await jobs.DrainAsync();
        Assert.False(jobs.Engine.SubmitShip("o-1").Duplicate); // ended: the key is free
        Assert.Equal(2, jobs.Submitted<Ship>().Count);
    }

    [Fact]
    public async Task A_tasks_timeout_counts_on_the_harness_clock_and_retries_like_a_failure()
    {
        await using var jobs = Harness();
        string id = jobs.Engine.SubmitPatient();

        var drain = jobs.DrainAsync(TempestDrainOptions.AllowFailures);
        await _lab.Gate.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30)); // inside Process: its deadline's timer is armed
        _time.Advance(TimeSpan.FromSeconds(5));
        var first = await drain;

        var run = Assert.Single(first.Runs);
        Assert.Equal((TempestTaskStatus.Timeout, TempestOutcomeKind.Retry), (run.Status, run.Outcome));
        Assert.Null(run.Exception); // it only ran past its deadline
        Assert.Equal(new TempestError("timeout", "ran past its timeout of 5 s"), run.Error);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TempestTaskStatus.Success, Assert.Single((await jobs.DrainAsync()).Runs).Status);
        Assert.Equal("run1,timeout(True),run2", _lab.Trail.ToString());
        Assert.Equal(TempestCapturedJobState.Done, jobs.Find(id)!.State);
    }

    [Fact]
    public async Task Harnesses_side_by_side_share_nothing()
    {
        using var otherLab = new Lab();
        await using var mine = Harness();
        await using var theirs = TempestTesting.Manual<LabTempest>(new FakeTimeProvider(), otherLab.Configure);
        otherLab.Engines.Engine = theirs.Engine;

        for (int i = 0; i < 20; i++)
        {
            mine.Engine.SubmitAdder(i, 0);
            theirs.Engine.SubmitSpawner(1);
        }
        var results = await Task.WhenAll(mine.DrainAsync(), theirs.DrainAsync());

        Assert.Equal(20, results[0].Runs.Count);
        Assert.All(results[0].Runs, r => Assert.Equal("Adder", r.TaskName));
        Assert.Equal(40, results[1].Runs.Count);
        Assert.All(results[1].Runs, r => Assert.Equal("Spawner", r.TaskName));
        Assert.Equal(20, mine.Submitted().Count);
        Assert.Equal(60, theirs.Submitted().Count); // 20, their 20 children, and the 20 delayed Adders those submitted
        Assert.Equal(20, _lab.Trail.Steps.Count(s => s.Contains('+', StringComparison.Ordinal)));
        Assert.DoesNotContain(_lab.Trail.Steps, s => s.StartsWith("spawner", StringComparison.Ordinal));
        Assert.Equal(40, otherLab.Trail.Steps.Count);
        Assert.DoesNotContain(otherLab.Trail.Steps, s => s.Contains('+', StringComparison.Ordinal));
        Assert.DoesNotContain(mine.MainLog, l => theirs.Find(l.Message.Split('}')[0].TrimStart('{')) is not null);
    }

    [Fact]
    public async Task A_drain_with_a_job_that_never_ends_fails_within_its_bound_naming_the_job()
    {
        await using var jobs = Harness();
        string id = jobs.Engine.SubmitBlocking();
        jobs.Engine.SubmitAdder(1, 1);
        var clock = Stopwatch.StartNew();

        var thrown = await Assert.ThrowsAsync<TimeoutException>(() => jobs.DrainAsync(new TempestDrainOptions { Timeout = TimeSpan.FromSeconds(1) }));

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(20));
        Assert.StartsWith($"The drain did not finish within 1 s: 1 job still running: {{{id}}} <Blocking> (attempt 1); 0 jobs due and not started.", thrown.Message, StringComparison.Ordinal);
        Assert.Equal(TempestCapturedJobState.Running, jobs.Find(id)!.State);
        Assert.Equal(TempestCapturedJobState.Done, Assert.Single(jobs.Submitted<Adder>()).State); // the other worker ran it
        // The engine is stopping, not stopped, while the job runs: the harness says so rather than start another run.
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => jobs.DrainAsync());
        Assert.Contains("has not stopped since a drain timed out", refused.Message, StringComparison.Ordinal);

        _lab.Gate.Open.TrySetResult(); // lets the job, and so the engine's run, end
    }

    [Fact]
    public async Task The_engines_lines_still_reach_the_tests_own_loggers()
    {
        using var mine = new ListLoggerFactory();
        await using var jobs = Harness(options => options.TaskLoggerFactory = mine);
        string id = jobs.Engine.SubmitAdder(1, 1);

        await jobs.DrainAsync();

        Assert.Contains($"{{{id}}} <Adder> 1 + 1 = 2", mine.Lines);
        Assert.Contains(jobs.TaskLog, l => l.Message == $"{{{id}}} <Adder> 1 + 1 = 2");
    }
}
