using Microsoft.Extensions.Time.Testing;
using TaskTempest.Queues;
using TaskTempest.Tests.Support;

namespace TaskTempest.Tests;

/// <summary>Unique jobs on the embedded queue: a duplicate submit says so and returns the holder's id; each scope's key is
/// free again when it should be. The queues' own enforcement is the conformance kit's.</summary>
public class UniqueJobTests
{
    [Fact]
    public async Task A_duplicate_submit_returns_the_holders_id_and_queues_nothing_until_the_job_is_done()
    {
        await using var h = Harness.Test();
        var first = h.Engine.Unique("report:2026-12-01").SubmitSum(1);
        var second = h.Engine.Unique("report:2026-12-01").SubmitSum(2);
        var other = h.Engine.Unique("report:2026-12-02").SubmitSum(3);

        Assert.False(first.Duplicate);
        Assert.True(second.Duplicate);
        Assert.Equal(first.Id, second.Id);
        Assert.False(other.Duplicate);
        Assert.Equal(2, h.Queue.Count);

        h.Start();
        await h.FinishedAsync(first.Id);
        await h.FinishedAsync(other.Id);
        var again = h.Engine.Unique("report:2026-12-01").SubmitSum(4); // the first is done: its key is free
        Assert.False(again.Duplicate);
        await h.FinishedAsync(again.Id);
        Assert.Equal("1:4", Recorder.Get(again.Id));
    }

    [Fact]
    public async Task A_queued_key_is_free_once_the_job_runs()
    {
        await using var h = Harness.Second(); // one worker: while the first job holds it, the next one stays queued
        string gate = Gates.NewName();
        var running = h.Engine.Unique("sync", TempestUniqueScope.Queued).SubmitGateTask(gate);
        h.Start();
        await Gates.Get(gate).Started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        string nextGate = Gates.NewName();
        var queued = await h.Engine.Unique("sync", TempestUniqueScope.Queued).SubmitGateTaskAsync(nextGate);
        Assert.False(queued.Duplicate); // the first runs: no longer queued
        var duplicate = h.Engine.Unique("sync", TempestUniqueScope.Queued).SubmitGateTask(Gates.NewName());
        Assert.Equal((queued.Id, true), (duplicate.Id, duplicate.Duplicate)); // the second waits: it holds the key

        Gates.Get(gate).Release();
        Gates.Get(nextGate).Release();
        await h.FinishedAsync(running.Id);
        await h.FinishedAsync(queued.Id);
    }

    [Fact]
    public async Task A_period_key_holds_for_its_period_on_the_engines_clock()
    {
        var time = new FakeTimeProvider();
        await using var h = Harness.Test(time).Start();
        var first = h.Engine.Unique("digest", TempestUniqueScope.Period, TimeSpan.FromMinutes(10)).SubmitSum(1);
        await h.FinishedAsync(first.Id);

        Assert.True(h.Engine.Unique("digest", TempestUniqueScope.Period, TimeSpan.FromMinutes(10)).SubmitSum(2).Duplicate);
        time.Advance(TimeSpan.FromMinutes(10));
        var later = h.Engine.Unique("digest", TempestUniqueScope.Period, TimeSpan.FromMinutes(10)).SubmitSum(3);
        Assert.False(later.Duplicate);
        await h.FinishedAsync(later.Id);
    }

    [Fact]
    public void A_period_needs_a_period_and_only_a_period_takes_one()
    {
        var engine = new TestTempest();
        Assert.Throws<ArgumentException>(() => engine.Unique("k", TempestUniqueScope.Period));
        Assert.Throws<ArgumentException>(() => engine.Unique("k", TempestUniqueScope.Queued, TimeSpan.FromMinutes(1)));
        Assert.Throws<ArgumentException>(() => engine.Unique(""));
    }

    [Fact]
    public void A_queue_without_unique_keys_refuses_a_unique_submit_and_queues_nothing()
    {
        var inner = new TempestMemoryQueue();
        var engine = new TestTempest(new TempestOptions { Queue = new CountingQueue(inner) });
        var error = Assert.Throws<NotSupportedException>(() => engine.Unique("k").SubmitSum(1));
        Assert.Contains("UniqueKeys", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, inner.Count);
    }
}
