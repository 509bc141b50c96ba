using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using TaskTempest.Queues;

namespace TaskTempest.Hosting.Tests;

/// <summary>A singleton of each test's host, through which tasks tell the test what happened; no static state.</summary>
public sealed class Probe
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> _done = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> _started = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _gates = new();

    public ConcurrentDictionary<string, ScopedThing> Things { get; } = new();

    public TaskCompletionSource<string> Done(string label) => _done.GetOrAdd(label, static _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
    public TaskCompletionSource<string> Started(string label) => _started.GetOrAdd(label, static _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
    public TaskCompletionSource Gate(string label) => _gates.GetOrAdd(label, static _ => new(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>Opens every gate, so that no worker thread stays held after a test.</summary>
    public void OpenAll()
    {
        foreach (var gate in _gates.Values) gate.TrySetResult();
    }
}

/// <summary>A scoped service: one per job, disposed when its job has ended.</summary>
public sealed class ScopedThing : IDisposable
{
    public Guid Id { get; } = Guid.NewGuid();
    public TaskCompletionSource Disposed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public void Dispose() => Disposed.TrySetResult();
}

/// <summary>One line a logger wrote.</summary>
public sealed record CapturedLine(string Category, LogLevel Level, string Message);

/// <summary>A logger provider that keeps every line and completes waits on the line that matches them.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly Lock _gate = new();
    private readonly List<CapturedLine> _lines = [];
    private readonly List<(Func<CapturedLine, bool> Match, TaskCompletionSource<CapturedLine> Found)> _waits = [];

    public IReadOnlyList<CapturedLine> Lines
    {
        get
        {
            lock (_gate) return [.. _lines];
        }
    }

    /// <summary>Completes with the first line, past or future, that matches.</summary>
    public Task<CapturedLine> WaitFor(Func<CapturedLine, bool> match)
    {
        lock (_gate)
        {
            if (_lines.FirstOrDefault(match) is { } seen) return Task.FromResult(seen);
            var found = new TaskCompletionSource<CapturedLine>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waits.Add((match, found));
            return found.Task;
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    private void Add(CapturedLine line)
    {
        lock (_gate)
        {
            _lines.Add(line);
            for (int i = _waits.Count - 1; i >= 0; i--)
            {
                if (!_waits[i].Match(line)) continue;
                _waits[i].Found.TrySetResult(line);
                _waits.RemoveAt(i);
            }
        }
    }

    private sealed class Logger(CapturingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            provider.Add(new CapturedLine(category, logLevel, formatter(state, exception)));
    }
}

/// <summary>
/// The engine's clock for tests: a <see cref="Microsoft.Extensions.Time.Testing.FakeTimeProvider"/> that also says when a
/// timer with a given due time is created, so that a test advances time only once the engine waits on it.
/// </summary>
public sealed class WatchedTime : TimeProvider
{
    private readonly ConcurrentDictionary<TimeSpan, TaskCompletionSource> _timers = new();

    public Microsoft.Extensions.Time.Testing.FakeTimeProvider Fake { get; } = new();

    /// <summary>Completes once a timer due in <paramref name="dueTime"/> has been created.</summary>
    public Task TimerCreated(TimeSpan dueTime) => Timer(dueTime).Task;

    public override DateTimeOffset GetUtcNow() => Fake.GetUtcNow();
    public override long GetTimestamp() => Fake.GetTimestamp();
    public override long TimestampFrequency => Fake.TimestampFrequency;
    public override TimeZoneInfo LocalTimeZone => Fake.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = Fake.CreateTimer(callback, state, dueTime, period);
        Timer(dueTime).TrySetResult();
        return timer;
    }

    private TaskCompletionSource Timer(TimeSpan dueTime) => _timers.GetOrAdd(dueTime, static _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
}

/// <summary>The memory queue behind a queue whose count fails: the engine runs, the health check's queue probe does not.</summary>
public sealed class FailingCountQueue(Func<CancellationToken, ValueTask<long>> count) : ITempestQueue, ICountingTempestQueue
{
    private readonly TempestMemoryQueue _inner = new();

    public ValueTask EnqueueAsync(TempestMessage message, CancellationToken cancellationToken = default) => _inner.EnqueueAsync(message, cancellationToken);
    public ValueTask<TempestMessage?> DequeueAsync(CancellationToken cancellationToken) => _inner.DequeueAsync(cancellationToken);
    public ValueTask<long> CountAsync(CancellationToken cancellationToken = default) => count(cancellationToken);
}
