using TaskTempest.Queues;
using Xunit;

namespace TaskTempest.Testing.Conformance;

public abstract partial class TempestQueueConformance
{
    /// <summary>Enqueued jobs come out with their ids and arguments, attempt 1 on the first delivery, and no envelope
    /// beyond the defaults; a leasing queue hands each out with a lease of its own for the worker that claimed it.</summary>
    [Fact]
    public async Task Enqueue_and_dequeue_round_trip_ids_and_arguments_with_attempt_1()
    {
        var queue = await NewQueueAsync();
        var jobs = new[]
        {
            NewJob(1, "plain"),
            NewJob(-2_000_000_000, "quote \" backslash \\ line\nbreak and ünïcödé ✓ 😀"),
            NewJob(int.MaxValue, null),
        };
        foreach (var job in jobs) await queue.EnqueueAsync(job);

        var taken = new List<ConformanceJob>();
        if (queue is not ILeasingTempestQueue)
        {
            // The single-message call of the first contract, then the batch call.
            var first = await DequeueOneAsync(queue);
            taken.Add(first);
            if (queue is IAcknowledgingTempestQueue) await RecordAcceptedAsync(queue, Completed(first));
        }
        var worker = NewWorker();
        var tokens = new HashSet<long>();
        while (taken.Count < jobs.Length)
        {
            var delivery = await TakeOneAsync(queue, worker);
            if (queue is ILeasingTempestQueue leasing)
            {
                Assert.Equal(LongLease, leasing.LeaseDuration);
                var lease = delivery.Lease;
                Assert.True(lease is not null, "a leasing queue handed out a delivery without a lease");
                Assert.Equal(worker.Id, lease.Owner);
                Assert.True(tokens.Add(lease.Token), $"two claims got the same lease token {lease.Token}");
                AssertCloseTo(Clock.Now + leasing.LeaseDuration, lease.Until, "the lease's until");
            }
            taken.Add(delivery);
            if (queue is IAcknowledgingTempestQueue) await RecordAcceptedAsync(queue, Completed(delivery));
        }

        foreach (var job in jobs)
        {
            var delivery = Assert.Single(taken, t => t.Id == job.Id);
            AssertSameJob(job, delivery);
            AssertCounts(delivery, attempt: 1, failures: 0, leaseExpiries: 0);
            Assert.True(delivery.Envelope is null || delivery.Envelope.IsDefault, $"a plain submit came back with an envelope: {delivery.ToEnvelopeJson()}");
        }
        await AssertNothingReadyAsync(queue, "every job was taken (and acknowledged)");
    }

    /// <summary>What <see cref="ITempestQueue.Features"/> states agrees with the interfaces the queue implements.</summary>
    [Fact]
    public async Task Features_agree_with_the_interfaces()
    {
        var queue = await NewQueueAsync();
        var features = queue.Features;
        const TempestQueueFeatures known = TempestQueueFeatures.Acknowledgements | TempestQueueFeatures.Leases | TempestQueueFeatures.Delays
            | TempestQueueFeatures.Batches | TempestQueueFeatures.FifoForOneConsumer | TempestQueueFeatures.Counting | TempestQueueFeatures.Inspection
            | TempestQueueFeatures.UniqueKeys | TempestQueueFeatures.NamedQueues | TempestQueueFeatures.Schedules;
        Assert.True((features & ~known) == 0, $"Features has flags the contract does not define: {features}");
        Assert.Equal(queue is IAcknowledgingTempestQueue, features.HasFlag(TempestQueueFeatures.Acknowledgements));
        Assert.Equal(queue is ILeasingTempestQueue, features.HasFlag(TempestQueueFeatures.Leases));
        Assert.Equal(queue is ICountingTempestQueue, features.HasFlag(TempestQueueFeatures.Counting));
        Assert.Equal(queue is ITempestQueueInspector, features.HasFlag(TempestQueueFeatures.Inspection));
        Assert.Equal(queue is ITempestScheduleStore, features.HasFlag(TempestQueueFeatures.Schedules));
        // Every interface-backed feature the queue has is one FromInterfaces finds.
        Assert.Equal(TempestQueueFeaturesExtensions.FromInterfaces(queue),
            features & (TempestQueueFeatures.Acknowledgements | TempestQueueFeatures.Leases | TempestQueueFeatures.Counting | TempestQueueFeatures.Inspection
                        | TempestQueueFeatures.Schedules));
        Assert.Equal(features, queue.Features); // stable
    }

    /// <summary>A batch call never hands out more than asked, and every message comes out exactly once; a queue with
    /// <see cref="TempestQueueFeatures.Batches"/> fills the batch when enough are ready.</summary>
    [Fact]
    public async Task A_batch_never_exceeds_its_limit_and_every_message_comes_out_once()
    {
        var queue = await NewQueueAsync();
        var jobs = Enumerable.Range(0, 10).Select(i => NewJob(i)).ToList();
        foreach (var job in jobs) await queue.EnqueueAsync(job);

        var first = await TakeAsync(queue, 3);
        Assert.InRange(first.Count, 1, 3);
        if (Has(queue, TempestQueueFeatures.Batches))
            Assert.True(first.Count == 3, $"a queue with Batches handed out {first.Count} of 3 asked for while 10 were ready");
        if (queue is IAcknowledgingTempestQueue) await RecordAcceptedAsync(queue, [.. first.Select(Completed)]);

        var rest = await DrainAsync(queue, jobs.Count - first.Count, batchSize: 3);
        var all = first.Concat(rest).ToList();
        Assert.Equal(jobs.Select(j => j.Id).Order(), all.Select(j => j.Id).Order());
        foreach (var job in jobs) AssertSameJob(job, all.Single(d => d.Id == job.Id));
        await AssertNothingReadyAsync(queue, "all 10 came out");
        if (queue is ICountingTempestQueue counting) Assert.Equal(0, await counting.CountAsync());
    }

    /// <summary>Every envelope field survives the queue: the counts, max attempts, queue name, priority, unique key,
    /// last error and trace context, and the run-at on a queue with <see cref="TempestQueueFeatures.Delays"/>.</summary>
    [Fact]
    public async Task The_envelope_round_trips()
    {
        var queue = await NewQueueAsync();
        bool delays = Has(queue, TempestQueueFeatures.Delays);
        var runAt = Clock.Now - TimeSpan.FromSeconds(30); // due: it is handed out at once
        var envelope = new TempestEnvelope
        {
            Failures = 2,
            LeaseExpiries = 1,
            MaxAttempts = 7,
            RunAt = delays ? runAt : null,
            Queue = "mail",
            Priority = 3,
            UniqueKey = "conformance:unique:1",
            LastError = new TempestError("System.InvalidOperationException", "boom: \"quoted\" and ünïcödé"),
            TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        };
        var job = NewJob(42, "with an envelope", envelope.Clone());
        await queue.EnqueueAsync(job);

        // A queue with named queues keeps the job in "mail"; one without carries the name in its one queue.
        var delivery = Has(queue, TempestQueueFeatures.NamedQueues)
            ? Assert.Single(await TakeFromAsync(queue, [new TempestQueueTake("mail", 1)], 1))
            : await TakeOneAsync(queue);
        AssertSameJob(job, delivery);
        var got = delivery.Envelope;
        Assert.True(got is not null, "the envelope was lost");
        Assert.Equal(1, delivery.Attempt);
        Assert.Equal(envelope.Failures, got.Failures);
        Assert.Equal(envelope.LeaseExpiries, got.LeaseExpiries);
        Assert.Equal(envelope.MaxAttempts, got.MaxAttempts);
        Assert.Equal(envelope.Queue, got.Queue);
        Assert.Equal(envelope.Priority, got.Priority);
        Assert.Equal(envelope.UniqueKey, got.UniqueKey);
        Assert.Equal(envelope.EffectiveUniqueScope, got.EffectiveUniqueScope);
        Assert.Equal(envelope.LastError, got.LastError);
        Assert.Equal(envelope.TraceParent, got.TraceParent);
        if (delays)
        {
            Assert.True(got.RunAt is not null, "the run-at was lost");
            AssertCloseTo(runAt, got.RunAt.Value, "the run-at");
        }
        else
        {
            Assert.Null(got.RunAt);
        }
        if (queue is IAcknowledgingTempestQueue) await RecordAcceptedAsync(queue, Completed(delivery));
        await AssertNothingReadyAsync(queue, "the one job was taken");
    }

    /// <summary>Bare messages another program wrote (<c>[null,"ConformanceJob",7,"x"]</c>) get the defaults: an id
    /// (the one given, if any), attempt 1 and no envelope.</summary>
    [Fact]
    public async Task Bare_external_messages_get_the_defaults()
    {
        var queue = await NewQueueAsync();
        await queue.EnqueueAsync(new RawTempestMessage("""[null,"ConformanceJob",7,"x"]"""));
        await queue.EnqueueAsync(new RawTempestMessage("""["ext-1","ConformanceJob",8,"y"]"""));

        var taken = await DrainAsync(queue, 2, batchSize: 2);
        var withoutId = Assert.Single(taken, t => t.Number == 7);
        var withId = Assert.Single(taken, t => t.Number == 8);
        Assert.Equal("x", withoutId.Text);
        Assert.False(string.IsNullOrEmpty(withoutId.Id), "a message without an id got none");
        Assert.True(TempestId.IsAcceptable(withoutId.Id), $"the id given to a message without one is not acceptable: {withoutId.Id}");
        Assert.Equal("ext-1", withId.Id);
        Assert.Equal("y", withId.Text);
        foreach (var delivery in taken)
        {
            AssertCounts(delivery, attempt: 1, failures: 0, leaseExpiries: 0);
            Assert.True(delivery.Envelope is null || delivery.Envelope.IsDefault, $"a bare message came back with an envelope: {delivery.ToEnvelopeJson()}");
        }
        await AssertNothingReadyAsync(queue, "both were taken");
    }

    /// <summary>A counting queue counts the messages that wait (not those handed out).</summary>
    [Fact]
    public async Task Counting_counts_the_waiting_messages()
    {
        var queue = await NewQueueAsync();
        if (queue is not ICountingTempestQueue counting)
        {
            Assert.False(Has(queue, TempestQueueFeatures.Counting), "Features has Counting, but the queue is no ICountingTempestQueue");
            return;
        }
        Assert.Equal(0, await counting.CountAsync());
        for (int i = 0; i < 3; i++) await queue.EnqueueAsync(NewJob(i));
        Assert.Equal(3, await counting.CountAsync());
        var delivery = await TakeOneAsync(queue);
        Assert.Equal(2, await counting.CountAsync());
        if (queue is IAcknowledgingTempestQueue)
        {
            await RecordAcceptedAsync(queue, Completed(delivery));
            Assert.Equal(2, await counting.CountAsync());
        }
    }

    /// <summary>
    /// With <see cref="TempestQueueFeatures.FifoForOneConsumer"/>, one consumer without retries or delays gets the
    /// messages in enqueue order at batch sizes 1, 7 and 50; without it, every message still comes exactly once.
    /// </summary>
    [Fact]
    public async Task One_consumer_gets_the_messages_in_enqueue_order_where_the_queue_promises_it()
    {
        foreach (int batchSize in new[] { 1, 7, 50 })
        {
            var queue = await NewQueueAsync();
            var jobs = Enumerable.Range(0, 50).Select(i => NewJob(i)).ToList();
            foreach (var job in jobs) await queue.EnqueueAsync(job);

            var worker = NewWorker(slots: batchSize);
            var taken = await DrainAsync(queue, jobs.Count, batchSize, worker);
            if (Has(queue, TempestQueueFeatures.FifoForOneConsumer))
                Assert.Equal(jobs.Select(j => j.Id), taken.Select(t => t.Id));
            else
                Assert.Equal(jobs.Select(j => j.Id).Order(), taken.Select(t => t.Id).Order());
            await AssertNothingReadyAsync(queue, $"all 50 came out (batch size {batchSize})", worker);
        }
    }
}
