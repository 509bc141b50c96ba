using System.Globalization;
using Microsoft.Extensions.Logging;
using TaskTempest.Tests.Support;
using ZLogger;

namespace TaskTempest.Tests;

// Engines and tasks of this test assembly. Every engine here dispatches every task here.

/// <summary>Two workers, default name.</summary>
[Tempest(Threads = 2)]
public partial class TestTempest;

/// <summary>One worker (so jobs run in queue order), an explicit name, and a Configure hook.</summary>
[Tempest(Threads = 1, Name = "Second")]
public partial class SecondTempest
{
    public static readonly TimeSpan ConfiguredPollInterval = TimeSpan.FromMilliseconds(42);

    partial void Configure(TempestOptions options) => options.QueuePollInterval = ConfiguredPollInterval;
}

public enum Shade { Red, Green, Blue }

[TempestTask]
public sealed class TypedArgs : TempestTask
{
    public void Process(int number, string text, Guid guid, DateTimeOffset when, double[] values, Shade shade, int? maybe, List<string> names, decimal price, bool flag)
    {
        Recorder.Record(TaskId, string.Join("|",
            number.ToString(CultureInfo.InvariantCulture), text, guid.ToString(), when.ToString("O", CultureInfo.InvariantCulture),
            string.Join(",", values.Select(v => v.ToString(CultureInfo.InvariantCulture))), shade.ToString(),
            maybe?.ToString(CultureInfo.InvariantCulture) ?? "null", string.Join(",", names), price.ToString(CultureInfo.InvariantCulture), flag.ToString()));
    }
}

[TempestTask]
public sealed class Sum : TempestTask
{
    public void Process(params int[] numbers) => Recorder.Record(TaskId, $"{numbers.Length}:{numbers.Sum()}");
}

[TempestTask]
public sealed class WithDefaults : TempestTask
{
    public void Process(int a, string label = "none", int b = 7) => Recorder.Record(TaskId, $"{a}/{label}/{b}");
}

[TempestTask]
public sealed class Failing : TempestTask
{
    public void Process(string reason) => throw new InvalidOperationException(reason);
}

/// <summary>Logs through the task logger; named explicitly on the wire.</summary>
[TempestTask("logging-task")]
public sealed class LoggingTask : TempestTask
{
    public void Process(string text) => TaskLogger.ZLogInformation($"said {text}");
}

/// <summary>Holds its worker until the test releases its gate (or the engine cancels its token).</summary>
[TempestTask]
public sealed class GateTask : TempestTask
{
    public async Task Process(string gate, CancellationToken cancellationToken)
    {
        var g = Gates.Get(gate);
        g.Started.TrySetResult();
        try
        {
            await g.Released.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            g.Cancelled.TrySetResult();
            throw;
        }
        finally
        {
            g.Finished.TrySetResult();
        }
    }
}

/// <summary>Async with ValueTask: completes after a yield.</summary>
[TempestTask]
public sealed class ValueTaskTask : TempestTask
{
    public async ValueTask Process(int n)
    {
        await Task.Yield();
        Recorder.Record(TaskId, $"value-task {n}");
    }
}

[TempestTask]
public sealed class Pause : TempestTask
{
    public void Process(TimeSpan span, double factor) => Recorder.Record(TaskId, $"{span}*{factor}");
}

/// <summary>Records which run of its job this is (the task's <c>Attempt</c>).</summary>
[TempestTask]
public sealed class AttemptTask : TempestTask
{
    public void Process() => Recorder.Record(TaskId, $"attempt {Attempt}");
}
