using Microsoft.Extensions.Logging;

namespace TaskTempest.Logging;

/// <summary>
/// The logger a task sees as <see cref="TempestTask.TaskLogger"/>: it writes to the task log and puts
/// the original's <c>{id} &lt;Task&gt;</c> prefix in front of every message.
/// </summary>
internal sealed class TaskLogPrefixLogger(ILogger inner, string prefix) : ILogger
{
    public static string FormatPrefix(string id, string taskName) => $"{{{id}}} <{taskName}>";

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
        Func<TState, Exception?, string> formatter)
    {
        if (!inner.IsEnabled(logLevel)) return;
        // The state travels on unchanged (structured providers keep its properties); only the text gets the prefix.
        inner.Log(logLevel, eventId, new PrefixedState<TState>(prefix, state, formatter), exception, PrefixedState<TState>.Format);
    }

    private readonly struct PrefixedState<TState>(string prefix, TState state, Func<TState, Exception?, string> formatter)
        : IReadOnlyList<KeyValuePair<string, object?>>
    {
        private readonly string _prefix = prefix;
        private readonly TState _state = state;
        private readonly Func<TState, Exception?, string> _formatter = formatter;

        public static readonly Func<PrefixedState<TState>, Exception?, string> Format =
            static (s, ex) => s._prefix + " " + s._formatter(s._state, ex);

        private IReadOnlyList<KeyValuePair<string, object?>> Inner =>
            _state as IReadOnlyList<KeyValuePair<string, object?>> ?? [];

        public KeyValuePair<string, object?> this[int index] => Inner[index];
        public int Count => Inner.Count;
        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => Inner.GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
        public override string ToString() => Format(this, null);
    }
}
