using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using TaskTempest.Queues;

namespace TaskTempest.Benchmarks;

/// <summary>
/// The engine's per-job path, through the public API only: one worker thread takes each message from the
/// memory queue, creates the task, calls <c>Process</c>, logs (to null loggers here) and acknowledges.
/// Each invocation runs the engine for <see cref="Jobs"/> jobs, so the figures are per job; they include
/// starting and stopping the engine once per <see cref="Jobs"/> jobs.
/// </summary>
[MemoryDiagnoser]
public class DispatchBenchmarks
{
    /// <summary>Jobs per invocation.</summary>
    public const int Jobs = 10_000;

    private readonly TempestMemoryQueue _queue = new();
    private BenchTempest _engine = null!;

    /// <summary>
    /// One engine, run once per invocation, warmed up (see <see cref="WarmUp"/>); null loggers, so the
    /// log lines cost nothing to write.
    /// </summary>
    [GlobalSetup]
    public void Setup()
    {
        _engine = new BenchTempest(new TempestOptions
        {
            Queue = _queue,
            MainLoggerFactory = NullLoggerFactory.Instance,
            TaskLoggerFactory = NullLoggerFactory.Instance,
            HandleSignals = false,
        });
        WarmUp.Run(() => SubmitAndRun());
    }

    /// <summary>
    /// Per job, end to end: <c>SubmitAdder</c> (message, id, enqueue) for <see cref="Jobs"/> jobs, then
    /// <c>RunAsync</c> until every <c>Process</c> call has happened, then <c>Stop</c>.
    /// </summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Jobs)]
    public TempestRunResult SubmitAndRun()
    {
        for (int i = 0; i < Jobs; i++) _engine.SubmitAdder(i, 1);
        return RunUntilProcessed();
    }

    /// <summary>Fills the queue before each <see cref="Run"/> invocation (not measured).</summary>
    [IterationSetup(Target = nameof(Run))]
    public void Fill()
    {
        for (int i = 0; i < Jobs; i++) _engine.SubmitAdder(i, 1);
    }

    /// <summary>
    /// Per job, dispatch only: <c>RunAsync</c> on a queue already holding <see cref="Jobs"/> messages until
    /// every <c>Process</c> call has happened, then <c>Stop</c> (one invocation per iteration).
    /// </summary>
    [Benchmark(OperationsPerInvoke = Jobs)]
    public TempestRunResult Run() => RunUntilProcessed();

    private TempestRunResult RunUntilProcessed()
    {
        var processed = Finish.Expect(Jobs);
        var run = _engine.RunAsync();
        processed.GetAwaiter().GetResult();
        _engine.Stop();
        return run.GetAwaiter().GetResult();
    }
}
