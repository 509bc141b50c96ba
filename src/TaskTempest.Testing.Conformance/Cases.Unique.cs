using TaskTempest.Queues;
using Xunit;

namespace TaskTempest.Testing.Conformance;

public abstract partial class TempestQueueConformance
{
    /// <summary>A job with a unique key, in the scope asked for (its key is new: each case makes its own).</summary>
    protected ConformanceJob NewUniqueJob(int number, string key, TempestUniqueScope scope = TempestUniqueScope.QueuedOrRunning, TimeSpan? period = null) =>
        NewJob(number, envelope: new TempestEnvelope { UniqueKey = key, UniqueScope = scope, UniqueFor = period });

    private static string NewKey() => "ConformanceJob:" + TempestId.New();

    /// <summary>A queue without <see cref="TempestQueueFeatures.UniqueKeys"/> refuses <see cref="ITempestQueue.EnqueueUniqueAsync"/>.</summary>
    private static async Task<bool> RefusesUniqueKeysAsync(ITempestQueue queue, ConformanceJob job)
    {
        if (Has(queue, TempestQueueFeatures.UniqueKeys)) return false;
        await Assert.ThrowsAsync<NotSupportedException>(async () => await queue.EnqueueUniqueAsync(job));
        return true;
    }

    /// <summary>A key admits one job: a second submit with it adds nothing and gets the holder's id.</summary>
    [Fact]
    public async Task A_unique_key_admits_one_job_and_names_the_holder()
    {
        var queue = await NewQueueAsync();
        string key = NewKey();
        var first = NewUniqueJob(1, key);
        if (await RefusesUniqueKeysAsync(queue, first)) return;
        Assert.Null(await queue.EnqueueUniqueAsync(first));
        Assert.Equal(first.Id, await queue.EnqueueUniqueAsync(NewUniqueJob(2, key)));
        Assert.Null(await queue.EnqueueUniqueAsync(NewUniqueJob(3, NewKey()))); // another key is another job

        var taken = await DrainAsync(queue, 2, 10);
        Assert.Equal([1, 3], taken.Select(j => j.Number).Order());
        await AssertNothingReadyAsync(queue, "the duplicate was not added");
    }

    /// <summary>Submits that race with one key add one job; every other gets its id.</summary>
    [Fact]
    public async Task Racing_unique_submits_add_one_job()
    {
        var queue = await NewQueueAsync();
        string key = NewKey();
        if (await RefusesUniqueKeysAsync(queue, NewUniqueJob(0, key))) return;
        var jobs = Enumerable.Range(1, 16).Select(i => NewUniqueJob(i, key)).ToList();
        var holders = await Task.WhenAll(jobs.Select(job => Task.Run(async () => await queue.EnqueueUniqueAsync(job))));

        var added = Assert.Single(jobs, job => holders[jobs.IndexOf(job)] is null);
        Assert.All(holders.Where(h => h is not null), holder => Assert.Equal(added.Id, holder));
        AssertSameJob(added, await TakeOneAsync(queue));
        await AssertNothingReadyAsync(queue, "one of the racing submits was added");
    }

    /// <summary>Queued: the key is free once a worker has taken the job, so a new one can wait while it runs.</summary>
    [Fact]
    public async Task A_queued_key_is_free_once_the_job_is_taken()
    {
        var queue = await NewQueueAsync();
        string key = NewKey();
        var first = NewUniqueJob(1, key, TempestUniqueScope.Queued);
        if (await RefusesUniqueKeysAsync(queue, first)) return;
        Assert.Null(await queue.EnqueueUniqueAsync(first));
        Assert.Equal(first.Id, await queue.EnqueueUniqueAsync(NewUniqueJob(2, key, TempestUniqueScope.Queued)));
        var running = await TakeOneAsync(queue);
        AssertSameJob(first, running);

        var second = NewUniqueJob(3, key, TempestUniqueScope.Queued);
        Assert.Null(await queue.EnqueueUniqueAsync(second)); // the first runs: no longer queued
        AssertSameJob(second, await TakeOneAsync(queue));
    }

    /// <summary>Queued or running: the key holds while the job waits, runs and waits for a retry, and is free once it succeeded.</summary>
    [Fact]
    public async Task A_queued_or_running_key_holds_until_the_job_succeeded()
    {
        var queue = await NewQueueAsync();
        string key = NewKey();
        var first = NewUniqueJob(1, key);
        if (await RefusesUniqueKeysAsync(queue, first)) return;
        Assert.Null(await queue.EnqueueUniqueAsync(first));
        var running = await TakeOneAsync(queue);
        Assert.Equal(first.Id, await queue.EnqueueUniqueAsync(NewUniqueJob(2, key))); // running
        if (Has(queue, TempestQueueFeatures.Delays) && queue is IAcknowledgingTempestQueue)
        {
            await RecordAcceptedAsync(queue, Retry(running, Clock.Now - TimeSpan.FromSeconds(1), s_error));
            Assert.Equal(first.Id, await queue.EnqueueUniqueAsync(NewUniqueJob(3, key))); // waiting for its retry
            running = await TakeOneAsync(queue);
            AssertSameJob(first, running);
        }
        if (queue is IAcknowledgingTempestQueue) await RecordAcceptedAsync(queue, Completed(running));

        var next = NewUniqueJob(4, key);
        Assert.Null(await queue.EnqueueUniqueAsync(next)); // the first is done
        AssertSameJob(next, await TakeOneAsync(queue));
    }

    /// <summary>Queued or running: a dead letter frees the key, and so does a cancel through the inspector.</summary>
    [Fact]
    public async Task A_dead_letter_and_a_cancel_free_a_queued_or_running_key()
    {
        var queue = await NewQueueAsync();
        string key = NewKey();
        var first = NewUniqueJob(1, key);
        if (await RefusesUniqueKeysAsync(queue, first)) return;
        if (queue is not IAcknowledgingTempestQueue) return; // nothing is dead-lettered: the success case covers it
        Assert.Null(await queue.EnqueueUniqueAsync(first));
        var running = await TakeOneAsync(queue);
        await RecordAcceptedAsync(queue, DeadLettered(running, "conformance: poisoned"));
        var second = NewUniqueJob(2, key);
        Assert.Null(await queue.EnqueueUniqueAsync(second));

        if (queue is ITempestQueueInspector inspector)
        {
            Assert.True(await inspector.CancelAsync(second.Id!));
            var third = NewUniqueJob(3, key);
            Assert.Null(await queue.EnqueueUniqueAsync(third));
            AssertSameJob(third, await TakeOneAsync(queue));
        }
    }

    /// <summary>Period: the key holds for its period from the submit, whatever happens to the job, then is free.</summary>
    [Fact]
    public async Task A_period_key_holds_for_its_period_after_the_job_is_done()
    {
        var queue = await NewQueueAsync();
        string key = NewKey();
        var first = NewUniqueJob(1, key, TempestUniqueScope.Period, ShortDelay);
        if (await RefusesUniqueKeysAsync(queue, first)) return;
        Assert.Null(await queue.EnqueueUniqueAsync(first));
        var running = await TakeOneAsync(queue);
        if (queue is IAcknowledgingTempestQueue) await RecordAcceptedAsync(queue, Completed(running));
        Assert.Equal(first.Id, await queue.EnqueueUniqueAsync(NewUniqueJob(2, key, TempestUniqueScope.Period, ShortDelay)));

        await Clock.AdvanceAsync(ShortDelay + Clock.Tolerance);
        var later = NewUniqueJob(3, key, TempestUniqueScope.Period, ShortDelay);
        Assert.Null(await queue.EnqueueUniqueAsync(later));
        AssertSameJob(later, await TakeOneAsync(queue));
    }

    /// <summary>A queue with unique keys honours them in plain and batched enqueues too: a duplicate is skipped (in a batch,
    /// the first of a key wins).</summary>
    [Fact]
    public async Task Plain_and_batched_enqueues_skip_duplicates()
    {
        var queue = await NewQueueAsync();
        string key = NewKey(), other = NewKey();
        if (await RefusesUniqueKeysAsync(queue, NewUniqueJob(0, key))) return;
        await queue.EnqueueBatchAsync([NewUniqueJob(1, key), NewUniqueJob(2, key), NewUniqueJob(3, other)]);
        await queue.EnqueueAsync(NewUniqueJob(4, key));
        await queue.EnqueueAsync(NewJob(5)); // no key: always added

        var taken = await DrainAsync(queue, 3, 10);
        Assert.Equal([1, 3, 5], taken.Select(j => j.Number).Order());
        await AssertNothingReadyAsync(queue, "the duplicates were skipped");
    }
}
