using System.Globalization;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging;
using TaskTempest.Logging;
using ZLogger;

namespace TaskTempest.Benchmarks;

/// <summary>
/// The main-log line the engine writes when a task succeeds, <c>{id} &lt;Adder&gt; success 0.0123</c>.
/// ZLogger formats and writes the line on a background thread, so these measure the caller's side only:
/// the level check, capturing the values in a pooled entry and posting it to ZLogger's queue. Posting
/// includes waking the background writer when it is idle, and when its buffer is full, waiting for room.
/// TempestLogFiles uses <c>BackgroundBufferFullMode.Block</c> with ZLogger's 10,000-entry buffer; plain
/// ZLogger grows the buffer instead. In a tight loop the writer falls behind, so the figures approach the
/// writer's own cost per line.
/// </summary>
[MemoryDiagnoser]
public class LogBenchmarks
{
    private readonly string _id = TempestId.New();
    private readonly string _taskName = "Adder";
    private readonly double _seconds = 0.0123;
    private readonly string _secondsText = 0.0123.ToString("0.0000", CultureInfo.InvariantCulture);
    private string _folder = null!;
    private ILoggerFactory _tempestFactory = null!;
    private ILoggerFactory _plainFactory = null!;
    private ILogger _tempest = null!;
    private ILogger _plain = null!;

    /// <summary>Opens both log files in a new temporary folder.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _folder = Directory.CreateTempSubdirectory("TaskTempest.Benchmarks.").FullName;
        _tempestFactory = TempestLogFiles.CreateFactory(Path.Combine(_folder, "tempest.log"));
        _plainFactory = LoggerFactory.Create(logging => logging.AddZLoggerFile(Path.Combine(_folder, "plain.log")));
        _tempest = _tempestFactory.CreateLogger("BenchTempest");
        _plain = _plainFactory.CreateLogger("BenchTempest");
    }

    /// <summary>Flushes and closes the files, then deletes the folder.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _tempestFactory.Dispose();
        _plainFactory.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>Caller-side cost of the line as the engine writes it, with a <c>{seconds:0.0000}</c> hole,
    /// to a <c>TempestLogFiles.CreateFactory</c> file (the original's prefix, timestamp and level).</summary>
    [Benchmark(Baseline = true)]
    public void TempestFile() => _tempest.ZLogInformation($"{{{_id}}} <{_taskName}> success {_seconds:0.0000}");

    /// <summary>Caller-side cost of the same line to the same file with the duration passed as a
    /// preformatted string instead of a formatted double hole.</summary>
    [Benchmark]
    public void TempestFilePreformatted() => _tempest.ZLogInformation($"{{{_id}}} <{_taskName}> success {_secondsText}");

    /// <summary>Caller-side cost of the line as the engine writes it to a plain ZLogger file logger
    /// (<c>AddZLoggerFile(path)</c>, ZLogger's defaults: no prefix or timestamp, a buffer that grows instead of blocking).</summary>
    [Benchmark]
    public void PlainFile() => _plain.ZLogInformation($"{{{_id}}} <{_taskName}> success {_seconds:0.0000}");
}
