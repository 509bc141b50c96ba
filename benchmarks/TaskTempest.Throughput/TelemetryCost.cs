using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging.Abstractions;

namespace TaskTempest.Throughput;

/// <summary>
/// What telemetry costs: TaskTempest on the memory queue (2 threads, and 2 fibers) with nobody listening, with a listener
/// on its Meter only (every instrument enabled, each measurement handed to a callback that adds it up), and with one on its
/// ActivitySource too (every span sampled and recorded, as an exporter's SDK would ask). Submit (one by one, no workers) and run
/// (a pre-filled queue) timed apart; the contenders alternate within each round, medians of the rounds. Log lines off.
/// </summary>
internal static class TelemetryCost
{
    public static async Task RunAsync(int jobs, int rounds, string command)
    {
        Console.WriteLine($"# Telemetry's cost: {jobs:N0} no-op jobs per run, {rounds} interleaved rounds, medians; {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        Console.WriteLine($"  {command}");
        var contenders = new (string Name, Func<TempestOptions, TempestEngine> Create, Listening Listening)[]
        {
            ("2 threads, nobody listening", o => new Threads2(o), Listening.Nobody),
            ("2 threads, metrics recorded", o => new Threads2(o), Listening.Metrics),
            ("2 threads, spans and metrics recorded", o => new Threads2(o), Listening.SpansAndMetrics),
            ("2 fibers, nobody listening", o => new Fibers2(o), Listening.Nobody),
            ("2 fibers, metrics recorded", o => new Fibers2(o), Listening.Metrics),
            ("2 fibers, spans and metrics recorded", o => new Fibers2(o), Listening.SpansAndMetrics),
        };
        foreach (var c in contenders) await MeasureAsync(c.Create, Math.Min(jobs, 100_000), c.Listening); // warm-up

        var submits = contenders.ToDictionary(c => c.Name, _ => new List<double>());
        var runs = contenders.ToDictionary(c => c.Name, _ => new List<double>());
        var bytes = contenders.ToDictionary(c => c.Name, _ => new List<double>());
        for (int round = 0; round < rounds; round++)
        {
            foreach (var c in contenders)
            {
                var (submit, run, perJob) = await MeasureAsync(c.Create, jobs, c.Listening);
                submits[c.Name].Add(submit);
                runs[c.Name].Add(run);
                bytes[c.Name].Add(perJob);
            }
        }

        Console.WriteLine();
        Console.WriteLine("| contender | submits/s | jobs/s run | bytes allocated per job (submit + run) |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var c in contenders)
            Console.WriteLine($"| {c.Name} | {Measurement.Median(submits[c.Name]):N0} | {Measurement.Median(runs[c.Name]):N0} | {Measurement.Median(bytes[c.Name]):N0} |");
        for (int i = 0; i < contenders.Length; i += 3)
        {
            string off = contenders[i].Name;
            foreach (string on in new[] { contenders[i + 1].Name, contenders[i + 2].Name })
                Console.WriteLine($"{on} against {off}: submits {Ratio(submits, on, off):0.00}, runs {Ratio(runs, on, off):0.00} (median of each round's ratio)");
        }
        Console.WriteLine($"the spans' own price on this machine: one bare ActivitySource span with four tags, started and stopped under the same listener, " +
            $"{BareSpanMicroseconds(jobs):0.0} us (a job has two: its submit's and its run's)");
    }

    /// <summary>What a span costs with nothing of TaskTempest around it (median of three passes).</summary>
    private static double BareSpanMicroseconds(int spans)
    {
        using var source = new ActivitySource("TaskTempest.Throughput.Bare");
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s == source,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        var passes = new List<double>();
        for (int pass = 0; pass < 3; pass++)
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < spans; i++)
            {
                using var activity = source.StartActivity("send default", ActivityKind.Producer);
                activity?.SetTag("messaging.system", "tasktempest").SetTag("messaging.operation.type", "send")
                    .SetTag("messaging.destination.name", "default").SetTag("messaging.message.id", "k3f9a2c1x7q0m4bd");
            }
            passes.Add(clock.Elapsed.TotalMicroseconds / spans);
        }
        return Measurement.Median(passes);
    }

    private static double Ratio(Dictionary<string, List<double>> rates, string on, string off) =>
        Measurement.Median(rates[on].Zip(rates[off], (a, b) => a / b).ToList());

    private enum Listening { Nobody, Metrics, SpansAndMetrics }

    private static async Task<(double Submits, double Runs, double BytesPerJob)> MeasureAsync(Func<TempestOptions, TempestEngine> create, int jobs, Listening listening)
    {
        using var listener = listening == Listening.Nobody ? null : new Listener(spans: listening == Listening.SpansAndMetrics);
        var engine = create(new TempestOptions
        {
            MainLoggerFactory = NullLoggerFactory.Instance,
            TaskLoggerFactory = NullLoggerFactory.Instance,
            HandleSignals = false,
        });
        long allocated = GC.GetTotalAllocatedBytes(precise: false);
        var done = Finish.Expect(jobs);
        var clock = Stopwatch.StartNew();
        switch (engine)
        {
            case Threads2 t: for (int i = 0; i < jobs; i++) t.SubmitNoOp(i, i); break;
            case Fibers2 f: for (int i = 0; i < jobs; i++) f.SubmitNoOp(i, i); break;
            default: throw new InvalidOperationException(engine.Name);
        }
        double submitSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var run = engine.RunAsync();
        await done;
        double runSeconds = clock.Elapsed.TotalSeconds;
        engine.Stop();
        await run;
        double perJob = (GC.GetTotalAllocatedBytes(precise: false) - allocated) / (double)jobs;
        return (jobs / submitSeconds, jobs / runSeconds, perJob);
    }

    /// <summary>Enables every TaskTempest instrument and, with <c>spans</c>, samples every TaskTempest span with all data, as an SDK would.</summary>
    private sealed class Listener : IDisposable
    {
        private readonly ActivityListener _spans;
        private readonly MeterListener _metrics = new();
        private long _spansEnded;
        private double _sum;

        public Listener(bool spans)
        {
            _spans = new ActivityListener
            {
                ShouldListenTo = source => source.Name == TempestTelemetry.Name,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = _ => Interlocked.Increment(ref _spansEnded),
            };
            if (spans) ActivitySource.AddActivityListener(_spans);
            _metrics.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == TempestTelemetry.Name) listener.EnableMeasurementEvents(instrument);
            };
            _metrics.SetMeasurementEventCallback<long>((_, value, _, _) => Add(value));
            _metrics.SetMeasurementEventCallback<double>((_, value, _, _) => Add(value));
            _metrics.Start();
        }

        private void Add(double value)
        {
            double seen, sum;
            do
            {
                seen = Volatile.Read(ref _sum);
                sum = seen + value;
            }
            while (Interlocked.CompareExchange(ref _sum, sum, seen) != seen);
        }

        public void Dispose()
        {
            _spans.Dispose();
            _metrics.Dispose();
        }
    }
}
