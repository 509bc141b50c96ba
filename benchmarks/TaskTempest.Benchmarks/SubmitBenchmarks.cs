using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using TaskTempest.Queues;

namespace TaskTempest.Benchmarks;

/// <summary>
/// Submitting into the embedded <see cref="TempestMemoryQueue"/>. Nothing drains the queue while an
/// iteration runs, so each iteration is a fixed <see cref="Batch"/> of calls and the queue is emptied
/// after it, outside the measurement; the queue's ring buffer is then reused, as in a steady state.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(Batch)]
public class SubmitBenchmarks
{
    /// <summary>Calls per iteration: the most messages the queue holds at once.</summary>
    public const int Batch = 16_384;

    private readonly TempestMemoryQueue _queue = new();
    private BenchTempest _engine = null!;
    private BenchTempest.BatchSubmitter _batch = null!;
    private int _batched;

    /// <summary>One engine on one queue for every iteration, warmed up (see <see cref="WarmUp"/>).</summary>
    [GlobalSetup]
    public void Setup()
    {
        _engine = new BenchTempest(new TempestOptions { Queue = _queue, HandleSignals = false });
        _batch = _engine.Batch();
        WarmUp.Run(() =>
        {
            for (int i = 0; i < Batch; i++) Submit();
            Drain();
            for (int i = 0; i < Batch; i++) SubmitAndDequeue();
            for (int i = 0; i < Batch; i++) SubmitInBatchesOf100();
            Drain();
        });
    }

    /// <summary>
    /// <c>engine.SubmitAdder(1, 2)</c>: the generated typed message, its id (<c>TempestId.New()</c>) and the
    /// enqueue into the memory queue, which keeps it (up to <see cref="Batch"/> messages wait per iteration).
    /// </summary>
    [Benchmark(Baseline = true)]
    public string Submit() => _engine.SubmitAdder(1, 2);

    /// <summary>
    /// <c>engine.SubmitAdder(1, 2)</c> and at once the dequeue a worker would do (the synchronous path of
    /// <c>DequeueAsync</c>): the queue stays empty, so no message outlives the call.
    /// </summary>
    [Benchmark]
    public TempestMessage? SubmitAndDequeue()
    {
        _engine.SubmitAdder(1, 2);
        var dequeued = _queue.DequeueAsync(CancellationToken.None);
        Debug.Assert(dequeued.IsCompletedSuccessfully);
        return dequeued.Result;
    }

    /// <summary>
    /// <c>batch.SubmitAdder(1, 2)</c> into one <c>engine.Batch()</c>, flushed every 100 submits: the same message and id,
    /// collected, then handed to the queue in one <c>EnqueueBatchAsync</c> per 100.
    /// </summary>
    [Benchmark]
    public string SubmitInBatchesOf100()
    {
        string id = _batch.SubmitAdder(1, 2);
        if (++_batched % 100 == 0) _batch.Flush();
        return id;
    }

    /// <summary>Empties the queue after each iteration (not measured).</summary>
    [IterationCleanup]
    public void Drain()
    {
        _batch.Flush();
        while (_queue.Count > 0)
        {
            var dequeued = _queue.DequeueAsync(CancellationToken.None);
            Debug.Assert(dequeued.IsCompletedSuccessfully);
            _ = dequeued.Result;
        }
    }
}
