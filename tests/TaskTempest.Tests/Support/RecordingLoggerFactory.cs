using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace TaskTempest.Tests.Support;

/// <summary>One line a logger received.</summary>
public sealed record LogLine(string Category, LogLevel Level, string Message, Exception? Exception);

/// <summary>
/// An in-memory logger factory that keeps every line and lets a test await a condition on them:
/// the completion signal tests use instead of sleeping.
/// </summary>
public sealed class RecordingLoggerFactory : ILoggerFactory, ILoggerProvider
{
    private readonly ConcurrentQueue<LogLine> _lines = new();
    private readonly List<(Func<IReadOnlyList<LogLine>, bool> Condition, TaskCompletionSource Done)> _waiters = [];

    public IReadOnlyList<LogLine> Lines => [.. _lines];

    public IEnumerable<string> Messages => Lines.Select(l => l.Message);

    /// <summary>Completes when <paramref name="condition"/> holds for the lines so far; fails after a generous safety bound.</summary>
    public async Task WaitForAsync(Func<IReadOnlyList<LogLine>, bool> condition, string what)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters) _waiters.Add((condition, done));
        Check();
        try
        {
            await done.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"Timed out waiting for {what}. Lines so far:\n{string.Join("\n", Messages)}");
        }
    }

    public Task WaitForLineAsync(string contains) =>
        WaitForAsync(lines => lines.Any(l => l.Message.Contains(contains, StringComparison.Ordinal)), $"a line containing '{contains}'");

    private void Add(LogLine line)
    {
        _lines.Enqueue(line);
        Check();
    }

    private void Check()
    {
        var snapshot = Lines;
        lock (_waiters)
        {
            _waiters.RemoveAll(w =>
            {
                if (!w.Condition(snapshot)) return false;
                w.Done.TrySetResult();
                return true;
            });
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);
    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();
    public void Dispose() { }

    private sealed class Logger(RecordingLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Add(new LogLine(category, logLevel, formatter(state, exception), exception));
    }
}
