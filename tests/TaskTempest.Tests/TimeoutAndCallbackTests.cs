using Microsoft.Extensions.Logging;
using TaskTempest.Tests.Support;

namespace TaskTempest.Tests;

/// <summary>Timeouts and their escalation, on FakeTimeProvider time; task callbacks.</summary>
public class TimeoutAndCallbackTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5); // the test tasks' TimeoutSeconds
    private static readonly TimeSpan Grace = TempestDefaults.TimeoutGrace;

    [Fact]
    public async Task At_the_deadline_the_token_is_cancelled_and_the_task_counts_as_timeout()
    {
        var time = new SignalingFakeTime();
        await using var h = Harness.Second(time).Start();
        string gate = Gates.NewName();
        string id = h.Engine.SubmitCooperativeSlow(gate);
        await Gates.Get(gate).Started.Task.WaitAsync(Bound);

        await time.TimerCreated(Timeout);
        time.Advance(Timeout);
        await h.FinishedAsync(id);

        var line = Assert.Single(h.MainLog.Lines, l => l.Message.StartsWith($"{{{id}}} <CooperativeSlow> timeout", StringComparison.Ordinal));
        Assert.Equal($"{{{id}}} <CooperativeSlow> timeout 5.0000", line.Message);
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Equal("after-timeout", Recorder.Trail(id));
        var result = await h.StopAsync();
        Assert.Equal(1, result.TasksTimedOut);
        Assert.Equal(0, result.TasksFailed);
    }

    [Fact]
    public async Task A_task_that_ignores_its_token_is_interrupted_after_the_grace()
    {
        var time = new SignalingFakeTime();
        await using var h = Harness.Second(time).Start();
        string gate = Gates.NewName();
        string id = h.Engine.SubmitSleeper(gate);
        await Gates.Get(gate).Started.Task.WaitAsync(Bound);

        await time.TimerCreated(Timeout);
        time.Advance(Timeout);
        Assert.DoesNotContain(h.MainLog.Messages, m => m.Contains("timeout", StringComparison.Ordinal)); // still sleeping
        time.Advance(Grace);
        await h.FinishedAsync(id);

        Assert.Contains($"{{{id}}} <Sleeper> timeout 6.0000", h.MainLog.Messages);
        Assert.Equal("interrupted,after-timeout", Recorder.Trail(id));
        Assert.DoesNotContain(h.MainLog.Messages, m => m.Contains("orphaned", StringComparison.Ordinal));
        // The worker is healthy afterwards: the next job runs on it, with no stray interrupt.
        string next = h.Engine.SubmitSum(1);
        await h.FinishedAsync(next);
        Assert.Contains(h.MainLog.Messages, m => m.StartsWith($"{{{next}}} <Sum> success", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_task_that_ignores_token_and_interrupt_has_its_worker_orphaned_and_replaced()
    {
        var time = new SignalingFakeTime();
        await using var h = Harness.Second(time).Start(); // one worker: the next job runs only on a replacement
        string gate = Gates.NewName();
        string id = h.Engine.SubmitSpinner(gate);
        await Gates.Get(gate).Started.Task.WaitAsync(Bound);

        await time.TimerCreated(Timeout);
        time.Advance(Timeout);
        time.Advance(Grace); // the interrupt stays pending: the spinner never blocks
        time.Advance(Grace);
        await h.FinishedAsync(id);

        Assert.Contains($"{{{id}}} <Spinner> timeout 7.0000", h.MainLog.Messages);
        Assert.Contains($"{{{id}}} <Spinner> ignored its timeout, its cancelled token and an interrupt: worker 1 is orphaned", h.MainLog.Messages);
        Assert.Contains("1 orphaned tasks still running beside the 1 slots; a new worker took worker 1's place", h.MainLog.Messages);
        Assert.Equal("after-timeout", Recorder.Trail(id));

        string next = h.Engine.SubmitSum(2);
        await h.FinishedAsync(next);

        Gates.Get(gate).Release(); // the stuck code ends at last; its late end is logged and nothing else changes
        await Gates.Get(gate).Finished.Task.WaitAsync(Bound);
        await h.MainLog.WaitForLineAsync($"{{{id}}} <Spinner> returned after");
        var result = await h.StopAsync();
        Assert.Equal(1, result.TasksTimedOut);
        Assert.Equal(1, result.TasksSucceeded);
        Assert.True(result.Drained);
        Assert.Single(h.MainLog.Messages, m => m.StartsWith($"{{{id}}} <Spinner> timeout", StringComparison.Ordinal));
    }

    [Fact]
    public async Task At_the_cap_of_orphans_the_engine_logs_itself_unhealthy_and_runs_on_with_fewer_workers()
    {
        var time = new SignalingFakeTime();
        await using var h = Harness.Test(time, maxOrphanedWorkers: 0).Start(); // two workers
        string gate = Gates.NewName();
        string id = h.Engine.SubmitSpinner(gate);
        await Gates.Get(gate).Started.Task.WaitAsync(Bound);

        await time.TimerCreated(Timeout);
        time.Advance(Timeout);
        time.Advance(Grace);
        time.Advance(Grace);
        await h.FinishedAsync(id);

        var unhealthy = Assert.Single(h.MainLog.Lines, l => l.Level == LogLevel.Critical);
        Assert.Equal("engine unhealthy: 1 tasks stuck on orphaned workers (the cap is 0); running on with 1 of 2 workers", unhealthy.Message);
        Assert.Equal(new TempestEngineStatus(TempestEngineState.Running, SlotsLost: 1, StuckTasks: 1), h.Engine.Status); // what a health check reads
        Assert.False(h.Engine.Status.IsHealthy);
        string next = h.Engine.SubmitSum(3);
        await h.FinishedAsync(next); // the other worker still runs jobs

        // When the stuck code returns, it no longer counts against the cap and its slot gets a worker again.
        Gates.Get(gate).Release();
        await h.MainLog.WaitForLineAsync("'s task returned; a new worker fills the slot left empty at the cap"); // either worker may have run it
        Assert.Equal(new TempestEngineStatus(TempestEngineState.Running, 0, 0), h.Engine.Status);
        var result = await h.StopAsync();
        Assert.Equal(TempestEngineState.Stopped, h.Engine.State);
        Assert.Contains("thread pool initialized (2 threads)", h.MainLog.Messages);
        Assert.Equal(1, result.TasksTimedOut);
    }

    [Fact]
    public async Task Callbacks_run_in_declared_order_for_the_status_reached()
    {
        await using var h = Harness.Test().Start();

        string success = h.Engine.SubmitCallbacks("ok");
        string failure = h.Engine.SubmitCallbacks("fail");
        await h.FinishedAsync(success);
        await h.FinishedAsync(failure);

        Assert.Equal("process,first,second,third", Recorder.Trail(success));
        Assert.Equal("process,failed:process failed,failed-too", Recorder.Trail(failure));
    }

    [Fact]
    public async Task A_callback_that_throws_leaves_the_status_and_the_other_callbacks_alone()
    {
        await using var h = Harness.Test().Start();

        string id = h.Engine.SubmitCallbacks("bad-callback");
        await h.FinishedAsync(id);
        await h.MainLog.WaitForLineAsync($"{{{id}}} <Callbacks> failure in callback Second");

        Assert.Contains(h.MainLog.Messages, m => m.StartsWith($"{{{id}}} <Callbacks> success ", StringComparison.Ordinal));
        Assert.Equal("process,first,second,third", Recorder.Trail(id));
        var warning = Assert.Single(h.MainLog.Lines, l => l.Message == $"{{{id}}} <Callbacks> failure in callback Second");
        Assert.Equal(LogLevel.Warning, warning.Level);
        var logged = Assert.Single(h.TaskLog.Lines, l => l.Message == $"{{{id}}} <Callbacks> failure in callback Second");
        Assert.Equal("callback failed", logged.Exception!.Message);
    }

    [Fact]
    public async Task A_derived_task_inherits_its_base_tasks_timeout_and_callbacks()
    {
        var time = new SignalingFakeTime();
        await using var h = Harness.Second(time).Start();
        string gate = Gates.NewName();
        string id = h.Engine.SubmitTimedDerived(gate);
        await Gates.Get(gate).Started.Task.WaitAsync(Bound);

        await time.TimerCreated(Timeout);
        time.Advance(Timeout);
        await h.FinishedAsync(id);

        Assert.Contains($"{{{id}}} <TimedDerived> timeout 5.0000", h.MainLog.Messages);
        Assert.Equal("base-timeout,derived-timeout", Recorder.Trail(id));
    }

    [Fact]
    public async Task A_jobs_duration_leaves_out_the_callbacks_of_the_job_before_it()
    {
        var time = new SignalingFakeTime();
        SlowCallback.Clock = time;
        await using var h = Harness.Second(time); // one worker: the Sum runs right after the callbacks
        string slow = h.Engine.SubmitSlowCallback();
        string next = h.Engine.SubmitSum(1);
        h.Start();
        await h.FinishedAsync(next);

        Assert.Contains($"{{{slow}}} <SlowCallback> success 0.0000", h.MainLog.Messages); // callbacks are not in a job's own duration
        Assert.Contains($"{{{next}}} <Sum> success 0.0000", h.MainLog.Messages);       // nor in the next job's
    }
}
