using TaskTempest.Queues;
using Xunit;

namespace TaskTempest.Testing.Conformance;

public abstract partial class TempestQueueConformance
{
    /// <summary>A job in the named queue <paramref name="queueName"/> (null: <c>default</c>) with <paramref name="priority"/>.</summary>
    protected ConformanceJob NewJobIn(string? queueName, int number, int priority = 0) =>
        NewJob(number, envelope: new TempestEnvelope { Queue = queueName, Priority = priority });

    private static TempestQueueTake[] From(params (string Queue, int Count)[] takes) =>
        [.. takes.Select(t => new TempestQueueTake(t.Queue, t.Count))];

    /// <summary>A queue without <see cref="TempestQueueFeatures.NamedQueues"/> takes a claim over <c>default</c> alone and refuses others.</summary>
    private async Task<bool> RefusesNamedQueuesAsync(ITempestQueue queue)
    {
        if (Has(queue, TempestQueueFeatures.NamedQueues)) return false;
        await queue.EnqueueAsync(NewJob(0));
        Assert.Single(await TakeFromAsync(queue, From(("default", 5)), 5));
        await Assert.ThrowsAsync<NotSupportedException>(() => TakeFromAsync(queue, From(("mail", 1)), 1));
        return true;
    }

    /// <summary>A claim over several named queues takes from the first up to its count, then from the next, never more than
    /// asked in all.</summary>
    [Fact]
    public async Task A_claim_takes_from_its_queues_in_order_within_their_counts()
    {
        var queue = await NewQueueAsync();
        if (await RefusesNamedQueuesAsync(queue)) return;
        for (int i = 0; i < 3; i++)
        {
            await queue.EnqueueAsync(NewJobIn("a", 10 + i));
            await queue.EnqueueAsync(NewJobIn("b", 20 + i));
            await queue.EnqueueAsync(NewJobIn(null, 30 + i));
        }

        var taken = await TakeFromAsync(queue, From(("a", 1), ("b", 5)), 3);
        Assert.Equal([10, 20, 21], taken.Select(j => j.Number));
        var rest = await TakeFromAsync(queue, From(("b", 5), ("a", 5)), 10);
        Assert.Equal([22, 11, 12], rest.Select(j => j.Number));
        await AssertNothingReadyFromAsync(queue, From(("a", 5), ("b", 5)), "a and b were drained");
        Assert.Equal([30, 31, 32], (await TakeAsync(queue, 10)).Select(j => j.Number)); // default was left alone
    }

    /// <summary>A plain claim takes only the <c>default</c> queue; a named queue's jobs wait for a claim that names it.</summary>
    [Fact]
    public async Task A_plain_claim_takes_only_the_default_queue()
    {
        var queue = await NewQueueAsync();
        if (await RefusesNamedQueuesAsync(queue)) return;
        await queue.EnqueueAsync(NewJobIn("mail", 1));
        await queue.EnqueueAsync(NewJobIn(null, 2));
        await queue.EnqueueAsync(NewJobIn(TempestQueueNames.Default, 3)); // named "default": the same queue

        Assert.Equal([2, 3], (await TakeAsync(queue, 10)).Select(j => j.Number));
        await AssertNothingReadyAsync(queue, "the job in mail is not the default queue's");
        var mail = Assert.Single(await TakeFromAsync(queue, From(("mail", 1)), 1));
        Assert.Equal(1, mail.Number);
        Assert.Equal("mail", mail.Envelope?.Queue);
    }

    /// <summary>Within a named queue, higher priority first, then enqueue order.</summary>
    [Fact]
    public async Task Priorities_order_a_named_queue()
    {
        var queue = await NewQueueAsync();
        if (await RefusesNamedQueuesAsync(queue)) return;
        await queue.EnqueueAsync(NewJobIn("p", 1, priority: 0));
        await queue.EnqueueAsync(NewJobIn("p", 2, priority: 5));
        await queue.EnqueueAsync(NewJobIn("p", 3, priority: -1));
        await queue.EnqueueAsync(NewJobIn("p", 4, priority: 5));
        await queue.EnqueueAsync(NewJobIn("p", 5, priority: 1));

        var order = new List<int>();
        while (order.Count < 5) order.AddRange((await TakeFromAsync(queue, From(("p", 1)), 1)).Select(j => j.Number));
        Assert.Equal([2, 4, 5, 1, 3], order);
    }

    /// <summary>A claim over queues that have nothing due waits (or, on a queue that cannot wait, comes back empty) until
    /// one of them has a job; a job in another queue does not end its wait with a delivery.</summary>
    [Fact]
    public async Task A_claim_over_queues_gets_a_job_that_arrives_in_any_of_them()
    {
        var queue = await NewQueueAsync();
        if (await RefusesNamedQueuesAsync(queue)) return;
        var waiting = TakeFromAsync(queue, From(("a", 5), ("b", 5)), 5);
        await queue.EnqueueAsync(NewJobIn("elsewhere", 1));
        await queue.EnqueueAsync(NewJobIn("b", 2));
        Assert.Equal(2, Assert.Single(await waiting).Number);
    }

    /// <summary>A retried or returned job comes back to its own named queue.</summary>
    [Fact]
    public async Task A_retried_job_comes_back_to_its_named_queue()
    {
        var queue = await NewQueueAsync();
        if (await RefusesNamedQueuesAsync(queue)) return;
        if (queue is not IAcknowledgingTempestQueue) return; // nothing comes back: the claim cases cover it
        var job = NewJobIn("work", 1);
        await queue.EnqueueAsync(job);
        var first = Assert.Single(await TakeFromAsync(queue, From(("work", 1)), 1));
        await RecordAcceptedAsync(queue, Has(queue, TempestQueueFeatures.Delays)
            ? Retry(first, Clock.Now - TimeSpan.FromSeconds(1), s_error)
            : Returned(first));

        await AssertNothingReadyAsync(queue, "the job belongs to the queue work, not default");
        var second = Assert.Single(await TakeFromAsync(queue, From(("work", 1)), 1));
        AssertSameJob(job, second);
        Assert.Equal(2, second.Attempt);
    }
}
