using System.Diagnostics;
using System.Text;
using BenchmarkDotNet.Attributes;
using TaskTempest.Queues;

namespace TaskTempest.Benchmarks;

/// <summary>The wire format, <c>["k3f9a2c1x7q0m4bd","Adder",1,2]</c>, written and read by generated code.</summary>
[MemoryDiagnoser]
public class WireBenchmarks
{
    private BenchTempest _engine = null!;
    private TempestMessage _message = null!;
    private string _json = null!;
    private byte[] _utf8 = null!;

    /// <summary>Submits one Adder job and dequeues it, so the message is exactly what a worker gets.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var queue = new TempestMemoryQueue();
        _engine = new BenchTempest(new TempestOptions { Queue = queue, HandleSignals = false });
        _engine.SubmitAdder(1, 2);
        var dequeued = queue.DequeueAsync(CancellationToken.None);
        Debug.Assert(dequeued.IsCompletedSuccessfully);
        _message = dequeued.Result!;
        _json = _message.ToJson();
        _utf8 = Encoding.UTF8.GetBytes(_json);
    }

    /// <summary><c>message.ToJson()</c> on a submitted Adder message: the JSON array as a string.</summary>
    [Benchmark(Baseline = true)]
    public string ToJson() => _message.ToJson();

    /// <summary><c>engine.ParseMessage(string)</c>: the generated dispatch table reads a typed Adder message from the JSON text.</summary>
    [Benchmark]
    public TempestMessage Parse() => _engine.ParseMessage(_json);

    /// <summary><c>engine.ParseMessage(ReadOnlySpan&lt;byte&gt;)</c>: the same from UTF-8 bytes, as a queue that stores bytes would pass them.</summary>
    [Benchmark]
    public TempestMessage ParseUtf8() => _engine.ParseMessage(_utf8);
}
