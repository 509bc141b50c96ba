using TaskTempest.Queues;
using Xunit;

namespace TaskTempest.Testing.Conformance;

public abstract partial class TempestQueueConformance
{
    /// <summary>Enqueues a job, takes it (it is the only one ready) and dead-letters it with <paramref name="reason"/>.</summary>
    private async Task<ConformanceJob> MakeDeadLetterAsync(ITempestQueue queue, int number, string reason, TempestEnvelope? envelope = null)
    {
        var job = NewJob(number, envelope: envelope);
        await queue.EnqueueAsync(job);
        var delivery = await TakeOneAsync(queue);
        AssertSameJob(job, delivery);
        await RecordAcceptedAsync(queue, DeadLettered(delivery, reason));
        return job;
    }

    private static void AssertCount(long expected, long? actual, string state)
    {
        if (actual is { } count) Assert.True(expected == count, $"{state}: expected {expected}, the inspector counts {count}");
    }

    /// <summary>The inspector counts the jobs in each state after a mix: ready, running, dead, and (with
    /// <see cref="TempestQueueFeatures.Delays"/>) scheduled and retrying. A count the queue cannot know may be null.</summary>
    [Fact]
    public async Task The_inspector_counts_jobs_by_state()
    {
        var queue = await NewQueueAsync();
        if (queue is not ITempestQueueInspector inspector)
        {
            AssertNoInspection(queue);
            return;
        }
        var empty = await inspector.GetCountsAsync();
        Assert.NotNull(empty);
        foreach (var (count, state) in new[] { (empty.Ready, "Ready"), (empty.Scheduled, "Scheduled"), (empty.Retrying, "Retrying"), (empty.Running, "Running"), (empty.Dead, "Dead") })
            AssertCount(0, count, state);

        bool acknowledgements = queue is IAcknowledgingTempestQueue;
        bool delays = Has(queue, TempestQueueFeatures.Delays);
        if (acknowledgements) await MakeDeadLetterAsync(queue, 1, "conformance: dead");
        if (acknowledgements && delays)
        {
            await queue.EnqueueAsync(NewJob(2));
            var retrying = await TakeOneAsync(queue);
            await RecordAcceptedAsync(queue, Retry(retrying, Clock.Now + ShortDelay, s_error));
        }
        await queue.EnqueueAsync(NewJob(3));
        var running = await TakeOneAsync(queue);
        await queue.EnqueueAsync(NewJob(4));
        await queue.EnqueueAsync(NewJob(5));
        if (delays) await queue.EnqueueAsync(NewJob(6, envelope: new TempestEnvelope { RunAt = Clock.Now + ShortDelay }));

        var counts = await inspector.GetCountsAsync();
        Assert.True(counts.Ready is not null || counts.Running is not null || counts.Dead is not null,
            "the inspector counts no state at all");
        AssertCount(2, counts.Ready, "Ready");
        AssertCount(delays ? 1 : 0, counts.Scheduled, "Scheduled");
        AssertCount(acknowledgements && delays ? 1 : 0, counts.Retrying, "Retrying");
        AssertCount(acknowledgements ? 1 : 0, counts.Running, "Running");
        AssertCount(acknowledgements ? 1 : 0, counts.Dead, "Dead");

        if (acknowledgements)
        {
            await RecordAcceptedAsync(queue, Completed(running));
            AssertCount(0, (await inspector.GetCountsAsync()).Running, "Running, after the running job completed");
        }
    }

    /// <summary>The inspector lists a state in pages (each job on one page only, in the order they would run on a FIFO
    /// queue) and gets one job by id, ready or running (with its lease on a leasing queue); an unknown id is null.</summary>
    [Fact]
    public async Task The_inspector_lists_in_pages_and_gets_one_job()
    {
        var queue = await NewQueueAsync();
        if (queue is not ITempestQueueInspector inspector)
        {
            AssertNoInspection(queue);
            return;
        }
        var jobs = Enumerable.Range(0, 5).Select(i => NewJob(i)).ToList();
        foreach (var job in jobs) await queue.EnqueueAsync(job);

        var pages = new List<IReadOnlyList<TempestJobInfo>>();
        for (int offset = 0; offset <= 6; offset += 2) pages.Add(await inspector.ListAsync(TempestJobState.Ready, offset, 2));
        Assert.Equal([2, 2, 1, 0], pages.Select(p => p.Count));
        var listed = pages.SelectMany(p => p).ToList();
        Assert.All(listed, info => Assert.Equal(TempestJobState.Ready, info.State));
        if (Has(queue, TempestQueueFeatures.FifoForOneConsumer))
            Assert.Equal(jobs.Select(j => j.Id), listed.Select(i => i.Id));
        else
            Assert.Equal(jobs.Select(j => j.Id).Order(), listed.Select(i => i.Id).Order());
        Assert.Empty(await inspector.ListAsync(TempestJobState.Dead, 0, 10));
        Assert.Empty(await inspector.ListAsync(TempestJobState.Running, 0, 10));

        var ready = await inspector.GetAsync(jobs[0].Id!);
        Assert.True(ready is not null, "the inspector does not know a ready job");
        Assert.Equal(jobs[0].Id, ready.Id);
        Assert.Equal(ConformanceJob.WireName, ready.TaskName);
        Assert.Equal(TempestJobState.Ready, ready.State);
        Assert.Equal(0, ready.Attempt);
        Assert.Null(ready.Lease);
        if (ready.Message is { } text)
        {
            var parsed = ParseJob(text);
            AssertSameJob(jobs[0], parsed);
        }
        Assert.Null(await inspector.GetAsync("cj-no-such-job"));

        if (queue is not IAcknowledgingTempestQueue) return; // it forgets what it hands out
        if (await KnowsRunningAsync(inspector))
        {
            await AssertRunningJobShownAsync(queue, inspector);
        }
    }

    // A queue that hands jobs out without leases may say it cannot know which run (a null count): the embedded queue.
    private static async Task<bool> KnowsRunningAsync(ITempestQueueInspector inspector) => (await inspector.GetCountsAsync()).Running is not null;

    private async Task AssertRunningJobShownAsync(ITempestQueue queue, ITempestQueueInspector inspector)
    {
        var worker = NewWorker();
        var delivery = await TakeOneAsync(queue, worker);
        var info = await inspector.GetAsync(delivery.Id!);
        Assert.True(info is not null, "the inspector does not know a running job");
        Assert.Equal(TempestJobState.Running, info.State);
        Assert.Equal(1, info.Attempt);
        if (queue is ILeasingTempestQueue)
        {
            Assert.True(info.Lease is not null, "the inspector shows a running job without its lease");
            Assert.Equal(worker.Id, info.Lease.Owner);
            Assert.Equal(delivery.Lease!.Token, info.Lease.Token);
            AssertCloseTo(delivery.Lease.Until, info.Lease.Until, "the listed lease's until");
        }
        var runningList = await inspector.ListAsync(TempestJobState.Running, 0, 10);
        Assert.Equal(delivery.Id, Assert.Single(runningList).Id);
        Assert.Equal(4, (await inspector.ListAsync(TempestJobState.Ready, 0, 10)).Count);
    }

    /// <summary>The inspector keeps the recent failed runs, newest first: the id, task, attempt, status and error of a
    /// Completed outcome with a failure or a timeout.</summary>
    [Fact]
    public async Task The_inspector_keeps_the_recent_failures()
    {
        var queue = await NewQueueAsync();
        if (queue is not ITempestQueueInspector inspector)
        {
            AssertNoInspection(queue);
            return;
        }
        if (queue is not IAcknowledgingTempestQueue)
        {
            Assert.Empty(await inspector.GetRecentFailuresAsync(10));
            return;
        }
        Assert.Empty(await inspector.GetRecentFailuresAsync(10));
        var failed = NewJob(1);
        await queue.EnqueueAsync(failed);
        var first = await TakeOneAsync(queue);
        await RecordAcceptedAsync(queue, CompletedWithFailure(first, s_error));
        await Clock.AdvanceAsync(TimeSpan.FromSeconds(1));
        var timedOut = NewJob(2);
        await queue.EnqueueAsync(timedOut);
        var second = await TakeOneAsync(queue);
        var timeoutError = new TempestError("System.TimeoutException", "conformance: past the task's timeout");
        await RecordAcceptedAsync(queue, CompletedWithFailure(second, timeoutError, TempestTaskStatus.Timeout));
        var succeeded = NewJob(3);
        await queue.EnqueueAsync(succeeded);
        await RecordAcceptedAsync(queue, Completed(await TakeOneAsync(queue)));

        var failures = await inspector.GetRecentFailuresAsync(10);
        Assert.Equal(2, failures.Count);
        Assert.Equal(new[] { timedOut.Id, failed.Id }, failures.Select(f => f.Id));
        var newest = failures[0];
        Assert.Equal(ConformanceJob.WireName, newest.TaskName);
        Assert.Equal(1, newest.Attempt);
        Assert.Equal(TempestTaskStatus.Timeout, newest.Status);
        Assert.Equal(timeoutError, newest.Error);
        var oldest = failures[1];
        Assert.Equal(TempestTaskStatus.Failure, oldest.Status);
        Assert.Equal(s_error, oldest.Error);
        Assert.True(oldest.FailedAt <= newest.FailedAt, "the recent failures are not newest first by time");
        Assert.Equal(timedOut.Id, Assert.Single(await inspector.GetRecentFailuresAsync(1)).Id);
        // Completed jobs are gone, whatever their status.
        Assert.Null(await inspector.GetAsync(failed.Id!));
        Assert.Null(await inspector.GetAsync(timedOut.Id!));
    }

    /// <summary>A heartbeat puts a worker in the registry with its last heartbeat and the leases it holds; a stopped
    /// worker leaves it. A queue without leases has no workers.</summary>
    [Fact]
    public async Task The_inspector_lists_the_workers_that_heartbeat()
    {
        var queue = await NewQueueAsync();
        if (queue is not ITempestQueueInspector inspector)
        {
            AssertNoInspection(queue);
            return;
        }
        if (queue is not ILeasingTempestQueue leasing)
        {
            Assert.Empty(await inspector.GetWorkersAsync());
            return;
        }
        var worker = NewWorker();
        var other = NewWorker();
        Assert.Empty(await leasing.HeartbeatAsync(worker, [], default));
        Assert.Empty(await leasing.HeartbeatAsync(other, [], default));
        var status = Assert.Single(await inspector.GetWorkersAsync(), w => w.Worker.Id == worker.Id);
        Assert.Equal(worker.EngineName, status.Worker.EngineName);
        Assert.Equal(worker.Host, status.Worker.Host);
        Assert.Equal(worker.ProcessId, status.Worker.ProcessId);
        Assert.Equal(worker.Slots, status.Worker.Slots);
        AssertCloseTo(worker.StartedAt, status.Worker.StartedAt, "the worker's start");
        Assert.Equal(0, status.Running);
        AssertCloseTo(Clock.Now, status.LastHeartbeat, "the worker's last heartbeat");

        await queue.EnqueueAsync(NewJob(1));
        var delivery = await TakeOneAsync(queue, worker);
        await Clock.AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.Empty(await leasing.HeartbeatAsync(worker, [delivery], default));
        status = Assert.Single(await inspector.GetWorkersAsync(), w => w.Worker.Id == worker.Id);
        Assert.Equal(1, status.Running);
        AssertCloseTo(Clock.Now, status.LastHeartbeat, "the worker's last heartbeat, after a second one");

        await RecordAcceptedAsync(queue, Completed(delivery));
        await leasing.WorkerStoppedAsync(worker, default);
        var workers = await inspector.GetWorkersAsync();
        Assert.DoesNotContain(workers, w => w.Worker.Id == worker.Id);
        Assert.Contains(workers, w => w.Worker.Id == other.Id);
        await leasing.WorkerStoppedAsync(other, default);
        Assert.Empty(await inspector.GetWorkersAsync());
    }

    /// <summary>Cancelling a waiting job removes it: it is not handed out and the inspector no longer knows it. Cancelling
    /// an unknown job is false.</summary>
    [Fact]
    public async Task The_inspector_cancels_a_waiting_job()
    {
        var queue = await NewQueueAsync();
        if (queue is not ITempestQueueInspector inspector)
        {
            AssertNoInspection(queue);
            return;
        }
        var cancelled = NewJob(1);
        var kept = NewJob(2);
        await queue.EnqueueAsync(cancelled);
        await queue.EnqueueAsync(kept);
        Assert.True(await inspector.CancelAsync(cancelled.Id!), "cancelling a waiting job returned false");
        Assert.Null(await inspector.GetAsync(cancelled.Id!));
        Assert.False(await inspector.CancelAsync(cancelled.Id!), "cancelling a job twice returned true");
        Assert.False(await inspector.CancelAsync("cj-no-such-job"), "cancelling an unknown job returned true");

        var delivery = await TakeOneAsync(queue);
        AssertSameJob(kept, delivery);
        if (queue is IAcknowledgingTempestQueue) await RecordAcceptedAsync(queue, Completed(delivery));
        await AssertNothingReadyAsync(queue, "the other job was cancelled");
        if (queue is ICountingTempestQueue counting) Assert.Equal(0, await counting.CountAsync());
    }

    /// <summary>Cancelling a running job takes its lease: its worker's next heartbeat reports it lost and its outcome is
    /// refused; it does not run again. A dead letter cannot be cancelled.</summary>
    [Fact]
    public async Task The_inspector_cancels_a_running_job()
    {
        var queue = await NewQueueAsync();
        if (queue is not ITempestQueueInspector inspector)
        {
            AssertNoInspection(queue);
            return;
        }
        if (queue is not ILeasingTempestQueue leasing)
        {
            AssertNoLeases(queue);
            return;
        }
        var job = NewJob(1);
        await queue.EnqueueAsync(job);
        var worker = NewWorker();
        var delivery = await TakeOneAsync(queue, worker);
        Assert.True(await inspector.CancelAsync(job.Id!), "cancelling a running job returned false");

        var lost = await leasing.HeartbeatAsync(worker, [delivery], default);
        Assert.Equal(job.Id, Assert.Single(lost).Id);
        var refused = await RecordAsync(queue, Completed(delivery));
        Assert.Equal(job.Id, Assert.Single(refused).Id);
        await AssertNothingReadyAsync(queue, "the job was cancelled");
        Assert.Equal(new TempestRescue(0, 0), await leasing.RescueExpiredAsync(default));

        var dead = await MakeDeadLetterAsync(queue, 2, "conformance: dead");
        Assert.False(await inspector.CancelAsync(dead.Id!), "cancelling a dead letter returned true");
        Assert.Equal(TempestJobState.Dead, (await inspector.GetAsync(dead.Id!))?.State);
    }

    /// <summary>A requeued dead letter runs again with the same id and fresh counts (attempt 1, no failures, no lease
    /// expiries); requeueing all of them returns how many; a job that is not dead cannot be requeued.</summary>
    [Fact]
    public async Task The_inspector_requeues_dead_letters()
    {
        var queue = await NewQueueAsync();
        if (queue is not ITempestQueueInspector inspector)
        {
            AssertNoInspection(queue);
            return;
        }
        if (queue is not IAcknowledgingTempestQueue)
        {
            Assert.Empty(await inspector.ListAsync(TempestJobState.Dead, 0, 10));
            Assert.Equal(0, await inspector.RequeueAllDeadAsync());
            return;
        }
        var one = await MakeDeadLetterAsync(queue, 1, "conformance: dead once", new TempestEnvelope { Failures = 2, LeaseExpiries = 1 });
        var dead = await inspector.ListAsync(TempestJobState.Dead, 0, 10);
        var info = Assert.Single(dead);
        Assert.Equal(one.Id, info.Id);
        Assert.Equal("conformance: dead once", info.DeadReason);

        Assert.True(await inspector.RequeueDeadAsync(one.Id!), "requeueing a dead letter returned false");
        Assert.False(await inspector.RequeueDeadAsync(one.Id!), "requeueing a job that is no longer dead returned true");
        Assert.False(await inspector.RequeueDeadAsync("cj-no-such-job"), "requeueing an unknown job returned true");
        Assert.Empty(await inspector.ListAsync(TempestJobState.Dead, 0, 10));
        var again = await TakeOneAsync(queue);
        AssertSameJob(one, again);
        AssertCounts(again, attempt: 1, failures: 0, leaseExpiries: 0);
        await RecordAcceptedAsync(queue, Completed(again));

        var two = await MakeDeadLetterAsync(queue, 2, "conformance: dead");
        var three = await MakeDeadLetterAsync(queue, 3, "conformance: dead");
        Assert.Equal(2, await inspector.RequeueAllDeadAsync());
        Assert.Equal(0, await inspector.RequeueAllDeadAsync());
        var back = await DrainAsync(queue, 2, batchSize: 2);
        Assert.Equal(new[] { two.Id, three.Id }.Order(), back.Select(b => b.Id).Order());
        Assert.All(back, b => AssertCounts(b, attempt: 1, failures: 0, leaseExpiries: 0));
        await AssertNothingReadyAsync(queue, "both requeued dead letters ran");
    }

    /// <summary>A job that is not running can be deleted (ready, scheduled, dead); a running or unknown one cannot;
    /// deleting every dead letter returns how many.</summary>
    [Fact]
    public async Task The_inspector_deletes_jobs_and_dead_letters()
    {
        var queue = await NewQueueAsync();
        if (queue is not ITempestQueueInspector inspector)
        {
            AssertNoInspection(queue);
            return;
        }
        var ready = NewJob(1);
        await queue.EnqueueAsync(ready);
        Assert.True(await inspector.DeleteAsync(ready.Id!), "deleting a ready job returned false");
        Assert.Null(await inspector.GetAsync(ready.Id!));
        Assert.False(await inspector.DeleteAsync(ready.Id!), "deleting a job twice returned true");
        Assert.False(await inspector.DeleteAsync("cj-no-such-job"), "deleting an unknown job returned true");
        await AssertNothingReadyAsync(queue, "the ready job was deleted");

        if (Has(queue, TempestQueueFeatures.Delays))
        {
            var scheduled = NewJob(2, envelope: new TempestEnvelope { RunAt = Clock.Now + ShortDelay });
            await queue.EnqueueAsync(scheduled);
            Assert.True(await inspector.DeleteAsync(scheduled.Id!), "deleting a scheduled job returned false");
            await Clock.AdvanceAsync(ShortDelay * 2);
            await AssertNothingReadyAsync(queue, "the scheduled job was deleted");
        }
        if (queue is not IAcknowledgingTempestQueue)
        {
            Assert.Equal(0, await inspector.DeleteAllDeadAsync());
            return;
        }

        await queue.EnqueueAsync(NewJob(3));
        var running = await TakeOneAsync(queue);
        Assert.False(await inspector.DeleteAsync(running.Id!), "deleting a running job returned true");
        if (await KnowsRunningAsync(inspector)) Assert.Equal(TempestJobState.Running, (await inspector.GetAsync(running.Id!))?.State);
        await RecordAcceptedAsync(queue, Completed(running));

        var dead1 = await MakeDeadLetterAsync(queue, 4, "conformance: dead");
        var dead2 = await MakeDeadLetterAsync(queue, 5, "conformance: dead");
        var dead3 = await MakeDeadLetterAsync(queue, 6, "conformance: dead");
        Assert.True(await inspector.DeleteAsync(dead1.Id!), "deleting a dead letter returned false");
        Assert.Null(await inspector.GetAsync(dead1.Id!));
        Assert.Equal(2, await inspector.DeleteAllDeadAsync());
        Assert.Equal(0, await inspector.DeleteAllDeadAsync());
        Assert.Null(await inspector.GetAsync(dead2.Id!));
        Assert.Null(await inspector.GetAsync(dead3.Id!));
        Assert.Empty(await inspector.ListAsync(TempestJobState.Dead, 0, 10));
        AssertCount(0, (await inspector.GetCountsAsync()).Dead, "Dead, after deleting every dead letter");
        Assert.Equal(0, await inspector.RequeueAllDeadAsync());
        await AssertNothingReadyAsync(queue, "every job was deleted or completed");
    }
}
