using TaskTempest.Queues;
using Xunit;

namespace TaskTempest.Testing.Conformance;

public abstract partial class TempestQueueConformance
{
    private static TempestScheduleInfo NewSchedule(string name) =>
        new(name, "*/5 * * * *", "Europe/Berlin", TempestMisfire.Skip, ConformanceJob.WireName) { NextRun = s_firstTick.AddMinutes(5) };

    // Whole seconds: every store keeps at least milliseconds.
    private static readonly DateTimeOffset s_firstTick = new(2026, 3, 29, 0, 55, 0, TimeSpan.Zero);

    /// <summary>A queue without <see cref="TempestQueueFeatures.Schedules"/> is no <see cref="ITempestScheduleStore"/>, and the
    /// other way round.</summary>
    private static bool KeepsNoSchedules(ITempestQueue queue)
    {
        Assert.Equal(queue is ITempestScheduleStore, Has(queue, TempestQueueFeatures.Schedules));
        return queue is not ITempestScheduleStore;
    }

    /// <summary>A schedule registers once: its first tick is kept, a second registration (another worker starting) gets it
    /// back and updates the definition; the store lists it.</summary>
    [Fact]
    public async Task A_schedule_keeps_its_last_tick_across_registrations()
    {
        var queue = await NewQueueAsync();
        if (KeepsNoSchedules(queue)) return;
        var store = (ITempestScheduleStore)queue;
        string name = "conformance-" + TempestId.New();

        Assert.Equal(s_firstTick, await store.RegisterScheduleAsync(NewSchedule(name), s_firstTick));
        var changed = NewSchedule(name) with { Cron = "0 * * * *" };
        Assert.Equal(s_firstTick, await store.RegisterScheduleAsync(changed, s_firstTick.AddHours(1)));

        var listed = Assert.Single(await store.GetSchedulesAsync(), s => s.Name == name);
        Assert.Equal("0 * * * *", listed.Cron);
        Assert.Equal("Europe/Berlin", listed.TimeZone);
        Assert.Equal(TempestMisfire.Skip, listed.Misfire);
        Assert.Equal(ConformanceJob.WireName, listed.TaskName);
        Assert.Equal(s_firstTick, listed.LastTick);
        if (queue is ITempestQueueInspector inspector) Assert.Contains(await inspector.GetSchedulesAsync(), s => s.Name == name);
    }

    /// <summary>A tick is taken once: the first call moves the last tick and enqueues the tick's job; the same tick again, or
    /// an older one, does nothing. The store shows the last tick, the next run and the job.</summary>
    [Fact]
    public async Task A_tick_is_taken_once_and_enqueues_its_job()
    {
        var queue = await NewQueueAsync();
        if (KeepsNoSchedules(queue)) return;
        var store = (ITempestScheduleStore)queue;
        string name = "conformance-" + TempestId.New();
        await store.RegisterScheduleAsync(NewSchedule(name), s_firstTick);
        var tick = s_firstTick.AddMinutes(5);
        var job = NewJob(1);

        Assert.True(await store.TryTakeTickAsync(name, tick, tick.AddMinutes(5), job));
        Assert.False(await store.TryTakeTickAsync(name, tick, tick.AddMinutes(5), NewJob(2)));
        Assert.False(await store.TryTakeTickAsync(name, s_firstTick, tick, NewJob(3)));

        AssertSameJob(job, await TakeOneAsync(queue));
        await AssertNothingReadyAsync(queue, "each tick enqueues one job");
        var listed = Assert.Single(await store.GetSchedulesAsync(), s => s.Name == name);
        Assert.Equal(tick, listed.LastTick);
        Assert.Equal(tick.AddMinutes(5), listed.NextRun);
        Assert.Equal(job.Id, listed.LastJobId);
    }

    /// <summary>Workers that race for one tick: exactly one takes it, and one job is queued.</summary>
    [Fact]
    public async Task Racing_workers_take_a_tick_once()
    {
        var queue = await NewQueueAsync();
        if (KeepsNoSchedules(queue)) return;
        var store = (ITempestScheduleStore)queue;
        string name = "conformance-" + TempestId.New();
        await store.RegisterScheduleAsync(NewSchedule(name), s_firstTick);
        var tick = s_firstTick.AddMinutes(5);

        var jobs = Enumerable.Range(1, 12).Select(i => NewJob(i)).ToList();
        var taken = await Task.WhenAll(jobs.Select(job => Task.Run(async () => await store.TryTakeTickAsync(name, tick, null, job))));
        Assert.Single(taken, t => t);
        AssertSameJob(jobs[Array.IndexOf(taken, true)], await TakeOneAsync(queue));
        await AssertNothingReadyAsync(queue, "one worker took the tick");
    }

    /// <summary>A skipped tick (a misfire skipped) moves the schedule on without a job.</summary>
    [Fact]
    public async Task A_skipped_tick_moves_the_schedule_without_a_job()
    {
        var queue = await NewQueueAsync();
        if (KeepsNoSchedules(queue)) return;
        var store = (ITempestScheduleStore)queue;
        string name = "conformance-" + TempestId.New();
        await store.RegisterScheduleAsync(NewSchedule(name), s_firstTick);
        var tick = s_firstTick.AddMinutes(10);

        Assert.True(await store.TryTakeTickAsync(name, tick, tick.AddMinutes(5), job: null));
        await AssertNothingReadyAsync(queue, "a skipped tick enqueues nothing");
        var listed = Assert.Single(await store.GetSchedulesAsync(), s => s.Name == name);
        Assert.Equal(tick, listed.LastTick);
        Assert.False(await store.TryTakeTickAsync(name, tick.AddMinutes(-5), null, NewJob(1)));
    }
}
