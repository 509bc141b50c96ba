using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace TaskTempest.Tests.Shared;

/// <summary>A logger factory that keeps every message, and lets a test wait for the lines it expects (no sleeps).</summary>
public sealed class RecordingLog : ILoggerFactory, ILogger
{
    private readonly ConcurrentQueue<string> _messages = new();
    private readonly Lock _gate = new();
    private readonly List<(Func<IReadOnlyCollection<string>, bool> Done, TaskCompletionSource Signal)> _waiters = [];

    public IReadOnlyCollection<string> Messages => _messages;

    /// <summary>Waits until <paramref name="done"/> holds for the lines so far (60 s at most).</summary>
    public async Task WaitForAsync(Func<IReadOnlyCollection<string>, bool> done, string what)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate) _waiters.Add((done, signal));
        Check();
        try { await signal.Task.WaitAsync(TimeSpan.FromSeconds(60)); }
        catch (TimeoutException) { throw new Xunit.Sdk.XunitException($"timed out waiting for {what}; lines:\n{string.Join("\n", _messages)}"); }
    }

    /// <summary>Waits for one line that satisfies <paramref name="line"/>.</summary>
    public Task WaitForAsync(Func<string, bool> line) => WaitForAsync(lines => lines.Any(line), "a line");

    private void Check()
    {
        lock (_gate)
        {
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (!_waiters[i].Done(_messages)) continue;
                _waiters[i].Signal.TrySetResult();
                _waiters.RemoveAt(i);
            }
        }
    }

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        _messages.Enqueue(formatter(state, exception));
        Check();
    }

    public bool IsEnabled(LogLevel logLevel) => true;
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public ILogger CreateLogger(string categoryName) => this;
    public void AddProvider(ILoggerProvider provider) { }
    public void Dispose() { }
}
