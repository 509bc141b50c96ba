using TaskTempest.Tests.Support;

namespace TaskTempest.Tests;

/// <summary>
/// Thread workers take messages from the embedded queue in batches while every worker is busy
/// (EngineRun.Batching.cs). A batch must never keep jobs from an idle worker, nor run a job twice.
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
        var early = Enumerable.Range(0, 2000).Select(i => h.Engine.SubmitSum(i)).ToList(); // pre-filled
        h.Start();
        var late = Enumerable.Range(0, 2000).Select(i => h.Engine.SubmitSum(i)).ToList(); // while running
        await h.MainLog.WaitForAsync(lines => lines.Count(l => l.Message.Contains("> success ", StringComparison.Ordinal)) >= 4000, "4000 successes");

        var result = await h.StopAsync();

        Assert.Equal(4000L, result.TasksStarted);
        Assert.Equal(4000L, result.TasksSucceeded);
        var succeeded = h.MainLog.Messages.Where(m => m.Contains("> success ", StringComparison.Ordinal)).Select(m => m[1..m.IndexOf('}', StringComparison.Ordinal)]);
        Assert.Equal(early.Concat(late).Order(), succeeded.Order()); // each id once, none missing
        Assert.Equal(0, h.Queue.Count);
    }

    private const int EngineBatchSize = 16; // EngineRun.BatchSize (internal)
}
