namespace TaskTempest.Generators.Parsing;

/// <summary>
/// The generator's check of a log line template, the same rules as the runtime's LogLineFormat.Parse
/// (which the generator cannot call: it runs inside the compiler), so a bad template is a compile error.
/// </summary>
internal static class LogFormatCheck
{
    public static string? Problem(string template)
    {
        int messages = 0;
        int i = 0;
        while (i < template.Length)
        {
            int open = template.IndexOf('{', i);
            if (open < 0) break;
            int close = template.IndexOf('}', open);
            if (close < 0) return $"'{{' at {open} is never closed";
            string placeholder = template.Substring(open + 1, close - open - 1);
            if (placeholder == "message") messages++;
            else if (placeholder != "level" && placeholder != "timestamp" && !placeholder.StartsWith("timestamp:", System.StringComparison.Ordinal))
                return $"unknown placeholder {{{placeholder}}}; use {{timestamp}}, {{timestamp:FORMAT}}, {{level}} or {{message}}";
            i = close + 1;
        }
        return messages switch
        {
            0 => "{message} is missing",
            1 => null,
            _ => "{message} appears more than once",
        };
    }
}
