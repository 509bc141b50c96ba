using Microsoft.Extensions.Logging;

namespace TaskTempest.Testing;

/// <summary>One line the engine or a task wrote to a log, as a <see cref="TempestManualHarness{TEngine}"/> recorded it.</summary>
/// <param name="Category">The logger's category (the engine's name).</param>
/// <param name="Level">The line's level.</param>
/// <param name="Message">The formatted message, e.g. <c>{k3f9a2c1x7q0m4bd} &lt;Adder&gt; success 0.0012</c>.</param>
/// <param name="Exception">The exception logged with it (a failed task's, on the task log), or null.</param>
public sealed record TempestLogEntry(string Category, LogLevel Level, string Message, Exception? Exception);

/// <summary>
/// A logger factory that keeps every line (in the order written) and passes it on to the user's factory, if one was set,
/// so that a test both reads the lines and sees them where it already looks.
/// </summary>
internal sealed class RecordingLoggerFactory(ILoggerFactory? inner) : ILoggerFactory
{
    private readonly Lock _gate = new();
    private readonly List<TempestLogEntry> _entries = [];

    /// <summary>How many lines so far: a drain reads the lines written after this mark.</summary>
    public int Count
    {
        get { lock (_gate) return _entries.Count; }
    }

    /// <summary>The lines from <paramref name="start"/> on.</summary>
    public TempestLogEntry[] From(int start)
    {
        lock (_gate) return _entries.Count <= start ? [] : [.. _entries.Skip(start)];
    }

    public ILogger CreateLogger(string categoryName) => new Recorder(this, categoryName, inner?.CreateLogger(categoryName));

    /// <summary>Providers belong to the user's factory, if there is one.</summary>
    public void AddProvider(ILoggerProvider provider) => inner?.AddProvider(provider);

    /// <summary>Nothing to release; the user's factory is the user's to dispose, as the engine leaves it.</summary>
    public void Dispose()
    {
    }

    private void Add(TempestLogEntry entry)
    {
        lock (_gate) _entries.Add(entry);
    }

    private sealed class Recorder(RecordingLoggerFactory owner, string category, ILogger? inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner?.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.None) return;
            owner.Add(new TempestLogEntry(category, logLevel, formatter(state, exception), exception));
            if (inner?.IsEnabled(logLevel) == true) inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
