using TaskTempest.Queues;
using Xunit;

namespace TaskTempest.Testing.Conformance;

public abstract partial class TempestQueueConformance
{
    private static readonly TempestError s_error = new("System.InvalidOperationException", "conformance: the run failed");

    /// <summary>Completed: the message is gone (not handed out again; the inspector no longer knows it). A queue without
    /// acknowledgements instead forgets a message once it has handed it out.</summary>
    [Fact]
    public async Task Completed_removes_the_message()
    {
        var queue = await NewQueueAsync();
        var job = NewJob(1);
        await queue.EnqueueAsync(job);
        var delivery = await TakeOneAsync(queue);
        AssertSameJob(job, delivery);
        if (queue is not IAcknowledgingTempestQueue)
        {
            AssertNoAcknowledgements(queue);
            await AssertNothingReadyAsync(queue, "a queue without acknowledgements hands a message out once");
            return;
        }
        await RecordAcceptedAsync(queue, Completed(delivery));
        await AssertNothingReadyAsync(queue, "the job completed");
        if (queue is ITempestQueueInspector inspector) Assert.Null(await inspector.GetAsync(job.Id!));
        if (queue is ICountingTempestQueue counting) Assert.Equal(0, await counting.CountAsync());
    }

    /// <summary>Returned (aborted at shutdown): the message comes back as run 2, counting neither a failure nor a lease expiry.</summary>
    [Fact]
    public async Task Returned_comes_back_as_the_next_attempt_counting_neither_a_failure_nor_an_expiry()
    {
        var queue = await NewQueueAsync();
        if (queue is not IAcknowledgingTempestQueue)
        {
            AssertNoAcknowledgements(queue);
            return;
        }
        var job = NewJob(2);
        await queue.EnqueueAsync(job);
        var first = await TakeOneAsync(queue);
        AssertCounts(first, attempt: 1, failures: 0, leaseExpiries: 0);

        await RecordAcceptedAsync(queue, Returned(first));
        var second = await TakeOneAsync(queue);
        AssertSameJob(job, second);
        AssertCounts(second, attempt: 2, failures: 0, leaseExpiries: 0);
        if (first.Lease is { } firstLease && second.Lease is { } secondLease)
            Assert.NotEqual(firstLease.Token, secondLease.Token);
        await RecordAcceptedAsync(queue, Completed(second));
        await AssertNothingReadyAsync(queue, "the returned job ran again and completed");
    }

    /// <summary>ReturnedUnstarted (fetched, never started): the message comes back with the same attempt, its claim undone.</summary>
    [Fact]
    public async Task ReturnedUnstarted_comes_back_with_the_same_attempt()
    {
        var queue = await NewQueueAsync();
        if (queue is not IAcknowledgingTempestQueue)
        {
            AssertNoAcknowledgements(queue);
            return;
        }
        var job = NewJob(3);
        await queue.EnqueueAsync(job);
        var first = await TakeOneAsync(queue);
        AssertCounts(first, attempt: 1, failures: 0, leaseExpiries: 0);

        await RecordAcceptedAsync(queue, ReturnedUnstarted(first));
        var second = await TakeOneAsync(queue);
        AssertSameJob(job, second);
        AssertCounts(second, attempt: 1, failures: 0, leaseExpiries: 0);

        // And once more after a run that started: still the runs started, not the fetches.
        await RecordAcceptedAsync(queue, Returned(second));
        var third = await TakeOneAsync(queue);
        AssertCounts(third, attempt: 2, failures: 0, leaseExpiries: 0);
        await RecordAcceptedAsync(queue, ReturnedUnstarted(third));
        var fourth = await TakeOneAsync(queue);
        AssertCounts(fourth, attempt: 2, failures: 0, leaseExpiries: 0);
        await RecordAcceptedAsync(queue, Completed(fourth));
        await AssertNothingReadyAsync(queue, "the job completed");
    }

    /// <summary>DeadLettered: the message is not handed out again; the inspector lists it as dead, with the reason.</summary>
    [Fact]
    public async Task DeadLettered_is_not_handed_out_again_and_keeps_its_reason()
    {
        var queue = await NewQueueAsync();
        if (queue is not IAcknowledgingTempestQueue)
        {
            AssertNoAcknowledgements(queue);
            return;
        }
        var job = NewJob(4);
        await queue.EnqueueAsync(job);
        var delivery = await TakeOneAsync(queue);
        const string reason = "conformance: the arguments do not fit";
        await RecordAcceptedAsync(queue, DeadLettered(delivery, reason));
        await AssertNothingReadyAsync(queue, "the job was dead-lettered");
        if (queue is ICountingTempestQueue counting) Assert.Equal(0, await counting.CountAsync());
        if (queue is ITempestQueueInspector inspector)
        {
            var info = await inspector.GetAsync(job.Id!);
            Assert.True(info is not null, "the inspector does not know the dead letter");
            Assert.Equal(TempestJobState.Dead, info.State);
            Assert.Equal(reason, info.DeadReason);
            Assert.NotNull(info.DeadAt);
            var dead = await inspector.ListAsync(TempestJobState.Dead, 0, 10);
            Assert.Contains(dead, d => d.Id == job.Id);
        }
    }

    /// <summary>DeadLettered after a started run failed for the last time (its status Failure): the failure is counted and
    /// the error kept, as the inspector shows (the dead job's envelope, and the recent failures); the message is not handed
    /// out again.</summary>
    [Fact]
    public async Task A_dead_letter_of_a_failed_run_counts_the_failure_and_keeps_the_error()
    {
        var queue = await NewQueueAsync();
        if (queue is not IAcknowledgingTempestQueue)
        {
            AssertNoAcknowledgements(queue);
            return;
        }
        var job = NewJob(8);
        await queue.EnqueueAsync(job);
        var delivery = await TakeOneAsync(queue);
        const string reason = "conformance: out of attempts";
        await RecordAcceptedAsync(queue, DeadLettered(delivery, reason) with { Status = TempestTaskStatus.Failure, Error = s_error });
        await AssertNothingReadyAsync(queue, "the failed job was dead-lettered");
        if (queue is ICountingTempestQueue counting) Assert.Equal(0, await counting.CountAsync());
        if (queue is ITempestQueueInspector inspector)
        {
            var info = await inspector.GetAsync(job.Id!);
            Assert.True(info is not null, "the inspector does not know the dead letter");
            Assert.Equal(TempestJobState.Dead, info.State);
            Assert.Equal(reason, info.DeadReason);
            Assert.True(info.Envelope is not null, "the dead letter lost its envelope: the failure was not counted");
            Assert.True(info.Envelope.Failures == 1, $"expected Failures 1 on the dead letter, got {info.Envelope.Failures}");
            Assert.Equal(s_error, info.Envelope.LastError);
            var failure = Assert.Single(await inspector.GetRecentFailuresAsync(10));
            Assert.Equal(job.Id, failure.Id);
            Assert.Equal(TempestTaskStatus.Failure, failure.Status);
            Assert.Equal(s_error, failure.Error);
        }
    }

    /// <summary>Retry, on a queue with <see cref="TempestQueueFeatures.Delays"/>: the message is not handed out before its
    /// run-at, and after it comes back as the next attempt with the failure counted and the error kept. A queue without
    /// delays refuses a retry (<see cref="NotSupportedException"/>).</summary>
    [Fact]
    public async Task Retry_comes_back_after_its_run_at_with_the_failure_counted()
    {
        var queue = await NewQueueAsync();
        if (queue is not IAcknowledgingTempestQueue)
        {
            AssertNoAcknowledgements(queue);
            return;
        }
        var job = NewJob(5);
        await queue.EnqueueAsync(job);
        var first = await TakeOneAsync(queue);
        var runAt = Clock.Now + ShortDelay;
        if (!Has(queue, TempestQueueFeatures.Delays))
        {
            await Assert.ThrowsAsync<NotSupportedException>(() => RecordAsync(queue, Retry(first, runAt, s_error)));
            return;
        }

        await RecordAcceptedAsync(queue, Retry(first, runAt, s_error));
        await AssertNothingReadyAsync(queue, "the retry's run-at has not come");
        if (queue is ITempestQueueInspector inspector)
        {
            var info = await inspector.GetAsync(job.Id!);
            Assert.True(info is not null, "the inspector does not know the retrying job");
            Assert.Equal(TempestJobState.Retrying, info.State);
        }
        await Clock.AdvanceAsync(ShortDelay / 2);
        await AssertNothingReadyAsync(queue, "half the retry's delay has passed");
        await Clock.AdvanceAsync(ShortDelay);

        var second = await TakeOneAsync(queue);
        AssertSameJob(job, second);
        AssertCounts(second, attempt: 2, failures: 1, leaseExpiries: 0);
        Assert.Equal(s_error, second.Envelope!.LastError);
        await RecordAcceptedAsync(queue, Completed(second));
        await AssertNothingReadyAsync(queue, "the retried job completed");
    }

    /// <summary>A message with a run-at is not handed out before it and is after it, on a queue with
    /// <see cref="TempestQueueFeatures.Delays"/>; a queue without delays refuses it (<see cref="NotSupportedException"/> at enqueue).</summary>
    [Fact]
    public async Task A_delayed_message_is_handed_out_only_after_its_run_at()
    {
        var queue = await NewQueueAsync();
        var runAt = Clock.Now + ShortDelay;
        var delayed = NewJob(6, "delayed", new TempestEnvelope { RunAt = runAt });
        if (!Has(queue, TempestQueueFeatures.Delays))
        {
            await Assert.ThrowsAsync<NotSupportedException>(async () => await queue.EnqueueAsync(delayed));
            await AssertNothingReadyAsync(queue, "the queue refused the delayed message");
            return;
        }

        await queue.EnqueueAsync(delayed);
        var now = NewJob(7, "due now");
        await queue.EnqueueAsync(now);
        var first = await TakeOneAsync(queue);
        AssertSameJob(now, first);
        if (queue is IAcknowledgingTempestQueue) await RecordAcceptedAsync(queue, Completed(first));
        await AssertNothingReadyAsync(queue, "the delayed message's run-at has not come");
        if (queue is ITempestQueueInspector inspector)
        {
            var info = await inspector.GetAsync(delayed.Id!);
            Assert.True(info is not null, "the inspector does not know the scheduled job");
            Assert.Equal(TempestJobState.Scheduled, info.State);
        }
        await Clock.AdvanceAsync(ShortDelay / 2);
        await AssertNothingReadyAsync(queue, "half the delay has passed");
        await Clock.AdvanceAsync(ShortDelay);

        var second = await TakeOneAsync(queue);
        AssertSameJob(delayed, second);
        Assert.Equal(1, second.Attempt);
        if (queue is IAcknowledgingTempestQueue) await RecordAcceptedAsync(queue, Completed(second));
        await AssertNothingReadyAsync(queue, "both were taken");
    }
}
