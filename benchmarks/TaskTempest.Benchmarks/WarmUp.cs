using System.Diagnostics;

namespace TaskTempest.Benchmarks;

/// <summary>
/// Warm-up for benchmarks that BenchmarkDotNet cannot pilot (a fixed invocation count, or an
/// [IterationSetup]): their iterations last a few milliseconds, and a short job's handful of them would
/// end before tiered compilation (which waits 100 ms after the last Tier0 compilation) promotes the
/// measured path to optimised code. Called from [GlobalSetup], so it is never measured.
/// </summary>
internal static class WarmUp
{
    /// <summary>Runs <paramref name="round"/> repeatedly for at least one second.</summary>
    public static void Run(Action round)
    {
        long start = Stopwatch.GetTimestamp();
        do round();
        while (Stopwatch.GetElapsedTime(start) < TimeSpan.FromSeconds(1));
    }
}
