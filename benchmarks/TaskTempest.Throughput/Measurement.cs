using System.Diagnostics;
using TaskTempest.Throughput.Contenders;

namespace TaskTempest.Throughput;

/// <summary>One measured run of one contender.</summary>
internal readonly record struct Sample(double JobsPerSecond, double BytesPerJob, long StartWorkingSet, long PeakWorkingSet);

/// <summary>Warm-up, one measured run (allocations, peak working set), medians.</summary>
internal static class Measurement
{
    public static readonly TimeSpan WarmUpTime = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Collects garbage first (so no earlier contender's garbage bills this one), then runs the contender
    /// once while sampling the working set. Bytes are all the process allocated over the whole run,
    /// submitting included, less the sampler's own allocations.
    /// </summary>
    public static async Task<Sample> MeasureAsync(Contender contender, bool prefilled)
    {
        Settle();
        using var sampler = WorkingSetSampler.Start();
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var elapsed = await contender.RunAsync(contender.Jobs, prefilled);
        var (start, peak, samplerBytes) = sampler.Stop();
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before - samplerBytes;
        return new Sample(contender.Jobs / elapsed.TotalSeconds, Math.Max(0, allocated) / (double)contender.Jobs, start, peak);
    }

    /// <summary>
    /// Runs the contender, alternating the modes, until its measured time adds up to at least
    /// <see cref="WarmUpTime"/> (and at least once per mode). Returns the runs, the measured and the wall time.
    /// </summary>
    public static async Task<(int Runs, TimeSpan Work, TimeSpan Wall)> WarmUpAsync(Contender contender)
    {
        Settle();
        var wall = Stopwatch.StartNew();
        var work = TimeSpan.Zero;
        int runs = 0;
        while (runs < 2 || work < WarmUpTime)
        {
            work += await contender.RunAsync(contender.Jobs, prefilled: runs % 2 == 0);
            runs++;
        }
        return (runs, work, wall.Elapsed);
    }

    /// <summary>Collects all garbage and gives the freed memory back (aggressive mode), so the next run starts from a clean heap.</summary>
    public static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    /// <summary>The machine's 1, 5 and 15 minute load averages (/proc/loadavg), for the start and end of a run's output.</summary>
    public static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>
    /// Samples the process's working set (<c>Process.Refresh</c>, <c>WorkingSet64</c>) every 10 ms on its own
    /// thread and keeps the largest, counting what it allocates itself so that can be left out.
    /// </summary>
    private sealed class WorkingSetSampler : IDisposable
    {
        private readonly ManualResetEventSlim _started = new(), _stop = new();
        private readonly Thread _thread;
        private long _start, _peak, _allocated;

        private WorkingSetSampler()
        {
            _thread = new Thread(Sample) { IsBackground = true, Name = "working-set sampler" };
        }

        public static WorkingSetSampler Start()
        {
            var sampler = new WorkingSetSampler();
            sampler._thread.Start();
            sampler._started.Wait(); // the first sample is taken before the measured run starts
            return sampler;
        }

        public (long Start, long Peak, long Allocated) Stop()
        {
            _stop.Set();
            _thread.Join();
            return (_start, _peak, _allocated);
        }

        public void Dispose()
        {
            if (_thread.IsAlive) Stop();
            _started.Dispose();
            _stop.Dispose();
        }

        private void Sample()
        {
            using var process = Process.GetCurrentProcess();
            process.Refresh();
            _peak = _start = process.WorkingSet64;
            long start = GC.GetAllocatedBytesForCurrentThread();
            _started.Set();
            while (!_stop.Wait(10))
            {
                process.Refresh();
                _peak = Math.Max(_peak, process.WorkingSet64);
            }
            process.Refresh();
            _peak = Math.Max(_peak, process.WorkingSet64);
            _allocated = GC.GetAllocatedBytesForCurrentThread() - start;
        }
    }
}
