using TaskTempest.PostgreSql.Tests.Support;
using TaskTempest.Queues;
using TaskTempest.Tests.Shared;

namespace TaskTempest.PostgreSql.Tests;

/// <summary>
/// Retention: succeeded jobs kept for a set time, dead letters and the recent-failure log capped by age and count, the
/// registry forgetting silent workers, and one maintenance run per interval across instances (the leader row). Ages are
/// written into the rows (the server's clock decides what is old), so nothing waits for time to pass.
/// </summary>
public sealed class RetentionTests(PostgresDatabase<RetentionTests> database) : IClassFixture<PostgresDatabase<RetentionTests>>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private async Task<TempestPostgreSqlQueue> QueueAsync(string schema, Action<TempestPostgreSqlOptions>? configure = null)
    {
        var options = new TempestPostgreSqlOptions { Schema = schema, PollInterval = TimeSpan.FromMilliseconds(100) };
        configure?.Invoke(options);
        var queue = new TempestPostgreSqlQueue(database.DataSource, options);
        await queue.MigrateAsync();
        return queue;
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var command = database.DataSource.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = database.DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private static PgTempest Engine(TempestPostgreSqlQueue queue, RecordingLog main) =>
        new(new TempestOptions { Queue = queue, MainLoggerFactory = main, TaskLoggerFactory = new RecordingLog(), HandleSignals = false });

    [Fact]
    public async Task A_success_is_kept_as_completed_for_its_time_and_a_failed_end_is_not()
    {
        var queue = await QueueAsync("keep_completed", o => o.KeepCompletedFor = TimeSpan.FromHours(1));
        // Through the contract, not an engine: no heartbeat beat takes the maintenance turn behind the test's back.
        await queue.EnqueueBatchAsync([new RawTempestMessage("""["ok","Counted",1]"""), new RawTempestMessage("""["bad","AlwaysFails"]""")]);
        var worker = new TempestWorkerInfo("retention-test", "PgTempest", Environment.MachineName, Environment.ProcessId, 2, DateTimeOffset.UtcNow);
        var claimed = await queue.ClaimAsync(worker, 2, CancellationToken.None);
        Assert.Equal(2, claimed.Count);
        string success = "ok", failure = "bad";
        Assert.Empty(await queue.RecordAsync([
            new TempestOutcome(TempestOutcomeKind.Completed, claimed.Single(m => m.Id == success)) { Status = TempestTaskStatus.Success },
            new TempestOutcome(TempestOutcomeKind.Completed, claimed.Single(m => m.Id == failure))
            {
                Status = TempestTaskStatus.Failure, Error = new TempestError("InvalidOperationException", "always fails"),
            },
        ]));

        var kept = await queue.GetAsync(success);
        Assert.Equal(TempestJobState.Completed, kept?.State);
        Assert.Null(await queue.GetAsync(failure)); // deleted; its run is in the recent failures
        Assert.Equal(failure, Assert.Single(await queue.GetRecentFailuresAsync(10)).Id);
        Assert.Equal(1, (await queue.GetCountsAsync()).Completed);
        Assert.Equal(success, Assert.Single(await queue.ListAsync(TempestJobState.Completed, 0, 10)).Id);

        Assert.Equal(new TempestPostgreSqlMaintenance(0, 0, 0, 0), await queue.MaintainAsync()); // an hour has not passed
        await ExecuteAsync("UPDATE keep_completed.jobs SET finished_at = now() - interval '61 minutes'");
        await ExecuteAsync("DELETE FROM keep_completed.leaders"); // the run above took the turn for a minute
        Assert.Equal(new TempestPostgreSqlMaintenance(1, 0, 0, 0), await queue.MaintainAsync());
        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM keep_completed.jobs"));
    }

    [Fact]
    public async Task Dead_letters_failures_and_silent_workers_are_deleted_by_age_and_count_newest_kept()
    {
        var queue = await QueueAsync("caps", o =>
        {
            o.KeepDeadLettersFor = TimeSpan.FromDays(30);
            o.MaxDeadLetters = 3;
            o.KeepFailuresFor = TimeSpan.FromDays(7);
            o.MaxFailures = 2;
            o.ForgetSilentWorkersAfter = TimeSpan.FromHours(1);
        });
        // Six dead letters: one 31 days old (past its age), five recent of which the newest three stay (the count);
        // five failed runs, logged in order: the first 8 days old, of the other four the newest two stay.
        await ExecuteAsync("""
            INSERT INTO caps.jobs (id, body, state, dead_reason, dead_at)
            SELECT 'dead' || n, '[]', 3, 'test', now() - CASE WHEN n = 0 THEN interval '31 days' ELSE n * interval '1 minute' END
            FROM generate_series(0, 5) AS n;
            INSERT INTO caps.jobs (id, body) VALUES ('waiting', '[]');
            INSERT INTO caps.failures (job_id, task, attempt, status, failed_at)
            SELECT 'failed' || n, 'T', 1, 1, now() - CASE WHEN n = 0 THEN interval '8 days' ELSE (5 - n) * interval '1 minute' END
            FROM generate_series(0, 4) AS n;
            INSERT INTO caps.workers (id, engine, host, pid, slots, started_at, last_heartbeat, running) VALUES
                ('silent', 'E', 'h', 1, 1, now() - interval '1 day', now() - interval '2 hours', 3),
                ('alive', 'E', 'h', 2, 1, now() - interval '1 day', now(), 0);
            """);

        Assert.Equal(new TempestPostgreSqlMaintenance(0, 3, 3, 1), await queue.MaintainAsync());

        var dead = await queue.ListAsync(TempestJobState.Dead, 0, 10);
        Assert.Equal(["dead1", "dead2", "dead3"], dead.Select(d => d.Id));
        Assert.Equal(["failed3", "failed4"], (await queue.GetRecentFailuresAsync(10)).Select(f => f.Id).Order());
        Assert.Equal("alive", Assert.Single(await queue.GetWorkersAsync()).Worker.Id);
        Assert.NotNull(await queue.GetAsync("waiting")); // retention never touches a job that is still to run
    }

    [Fact]
    public async Task One_maintenance_run_per_interval_across_instances()
    {
        var first = await QueueAsync("leader", o => o.MaintenanceInterval = TimeSpan.FromHours(1));
        var second = await QueueAsync("leader", o => o.MaintenanceInterval = TimeSpan.FromHours(1));

        Assert.NotNull(await first.MaintainAsync());
        Assert.Null(await second.MaintainAsync()); // the first holds the turn for the hour
        Assert.Null(await first.MaintainAsync());  // and so does it for itself: once per interval
        await ExecuteAsync("UPDATE leader.leaders SET until = now() - interval '1 second'"); // the hour is over
        Assert.NotNull(await second.MaintainAsync());
        Assert.Null(await first.MaintainAsync());
    }

    [Fact]
    public async Task A_running_engine_runs_the_maintenance_from_its_rescue_beat()
    {
        var queue = await QueueAsync("by_engine", o =>
        {
            o.LeaseDuration = TimeSpan.FromSeconds(1); // a beat every third of a second
            o.MaintenanceInterval = TimeSpan.FromMilliseconds(100);
            o.KeepDeadLettersFor = TimeSpan.FromDays(1);
        });
        await ExecuteAsync("INSERT INTO by_engine.jobs (id, body, state, dead_reason, dead_at) VALUES ('old', '[]', 3, 'test', now() - interval '2 days')");
        var main = new RecordingLog();
        var engine = Engine(queue, main);
        var run = engine.RunAsync();

        // The server decides when the row is gone: look, bounded.
        for (int tries = 0; await ScalarAsync("SELECT count(*) FROM by_engine.jobs") > 0; tries++)
        {
            Assert.True(tries < 300, "the engine's beat never ran the maintenance");
            await Task.Delay(20);
        }
        engine.Stop();
        await run.WaitAsync(Bound);
        Assert.Equal(1, await ScalarAsync("SELECT count(*) FROM by_engine.leaders"));
    }

    [Fact]
    public async Task The_inspector_counts_exactly_up_to_the_limit_and_estimates_above_it()
    {
        var queue = await QueueAsync("deep");
        int deep = TempestPostgreSqlQueue.ExactCountLimit + 5_000;
        await ExecuteAsync($"""
            INSERT INTO deep.jobs (id, body, state, dead_reason, dead_at) SELECT 'dead' || n, '[]', 3, 'test', now() FROM generate_series(1, {deep}) AS n;
            INSERT INTO deep.jobs (id, body) SELECT 'ready' || n, '[]' FROM generate_series(1, 7) AS n;
            ANALYZE deep.jobs;
            """);

        var counts = await queue.GetCountsAsync();

        Assert.Equal(7, counts.Ready); // exact
        Assert.Equal(0, counts.Running);
        Assert.InRange(counts.Dead!.Value, deep * 9 / 10, deep * 11 / 10); // the planner's figure, from ANALYZE, not the bound
    }
}
