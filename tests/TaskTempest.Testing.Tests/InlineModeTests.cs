using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using TaskTempest.Queues;

namespace TaskTempest.Testing.Tests;

/// <summary>Inline mode: a submit runs its job at once in the caller, and what it throws surfaces there.</summary>
public sealed class InlineModeTests : IDisposable
{
    private readonly Lab _lab = new();

    public void Dispose() => _lab.Dispose();

    private LabTempest Engine(Action<TempestOptions>? more = null) => TempestTesting.Inline<LabTempest>(options =>
    {
        _lab.Configure(options);
        more?.Invoke(options);
    });

    [Fact]
    public void A_sync_submit_runs_the_job_before_it_returns_on_the_callers_thread()
    {
        var engine = Engine();

        string id = engine.SubmitAdder(2, 5);

        Assert.Equal([$"2+5=7 on {Environment.CurrentManagedThreadId}", "after-success attempt 1"], _lab.Trail.Steps);
        Assert.Matches("^[0-9a-z]{16}$", id);
        Assert.IsType<TempestInlineQueue>(engine.Queue);
    }

    [Fact]
    public void A_sync_submit_of_an_async_task_waits_for_it_to_end()
    {
        var engine = Engine();

        engine.SubmitSlowAdder(3, 4);

        Assert.Equal(["3+4=7"], _lab.Trail.Steps);
    }

    [Fact]
    public async Task An_async_submit_completes_when_the_job_has_ended()
    {
        var engine = Engine();

        await engine.SubmitSlowAdderAsync(1, 1);
        await engine.SubmitAdderAsync(2, 2);

        Assert.Equal("1+1=2", _lab.Trail.Steps[0]);
        Assert.StartsWith("2+2=4 on ", _lab.Trail.Steps[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_jobs_exception_surfaces_at_the_sync_and_the_async_submit_after_its_callbacks()
    {
        var engine = Engine();

        var sync = Assert.Throws<InvalidOperationException>(() => engine.SubmitFailing("sync", false));
        var syncAfterAwait = Assert.Throws<InvalidOperationException>(() => engine.SubmitFailing("sync, after an await", true));
        var async = await Assert.ThrowsAsync<InvalidOperationException>(async () => await engine.SubmitFailingAsync("async", true));

        Assert.Equal(["sync", "sync, after an await", "async"], [sync.Message, syncAfterAwait.Message, async.Message]);
        Assert.Contains(nameof(Failing.Process), sync.StackTrace, StringComparison.Ordinal); // thrown as it was thrown
        // Every failed run's callbacks ran before the exception reached the caller; inline jobs are never retried.
        Assert.Equal(
            ["after-failure sync will retry False", "exhausted", "after-failure sync, after an await will retry False", "exhausted",
             "after-failure async will retry False", "exhausted"],
            _lab.Trail.Steps);
    }

    [Fact]
    public void A_task_that_takes_services_gets_a_scope_of_its_own_per_job_disposed_after_its_callbacks()
    {
        var engine = Engine();

        engine.SubmitScoped("first");
        engine.SubmitScoped("second");

        Assert.Equal(
            ["first probe1", "callback probe1 disposed False", "probe1 disposed", "second probe2", "callback probe2 disposed False", "probe2 disposed"],
            _lab.Trail.Steps);
    }

    [Fact]
    public async Task Delayed_named_and_batched_submits_run_at_once_and_a_held_unique_key_runs_nothing()
    {
        var time = new FakeTimeProvider();
        var engine = Engine(options => options.TimeProvider = time);

        engine.After(TimeSpan.FromHours(1)).SubmitAdder(1, 0); // as Sidekiq's inline mode: at once, no clock to move
        engine.At(time.GetUtcNow().AddDays(1)).SubmitAdder(2, 0);
        await using (var batch = engine.Batch())
        {
            batch.SubmitAdder(3, 0);
            batch.SubmitAdder(4, 0);
            Assert.Equal(2, _lab.Trail.Steps.Count(s => s.Contains('+', StringComparison.Ordinal))); // nothing before the flush
        }
        var first = engine.SubmitShip("o-1");
        var again = engine.SubmitShip("o-1"); // the first ended, so its key is free again

        Assert.Equal(["1+0=1", "2+0=2", "3+0=3", "4+0=4"], _lab.Trail.Steps.Where(s => s.Contains('+', StringComparison.Ordinal)).Select(s => s.Split(' ')[0]));
        Assert.False(first.Duplicate);
        Assert.False(again.Duplicate);
        Assert.Equal(2, _lab.Trail.Steps.Count(s => s == "ship o-1"));
        Assert.Equal(TempestQueueFeatures.Delays | TempestQueueFeatures.NamedQueues | TempestQueueFeatures.UniqueKeys, engine.Queue.Features);
    }

    [Fact]
    public async Task A_batch_runs_every_job_then_throws_and_a_later_flush_runs_none_again()
    {
        var engine = Engine();
        var batch = engine.Batch();
        batch.SubmitAdder(1, 1);
        batch.SubmitFailing("in a batch", false);
        batch.SubmitAdder(2, 2);

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(async () => await batch.FlushAsync());
        await batch.FlushAsync(); // the failed flush kept its jobs: they ran already, so nothing runs

        Assert.Equal("in a batch", thrown.Message);
        Assert.Equal(["1+1=2", "after-success attempt 1", "after-failure in a batch will retry False", "exhausted", "2+2=4", "after-success attempt 1"],
            _lab.Trail.Steps.Select(s => s.Split(" on ")[0]));
    }

    [Fact]
    public void A_sync_submit_of_an_async_task_does_not_deadlock_on_a_single_threaded_synchronization_context()
    {
        var engine = Engine();
        Exception? failure = null;
        // A context that never runs what is posted to it, as a UI thread blocked in the submit would not: the job's
        // continuation must not be posted there.
        var thread = new Thread(() =>
        {
            SynchronizationContext.SetSynchronizationContext(new NeverPumped());
            try { engine.SubmitSlowAdder(5, 5); }
            catch (Exception e) { failure = e; }
        });
        thread.Start();

        Assert.True(thread.Join(TimeSpan.FromSeconds(30)), "the submit deadlocked");
        Assert.Null(failure);
        Assert.Equal(["5+5=10"], _lab.Trail.Steps);
    }

    [Fact]
    public void TaskLogger_lines_go_to_the_task_logger_factory_with_the_jobs_prefix()
    {
        using var factory = new ListLoggerFactory();
        var engine = Engine(options => options.TaskLoggerFactory = factory);

        string id = engine.SubmitAdder(6, 7);

        Assert.Equal([$"{{{id}}} <Adder> 6 + 7 = 13"], factory.Lines);
    }

    [Fact]
    public void The_mode_refuses_a_queue_of_the_tests_own()
    {
        var thrown = Assert.Throws<ArgumentException>(() => TempestTesting.Inline<LabTempest>(options => options.Queue = new TempestMemoryQueue()));
        Assert.Contains("leave TempestOptions.Queue unset", thrown.Message, StringComparison.Ordinal);
    }

    private sealed class NeverPumped : SynchronizationContext
    {
        public override void Post(SendOrPostCallback d, object? state) { }
        public override void Send(SendOrPostCallback d, object? state) => throw new NotSupportedException();
    }
}
