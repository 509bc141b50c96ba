using Microsoft.Extensions.Logging;

namespace TaskTempest.Logging;

/// <summary>
/// The logger a task sees as <see cref="TempestTask.TaskLogger"/>: it writes to the task log and puts
/// the original's <c>{id} &lt;Task&gt;</c> prefix in front of every message.
/// </summary>
/// <remarks>
/// A task often logs its own arguments, which come from outside: the message is escaped
/// (<see cref="LogText"/>), so a line break in it cannot start a forged line. It is not cut: its length is
/// the task's choice. The id and the task name need no escaping: ids are made here or accepted only in a
/// safe alphabet (<see cref="TempestId.IsAcceptable"/>), and wire names are checked by the generator (TT0011).
/// </remarks>
/// <remarks>
/// The message is formatted here, once, and handed on as plain text. Passing the caller's state through
/// does not work: ZLogger writes its own states directly and never calls the formatter, so the prefix
/// would be lost. Wrapping it in a generic state struct instead crashes the NativeAOT compiler (ILC 10.0.12,
/// "Read out of bounds" in its generic cycle detector), so the wrapper is non-generic.
/// </remarks>
internal sealed class TaskLogPrefixLogger(ILogger inner, string prefix) : ILogger
{
    public static string FormatPrefix(string id, string taskName) => $"{{{id}}} <{taskName}>";

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
        Func<TState, Exception?, string> formatter)
    {
        if (!inner.IsEnabled(logLevel)) return;
        var line = new PrefixedLine(prefix + " " + LogText.Escape(formatter(state, exception), int.MaxValue));
        inner.Log(logLevel, eventId, line, exception, PrefixedLine.Format);
    }

    /// <summary>A formatted task-log line; structured providers see it as its <c>{OriginalFormat}</c>.</summary>
    private sealed class PrefixedLine(string text) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public static readonly Func<PrefixedLine, Exception?, string> Format = static (line, _) => line.ToString();

        private KeyValuePair<string, object?> Entry => new("{OriginalFormat}", text);

        public KeyValuePair<string, object?> this[int index] =>
            index == 0 ? Entry : throw new ArgumentOutOfRangeException(nameof(index));

        public int Count => 1;

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            yield return Entry;
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => text;
    }
}
