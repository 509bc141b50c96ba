using Microsoft.Extensions.Logging;
using Npgsql;
using TaskTempest.PostgreSql.Tests.Support;
using TaskTempest.Tests.Shared;

namespace TaskTempest.PostgreSql.Tests;

/// <summary>
/// Engines on the PostgreSQL queue, end to end: two engines sharing one table, a retry through the table, rows written
/// by another client (good and bad), and submits inside the caller's transaction. Each test has its own schema.
/// </summary>
public sealed class EngineOnPostgreSqlTests(PostgresDatabase<EngineOnPostgreSqlTests> database) : IClassFixture<PostgresDatabase<EngineOnPostgreSqlTests>>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private async Task<TempestPostgreSqlQueue> QueueAsync(string schema)
    {
        var queue = new TempestPostgreSqlQueue(database.DataSource, new TempestPostgreSqlOptions { Schema = schema, PollInterval = TimeSpan.FromMilliseconds(100) });
        await queue.MigrateAsync();
        return queue;
    }

    private static (PgTempest Engine, RecordingLog Main) Engine(TempestPostgreSqlQueue queue, RecordingLog? shared = null)
    {
        var main = shared ?? new RecordingLog();
        var engine = new PgTempest(new TempestOptions { Queue = queue, MainLoggerFactory = main, TaskLoggerFactory = new RecordingLog(), HandleSignals = false });
        return (engine, main);
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var command = database.DataSource.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Two_engines_on_one_table_run_every_job_once_and_leave_the_table_empty()
    {
        var log = new RecordingLog(); // one main log for both engines, to wait for all 500 ends
        var a = Engine(await QueueAsync("two_engines"), log);
        var b = Engine(await QueueAsync("two_engines"), log);
        var ids = new List<string>();
        await using (var batch = a.Engine.Batch())
        {
            for (int i = 0; i < 500; i++) ids.Add(batch.SubmitCounted(i));
        }
        var runA = a.Engine.RunAsync();
        var runB = b.Engine.RunAsync();

        await log.WaitForAsync(lines => lines.Count(l => l.Contains("<Counted> success", StringComparison.Ordinal)) >= 500, "every job to succeed");
        a.Engine.Stop();
        b.Engine.Stop();
        var results = await Task.WhenAll(runA, runB).WaitAsync(Bound);

        Assert.All(ids, id => Assert.Equal(1, Counted.Runs[id]));
        Assert.Equal(500, results.Sum(r => r.TasksSucceeded));
        Assert.True(results.All(r => r.TasksSucceeded > 0), $"both engines took jobs: {results[0].TasksSucceeded} and {results[1].TasksSucceeded}");
        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM two_engines.jobs"));
        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM two_engines.workers")); // each left the registry
    }

    [Fact]
    public async Task A_failed_job_is_retried_through_the_table_and_succeeds()
    {
        var (engine, main) = Engine(await QueueAsync("retry"));
        string id = engine.SubmitFailsOnce();
        var run = engine.RunAsync();

        await main.WaitForAsync(m => m.StartsWith($"{{{id}}} <FailsOnce> success", StringComparison.Ordinal));
        engine.Stop();
        await run.WaitAsync(Bound);

        Assert.Contains(main.Messages, m => m.StartsWith($"{{{id}}} <FailsOnce> failure", StringComparison.Ordinal) && m.EndsWith("(attempt 1 of 3, retry in 0.1 s)", StringComparison.Ordinal));
        Assert.Equal(1, await ScalarAsync($"SELECT count(*) FROM retry.failures WHERE job_id = '{id}' AND error_message = 'first run fails'"));
        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM retry.jobs"));
    }

    [Fact]
    public async Task Rows_another_client_inserts_run_and_bad_ones_are_dead_lettered_while_the_engine_runs_on()
    {
        var (engine, main) = Engine(await QueueAsync("external"));
        await using (var insert = database.DataSource.CreateCommand("""
            INSERT INTO external.jobs (id, body) VALUES
                ('ext-good-1', '["ext-good-1","Counted",1]'),
                ('ext-garbage', 'not json at all'),
                ('ext-arity', '["ext-arity","Counted"]'),
                ('ext-types', '["ext-types","Counted","one"]'),
                ('ext-unknown', '["ext-unknown","NoSuchTask",1]');
            """))
        {
            await insert.ExecuteNonQueryAsync(); // the one command another program needs: an id and the message text
        }
        var run = engine.RunAsync();
        await main.WaitForAsync(lines => lines.Any(l => l.StartsWith("{ext-good-1} <Counted> success", StringComparison.Ordinal))
            && new[] { "ext-garbage", "ext-arity", "ext-types", "ext-unknown" }.All(id => lines.Any(l => l.StartsWith($"{{{id}}} ", StringComparison.Ordinal))),
            "the good row to run and the four bad ones to be rejected");
        string later = engine.SubmitCounted(2); // the engine runs on
        await main.WaitForAsync(m => m.StartsWith($"{{{later}}} <Counted> success", StringComparison.Ordinal));
        engine.Stop();
        await run.WaitAsync(Bound); // every outcome, the dead letters included, is in the table before Run returns

        await using var reasons = database.DataSource.CreateCommand("SELECT id, dead_reason FROM external.jobs WHERE state = 3 ORDER BY id");
        var dead = new Dictionary<string, string>();
        await using (var reader = await reasons.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) dead[reader.GetString(0)] = reader.GetString(1);
        }
        Assert.Equal(["ext-arity", "ext-garbage", "ext-types", "ext-unknown"], dead.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("task class not found: NoSuchTask", dead["ext-unknown"], StringComparison.Ordinal);
        Assert.All(dead.Values, reason => Assert.False(string.IsNullOrWhiteSpace(reason)));
        Assert.Contains(main.Messages, m => m.StartsWith("{ext-garbage}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_job_submitted_in_a_transaction_exists_only_if_the_transaction_commits()
    {
        var queue = await QueueAsync("outbox");
        var (engine, main) = Engine(queue);
        await using (var create = database.DataSource.CreateCommand("CREATE TABLE IF NOT EXISTS outbox.orders (id int PRIMARY KEY)"))
            await create.ExecuteNonQueryAsync();

        string committed, rolledBack;
        await using (var connection = await database.DataSource.OpenConnectionAsync())
        {
            await using (var transaction = await connection.BeginTransactionAsync())
            {
                await using (var order = new NpgsqlCommand("INSERT INTO outbox.orders VALUES (1)", connection, transaction)) await order.ExecuteNonQueryAsync();
                committed = await engine.InTransaction(transaction).SubmitCountedAsync(1); // the engine's own queue
                await transaction.CommitAsync();
            }
            await using (var transaction = await connection.BeginTransactionAsync())
            {
                await using (var order = new NpgsqlCommand("INSERT INTO outbox.orders VALUES (2)", connection, transaction)) await order.ExecuteNonQueryAsync();
                await using (var batch = engine.InTransaction(queue, transaction).Batch()) // a batch in the transaction: one insert
                {
                    rolledBack = batch.SubmitCounted(2);
                    batch.SubmitCounted(3);
                }
                await transaction.RollbackAsync();
            }
        }
        Assert.Equal(1, await ScalarAsync($"SELECT count(*) FROM outbox.jobs WHERE id = '{committed}'"));
        Assert.Equal(0, await ScalarAsync($"SELECT count(*) FROM outbox.jobs WHERE id = '{rolledBack}'"));
        Assert.Equal(1, await ScalarAsync("SELECT count(*) FROM outbox.orders"));

        var run = engine.RunAsync();
        await main.WaitForAsync(m => m.StartsWith($"{{{committed}}} <Counted> success", StringComparison.Ordinal));
        engine.Stop();
        await run.WaitAsync(Bound);
        Assert.False(Counted.Runs.ContainsKey(rolledBack));
        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM outbox.jobs"));
    }

    [Fact]
    public async Task A_job_another_process_enqueues_wakes_an_idle_claim_by_NOTIFY_not_by_the_poll()
    {
        // Two queue instances on two data sources, as two processes would be; the claimer polls once an hour, so only
        // the NOTIFY can bring it the job within the bound.
        await using var otherProcess = NpgsqlDataSource.Create(database.ConnectionString);
        var claimer = new TempestPostgreSqlQueue(database.DataSource, new TempestPostgreSqlOptions { Schema = "notify", PollInterval = TimeSpan.FromHours(1) });
        var producer = new TempestPostgreSqlQueue(otherProcess, new TempestPostgreSqlOptions { Schema = "notify", PollInterval = TimeSpan.FromHours(1) });
        await claimer.MigrateAsync();
        var worker = new Queues.TempestWorkerInfo("notify-test", "PgTempest", Environment.MachineName, Environment.ProcessId, 1, DateTimeOffset.UtcNow);

        using var bound = new CancellationTokenSource(Bound);
        var claim = claimer.ClaimAsync(worker, 1, bound.Token).AsTask();
        // The claim found nothing and listens: its LISTEN is visible to the server (looked up, bounded: no signal
        // crosses the server). After the connect the listener wakes the claim once; it finds nothing and waits again.
        for (int tries = 0; await ScalarAsync("SELECT count(*) FROM pg_stat_activity WHERE query = 'LISTEN tempest_notify'") == 0; tries++)
        {
            Assert.True(tries < 500, "the claim's listener did not connect");
            await Task.Delay(20);
        }
        Assert.False(claim.IsCompleted);
        var (engine, _) = Engine(producer);
        string id = engine.SubmitCounted(7);

        var claimed = Assert.Single(await claim);
        Assert.Equal(id, claimed.Id);
        Assert.Null(claimer.LastListenError);
        await claimer.DisposeAsync();
        await producer.DisposeAsync();
    }
}
