using Microsoft.Extensions.Time.Testing;
using TaskTempest.Queues;
using TaskTempest.Tests.Support;

namespace TaskTempest.Tests;

/// <summary>The composable submitter: delayed submits, batches sent in one call, and a package's own target, all through one seam.</summary>
public class SubmitterTests
{
    private static TestTempest Engine(ITempestQueue queue, TimeProvider? time = null) =>
        new(new TempestOptions { Queue = queue, TimeProvider = time ?? TimeProvider.System, HandleSignals = false });

    [Fact]
    public async Task A_delayed_submit_runs_only_once_its_time_has_come_and_holds_no_slot_meanwhile()
    {
        var time = new FakeTimeProvider();
        await using var h = Harness.Second(time).Start();
        string later = h.Engine.After(TimeSpan.FromSeconds(10)).SubmitSum(1, 2);
        string atNoon = h.Engine.At(time.GetUtcNow() + TimeSpan.FromMinutes(1)).SubmitSum(3);
        Assert.Equal(2, h.Queue.DelayedCount);

        string now = h.Engine.SubmitSum(5); // the one worker is free for it: the delayed jobs hold nothing
        await h.FinishedAsync(now);
        Assert.Null(Recorder.Get(later));

        time.Advance(TimeSpan.FromSeconds(10));
        await h.FinishedAsync(later);
        Assert.Equal("2:3", Recorder.Get(later));
        Assert.Equal(1, h.Queue.DelayedCount);
        Assert.Null(Recorder.Get(atNoon));

        time.Advance(TimeSpan.FromSeconds(50));
        await h.FinishedAsync(atNoon);
        Assert.Equal("1:3", Recorder.Get(atNoon));
    }

    [Fact]
    public async Task A_delayed_submit_to_a_queue_that_cannot_delay_throws_at_submit_and_queues_nothing()
    {
        var inner = new TempestMemoryQueue();
        var engine = Engine(new AcknowledgingOnlyQueue(inner));

        var error = Assert.Throws<NotSupportedException>(() => engine.After(TimeSpan.FromSeconds(1)).SubmitSum(1));
        Assert.Contains("cannot delay", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<NotSupportedException>(async () => await engine.At(DateTimeOffset.UtcNow.AddHours(1)).SubmitSumAsync([1]));
        Assert.Equal(0, inner.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => engine.After(TimeSpan.FromSeconds(-1)));
    }

    [Fact]
    public async Task A_batch_sends_its_jobs_in_one_call_at_the_flush_and_each_has_its_id_at_once()
    {
        var queue = new SubmitCountingQueue(new TempestMemoryQueue());
        var engine = Engine(queue);

        var ids = new List<string>();
        await using (var batch = engine.Batch())
        {
            for (int i = 0; i < 100; i++) ids.Add(batch.SubmitSum(i));
            ids.Add(await batch.SubmitSumAsync([7, 8]));
            Assert.Equal(101, batch.Count);
            Assert.Equal(0, queue.Inner.Count); // nothing sent before the flush
            await batch.FlushAsync();
            Assert.Equal(0, batch.Count);
            ids.Add(batch.SubmitSum(9)); // sent by the disposal
        }

        Assert.Equal([101, 1], queue.Batches);
        Assert.Equal(0, queue.Singles);
        Assert.Equal(102, ids.Distinct().Count());
        var queued = new List<string>();
        while (queue.Inner.Count > 0) queued.Add((await queue.Inner.DequeueAsync(default))!.Id!);
        Assert.Equal(ids, queued);
    }

    [Fact]
    public async Task A_failed_flush_keeps_every_job_for_the_next_one()
    {
        var queue = new SubmitCountingQueue(new TempestMemoryQueue()) { FailNextBatch = true };
        var engine = Engine(queue);
        var batch = engine.Batch();
        string first = batch.SubmitSum(1);
        string second = batch.SubmitSum(2);

        await Assert.ThrowsAsync<IOException>(async () => await batch.FlushAsync());
        Assert.Equal(2, batch.Count);
        Assert.Equal(0, queue.Inner.Count);

        batch.Flush();
        Assert.Equal(0, batch.Count);
        Assert.Equal(first, (await queue.Inner.DequeueAsync(default))!.Id);
        Assert.Equal(second, (await queue.Inner.DequeueAsync(default))!.Id);
    }

    [Fact]
    public async Task A_batch_of_delayed_jobs_goes_in_one_call_and_each_waits_for_its_time()
    {
        var time = new FakeTimeProvider();
        var memory = new TempestMemoryQueue(time);
        var queue = new SubmitCountingQueue(memory);
        var engine = Engine(queue, time);

        await using (var batch = engine.After(TimeSpan.FromSeconds(30)).Batch())
        {
            batch.SubmitSum(1);
            batch.After(TimeSpan.FromSeconds(60)).SubmitSum(2); // the batch's own submitter, with another delay
        }

        Assert.Equal([2], queue.Batches);
        Assert.Equal(2, memory.DelayedCount);
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(1, memory.Count);
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(2, memory.Count);
    }

    [Fact]
    public async Task A_packages_extension_sends_to_its_own_target_and_composes_with_delays_and_batches()
    {
        var memory = new TempestMemoryQueue();
        var engine = Engine(memory);
        var target = new RecordingTarget(TempestQueueFeatures.Delays);

        string direct = engine.To(target).SubmitSum(1);
        string delayed = engine.After(TimeSpan.FromMinutes(5)).To(target).SubmitSum(2);
        await using (var batch = engine.To(target).Batch())
        {
            batch.SubmitSum(3);
            batch.SubmitSum(4);
        }

        Assert.Equal(0, memory.Count + memory.DelayedCount); // none went to the engine's own queue
        Assert.Equal(4, target.Messages.Count);
        Assert.Equal(1, target.Batches);
        Assert.Null(target.Messages.Single(m => m.Id == direct).Envelope?.RunAt);
        Assert.NotNull(target.Messages.Single(m => m.Id == delayed).Envelope?.RunAt);

        var noDelays = new RecordingTarget(TempestQueueFeatures.None);
        Assert.Throws<NotSupportedException>(() => engine.To(noDelays).After(TimeSpan.FromSeconds(1)).SubmitSum(5));
        Assert.Empty(noDelays.Messages);
    }

    [Fact]
    public async Task The_plain_submit_is_unchanged_no_envelope_and_one_enqueue()
    {
        var queue = new SubmitCountingQueue(new TempestMemoryQueue());
        var engine = Engine(queue);

        string id = engine.SubmitSum(1, 2);

        Assert.Equal(1, queue.Singles);
        var message = (await queue.Inner.DequeueAsync(default))!;
        Assert.Equal(id, message.Id);
        Assert.Null(message.Envelope); // a plain submit carries no envelope, as before
    }
}
