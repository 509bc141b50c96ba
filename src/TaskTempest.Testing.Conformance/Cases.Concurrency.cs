using System.Collections.Concurrent;
using TaskTempest.Queues;
using Xunit;

namespace TaskTempest.Testing.Conformance;

public abstract partial class TempestQueueConformance
{
    /// <summary>How many producers and consumers the concurrent case runs, and how many jobs each producer enqueues.</summary>
    private const int Producers = 4, Consumers = 4, JobsPerProducer = 500;

    /// <summary>
    /// Four producers (two one message at a time, two in batches of 10) and four consumers (each its own worker, taking
    /// batches of up to 8 and recording each delivery Completed) on threads of their own: every job is seen exactly
    /// once and nothing is left. Leases are <see cref="LongLease"/> (at least 30 s), so that a loaded machine cannot
    /// make one run out and a job run twice.
    /// </summary>
    [Fact]
    public async Task Concurrent_producers_and_consumers_lose_and_duplicate_nothing()
    {
        Assert.True(LongLease >= TimeSpan.FromSeconds(30), "the concurrent case needs leases of at least 30 s");
        var queue = await NewQueueAsync(LongLease);
        const int total = Producers * JobsPerProducer;
        var jobs = new ConformanceJob[total];
        for (int i = 0; i < total; i++) jobs[i] = NewJob(i, $"concurrent {i}");

        var seen = new ConcurrentDictionary<string, int>();
        int distinct = 0;
        using var deadline = new CancellationTokenSource(ConcurrentTimeout);
        using var done = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);

        var producers = Enumerable.Range(0, Producers).Select(p => Task.Run(async () =>
        {
            int first = p * JobsPerProducer;
            if (p % 2 == 0)
            {
                for (int i = first; i < first + JobsPerProducer; i++) await queue.EnqueueAsync(jobs[i], deadline.Token);
            }
            else
            {
                for (int i = first; i < first + JobsPerProducer; i += 10) await queue.EnqueueBatchAsync(jobs[i..(i + 10)], deadline.Token);
            }
        })).ToArray();

        var consumers = Enumerable.Range(0, Consumers).Select(_ => Task.Run(async () =>
        {
            var worker = NewWorker(slots: 8);
            try
            {
                await ConsumeAsync(worker);
            }
            catch
            {
                await done.CancelAsync(); // the others stop too, instead of waiting for the deadline
                throw;
            }
            if (queue is ILeasingTempestQueue leasing) await leasing.WorkerStoppedAsync(worker, default);
        })).ToArray();

        async Task ConsumeAsync(TempestWorkerInfo worker)
        {
            while (!done.IsCancellationRequested)
            {
                IReadOnlyList<TempestMessage> batch;
                try
                {
                    batch = await DeliverAsync(queue, null, 8, worker, done.Token);
                }
                catch (OperationCanceledException) when (done.IsCancellationRequested)
                {
                    break;
                }
                if (batch.Count == 0)
                {
                    await Task.Delay(PollInterval); // a queue that cannot wait
                    continue;
                }
                var jobsTaken = ReadBatch(batch, 8);
                foreach (var job in jobsTaken)
                {
                    if (seen.AddOrUpdate(job.Id!, 1, (_, n) => n + 1) == 1 && Interlocked.Increment(ref distinct) == total)
                        done.Cancel();
                }
                if (queue is IAcknowledgingTempestQueue acknowledging)
                {
                    var refused = await acknowledging.RecordAsync([.. jobsTaken.Select(Completed)], deadline.Token);
                    if (refused.Count > 0) throw Fail($"the queue refused the outcomes of {string.Join(", ", refused.Select(r => r.Id))}");
                }
            }
        }

        try
        {
            await Task.WhenAll(producers.Concat(consumers));
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw Fail($"after {ConcurrentTimeout.TotalSeconds} s the consumers had seen {Volatile.Read(ref distinct)} of {total} jobs");
        }
        Assert.False(deadline.IsCancellationRequested, $"after {ConcurrentTimeout.TotalSeconds} s the consumers had seen {distinct} of {total} jobs");

        Assert.Equal(total, seen.Count);
        var duplicated = seen.Where(s => s.Value > 1).Select(s => $"{s.Key} ×{s.Value}").ToList();
        Assert.True(duplicated.Count == 0, $"{duplicated.Count} jobs were handed out more than once: {string.Join(", ", duplicated.Take(10))}");
        Assert.All(jobs, job => Assert.True(seen.ContainsKey(job.Id!), $"{job.Id} was lost"));
        await AssertNothingReadyAsync(queue, "every job was taken once");
        if (queue is ICountingTempestQueue counting) Assert.Equal(0, await counting.CountAsync());
        if (queue is ITempestQueueInspector inspector)
        {
            var counts = await inspector.GetCountsAsync();
            AssertCount(0, counts.Ready, "Ready, after the concurrent run");
            AssertCount(0, counts.Running, "Running, after the concurrent run");
            AssertCount(0, counts.Dead, "Dead, after the concurrent run");
        }
    }
}
