using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using TaskTempest.PostgreSql.Tests.Support;
using TaskTempest.Queues;
using TaskTempest.Tests.Shared;

namespace TaskTempest.PostgreSql.Tests;

/// <summary>Engines on PostgreSQL with issue 16's features, end to end: named queues claimed through the queue's claim
/// over several, a duplicate submit that gets the holder's id from the store (the key free once the job's success is
/// recorded), and a recurring schedule ticked by two engines on one fake clock that the store lets through once per tick.</summary>
public sealed class EngineNamedQueueTests(PostgresDatabase<EngineNamedQueueTests> database) : IClassFixture<PostgresDatabase<EngineNamedQueueTests>>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task An_engine_runs_its_named_queues_and_a_duplicate_submit_names_the_holder_until_it_succeeded()
    {
        var queue = new TempestPostgreSqlQueue(database.DataSource, new TempestPostgreSqlOptions { Schema = "engine", PollInterval = TimeSpan.FromMilliseconds(100) });
        await queue.MigrateAsync();
        var main = new RecordingLog();
        var options = new TempestOptions { Queue = queue, MainLoggerFactory = main, TaskLoggerFactory = new RecordingLog(), HandleSignals = false };
        options.Queues.Add(new("mail") { MaxConcurrency = 1 });
        options.Queues.Add(new(TempestQueueNames.Default));
        var engine = new PgTempest(options);

        var first = await engine.ToQueue("mail").Unique("customer-7").SubmitCountedAsync(1);
        var duplicate = await engine.ToQueue("mail").Unique("customer-7").SubmitCountedAsync(2);
        Assert.False(first.Duplicate);
        Assert.Equal((first.Id, true), (duplicate.Id, duplicate.Duplicate));
        string plain = engine.SubmitCounted(3);

        var run = engine.RunAsync();
        await main.WaitForAsync(lines => new[] { first.Id, plain }.All(id => lines.Any(l => l.StartsWith($"{{{id}}} <Counted> success", StringComparison.Ordinal))),
            "the mail job and the default one to run");
        // The success is recorded after its log line: the key is free once the row is gone (the server says when).
        using (var timeout = new CancellationTokenSource(Bound))
        {
            while (await CountAsync($"SELECT count(*) FROM engine.jobs WHERE id = '{first.Id}'") > 0) await Task.Delay(20, timeout.Token);
        }
        var again = await engine.ToQueue("mail").Unique("customer-7").SubmitCountedAsync(4);
        Assert.False(again.Duplicate);
        await main.WaitForAsync(m => m.StartsWith($"{{{again.Id}}} <Counted> success", StringComparison.Ordinal));
        engine.Stop();
        await run.WaitAsync(Bound);
        Assert.Equal(0L, await CountAsync("SELECT count(*) FROM engine.jobs"));
    }

    private async Task<long> CountAsync(string sql)
    {
        await using var command = database.DataSource.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Two_engines_on_one_schema_submit_each_tick_of_a_schedule_once()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 10, 0, 30, TimeSpan.Zero));
        var main = new RecordingLog();
        var engines = new List<PgTempest>();
        for (int i = 0; i < 2; i++)
        {
            var queue = new TempestPostgreSqlQueue(database.DataSource, new TempestPostgreSqlOptions { Schema = "recurring", PollInterval = TimeSpan.FromMilliseconds(100) });
            await queue.MigrateAsync();
            var engine = new PgTempest(new TempestOptions
            {
                Queue = queue, MainLoggerFactory = main, TaskLoggerFactory = new RecordingLog(), HandleSignals = false,
                TimeProvider = time, LogLevel = LogLevel.Debug,
            });
            engine.AddRecurring("every-minute", "* * * * *", s => s.SubmitCounted(1));
            engines.Add(engine);
        }
        var runs = engines.Select(e => e.RunAsync()).ToList();
        await main.WaitForAsync(lines => lines.Count(l => l.StartsWith("schedule every-minute (", StringComparison.Ordinal)) == 2, "both engines to register the schedule");

        foreach (string tick in new[] { "2026-12-01T10:01:00.000Z", "2026-12-01T10:02:00.000Z" })
        {
            time.Advance(tick.EndsWith("01:00.000Z", StringComparison.Ordinal) ? TimeSpan.FromSeconds(30) : TimeSpan.FromMinutes(1));
            // Each engine tries the tick: one submits it, the other finds it taken.
            await main.WaitForAsync(lines => lines.Any(l => l.StartsWith($"schedule every-minute: tick {tick} submitted as", StringComparison.Ordinal))
                && lines.Any(l => l == $"schedule every-minute: tick {tick} taken by another worker"), $"both engines to try the tick {tick}");
            Assert.Single(main.Messages, l => l.StartsWith($"schedule every-minute: tick {tick} submitted as", StringComparison.Ordinal));
        }
        // Both ticks' jobs run (once each: the store held one per tick), and nothing else was queued.
        var jobs = main.Messages.Where(l => l.StartsWith("schedule every-minute: tick ", StringComparison.Ordinal) && l.Contains(" submitted as {", StringComparison.Ordinal))
            .Select(l => l[(l.IndexOf('{') + 1)..l.IndexOf('}')]).ToList();
        Assert.Equal(2, jobs.Distinct().Count());
        await main.WaitForAsync(lines => jobs.All(id => lines.Any(l => l.StartsWith($"{{{id}}} <Counted> success", StringComparison.Ordinal))), "both ticks' jobs to run");
        foreach (var engine in engines) engine.Stop();
        await Task.WhenAll(runs).WaitAsync(Bound);
        var schedule = Assert.Single(await new TempestPostgreSqlQueue(database.DataSource, new TempestPostgreSqlOptions { Schema = "recurring" }).GetSchedulesAsync());
        Assert.Equal((new DateTimeOffset(2026, 12, 1, 10, 2, 0, TimeSpan.Zero), jobs[1]), (schedule.LastTick!.Value, schedule.LastJobId));
        Assert.Equal(0L, await CountAsync("SELECT count(*) FROM recurring.jobs"));
    }
}
