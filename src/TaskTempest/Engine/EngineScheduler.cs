using Microsoft.Extensions.Logging;
using TaskTempest.Logging;
using TaskTempest.Queues;
using ZLogger;

namespace TaskTempest.Engine;

/// <summary>
/// Ticks an engine's recurring schedules while it runs. Every running engine ticks every schedule on its own clock (no
/// leader to elect or lose); each tick goes through the queue's <see cref="ITempestScheduleStore"/>, whose compare-and-set
/// on the schedule's last tick lets one engine through and enqueues its job in the same step, with the unique key
/// <c>cron:{name}:{tick}</c>. A schedule new to the store starts from now; ticks missed while no engine ran (or while
/// this one was held up past <see cref="TempestScheduleOptions.MisfireThreshold"/>) run once or are skipped, as the
/// schedule's <see cref="TempestMisfire"/> says. Runs on the thread pool, beside the fetcher.
/// </summary>
internal sealed class EngineScheduler(TempestEngine engine, RunContext run)
{
    /// <summary>How long a failing store is left before the next try (at least).</summary>
    private static readonly TimeSpan MinRetry = TimeSpan.FromSeconds(1);

    private readonly ITempestScheduleStore _store = run.Settings.Queue as ITempestScheduleStore ?? new LocalScheduleStore(run.Settings.Queue);
    private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(run.Stopping); // ends with the run's stop
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private Task _loop = Task.CompletedTask;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ILogger Main => run.Logs.Main;

    /// <summary>One schedule as this run ticks it: the last tick it knows taken (by anyone), and its next.</summary>
    private sealed class Entry(TempestSchedule schedule)
    {
        public TempestSchedule Schedule { get; } = schedule;
        public DateTimeOffset Cursor;
        public DateTimeOffset? Next;
    }

    public void Start()
    {
        engine.RaiseAddRecurringTasks(); // the generated schedules, unless the same names were added at run time
        engine.Schedules.Changed += OnChanged;
        if (engine.Schedules.Snapshot().Length == 0 && engine.Schedules.Version == 0) return; // none now: AddRecurring wakes the loop
        if (_store is LocalScheduleStore)
            Main.ZLogWarning($"schedules: the queue {run.Settings.Queue.GetType().Name} keeps no schedules, so their ticks are kept in this process: every process on it runs each tick");
        _loop = Task.Run(LoopAsync);
    }

    private void OnChanged()
    {
        if (_loop.IsCompleted && !_stop.IsCancellationRequested) _loop = Task.Run(LoopAsync);
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    public async Task StopAsync()
    {
        engine.Schedules.Changed -= OnChanged;
        _stop.Cancel();
        try { await _loop.ConfigureAwait(false); }
        catch (OperationCanceledException) { }
    }

    private async Task LoopAsync()
    {
        var stopping = _stop.Token;
        int seenVersion = -1;
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                var changed = Volatile.Read(ref _changed).Task; // before the look: a change during it ends the wait at once
                DateTimeOffset? wake = null;
                try
                {
                    if (engine.Schedules.Version != seenVersion)
                    {
                        seenVersion = engine.Schedules.Version;
                        await SyncAsync(stopping).ConfigureAwait(false);
                    }
                    foreach (var entry in _entries.Values)
                    {
                        await TickDueAsync(entry, stopping).ConfigureAwait(false);
                        if (entry.Next is { } next && (wake is null || next < wake)) wake = next;
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException || !stopping.IsCancellationRequested)
                {
                    var retry = run.Settings.QueuePollInterval > MinRetry ? run.Settings.QueuePollInterval : MinRetry;
                    Main.ZLogError(e, $"schedules: the queue's schedule store failed: {LogText.Escape(e.Message)}; trying again in {retry.TotalSeconds:0.###} s");
                    seenVersion = -1; // register again: the store may have missed the definitions
                    wake = run.Time.GetUtcNow() + retry;
                }
                await WaitAsync(wake, changed, stopping).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception e) when (!run.Ended)
        {
            Main.ZLogCritical(e, $"the scheduler died: {LogText.Escape(e.Message)}; no more recurring jobs will be submitted");
        }
    }

    private async Task WaitAsync(DateTimeOffset? wake, Task changed, CancellationToken stopping)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var delay = wake is { } at ? at - run.Time.GetUtcNow() : Timeout.InfiniteTimeSpan;
        if (delay != Timeout.InfiniteTimeSpan && delay <= TimeSpan.Zero) return;
        if (delay > TimeSpan.FromDays(1)) delay = TimeSpan.FromDays(1); // timers refuse about 49 days; waking early is harmless
        try
        {
            await Task.WhenAny(changed, Task.Delay(delay, run.Time, wait.Token)).ConfigureAwait(false);
        }
        finally
        {
            wait.Cancel(); // ends the delay's timer when a change came first
        }
        stopping.ThrowIfCancellationRequested();
    }

    /// <summary>Registers schedules new to this run (or replaced), and forgets removed ones.</summary>
    private async Task SyncAsync(CancellationToken stopping)
    {
        var current = engine.Schedules.Snapshot();
        foreach (var name in _entries.Keys.Where(n => !current.Any(s => s.Name == n)).ToList()) _entries.Remove(name);
        foreach (var schedule in current)
        {
            if (_entries.TryGetValue(schedule.Name, out var known) && ReferenceEquals(known.Schedule, schedule)) continue;
            var now = run.Time.GetUtcNow();
            var probe = Capture(schedule, now, key: false);
            var info = new TempestScheduleInfo(schedule.Name, schedule.Cron, schedule.Options.TimeZone, schedule.Options.Misfire, probe.TaskName)
            {
                NextRun = schedule.NextAfter(now),
            };
            var entry = new Entry(schedule) { Cursor = await _store.RegisterScheduleAsync(info, now, stopping).ConfigureAwait(false) };
            entry.Next = schedule.NextAfter(entry.Cursor > now ? entry.Cursor : now);
            _entries[schedule.Name] = entry;
            Main.ZLogInformation($"schedule {schedule.Name} ({LogText.Escape(schedule.Cron)}, {LogText.Escape(schedule.Options.TimeZone)}, misfire {schedule.Options.Misfire.ToString()}): {probe.TaskName}, next run {FormatTick(info.NextRun)}");
        }
    }

    /// <summary>
    /// Takes the schedule's due ticks. Those more than the misfire threshold old were missed: the last of them is taken
    /// once for all (its job, or none when the schedule skips misfires); the later ones are on time and each is taken
    /// with its own job, so a worker held up for a moment (a pause, a busy machine) loses no tick.
    /// </summary>
    private async Task TickDueAsync(Entry entry, CancellationToken stopping)
    {
        var schedule = entry.Schedule;
        var now = run.Time.GetUtcNow();
        var (missed, lastMissed) = schedule.TicksBetween(entry.Cursor, now - schedule.Options.MisfireThreshold);
        if (lastMissed is { } misfire)
            await TakeAsync(entry, misfire, missed, runs: schedule.Options.Misfire == TempestMisfire.RunOnce, stopping).ConfigureAwait(false);
        while (schedule.NextAfter(entry.Cursor) is { } tick && tick <= now)
            await TakeAsync(entry, tick, missed: 0, runs: true, stopping).ConfigureAwait(false);
        entry.Next = schedule.NextAfter(entry.Cursor > now ? entry.Cursor : now);
    }

    /// <summary>Takes one tick through the store (with its job when it <paramref name="runs"/>); the cursor moves past it either way.</summary>
    private async Task TakeAsync(Entry entry, DateTimeOffset tick, int missed, bool runs, CancellationToken stopping)
    {
        var schedule = entry.Schedule;
        var next = schedule.NextAfter(tick);
        TempestMessage? job = null;
        if (runs)
        {
            try
            {
                job = Capture(schedule, tick, key: true);
            }
            catch (Exception e)
            {
                // The schedule's own submit threw: this tick is lost, the next one tries again.
                Main.ZLogError(e, $"schedule {schedule.Name}: tick {FormatTick(tick)} not submitted, the submit threw: {LogText.Escape(e.Message)}; next run {FormatTick(next)}");
                entry.Cursor = tick;
                return;
            }
        }
        bool taken = await _store.TryTakeTickAsync(schedule.Name, tick, next, job, stopping).ConfigureAwait(false);
        entry.Cursor = tick;
        if (!taken)
        {
            Main.ZLogDebug($"schedule {schedule.Name}: tick {FormatTick(tick)} taken by another worker");
            return;
        }
        string missedText = missed > 0 ? $" (missed {(missed >= 1000 ? "1000 or more" : missed.ToString(System.Globalization.CultureInfo.InvariantCulture))} ticks)" : "";
        if (job is not null)
            Main.ZLogInformation($"schedule {schedule.Name}: tick {FormatTick(tick)}{missedText} submitted as {{{job.Id}}} <{job.TaskName}>; next run {FormatTick(next)}");
        else
            Main.ZLogInformation($"schedule {schedule.Name}: tick {FormatTick(tick)}{missedText} skipped (misfire Skip); next run {FormatTick(next)}");
    }

    /// <summary>The job the schedule's submit makes for <paramref name="tick"/>, captured instead of queued (the store
    /// queues it with the tick), with the tick's unique key where the queue keeps keys.</summary>
    private TempestMessage Capture(TempestSchedule schedule, DateTimeOffset tick, bool key)
    {
        var capture = new CaptureTarget(run.Settings.Queue.Features);
        bool keyed = key && (capture.Features & TempestQueueFeatures.UniqueKeys) != 0;
        schedule.Submit(new TempestSubmitOptions
        {
            Target = capture,
            UniqueKey = keyed ? schedule.TickKey(tick) : null,
            UniqueScope = keyed ? TempestUniqueScope.QueuedOrRunning : null,
        });
        return capture.Message ?? throw new InvalidOperationException(
            $"The schedule {schedule.Name}'s submit made no job: it must call one Submit method of the submitter it is given.");
    }

    private static string FormatTick(DateTimeOffset? tick) => tick is { } t ? t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture) : "never";

    /// <summary>Keeps the one message a schedule's submit makes.</summary>
    private sealed class CaptureTarget(TempestQueueFeatures features) : ITempestSubmitTarget
    {
        public TempestMessage? Message { get; private set; }

        public TempestQueueFeatures Features => features;

        public ValueTask EnqueueAsync(TempestMessage message, CancellationToken cancellationToken = default)
        {
            Message = message;
            return default;
        }

        public ValueTask EnqueueBatchAsync(IReadOnlyList<TempestMessage> messages, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("A schedule's submit makes one job.");

        public ValueTask<string?> EnqueueUniqueAsync(TempestMessage message, CancellationToken cancellationToken = default)
        {
            Message = message;
            return new((string?)null);
        }
    }

    /// <summary>
    /// The last ticks in this process, for a queue that keeps no schedules: each tick is taken once here, but every
    /// process on such a queue runs its own (say so in the log at start).
    /// </summary>
    private sealed class LocalScheduleStore(ITempestQueue queue) : ITempestScheduleStore
    {
        private readonly Lock _gate = new();
        private readonly Dictionary<string, TempestScheduleInfo> _schedules = new(StringComparer.Ordinal);

        public ValueTask<DateTimeOffset> RegisterScheduleAsync(TempestScheduleInfo schedule, DateTimeOffset firstTick, CancellationToken cancellationToken = default)
        {
            lock (_gate)
            {
                var last = _schedules.GetValueOrDefault(schedule.Name)?.LastTick ?? firstTick;
                _schedules[schedule.Name] = schedule with { LastTick = last };
                return new(last);
            }
        }

        public async ValueTask<bool> TryTakeTickAsync(string scheduleName, DateTimeOffset tick, DateTimeOffset? nextRun, TempestMessage? job, CancellationToken cancellationToken = default)
        {
            lock (_gate)
            {
                if (_schedules.GetValueOrDefault(scheduleName) is { LastTick: { } last } && last >= tick) return false;
                _schedules[scheduleName] = (_schedules.GetValueOrDefault(scheduleName) ?? new(scheduleName, "", "UTC", TempestMisfire.RunOnce, job?.TaskName ?? ""))
                    with { LastTick = tick, NextRun = nextRun, LastJobId = job?.Id };
            }
            if (job is not null)
            {
                if (job.Envelope is { UniqueKey: not null }) await queue.EnqueueUniqueAsync(job, cancellationToken).ConfigureAwait(false);
                else await queue.EnqueueAsync(job, cancellationToken).ConfigureAwait(false);
            }
            return true;
        }

        public ValueTask<IReadOnlyList<TempestScheduleInfo>> GetSchedulesAsync(CancellationToken cancellationToken = default)
        {
            lock (_gate) return new([.. _schedules.Values.OrderBy(s => s.Name, StringComparer.Ordinal)]);
        }
    }
}
