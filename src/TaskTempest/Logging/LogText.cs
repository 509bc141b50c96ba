using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace TaskTempest.Logging;

/// <summary>
/// Text from outside (raw messages, arguments, names, exception messages) made safe for one hole of a
/// log line or a dead-letter reason, so that no input can write a line of its own: control characters
/// (C0, DEL, C1), Unicode line and paragraph separators and bidirectional overrides are written as
/// escapes (<c>\n</c>, <c>\r</c>, <c>\t</c>, <c>\u001b</c>...), and a long value is cut with its full length
/// stated. Backslashes stay as they are (a Windows path reads as itself), so an escape is readable, not
/// reversible; the raw text itself stays intact in the dead letters.
/// </summary>
/// <remarks>
/// Clean text of the allowed length is returned as it is: nothing is allocated on the common path. The
/// engine escapes every hole of outside text in the lines it writes; use this in your own hooks when a line
/// of yours quotes text from outside.
/// </remarks>
public static class LogText
{
    /// <summary>How many characters of a value a log line or a reason shows before it is cut.</summary>
    public const int MaxLength = 200;

    /// <summary>How many characters of an input a message quotes (a task name in "task class not found: ..."),
    /// so that the message around it still fits <see cref="MaxLength"/>.</summary>
    public const int MaxQuotedLength = 100;

    /// <summary>How many characters of one line of exception text a log shows (stack frames run long).</summary>
    public const int MaxExceptionLineLength = 1000;

    private static readonly SearchValues<char> s_unsafe = SearchValues.Create(UnsafeCharacters());

    /// <summary><paramref name="value"/> escaped and cut to <see cref="MaxLength"/>; "" for null.</summary>
    /// <param name="value">Text from outside.</param>
    public static string Escape(string? value) => Escape(value, MaxLength);

    /// <summary><paramref name="value"/> escaped and cut to <paramref name="maxLength"/> characters; "" for null.</summary>
    /// <param name="value">Text from outside.</param>
    /// <param name="maxLength">How many characters to show before the cut (escapes count with their full width).</param>
    public static string Escape(string? value, int maxLength)
    {
        if (value is null) return "";
        if (value.Length <= maxLength && IsClean(value)) return value;
        var text = new StringBuilder(Math.Min(value.Length, maxLength) + 32);
        Append(text, value, maxLength);
        return text.ToString();
    }

    /// <summary>Whether <paramref name="value"/> holds nothing that needs an escape.</summary>
    /// <param name="value">The text to check.</param>
    public static bool IsClean(ReadOnlySpan<char> value) => value.IndexOfAny(s_unsafe) < 0;

    /// <summary>Appends <paramref name="value"/> escaped, cut before more than <paramref name="maxLength"/> characters of it are written.</summary>
    /// <param name="text">Where the line is being built.</param>
    /// <param name="value">Text from outside.</param>
    /// <param name="maxLength">How many characters to show before the cut.</param>
    public static void Append(StringBuilder text, ReadOnlySpan<char> value, int maxLength)
    {
        int start = text.Length;
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            int width = EscapedWidth(c);
            // A surrogate pair is written whole or not at all.
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])) width = 2;
            if (text.Length - start + width > maxLength)
            {
                text.Append(CultureInfo.InvariantCulture, $"... (cut: {value.Length} characters in all)");
                return;
            }
            if (width == 2 && char.IsHighSurrogate(c))
            {
                text.Append(c).Append(value[++i]);
            }
            else
            {
                AppendEscaped(text, c);
            }
        }
        Debug.Assert(IsClean(text.ToString(start, text.Length - start)));
    }

    private static int EscapedWidth(char c) => !s_unsafe.Contains(c) ? 1 : c is '\n' or '\r' or '\t' ? 2 : 6;

    private static void AppendEscaped(StringBuilder text, char c)
    {
        switch (c)
        {
            case '\n': text.Append("\\n"); break;
            case '\r': text.Append("\\r"); break;
            case '\t': text.Append("\\t"); break;
            default:
                if (s_unsafe.Contains(c)) text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                else text.Append(c);
                break;
        }
    }

    private static string UnsafeCharacters()
    {
        var chars = new StringBuilder();
        for (char c = '\0'; c < ' '; c++) chars.Append(c);    // C0, line feed and carriage return among them
        for (char c = '\u007f'; c <= '\u009f'; c++) chars.Append(c); // DEL and C1 (NEL, U+0085, breaks lines too)
        chars.Append("\u2028\u2029");                          // line and paragraph separators
        chars.Append("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"); // bidirectional overrides reorder what a reader sees
        return chars.ToString();
    }
}
