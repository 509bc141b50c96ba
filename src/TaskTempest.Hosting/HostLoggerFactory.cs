using Microsoft.Extensions.Logging;

namespace TaskTempest.Hosting;

/// <summary>
/// The host's <see cref="ILoggerFactory"/> as one of a hosted engine's two logs: the engine asks for a logger named after
/// itself, and this gives it <c>TaskTempest.&lt;Name&gt;</c> (the main log) or <c>TaskTempest.&lt;Name&gt;.Tasks</c> (the task
/// log), so that the host's filters can tell them apart. A level set in the engine's options filters on top of the host's
/// own filters; it is read when the engine creates its logger, at the start of its run, so the hooks' changes count.
/// </summary>
internal sealed class HostLoggerFactory(ILoggerFactory host, string suffix, Func<LogLevel?> level) : ILoggerFactory
{
    /// <summary>The category prefix of every hosted engine's logs.</summary>
    public const string CategoryPrefix = "TaskTempest.";

    /// <summary>The task log's category suffix.</summary>
    public const string TaskSuffix = ".Tasks";

    public ILogger CreateLogger(string categoryName)
    {
        var logger = host.CreateLogger(CategoryPrefix + categoryName + suffix);
        return level() is { } minimum ? new LevelFilter(logger, minimum) : logger;
    }

    public void AddProvider(ILoggerProvider provider) => host.AddProvider(provider);

    // The host owns its factory; the engine does not dispose a factory it was given either.
    public void Dispose() { }

    private sealed class LevelFilter(ILogger inner, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
