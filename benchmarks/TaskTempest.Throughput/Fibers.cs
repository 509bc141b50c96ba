using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;

namespace TaskTempest.Throughput;

/// <summary>
/// Cooperative mode against thread-pool mode at equal concurrency, interleaved runs, medians; log lines off.
///   no-op:   N no-op async jobs (pre-filled queue), 1 thread vs 1 fiber: the engine's cost per job
///   io-like: M jobs that each await a 1 ms delay, 50 threads vs 50 fibers
/// </summary>
internal static class Fibers
{
    public static async Task RunAsync(int noopJobs, int ioJobs, int rounds)
    {
        Console.WriteLine($"TaskTempest throughput, {Environment.ProcessorCount} cores, .NET {Environment.Version}; {rounds} interleaved rounds, medians; per-task log lines off");
        var contenders = new (string Name, Func<TempestOptions, TempestEngine> Create, int Jobs)[]
        {
            ("no-op, 1 thread", o => new Threads1(o), noopJobs),
            ("no-op, 1 fiber", o => new Fibers1(o), noopJobs),
            ("1 ms await, 50 threads", o => new Threads50(o), ioJobs),
            ("1 ms await, 50 fibers", o => new Fibers50(o), ioJobs),
        };

        // Warm-up: one short run of each, so tiered compilation has settled before anything is measured.
        foreach (var c in contenders) await MeasureAsync(c.Create, Math.Min(c.Jobs, 200_000));

        var rates = contenders.ToDictionary(c => c.Name, _ => new List<double>());
        for (int round = 0; round < rounds; round++)
        {
            foreach (var c in contenders) rates[c.Name].Add(await MeasureAsync(c.Create, c.Jobs));
        }

        Console.WriteLine();
        Console.WriteLine("| contender | jobs | jobs/s (median) | ns per job | min - max jobs/s |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var c in contenders)
        {
            var r = rates[c.Name].Order().ToList();
            double median = Measurement.Median(r);
            Console.WriteLine($"| {c.Name} | {c.Jobs:N0} | {median:N0} | {1e9 / median:N0} | {r[0]:N0} - {r[^1]:N0} |");
        }
    }

    private static void Submit(TempestEngine engine, int jobs)
    {
        // Generated Submit methods are per engine class; the harness calls them through this switch.
        for (int i = 0; i < jobs; i++)
        {
            switch (engine)
            {
                case Threads1 t: t.SubmitNoOp(i, i); break;
                case Fibers1 f: f.SubmitNoOp(i, i); break;
                case Threads50 t: t.SubmitIoLike(1); break;
                case Fibers50 f: f.SubmitIoLike(1); break;
                default: throw new InvalidOperationException(engine.Name);
            }
        }
    }

    private static async Task<double> MeasureAsync(Func<TempestOptions, TempestEngine> create, int jobs)
    {
        var engine = create(new TempestOptions
        {
            MainLoggerFactory = NullLoggerFactory.Instance,
            TaskLoggerFactory = NullLoggerFactory.Instance,
            HandleSignals = false,
        });
        var done = Finish.Expect(jobs);
        Submit(engine, jobs); // pre-filled: the queue holds every job before the engine starts
        var clock = Stopwatch.StartNew();
        var run = engine.RunAsync();
        await done;
        double seconds = clock.Elapsed.TotalSeconds;
        engine.Stop();
        await run;
        return jobs / seconds;
    }
}
