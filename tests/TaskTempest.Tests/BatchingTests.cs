using TaskTempest.Tests.Support;

namespace TaskTempest.Tests;

/// <summary>
/// Thread workers take messages from the embedded queue in batches while every worker is busy
/// (Engine/Inbox/MemoryInbox.cs). A batch must never keep jobs from an idle worker, nor run a job twice.
/// </summary>
public class BatchingTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Jobs_behind_a_stuck_job_run_on_the_other_worker()
    {
        // Pre-filled: the worker that takes the stuck job first is likely to take a batch of the jobs
        // behind it too; the other worker must still run every one of them while the first stays stuck.
        await using var h = Harness.Test(); // two workers
        string gate = Gates.NewName();
        h.Engine.SubmitGateTask(gate);
        var behind = Enumerable.Range(0, 3 * EngineBatchSize).Select(i => h.Engine.SubmitSum(i)).ToList();
        h.Start();

        await Gates.Get(gate).Started.Task.WaitAsync(Bound);
        foreach (var id in behind) await h.FinishedAsync(id);
        Assert.False(Gates.Get(gate).Finished.Task.IsCompleted);

        Gates.Get(gate).Release();
        var result = await h.StopAsync();
        Assert.Equal(behind.Count + 1L, result.TasksSucceeded);
    }

    [Fact]
    public async Task Every_job_runs_exactly_once_with_two_workers()
    {
        await using var h = Harness.Test();
        var early = Enumerable.Range(0, 2000).Select(i => h.Engine.SubmitSum(i).Id).ToList(); // pre-filled
        h.Start();
        var late = Enumerable.Range(0, 2000).Select(i => h.Engine.SubmitSum(i).Id).ToList(); // while running
        await h.MainLog.WaitForAsync(lines => lines.Count(l => l.Message.Contains("> success ", StringComparison.Ordinal)) >= 4000, "4000 successes");

        var result = await h.StopAsync();

        Assert.Equal(4000L, result.TasksStarted);
        Assert.Equal(4000L, result.TasksSucceeded);
        var succeeded = h.MainLog.Messages.Where(m => m.Contains("> success ", StringComparison.Ordinal)).Select(m => m[1..m.IndexOf('}', StringComparison.Ordinal)]);
        Assert.Equal(early.Concat(late).Order(), succeeded.Order()); // each id once, none missing
        Assert.Equal(0, h.Queue.Count);
    }

    [Fact]
    public async Task An_orphaned_workers_batch_goes_back_to_the_queue()
    {
        // Worker 2 is held in a gate, so worker 1 takes the spinner and a batch of the 15 messages behind it;
        // the spinner ignores its timeout and worker 1 is orphaned (not replaced: the cap is 0).
        var time = new SignalingFakeTime();
        await using var h = Harness.Test(time, maxOrphanedWorkers: 0).Start();
        string first = Gates.NewName(), second = Gates.NewName(), spin = Gates.NewName();
        h.Engine.SubmitGateTask(first);
        h.Engine.SubmitGateTask(second);
        await Gates.Get(first).Started.Task.WaitAsync(Bound);
        await Gates.Get(second).Started.Task.WaitAsync(Bound);
        h.Engine.SubmitSpinner(spin);
        for (int i = 0; i < 21; i++) h.Engine.SubmitSum(i);
        Gates.Get(first).Release();
        await Gates.Get(spin).Started.Task.WaitAsync(Bound);
        Assert.Equal(21 - (EngineBatchSize - 1), h.Queue.Count); // the rest is in worker 1's batch

        await time.TimerCreated(SpinnerTimeout);
        time.Advance(SpinnerTimeout);
        time.Advance(TempestDefaults.TimeoutGrace);
        time.Advance(TempestDefaults.TimeoutGrace);
        await h.MainLog.WaitForLineAsync("engine unhealthy");

        Assert.Equal(21, h.Queue.Count); // the orphan's batch came back at once
        h.Engine.Stop();
        Gates.Get(second).Release();
        var result = await h.Running!.WaitAsync(Bound);
        Assert.Contains("shutdown: 21 messages left in the queue", h.MainLog.Messages);
        Assert.Equal(21, h.Queue.Count);
        Gates.Get(spin).Release();
        await Gates.Get(spin).Finished.Task.WaitAsync(Bound);
        Assert.Equal(3L, result.TasksStarted);
    }

    private static readonly TimeSpan SpinnerTimeout = TimeSpan.FromSeconds(5); // Spinner's TimeoutSeconds
    private const int EngineBatchSize = 16; // MemoryInbox.BatchSize (internal)
}
