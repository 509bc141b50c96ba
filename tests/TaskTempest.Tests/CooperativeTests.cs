using Microsoft.Extensions.Logging;
using TaskTempest.Tests.Support;

namespace TaskTempest.Tests;

/// <summary>Cooperative mode (the original's fibers): N tasks interleaved on one event-loop thread.</summary>
public class CooperativeTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    internal static Harness<FiberTestTempest> Fibers(TimeProvider? time = null, TimeSpan? shutdownTimeout = null) =>
        new(o => new FiberTestTempest(o), (e, n) => e.SubmitSum(n), time, shutdownTimeout);

    [Fact]
    public async Task All_task_code_runs_on_one_managed_thread()
    {
        await using var h = Fibers().Start();

        var ids = Enumerable.Range(0, 20).Select(_ => h.Engine.SubmitThreadProbe()).ToList();
        foreach (var id in ids) await h.FinishedAsync(id);

        var threads = ids.SelectMany(id => ThreadProbe.Threads[id]).Distinct().ToList();
        Assert.Single(threads);
        Assert.NotEqual(Environment.CurrentManagedThreadId, threads[0]);
        Assert.Contains("fiber pool initialized (5 fibers on one event loop)", h.MainLog.Messages);
    }

    [Fact]
    public async Task Exactly_five_tasks_are_in_flight_at_once()
    {
        await using var h = Fibers().Start();
        string gate = Gates.NewName();

        var ids = Enumerable.Range(0, 12).Select(_ => h.Engine.SubmitOverlap(gate)).ToList();
        await Gates.Get(gate).Started.Task.WaitAsync(Bound); // five have started and all five wait on the gate
        Assert.Equal(5, h.MainLog.Messages.Count(m => m.EndsWith("<Overlap> started", StringComparison.Ordinal)));
        Assert.Equal(7, h.Queue.Count); // the sixth waits in the queue for a slot
        Gates.Get(gate).Release();
        foreach (var id in ids) await h.FinishedAsync(id);

        Assert.Equal(5, Overlap.ByGate[gate].MostAtOnce);
    }

    [Fact]
    public async Task Stop_drains_running_tasks()
    {
        await using var h = Fibers().Start();
        string gate = Gates.NewName();
        string id = h.Engine.SubmitGateTask(gate);
        await Gates.Get(gate).Started.Task.WaitAsync(Bound);

        h.Engine.Stop();
        await h.MainLog.WaitForLineAsync("shutdown requested (StopRequested)");
        Assert.False(h.Running!.IsCompleted);
        Gates.Get(gate).Release();
        var result = await h.Running.WaitAsync(Bound);

        Assert.True(result.Drained);
        Assert.Equal(1, result.TasksSucceeded);
        Assert.Contains(h.MainLog.Messages, m => m.StartsWith($"{{{id}}} <GateTask> success ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Tasks_still_running_at_the_shutdown_timeout_are_aborted_and_returned()
    {
        var time = new SignalingFakeTime();
        var shutdownTimeout = TimeSpan.FromSeconds(3);
        await using var h = Fibers(time, shutdownTimeout).Start();
        string gate = Gates.NewName();
        string stuck = h.Engine.SubmitOverlap(gate); // awaits its gate and ignores its token

        await h.MainLog.WaitForLineAsync($"{{{stuck}}} <Overlap> started");
        h.Engine.Stop();
        await time.TimerCreated(shutdownTimeout);
        time.Advance(shutdownTimeout);
        var result = await h.Running!.WaitAsync(Bound);

        Assert.Equal([stuck], result.AbortedTaskIds);
        Assert.Contains($"{{{stuck}}} <Overlap> aborted", h.MainLog.Messages);
        Assert.Equal(1, h.Queue.Count);
        Gates.Get(gate).Release();
    }

    [Fact]
    public async Task At_the_deadline_the_slot_frees_even_if_the_task_ignores_its_token()
    {
        var time = new SignalingFakeTime();
        await using var h = Fibers(time).Start();
        string gate = Gates.NewName();
        string id = h.Engine.SubmitAwaitsForever(gate);
        await Gates.Get(gate).Started.Task.WaitAsync(Bound);

        await time.TimerCreated(TimeSpan.FromSeconds(5));
        time.Advance(TimeSpan.FromSeconds(5));
        await h.FinishedAsync(id);

        Assert.Contains($"{{{id}}} <AwaitsForever> timeout 5.0000", h.MainLog.Messages);
        Assert.Equal("after-timeout on LoopContext", Recorder.Trail(id)); // callbacks run on the loop too
        Gates.Get(gate).Release(); // the abandoned task ends later; its late return is logged
        await h.MainLog.WaitForLineAsync($"{{{id}}} <AwaitsForever> returned after");
        var result = await h.StopAsync();
        Assert.Equal(1, result.TasksTimedOut);
        Assert.Single(h.MainLog.Messages, m => m.StartsWith($"{{{id}}} <AwaitsForever> timeout", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_watchdog_names_a_task_that_blocks_the_loop()
    {
        var time = new SignalingFakeTime();
        await using var h = Fibers(time).Start();
        string gate = Gates.NewName();
        string id = h.Engine.SubmitBlocksTheLoop(gate);
        await Gates.Get(gate).Started.Task.WaitAsync(Bound);

        time.Advance(TimeSpan.FromSeconds(1)); // the watchdog's check, on the timer, while the loop is blocked
        var warning = Assert.Single(h.MainLog.Lines, l => l.Message.Contains("blocked the event loop", StringComparison.Ordinal));
        Assert.Equal($"{{{id}}} <BlocksTheLoop> has blocked the event loop for 1.000 s: cooperative task code must await, not block", warning.Message);
        Assert.Equal(LogLevel.Warning, warning.Level);

        Gates.Get(gate).Release();
        await h.FinishedAsync(id);
    }

    [Fact]
    public async Task Code_that_leaves_the_loop_is_still_accounted_for()
    {
        await using var h = Fibers().Start();

        string id = h.Engine.SubmitLeavesTheLoop();
        await h.FinishedAsync(id);

        Assert.Equal("left the loop", Recorder.Get(id));
        var result = await h.StopAsync();
        Assert.Equal(1, result.TasksSucceeded);
    }

    [Fact]
    public async Task Callbacks_failures_and_bad_input_work_as_in_thread_mode()
    {
        await using var h = Fibers().Start();
        h.Queue.EnqueueRaw("[\"abcdefgh12345678\",\"Nope\"]");
        string ok = h.Engine.SubmitCallbacks("bad-callback");
        string failed = h.Engine.SubmitFailing("boom");
        await h.FinishedAsync(ok);
        await h.FinishedAsync(failed);

        Assert.Equal("process,first,second,third", Recorder.Trail(ok));
        Assert.Contains($"{{{ok}}} <Callbacks> failure in callback Second", h.MainLog.Messages);
        Assert.Contains(h.MainLog.Messages, m => m.StartsWith($"{{{failed}}} <Failing> failure ", StringComparison.Ordinal));
        Assert.Equal("task class not found: Nope", Assert.Single(h.Queue.DeadLetters).Reason);
    }
}
