using System.Globalization;
using Microsoft.Extensions.Logging;

namespace TaskTempest.Logging;

/// <summary>
/// A log line template such as the original's <c>{timestamp:yyyy/MM/dd HH:mm:ss} [{level}] {message}</c>:
/// literal text and the placeholders <c>{timestamp}</c> (with an optional .NET date format),
/// <c>{level}</c> (DEBUG, INFO, WARN, ERROR, FATAL) and <c>{message}</c>, which must appear once.
/// Parsed once; the file logger writes the parts before <c>{message}</c> as each line's prefix and
/// the parts after it as its suffix.
/// </summary>
public sealed class LogLineFormat
{
    /// <summary>The original's line shape.</summary>
    public const string Default = "{timestamp:yyyy/MM/dd HH:mm:ss} [{level}] {message}";

    private LogLineFormat(string template, IReadOnlyList<Part> prefix, IReadOnlyList<Part> suffix)
    {
        Template = template;
        Prefix = prefix;
        Suffix = suffix;
    }

    /// <summary>The template it was parsed from.</summary>
    public string Template { get; }

    internal IReadOnlyList<Part> Prefix { get; }
    internal IReadOnlyList<Part> Suffix { get; }

    internal enum PartKind { Literal, Timestamp, Level }

    internal readonly record struct Part(PartKind Kind, string Text);

    /// <summary>Parses <paramref name="template"/>.</summary>
    /// <exception cref="FormatException">An unknown placeholder, an unclosed brace, a bad date format, or not exactly one <c>{message}</c>.</exception>
    public static LogLineFormat Parse(string template)
    {
        ArgumentNullException.ThrowIfNull(template);
        var prefix = new List<Part>();
        var suffix = new List<Part>();
        var current = prefix;
        bool sawMessage = false;
        int i = 0;
        while (i < template.Length)
        {
            int open = template.IndexOf('{', i);
            if (open < 0)
            {
                current.Add(new Part(PartKind.Literal, template[i..]));
                break;
            }
            if (open > i) current.Add(new Part(PartKind.Literal, template[i..open]));
            int close = template.IndexOf('}', open);
            if (close < 0) throw new FormatException($"log format \"{template}\": '{{' at {open} is never closed");
            string placeholder = template[(open + 1)..close];
            int colon = placeholder.IndexOf(':');
            string name = colon < 0 ? placeholder : placeholder[..colon];
            string? format = colon < 0 ? null : placeholder[(colon + 1)..];
            switch (name)
            {
                case "message" when format is null:
                    if (sawMessage) throw new FormatException($"log format \"{template}\": {{message}} appears twice");
                    sawMessage = true;
                    current = suffix;
                    break;
                case "timestamp":
                    format ??= "yyyy/MM/dd HH:mm:ss";
                    _ = DateTime.UnixEpoch.ToString(format, CultureInfo.InvariantCulture); // a bad format fails here, not per line
                    current.Add(new Part(PartKind.Timestamp, format));
                    break;
                case "level" when format is null:
                    current.Add(new Part(PartKind.Level, ""));
                    break;
                default:
                    throw new FormatException($"log format \"{template}\": unknown placeholder {{{placeholder}}}; use {{timestamp}}, {{timestamp:FORMAT}}, {{level}} or {{message}}");
            }
            i = close + 1;
        }
        if (!sawMessage) throw new FormatException($"log format \"{template}\": {{message}} is missing");
        return new LogLineFormat(template, prefix, suffix);
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
