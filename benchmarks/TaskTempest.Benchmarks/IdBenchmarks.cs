using BenchmarkDotNet.Attributes;

namespace TaskTempest.Benchmarks;

/// <summary>Message ids.</summary>
[MemoryDiagnoser]
public class IdBenchmarks
{
    /// <summary><c>TempestId.New()</c>: 80 random bits written as a 16-character Crockford base-32 string (one string allocated).</summary>
    [Benchmark]
    public string New() => TempestId.New();
}
