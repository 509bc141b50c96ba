using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using TaskTempest.Queues;
using TaskTempest.Testing;

namespace TaskTempest.Throughput;

/// <summary>
/// Jobs submitted per second, no workers running: one <c>SubmitNoOp</c> per job, and <c>engine.Batch()</c> flushed
/// every 100 and every 1,000 jobs (one <c>EnqueueBatchAsync</c> per flush), into the embedded memory queue and into the
/// leasing memory queue (TaskTempest.Testing, which stores each job's text as a server queue would). A new engine and
/// queue per run; a warm-up run of each; interleaved rounds; medians; bytes allocated per job.
/// </summary>
internal static class Submits
{
    public static void Run(int jobs, int rounds, string command)
    {
        Console.WriteLine($"# TaskTempest submit throughput, {Environment.ProcessorCount} cores, .NET {Environment.Version}; {rounds} interleaved rounds, medians");
        Console.WriteLine($"reproduce: {command}");
        var queues = new (string Name, Func<ITempestQueue> Create)[]
        {
            ("TempestMemoryQueue", () => new TempestMemoryQueue()),
            ("TempestLeasingMemoryQueue", () => new TempestLeasingMemoryQueue()),
        };
        var ways = new (string Name, int BatchSize)[] { ("one Submit per job", 1), ("Batch() of 100", 100), ("Batch() of 1,000", 1000) };
        var rows = queues.SelectMany(q => ways.Select(w => (Queue: q, Way: w))).ToList();

        foreach (var row in rows) Measure(row.Queue.Create, row.Way.BatchSize, Math.Min(jobs, 100_000)); // warm-up
        var samples = rows.ToDictionary(r => r, _ => new List<(double Rate, double Bytes)>());
        for (int round = 0; round < rounds; round++)
        {
            foreach (var row in rows) samples[row].Add(Measure(row.Queue.Create, row.Way.BatchSize, jobs));
        }

        Console.WriteLine();
        Console.WriteLine("| queue | submit | jobs | jobs/s (median) | ns per job | bytes/job | min - max jobs/s |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (var row in rows)
        {
            var rates = samples[row].Select(s => s.Rate).Order().ToList();
            double median = Measurement.Median(rates);
            double bytes = Measurement.Median(samples[row].Select(s => s.Bytes));
            Console.WriteLine($"| {row.Queue.Name} | {row.Way.Name} | {jobs:N0} | {median:N0} | {1e9 / median:N0} | {bytes:N0} | {rates[0]:N0} - {rates[^1]:N0} |");
        }
    }

    private static (double Rate, double Bytes) Measure(Func<ITempestQueue> createQueue, int batchSize, int jobs)
    {
        var engine = new Threads2(new TempestOptions
        {
            Queue = createQueue(),
            MainLoggerFactory = NullLoggerFactory.Instance,
            TaskLoggerFactory = NullLoggerFactory.Instance,
            HandleSignals = false,
        });
        _ = engine.Queue; // made before the clock starts
        Measurement.Settle();
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        if (batchSize == 1)
        {
            for (int i = 0; i < jobs; i++) engine.SubmitNoOp(i, i);
        }
        else
        {
            var batch = engine.Batch();
            for (int i = 0; i < jobs; i++)
            {
                batch.SubmitNoOp(i, i);
                if ((i + 1) % batchSize == 0) batch.Flush();
            }
            batch.Flush();
        }
        double seconds = clock.Elapsed.TotalSeconds;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        return (jobs / seconds, allocated / (double)jobs);
    }
}
