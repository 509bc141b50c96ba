using Microsoft.Extensions.Logging;
using ZLogger;

namespace TaskTempest.Logging;

/// <summary>
/// The default main log and task log: plain-text files written by ZLogger in the original's line
/// shape, <c>YYYY/MM/DD HH:MM:SS [LEVEL] message</c>.
/// </summary>
public static class TempestLogFiles
{
    /// <summary>
    /// Creates a logger factory that writes every category to one file at <paramref name="path"/>
    /// (appending; the folder is created), at <paramref name="minimumLevel"/> and above.
    /// </summary>
    public static ILoggerFactory CreateFactory(string path, LogLevel minimumLevel = LogLevel.Information, TimeProvider? timeProvider = null)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);

        return LoggerFactory.Create(logging =>
        {
            logging.ClearProviders();
            logging.SetMinimumLevel(minimumLevel);
            logging.AddZLoggerFile(path, options =>
            {
                options.TimeProvider = timeProvider;
                // A line that fails to format is reported, never silently half-written.
                options.InternalErrorLogger = static e => Console.Error.WriteLine($"TaskTempest: a log line could not be written: {e}");
                // A writer that falls behind makes loggers wait instead of growing the buffer without bound.
                options.FullMode = BackgroundBufferFullMode.Block;
                options.UsePlainTextFormatter(formatter => formatter.SetPrefixFormatter(
                    $"{0:yyyy/MM/dd HH:mm:ss} [{1}] ",
                    static (in MessageTemplate template, in LogInfo info) =>
                        template.Format(info.Timestamp.Local.DateTime, LevelName(info.LogLevel))));
            });
        });
    }

    /// <summary>The original's level names: DEBUG, INFO, WARN, ERROR, FATAL.</summary>
    public static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "TRACE",
        LogLevel.Debug => "DEBUG",
        LogLevel.Information => "INFO",
        LogLevel.Warning => "WARN",
        LogLevel.Error => "ERROR",
        LogLevel.Critical => "FATAL",
        _ => "NONE",
    };
}
