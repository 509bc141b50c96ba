using TaskTempest.PostgreSql.Tests.Support;
using TaskTempest.Queues;
using TaskTempest.Tests.Shared;

namespace TaskTempest.PostgreSql.Tests;

/// <summary>An engine on PostgreSQL with named queues and unique submits, end to end: it claims its named queues through
/// the queue's claim over several, a duplicate submit gets the holder's id from the store, and the key is free once the
/// job's success is recorded.</summary>
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
}
