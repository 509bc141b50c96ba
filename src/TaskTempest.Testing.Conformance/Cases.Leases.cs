using TaskTempest.Queues;
using Xunit;

namespace TaskTempest.Testing.Conformance;

public abstract partial class TempestQueueConformance
{
    /// <summary>Lets a lease run out: one and a half leases pass on the clock.</summary>
    private ValueTask LetLeaseExpireAsync() => Clock.AdvanceAsync(ShortLease + ShortLease / 2);

    /// <summary>A lease that runs out is rescued (one returned), and the next claim is run 2 with one lease expiry and no
    /// failure, under a new token. A queue without leases says so.</summary>
    [Fact]
    public async Task An_expired_lease_is_rescued_and_counted_as_a_lease_expiry()
    {
        var queue = await NewQueueAsync(ShortLease);
        if (queue is not ILeasingTempestQueue leasing)
        {
            AssertNoLeases(queue);
            return;
        }
        Assert.Equal(ShortLease, leasing.LeaseDuration);
        var job = NewJob(10);
        await queue.EnqueueAsync(job);
        var crashed = NewWorker();
        var first = await TakeOneAsync(queue, crashed);
        AssertCounts(first, attempt: 1, failures: 0, leaseExpiries: 0);

        Assert.Equal(new TempestRescue(0, 0), await leasing.RescueExpiredAsync(default)); // not yet
        await AssertNothingReadyAsync(queue, "the job is leased");
        await LetLeaseExpireAsync();
        Assert.Equal(new TempestRescue(1, 0), await leasing.RescueExpiredAsync(default));
        Assert.Equal(new TempestRescue(0, 0), await leasing.RescueExpiredAsync(default)); // once

        var rescuer = NewWorker();
        var second = await TakeOneAsync(queue, rescuer);
        AssertSameJob(job, second);
        AssertCounts(second, attempt: 2, failures: 0, leaseExpiries: 1);
        Assert.Equal(rescuer.Id, second.Lease!.Owner);
        Assert.NotEqual(first.Lease!.Token, second.Lease.Token);
        await RecordAcceptedAsync(queue, Completed(second));
        await AssertNothingReadyAsync(queue, "the rescued job completed");
    }

    /// <summary>A heartbeat before the lease runs out extends it: past the first until, nothing is rescued and the outcome
    /// under the original token is accepted.</summary>
    [Fact]
    public async Task A_heartbeat_keeps_the_lease()
    {
        var queue = await NewQueueAsync(ShortLease);
        if (queue is not ILeasingTempestQueue leasing)
        {
            AssertNoLeases(queue);
            return;
        }
        var job = NewJob(11);
        await queue.EnqueueAsync(job);
        var worker = NewWorker();
        var delivery = await TakeOneAsync(queue, worker);
        var token = delivery.Lease!.Token;
        var until = delivery.Lease.Until;

        await Clock.AdvanceAsync(ShortLease / 2);
        var lost = await leasing.HeartbeatAsync(worker, [delivery], default);
        Assert.Empty(lost);
        await Clock.AdvanceAsync(ShortLease * 3 / 4); // past the first until, before the extended one
        Assert.True(Clock.Now > until, "the case's clock did not pass the first until");
        Assert.Equal(new TempestRescue(0, 0), await leasing.RescueExpiredAsync(default));
        await AssertNothingReadyAsync(queue, "the heartbeat extended the lease", NewWorker());

        Assert.Equal(token, delivery.Lease.Token);
        await RecordAcceptedAsync(queue, Completed(delivery));
        await AssertNothingReadyAsync(queue, "the job completed");
        await LetLeaseExpireAsync();
        Assert.Equal(new TempestRescue(0, 0), await leasing.RescueExpiredAsync(default));
    }

    /// <summary>A message whose lease expires as often as the poison threshold (3) goes to the dead letters with the reason
    /// <c>lease expired 3 times</c>, and the rescue reports it dead-lettered.</summary>
    [Fact]
    public async Task A_message_whose_lease_expires_3_times_is_poison()
    {
        var queue = await NewQueueAsync(ShortLease, maxLeaseExpiries: 3);
        if (queue is not ILeasingTempestQueue leasing)
        {
            AssertNoLeases(queue);
            return;
        }
        var job = NewJob(12);
        await queue.EnqueueAsync(job);
        for (int expiry = 1; expiry <= 3; expiry++)
        {
            var delivery = await TakeOneAsync(queue, NewWorker());
            AssertSameJob(job, delivery);
            AssertCounts(delivery, attempt: expiry, failures: 0, leaseExpiries: expiry - 1);
            await LetLeaseExpireAsync();
            var rescue = await leasing.RescueExpiredAsync(default);
            Assert.Equal(expiry < 3 ? new TempestRescue(1, 0) : new TempestRescue(0, 1), rescue);
        }
        await AssertNothingReadyAsync(queue, "the poison message is in the dead letters");
        if (queue is ITempestQueueInspector inspector)
        {
            var info = await inspector.GetAsync(job.Id!);
            Assert.True(info is not null, "the inspector does not know the poison message");
            Assert.Equal(TempestJobState.Dead, info.State);
            Assert.Equal("lease expired 3 times", info.DeadReason);
            Assert.Equal(3, info.Envelope?.LeaseExpiries ?? 0);
        }
    }

    /// <summary>Once a lease expired and the message was claimed again, the first worker's heartbeat reports it lost and its
    /// outcome is refused, while the second worker's outcome is accepted.</summary>
    [Fact]
    public async Task Outcomes_under_a_stale_token_are_refused()
    {
        var queue = await NewQueueAsync(ShortLease);
        if (queue is not ILeasingTempestQueue leasing)
        {
            AssertNoLeases(queue);
            return;
        }
        var job = NewJob(13);
        await queue.EnqueueAsync(job);
        var workerA = NewWorker();
        var a = await TakeOneAsync(queue, workerA);
        await LetLeaseExpireAsync();
        Assert.Equal(new TempestRescue(1, 0), await leasing.RescueExpiredAsync(default));
        var workerB = NewWorker();
        var b = await TakeOneAsync(queue, workerB);
        AssertSameJob(job, b);
        Assert.NotEqual(a.Lease!.Token, b.Lease!.Token);

        var lost = await leasing.HeartbeatAsync(workerA, [a], default);
        Assert.Equal(job.Id, Assert.Single(lost).Id);
        Assert.Empty(await leasing.HeartbeatAsync(workerB, [b], default));

        foreach (var stale in new[] { Completed(a), Returned(a), ReturnedUnstarted(a), DeadLettered(a, "stale"),
                     CompletedWithFailure(a, s_error) })
        {
            var refused = await RecordAsync(queue, stale);
            Assert.True(refused.Count == 1 && refused[0].Id == job.Id, $"the stale {stale.Kind} outcome was not refused");
        }
        if (Has(queue, TempestQueueFeatures.Delays))
        {
            var refused = await RecordAsync(queue, Retry(a, Clock.Now, s_error));
            Assert.True(refused.Count == 1 && refused[0].Id == job.Id, "the stale Retry outcome was not refused");
        }
        await AssertNothingReadyAsync(queue, "B holds the lease; the stale outcomes changed nothing");

        // In one batch with a stale outcome, the current one still counts.
        var mixed = await RecordAsync(queue, Completed(a), Completed(b));
        var refusedOne = Assert.Single(mixed);
        Assert.True(refusedOne.Lease?.Token == a.Lease.Token, "in a batch of a stale and a current outcome, the current one was refused");
        await AssertNothingReadyAsync(queue, "B's outcome completed the job");
        if (queue is ITempestQueueInspector inspector) Assert.Null(await inspector.GetAsync(job.Id!));
    }
}
