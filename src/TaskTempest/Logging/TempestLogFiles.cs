using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Utf8StringInterpolation;
using ZLogger;

namespace TaskTempest.Logging;

/// <summary>
/// The default main log and task log: plain-text files written by ZLogger, each line shaped by a
/// <see cref="LogLineFormat"/> (the original's <c>YYYY/MM/DD HH:MM:SS [LEVEL] message</c> by default).
/// </summary>
public static class TempestLogFiles
{
    /// <summary>
    /// Creates a logger factory that writes every category to one file at <paramref name="path"/>
    /// (appending; the folder is created), at <paramref name="minimumLevel"/> and above.
    /// </summary>
    /// <param name="path">The file; its folder is created.</param>
    /// <param name="minimumLevel">Lines below this level are not written.</param>
    /// <param name="format">The line template; the original's shape when null.</param>
    /// <param name="timeProvider">The clock for timestamps.</param>
    /// <param name="neverBlock">Grow the write buffer instead of making loggers wait when the file falls behind.
    /// The engine does not use it, not even on its event loop: after a burst ZLogger keeps the grown buffers
    /// for the rest of the process (measured: 150 MiB still live after a full collection following a burst of a
    /// million jobs, against 20 MiB when loggers wait, at the same throughput), while waiting for
    /// the file only slows a producer that outruns the disk.</param>
    public static ILoggerFactory CreateFactory(string path, LogLevel minimumLevel = LogLevel.Information,
        LogLineFormat? format = null, TimeProvider? timeProvider = null, bool neverBlock = false)
    {
        format ??= LogLineFormat.Parse(LogLineFormat.Default);
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);

        return LoggerFactory.Create(logging =>
        {
            logging.ClearProviders();
            logging.SetMinimumLevel(minimumLevel);
            logging.AddZLoggerFile(path, options =>
            {
                options.TimeProvider = timeProvider;
                // A writer that falls behind makes loggers wait instead of growing the buffer without bound.
                options.FullMode = neverBlock ? BackgroundBufferFullMode.Grow : BackgroundBufferFullMode.Block;
                // A line that fails to format is reported, never silently half-written.
                options.InternalErrorLogger = static e => Console.Error.WriteLine($"TaskTempest: a log line could not be written: {e}");
                options.UsePlainTextFormatter(formatter =>
                {
                    formatter.SetExceptionFormatter(WriteException);
                    var prefix = new LinePartWriter(format.Prefix);
                    formatter.SetPrefixFormatter($"", (in MessageTemplate template, in LogInfo info) => prefix.Write(template, info));
                    if (format.Suffix.Count > 0)
                    {
                        var suffix = new LinePartWriter(format.Suffix);
                        formatter.SetSuffixFormatter($"", (in MessageTemplate template, in LogInfo info) => suffix.Write(template, info));
                    }
                });
            });
        });
    }

    /// <summary>
    /// Writes a logged exception after its line as indented continuation lines, each escaped (see
    /// <see cref="LogText"/>), so that an exception message can never start a line of its own. The engine's
    /// log files use it; a ZLogger plain-text logger of your own can too (<c>SetExceptionFormatter</c>).
    /// </summary>
    /// <param name="writer">Where the line is being written.</param>
    /// <param name="exception">The exception logged with the line.</param>
    public static void WriteException(IBufferWriter<byte> writer, Exception exception)
    {
        string text;
        try
        {
            text = exception.ToString();
        }
        catch (Exception e)
        {
            // A user's exception type may override ToString (or Message) badly; the line must still be written.
            text = $"{exception.GetType().FullName} (its ToString threw {e.GetType().FullName})";
        }
        var line = new StringBuilder(128);
        foreach (var part in text.AsSpan().EnumerateLines()) // every line break .NET knows: CR, LF, CRLF, FF, NEL, LS, PS
        {
            line.Clear().Append(Environment.NewLine).Append(ContinuationIndent);
            LogText.Append(line, part, LogText.MaxExceptionLineLength);
            foreach (var chunk in line.GetChunks()) Encoding.UTF8.GetBytes(chunk.Span, writer);
        }
    }

    /// <summary>What starts every continuation line of a logged exception.</summary>
    internal const string ContinuationIndent = "    ";

    /// <summary>
    /// Writes the parts of a line around its message. Formatting a local timestamp costs more than the
    /// rest of a line, so when the template shows whole seconds, the parts are rendered once per second
    /// and level and then copied as UTF-8 bytes.
    /// </summary>
    private sealed class LinePartWriter(IReadOnlyList<LogLineFormat.Part> parts)
    {
        private readonly bool _renderedPerSecond = parts.All(p => p.Kind != LogLineFormat.PartKind.Timestamp || !ShowsFractions(p.Text));
        private readonly Rendered?[] _byLevel = new Rendered?[(int)LogLevel.None + 1];

        /// <summary>The parts as written for one second at one level (immutable, so sharing it needs no lock).</summary>
        private sealed record Rendered(long Second, byte[] Utf8);

        public void Write(MessageTemplate template, LogInfo info)
        {
            if (!_renderedPerSecond || (uint)info.LogLevel >= (uint)_byLevel.Length)
            {
                var direct = template.GetUtf8StringWriter();
                try { WriteParts(ref direct, info.Timestamp.Local.DateTime, info.LogLevel); }
                finally { direct.Dispose(); } // flushes into the line
                return;
            }
            long second = info.Timestamp.Utc.UtcTicks / TimeSpan.TicksPerSecond;
            var rendered = _byLevel[(int)info.LogLevel];
            if (rendered is null || rendered.Second != second)
            {
                var buffer = new ArrayBufferWriter<byte>(64);
                var render = new Utf8StringWriter<ArrayBufferWriter<byte>>(0, 0, buffer);
                try { WriteParts(ref render, info.Timestamp.Local.DateTime, info.LogLevel); }
                finally { render.Dispose(); }
                rendered = new Rendered(second, buffer.WrittenSpan.ToArray());
                _byLevel[(int)info.LogLevel] = rendered;
            }
            using var writer = template.GetUtf8StringWriter();
            writer.AppendFormatted((ReadOnlySpan<byte>)rendered.Utf8);
        }

        private void WriteParts<TBuffer>(ref Utf8StringWriter<TBuffer> writer, DateTime localTime, LogLevel level)
            where TBuffer : IBufferWriter<byte>
        {
            Span<char> text = stackalloc char[64];
            foreach (var part in parts)
            {
                switch (part.Kind)
                {
                    case LogLineFormat.PartKind.Literal:
                        writer.AppendLiteral(part.Text);
                        break;
                    case LogLineFormat.PartKind.Timestamp:
                        // Invariant culture: the same template gives the same line on every machine (not Hijri dates on ar-SA).
                        if (localTime.TryFormat(text, out int written, part.Text, CultureInfo.InvariantCulture))
                            writer.AppendFormatted((ReadOnlySpan<char>)text[..written]);
                        else
                            writer.AppendLiteral(localTime.ToString(part.Text, CultureInfo.InvariantCulture));
                        break;
                    default:
                        writer.AppendLiteral(LogLineFormat.LevelName(level));
                        break;
                }
            }
        }

        /// <summary>Whether a .NET date format shows fractions of a second (f/F), outside quoted text.</summary>
        private static bool ShowsFractions(string format)
        {
            char quote = '\0';
            for (int i = 0; i < format.Length; i++)
            {
                char c = format[i];
                if (quote != '\0')
                {
                    if (c == quote) quote = '\0';
                }
                else if (c is '\'' or '"') quote = c;
                else if (c == '\\') i++;
                else if (c is 'f' or 'F') return true;
            }
            // A one-letter standard format ("o", "O", "s"...) may show fractions: render every line.
            return format.Length == 1;
        }
    }
}
