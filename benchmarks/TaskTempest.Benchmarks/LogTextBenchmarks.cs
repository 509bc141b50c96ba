using BenchmarkDotNet.Attributes;
using TaskTempest.Logging;

namespace TaskTempest.Benchmarks;

/// <summary>What escaping outside text costs a log line: the scan of clean text (the common case) and the escape of hostile text.</summary>
[MemoryDiagnoser]
public class LogTextBenchmarks
{
    private readonly string _id = "k3f9a2c1x7q0m4bd";
    private readonly string _line = "said hello to grace@example.org, order 8812 of 2026-12-01";
    private readonly string _hostile = "Evil\n2026/01/01 00:00:00 [INFO] {forgedforgedforg} <Adder> success 0.0001";

    /// <summary>A 16-character id: clean, returned as it is.</summary>
    [Benchmark(Baseline = true)]
    public string CleanId() => LogText.Escape(_id);

    /// <summary>A 57-character task-log message: clean, returned as it is.</summary>
    [Benchmark]
    public string CleanLine() => LogText.Escape(_line, int.MaxValue);

    /// <summary>The forged-line attack: a line break escaped, a new string built.</summary>
    [Benchmark]
    public string HostileLine() => LogText.Escape(_hostile);
}
