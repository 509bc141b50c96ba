using System.Diagnostics;
using System.Threading.Channels;
using System.Threading.Tasks.Dataflow;
using Microsoft.Extensions.Logging.Abstractions;
using TaskTempest;

namespace TaskTempest.Throughput;

/// <summary>
/// TaskTempest's thread-pool mode (2 workers, log lines off) against the practical limit, a bare
/// System.Threading.Channels loop with 2 consumer threads doing the same work, and TPL Dataflow's
/// ActionBlock (MaxDegreeOfParallelism 2); pre-filled (all submitted, then drained) and live
/// (producer and consumers at once). Interleaved rounds, medians; bytes allocated per job.
/// </summary>
internal static class Limit
{
    private sealed class Job(int a, int b)
    {
        public readonly int A = a, B = b;
    }

    public static async Task RunAsync(int jobs, int rounds)
    {
        var contenders = new (string Name, Func<int, bool, Task<double>> Run)[]
        {
            ("Channels loop, 2 threads", ChannelsAsync),
            ("Dataflow ActionBlock, DOP 2", DataflowAsync),
            ("TaskTempest, 2 threads", TaskTempestAsync),
        };
        Console.WriteLine($"Against the limit: {jobs:N0} no-op Adder-shaped jobs, 2 workers, {rounds} interleaved rounds, medians");
        foreach (var (name, run) in contenders) { await run(Math.Min(jobs, 200_000), true); await run(Math.Min(jobs, 200_000), false); } // warm-up

        foreach (bool prefilled in new[] { true, false })
        {
            var rates = contenders.ToDictionary(c => c.Name, _ => new List<double>());
            var bytes = contenders.ToDictionary(c => c.Name, _ => new List<double>());
            for (int round = 0; round < rounds; round++)
            {
                foreach (var (name, run) in contenders)
                {
                    long before = GC.GetTotalAllocatedBytes(precise: true);
                    rates[name].Add(await run(jobs, prefilled));
                    bytes[name].Add((GC.GetTotalAllocatedBytes(precise: true) - before) / (double)jobs);
                }
            }
            double limit = Median(rates[contenders[0].Name]);
            Console.WriteLine();
            Console.WriteLine($"| {(prefilled ? "pre-filled" : "live")} | jobs/s (median) | ratio to the Channels loop | bytes allocated per job |");
            Console.WriteLine("|---|---:|---:|---:|");
            foreach (var (name, _) in contenders)
                Console.WriteLine($"| {name} | {Median(rates[name]):N0} | {Median(rates[name]) / limit:0.00} | {Median(bytes[name]):0} |");
        }
        Console.WriteLine($"\npeak working set of the process: {Process.GetCurrentProcess().PeakWorkingSet64 / 1024.0 / 1024.0:0} MiB");
    }

    public static async Task ProfileAsync(int jobs)
    {
        for (int i = 0; i < 3; i++) Console.WriteLine($"{await TaskTempestAsync(jobs, prefilled: true):N0} jobs/s");
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private static async Task<double> ChannelsAsync(int jobs, bool prefilled)
    {
        var channel = Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = true });
        var done = Finish.Expect(jobs);
        if (prefilled) Produce(channel.Writer, jobs);
        var clock = Stopwatch.StartNew();
        var consumers = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            var reader = channel.Reader;
            while (true)
            {
                while (reader.TryRead(out var job)) Work(job);
                if (!reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult()) return;
            }
        }) { IsBackground = true }).ToList();
        consumers.ForEach(t => t.Start());
        if (!prefilled) Produce(channel.Writer, jobs);
        await done;
        double seconds = clock.Elapsed.TotalSeconds;
        channel.Writer.Complete();
        consumers.ForEach(t => t.Join());
        return jobs / seconds;
    }

    private static void Produce(ChannelWriter<Job> writer, int jobs)
    {
        for (int i = 0; i < jobs; i++) writer.TryWrite(new Job(i, i));
    }

    private static void Work(Job job)
    {
        if (job.A + job.B >= 0) Finish.One();
    }

    private static async Task<double> DataflowAsync(int jobs, bool prefilled)
    {
        var done = Finish.Expect(jobs);
        var block = new ActionBlock<Job>(Work, new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = 2 });
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < jobs; i++) block.Post(new Job(i, i)); // an ActionBlock starts as soon as it has work: no pre-filled mode
        await done;
        double seconds = clock.Elapsed.TotalSeconds;
        block.Complete();
        await block.Completion;
        _ = prefilled;
        return jobs / seconds;
    }

    private static async Task<double> TaskTempestAsync(int jobs, bool prefilled)
    {
        var engine = new Threads2(new TempestOptions
        {
            MainLoggerFactory = NullLoggerFactory.Instance,
            TaskLoggerFactory = NullLoggerFactory.Instance,
            HandleSignals = false,
        });
        var done = Finish.Expect(jobs);
        if (prefilled) for (int i = 0; i < jobs; i++) engine.SubmitNoOp(i, i);
        var clock = Stopwatch.StartNew();
        var run = engine.RunAsync();
        if (!prefilled) for (int i = 0; i < jobs; i++) engine.SubmitNoOp(i, i);
        await done;
        double seconds = clock.Elapsed.TotalSeconds;
        engine.Stop();
        await run;
        return jobs / seconds;
    }
}
