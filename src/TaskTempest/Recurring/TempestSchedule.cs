using Cronos;
using TaskTempest.Queues;

namespace TaskTempest;

/// <summary>One recurring schedule of an engine: its parsed expression, its time zone, and the submit each tick makes.</summary>
internal sealed class TempestSchedule
{
    private TempestSchedule(string name, string cron, CronExpression expression, TimeZoneInfo zone, TempestScheduleOptions options,
        Func<TempestSubmitOptions, TempestSubmitResult> submit)
    {
        Name = name;
        Cron = cron;
        Expression = expression;
        Zone = zone;
        Options = options;
        Submit = submit;
    }

    public string Name { get; }
    public string Cron { get; }
    public CronExpression Expression { get; }
    public TimeZoneInfo Zone { get; }
    public TempestScheduleOptions Options { get; }

    /// <summary>Submits one tick's job with the options given (the tick's unique key, a capturing target).</summary>
    public Func<TempestSubmitOptions, TempestSubmitResult> Submit { get; }

    /// <summary>Parses and checks a schedule: the name, the cron expression (five fields, or six with seconds) and the zone.</summary>
    public static TempestSchedule Create(string name, string cron, TempestScheduleOptions options, Func<TempestSubmitOptions, TempestSubmitResult> submit)
    {
        if (!TempestQueueNames.IsValid(name))
            throw new ArgumentException($"'{Logging.LogText.Escape(name ?? "(null)", 120)}' cannot name a schedule: use 1 to 100 letters, digits, '-', '_', '.' or ':'.", nameof(name));
        ArgumentNullException.ThrowIfNull(cron);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MisfireThreshold, TimeSpan.Zero);
        return new TempestSchedule(name, cron, ParseCron(cron), FindZone(options.TimeZone), options, submit);
    }

    /// <summary>Five fields, or six with seconds first.</summary>
    public static CronExpression ParseCron(string cron)
    {
        int fields = cron.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).Length;
        try
        {
            return fields switch
            {
                5 => CronExpression.Parse(cron, CronFormat.Standard),
                6 => CronExpression.Parse(cron, CronFormat.IncludeSeconds),
                _ => throw new FormatException($"a cron expression has 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, not {fields}"),
            };
        }
        catch (CronFormatException e)
        {
            throw new FormatException($"'{Logging.LogText.Escape(cron, 120)}' is not a valid cron expression: {e.Message}", e);
        }
    }

    private static TimeZoneInfo FindZone(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id, nameof(TempestScheduleOptions.TimeZone));
        if (id is "UTC" or "Etc/UTC") return TimeZoneInfo.Utc;
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw new ArgumentException($"The time zone '{Logging.LogText.Escape(id, 120)}' is not known on this machine: use an IANA id such as Europe/Berlin (Debian: the tzdata package).", nameof(TempestScheduleOptions.TimeZone), e);
        }
    }

    /// <summary>The first tick after <paramref name="after"/> (exclusive), as a UTC instant; null when the expression never fires again.</summary>
    public DateTimeOffset? NextAfter(DateTimeOffset after) =>
        Expression.GetNextOccurrence(after.ToUniversalTime(), Zone) is { } next ? next.ToUniversalTime() : null;

    /// <summary>The ticks in (<paramref name="after"/>, <paramref name="upTo"/>]: how many (counted up to <paramref name="cap"/>)
    /// and the last, found past the cap by stepping back from <paramref name="upTo"/> in doubling windows and then forward
    /// within the first window that has a tick, so years of per-second ticks cost a few dozen steps.</summary>
    public (int Count, DateTimeOffset? Last) TicksBetween(DateTimeOffset after, DateTimeOffset upTo, int cap = 1000)
    {
        int count = 0;
        var cursor = after;
        while (count < cap && NextAfter(cursor) is { } next && next <= upTo)
        {
            count++;
            cursor = next;
        }
        if (count == 0) return (0, null);
        if (count < cap) return (count, cursor);
        for (var back = TimeSpan.FromSeconds(1); ; back += back)
        {
            var from = upTo - back < cursor ? cursor : upTo - back;
            if (NextAfter(from) is { } found && found <= upTo)
            {
                while (NextAfter(found) is { } later && later <= upTo) found = later;
                return (count, found);
            }
            if (from == cursor) return (count, cursor);
        }
    }

    /// <summary>The key of the job a tick submits: one per schedule and tick, as a UTC instant, so the autumn overlap's
    /// hour cannot make two ticks one key.</summary>
    public string TickKey(DateTimeOffset tick) => $"cron:{Name}:{tick.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}";
}

/// <summary>An engine's schedules, by name: added before or while it runs, read by its scheduler at each tick computation.</summary>
internal sealed class TempestSchedules
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, TempestSchedule> _byName = new(StringComparer.Ordinal);
    private int _version;

    /// <summary>Changes with every add and remove, so a running scheduler sees that it has to look again.</summary>
    public int Version => Volatile.Read(ref _version);

    /// <summary>Raised (outside the lock) after a change, to wake a running scheduler.</summary>
    public event Action? Changed;

    public void Add(TempestSchedule schedule, bool replace)
    {
        lock (_gate)
        {
            if (!replace && _byName.ContainsKey(schedule.Name)) return;
            _byName[schedule.Name] = schedule;
            _version++;
        }
        Changed?.Invoke();
    }

    public bool Remove(string name)
    {
        bool removed;
        lock (_gate)
        {
            removed = _byName.Remove(name);
            if (removed) _version++;
        }
        if (removed) Changed?.Invoke();
        return removed;
    }

    public TempestSchedule[] Snapshot()
    {
        lock (_gate) return [.. _byName.Values.OrderBy(s => s.Name, StringComparer.Ordinal)];
    }
}
