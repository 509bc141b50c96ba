using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text;
using TaskTempest.Throughput.Contenders;

namespace TaskTempest.Throughput;

/// <summary>
/// The comparison: every contender, both modes, interleaved rounds, medians; prints the method, the
/// rounds as they run, and a markdown table.
/// </summary>
internal static class Compare
{
    private static readonly bool[] s_modes = [true, false];

    private static string ModeName(bool prefilled) => prefilled ? "pre-filled" : "live";

    public static async Task RunAsync(IReadOnlyList<Contender> contenders, int rounds, string command)
    {
        PrintMethod(contenders, rounds, command);

        Console.WriteLine($"warm-up (not measured): each contender runs, alternating the modes, until its measured time adds up to {Measurement.WarmUpTime.TotalSeconds:0} s");
        foreach (var contender in contenders)
        {
            var (runs, work, wall) = await Measurement.WarmUpAsync(contender);
            Console.WriteLine($"  {contender.Name}: {runs} runs, {work.TotalSeconds:0.0} s measured, {wall.TotalSeconds:0.0} s wall");
        }

        var samples = contenders.SelectMany(c => s_modes.Select(m => (c, m))).ToDictionary(k => k, _ => new List<Sample>());
        Console.WriteLine();
        Console.WriteLine("measured jobs/s per round (keys as above):");
        for (int round = 1; round <= rounds; round++)
        {
            foreach (bool prefilled in s_modes)
            {
                var line = new StringBuilder($"  round {round}/{rounds} {ModeName(prefilled),-10}");
                for (int i = 0; i < contenders.Count; i++)
                {
                    var sample = await Measurement.MeasureAsync(contenders[i], prefilled);
                    samples[(contenders[i], prefilled)].Add(sample);
                    line.Append($"  {Key(i)} {Short(sample.JobsPerSecond)}");
                }
                Console.WriteLine(line);
            }
        }

        PrintResults(contenders, samples);
    }

    private static char Key(int index) => (char)('a' + index);

    private static string Short(double rate) =>
        rate >= 1e6 ? $"{rate / 1e6:0.00}M" : rate >= 1e3 ? $"{rate / 1e3:0.0}k" : $"{rate:0}";

    private static void PrintMethod(IReadOnlyList<Contender> contenders, int rounds, string command)
    {
        Console.WriteLine("# TaskTempest throughput against the limit and the peers");
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores ({CpuModel()}), {RuntimeInformation.FrameworkDescription}, " +
                          $"{OsName()} ({RuntimeInformation.OSArchitecture}), {(GCSettings.IsServerGC ? "server" : "workstation")} GC");
        Console.WriteLine($"load average at the start: {Measurement.LoadAverage()} (a shared machine: other work skews single rounds, hence interleaving and medians)");
        Console.WriteLine($"reproduce: {command}");
        Console.WriteLine("jobs: no-op Adder-shaped jobs (two int arguments), 2 workers per contender");
        Console.WriteLine("contenders:");
        for (int i = 0; i < contenders.Count; i++) Console.WriteLine($"  {Key(i)}  {contenders[i].Name} ({contenders[i].Jobs:N0} jobs per run)");
        Console.WriteLine("method:");
        Console.WriteLine("  pre-filled: all jobs submitted first, the clock starts when draining starts; live: producer and workers at once, the clock covers both");
        Console.WriteLine("  clock stops: log lines off, bare loops and peers: when the last job has finished; TaskTempest log files on: when the last job has");
        Console.WriteLine("    finished AND RunAsync has returned (its end disposes the logs, flushing the files); ZLogger loop: from creating the file logger");
        Console.WriteLine("    factory until it is disposed (flushed); it writes the engine's two main-log lines per job with the engine's formatter, the same in both modes");
        Console.WriteLine("  Dataflow pre-filled: every job posted into the ActionBlock while its TaskScheduler holds the block's processing tasks, released when the clock starts");
        Console.WriteLine("  Hangfire: a new InMemoryStorage and BackgroundJobServer (WorkerCount 2) per run, disposed after it; no-op log provider; pre-filled = enqueue all, then start the server");
        Console.WriteLine($"  warm-up: every contender works at least {Measurement.WarmUpTime.TotalSeconds:0} s (measured time) before anything is measured");
        Console.WriteLine($"  rounds: {rounds}, contenders interleaved (a b c ... a b c ...), each mode in each round; medians");
        Console.WriteLine("  bytes/job: GC.GetTotalAllocatedBytes(precise) delta over the whole contender run (submitting included, pre-filled too) / jobs,");
        Console.WriteLine("    less the working-set sampler's own allocations; before each run GC.Collect, then an aggressive one that gives freed memory back");
        Console.WriteLine("  peak working set: Process.Refresh() + WorkingSet64 sampled every 10 ms on a sampler thread during the run, the max over the contender's runs");
        Console.WriteLine($"    (the whole process's: {Environment.WorkingSet / 1048576.0:0} MiB before the first contender, and it carries what earlier runs left live,");
        Console.WriteLine("    e.g. ZLogger's statically pooled log entries);");
        Console.WriteLine("    growth in the run: the largest peak minus the working set at the run's start");
        Console.WriteLine();
    }

    private static void PrintResults(IReadOnlyList<Contender> contenders, Dictionary<(Contender, bool), List<Sample>> samples)
    {
        var limit = contenders.OfType<ChannelsLoop>().FirstOrDefault();
        var zlogger = contenders.OfType<ZLoggerLoop>().FirstOrDefault();
        double MedianRate(Contender c, bool prefilled) => Measurement.Median(samples[(c, prefilled)].Select(s => s.JobsPerSecond));

        Console.WriteLine();
        Console.WriteLine($"load average at the end: {Measurement.LoadAverage()}");
        Console.WriteLine("spread over the rounds (min - max jobs/s):");
        foreach (bool prefilled in s_modes)
        {
            foreach (var c in contenders)
            {
                var list = samples[(c, prefilled)];
                Console.WriteLine($"  {ModeName(prefilled),-10} {c.Name,-40} {list.Min(s => s.JobsPerSecond),12:N0} - {list.Max(s => s.JobsPerSecond),12:N0}");
            }
        }

        Console.WriteLine();
        Console.WriteLine("| contender | mode | jobs/s (median) | ratio to Channels loop | ratio to ZLogger loop | bytes/job | peak working set MiB | working set growth in the run MiB |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (bool prefilled in s_modes)
        {
            foreach (var c in contenders)
            {
                var list = samples[(c, prefilled)];
                double rate = MedianRate(c, prefilled);
                string toLimit = limit is null ? "" : Ratio(rate / MedianRate(limit, prefilled));
                bool logs = c is ZLoggerLoop || c is TaskTempestEngine { LogFiles: true };
                string toZLogger = logs && zlogger is not null ? Ratio(rate / MedianRate(zlogger, prefilled)) : "";
                double bytes = Measurement.Median(list.Select(s => s.BytesPerJob));
                double peak = list.Max(s => s.PeakWorkingSet) / 1048576.0;
                double growth = list.Max(s => s.PeakWorkingSet - s.StartWorkingSet) / 1048576.0;
                Console.WriteLine($"| {c.Name} | {ModeName(prefilled)} | {rate:N0} | {toLimit} | {toZLogger} | {bytes:N0} | {peak:0} | {growth:0} |");
            }
        }
    }

    /// <summary>Two decimals, or two significant digits for small ratios (Hangfire's).</summary>
    private static string Ratio(double ratio) =>
        ratio.ToString(ratio >= 0.1 ? "F2" : "F" + Math.Min(8, 1 - (int)Math.Floor(Math.Log10(ratio))), CultureInfo.InvariantCulture);


    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line?[(line.IndexOf(':') + 1)..].Trim() ?? "cpu unknown";
        }
        catch (IOException)
        {
            return "cpu unknown";
        }
    }

    private static string OsName() => $"{RuntimeInformation.OSDescription} (kernel {Environment.OSVersion.Version})";
}
