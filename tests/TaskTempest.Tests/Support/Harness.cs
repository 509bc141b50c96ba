using TaskTempest.Queues;

namespace TaskTempest.Tests.Support;

/// <summary>An engine with in-memory logs and queue, started by the test and stopped at the end.</summary>
/// <summary>What the side-by-side test needs from a harness of any engine type.</summary>
public interface IHarness
{
    RecordingLoggerFactory MainLog { get; }
    string SubmitSum(int n);
    Task FinishedAsync(string id);
}

public sealed class Harness<TEngine> : IAsyncDisposable, IHarness where TEngine : TempestEngine
{
    private readonly Func<TEngine, int, string> _submitSum;

    public Harness(Func<TempestOptions, TEngine> create, Func<TEngine, int, string> submitSum, TimeProvider? time = null, TimeSpan? shutdownTimeout = null, int? maxOrphanedWorkers = null)
    {
        _submitSum = submitSum;
        Queue = new TempestMemoryQueue(time);
        var options = new TempestOptions
        {
            Queue = Queue,
            MainLoggerFactory = MainLog,
            TaskLoggerFactory = TaskLog,
            HandleSignals = false,
            TimeProvider = time ?? TimeProvider.System,
            ShutdownTimeout = shutdownTimeout ?? TimeSpan.FromSeconds(30),
            MaxOrphanedWorkers = maxOrphanedWorkers,
        };
        Engine = create(options);
    }

    public TEngine Engine { get; }
    public TempestMemoryQueue Queue { get; }
    public RecordingLoggerFactory MainLog { get; } = new();
    public RecordingLoggerFactory TaskLog { get; } = new();
    public Task<TempestRunResult>? Running { get; private set; }

    /// <summary>Starts Run; when this returns the engine is running (RunAsync registers the run synchronously).</summary>
    public Harness<TEngine> Start()
    {
        Running = Engine.RunAsync();
        Assert.True(Engine.IsRunning);
        return this;
    }

    /// <summary>Waits for the main log's final line for <paramref name="id"/>.</summary>
    public Task FinishedAsync(string id) => MainLog.WaitForAsync(
        lines => lines.Any(l => l.Message.StartsWith($"{{{id}}}", StringComparison.Ordinal)
            && (l.Message.Contains("> success ", StringComparison.Ordinal) || l.Message.Contains("> failure ", StringComparison.Ordinal)
                || l.Message.Contains("> timeout ", StringComparison.Ordinal))),
        $"task {id} to finish");

    public string SubmitSum(int n) => _submitSum(Engine, n);

    public async Task<TempestRunResult> StopAsync()
    {
        Engine.Stop();
        return await Running!.WaitAsync(TimeSpan.FromSeconds(60));
    }

    public async ValueTask DisposeAsync()
    {
        if (Running is { IsCompleted: false }) await StopAsync();
    }
}

public static class Harness
{
    public static Harness<TestTempest> Test(TimeProvider? time = null, TimeSpan? shutdownTimeout = null, int? maxOrphanedWorkers = null) =>
        new(o => new TestTempest(o), (e, n) => e.SubmitSum(n), time, shutdownTimeout, maxOrphanedWorkers);

    public static Harness<SecondTempest> Second(TimeProvider? time = null, TimeSpan? shutdownTimeout = null) =>
        new(o => new SecondTempest(o), (e, n) => e.SubmitSum(n), time, shutdownTimeout);
}
