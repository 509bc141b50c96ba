using System.Globalization;
using Microsoft.Extensions.Logging;
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
    /// <param name="neverBlock">Grow the write buffer instead of making loggers wait when the file falls behind
    /// (cooperative engines: logging must never block the event loop).</param>
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
                // A writer that falls behind makes loggers wait instead of growing the buffer without bound,
                // except on an event loop, which must never wait.
                options.FullMode = neverBlock ? BackgroundBufferFullMode.Grow : BackgroundBufferFullMode.Block;
                // A line that fails to format is reported, never silently half-written.
                options.InternalErrorLogger = static e => Console.Error.WriteLine($"TaskTempest: a log line could not be written: {e}");
                options.UsePlainTextFormatter(formatter =>
                {
                    formatter.SetPrefixFormatter($"", (in MessageTemplate template, in LogInfo info) => Write(template, info, format.Prefix));
                    if (format.Suffix.Count > 0)
                        formatter.SetSuffixFormatter($"", (in MessageTemplate template, in LogInfo info) => Write(template, info, format.Suffix));
                });
            });
        });
    }

    private static void Write(MessageTemplate template, LogInfo info, IReadOnlyList<LogLineFormat.Part> parts)
    {
        using var writer = template.GetUtf8StringWriter();
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
                    if (info.Timestamp.Local.DateTime.TryFormat(text, out int written, part.Text, CultureInfo.InvariantCulture))
                        writer.AppendFormatted((ReadOnlySpan<char>)text[..written]);
                    else
                        writer.AppendLiteral(info.Timestamp.Local.DateTime.ToString(part.Text, CultureInfo.InvariantCulture));
                    break;
                default:
                    writer.AppendLiteral(LogLineFormat.LevelName(info.LogLevel));
                    break;
            }
        }
    }
}
