using System.Globalization;

namespace TaskTempest.Logging;

/// <summary>A wait or a limit as a log line states it, in the unit that reads best: <c>0.25 s</c>, <c>31 s</c>, <c>12 min</c>, <c>2.8 h</c>, <c>4.5 d</c>.</summary>
internal static class Durations
{
    public static string Describe(TimeSpan span)
    {
        var c = CultureInfo.InvariantCulture;
        if (span < TimeSpan.FromSeconds(10)) return span.TotalSeconds.ToString("0.###", c) + " s";
        if (span < TimeSpan.FromSeconds(100)) return span.TotalSeconds.ToString("0", c) + " s";
        if (span < TimeSpan.FromMinutes(100)) return span.TotalMinutes.ToString("0", c) + " min";
        if (span < TimeSpan.FromHours(48)) return span.TotalHours.ToString("0.#", c) + " h";
        return span.TotalDays.ToString("0.#", c) + " d";
    }
}
