using Microsoft.Extensions.Logging;

namespace TempestWorker.Tests;

/// <summary>A task log for tests: <see cref="Seen"/> completes when a line containing the expected text is written,
/// so a test waits for the task itself instead of sleeping.</summary>
public sealed class TaskLogProbe(string expected) : ILoggerFactory, ILogger
{
    private readonly TaskCompletionSource<string> _seen = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The first line that contains the expected text.</summary>
    public Task<string> Seen => _seen.Task;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        string line = formatter(state, exception);
        if (line.Contains(expected, StringComparison.Ordinal)) _seen.TrySetResult(line);
    }

    public bool IsEnabled(LogLevel logLevel) => true;
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public ILogger CreateLogger(string categoryName) => this;
    public void AddProvider(ILoggerProvider provider) { }
    public void Dispose() { }
}
