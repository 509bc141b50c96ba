namespace TaskTempest.Throughput;

/// <summary>
/// Submit-to-start latencies in a fixed array of log-linear buckets (HdrHistogram's layout, 32 sub-buckets per power
/// of two: under 3.2% error), counted with one interlocked increment and no allocation per value. Values are
/// 100 ns ticks.
/// </summary>
internal sealed class Latencies
{
    private const int SubBits = 5, Sub = 1 << SubBits; // 32 sub-buckets per power of two
    private const int Linear = 2 * Sub;                 // values below 64 ticks each have their own bucket
    private readonly long[] _counts = new long[Linear + (63 - SubBits) * Sub];

    /// <summary>Where the running jobs record (the harness sets a fresh one per run).</summary>
    public static Latencies Current { get; set; } = new();

    public long Count => _counts.Sum();

    public void Record(long ticks)
    {
        ticks = Math.Max(0, ticks); // the clocks are one clock, but a step of it must not break the array
        Interlocked.Increment(ref _counts[Index(ticks)]);
    }

    private static int Index(long v)
    {
        if (v < Linear) return (int)v;
        int log = 63 - (int)ulong.LeadingZeroCount((ulong)v); // >= SubBits + 1
        int sub = (int)(v >> (log - SubBits)) & (Sub - 1);
        return Linear + (log - SubBits - 1) * Sub + sub;
    }

    /// <summary>The largest value bucket <paramref name="index"/> holds.</summary>
    private static long UpperBound(int index)
    {
        if (index < Linear) return index;
        int log = (index - Linear) / Sub + SubBits + 1, sub = (index - Linear) % Sub;
        return ((long)(Sub + sub + 1) << (log - SubBits)) - 1;
    }

    /// <summary>The value at <paramref name="quantile"/> (0..1), as its bucket's upper bound, in milliseconds.</summary>
    public double Milliseconds(double quantile)
    {
        long total = Count;
        if (total == 0) return double.NaN;
        long rank = Math.Max(1, (long)Math.Ceiling(quantile * total)), seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank) return UpperBound(i) / (double)TimeSpan.TicksPerMillisecond;
        }
        return UpperBound(_counts.Length - 1) / (double)TimeSpan.TicksPerMillisecond;
    }
}
