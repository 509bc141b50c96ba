using Npgsql;
using TaskTempest.PostgreSql.Tests.Support;
using TaskTempest.Queues;

namespace TaskTempest.PostgreSql.Tests;

/// <summary>
/// Issue 16 on PostgreSQL beyond the conformance kit: unique keys under a race of many connections and each scope's
/// release point as the rows show it, claims over named queues, and the schedule store's tick raced from several
/// connections. Messages are texts as another program writes them (the envelope's "unique", "uscope", "ufor", "queue"),
/// so the raw path is covered too. A period is measured on the server's clock: the test polls the server for its end.
/// </summary>
public sealed class UniqueAndNamedQueueTests(PostgresDatabase<UniqueAndNamedQueueTests> database) : IClassFixture<PostgresDatabase<UniqueAndNamedQueueTests>>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private static readonly TempestWorkerInfo Worker = new("worker-1", "tests", "host", 1, 8, DateTimeOffset.UnixEpoch);
    private static readonly TempestError Failure = new("System.InvalidOperationException", "failed");

    private async Task<TempestPostgreSqlQueue> QueueAsync(string schema, Action<TempestPostgreSqlOptions>? configure = null)
    {
        var options = new TempestPostgreSqlOptions { Schema = schema, PollInterval = TimeSpan.FromMilliseconds(50) };
        configure?.Invoke(options);
        var queue = new TempestPostgreSqlQueue(database.DataSource, options);
        await queue.MigrateAsync();
        return queue;
    }

    /// <summary>A text with an envelope: its unique key and scope, its named queue, its priority.</summary>
    private static RawTempestMessage Job(string id, string? key = null, TempestUniqueScope scope = TempestUniqueScope.None, int? forMs = null,
        string? queue = null, int priority = 0)
    {
        var fields = new List<string> { "\"v\":1" };
        if (queue is not null) fields.Add($"\"queue\":\"{queue}\"");
        if (priority != 0) fields.Add($"\"prio\":{priority}");
        if (key is not null) fields.Add($"\"unique\":\"{key}\"");
        if (scope != TempestUniqueScope.None) fields.Add($"\"uscope\":{(int)scope}");
        if (forMs is { } ms) fields.Add($"\"ufor\":{ms}");
        fields.Add($"\"m\":[\"{id}\",\"Counted\",1]");
        return new RawTempestMessage("{" + string.Join(",", fields) + "}", id);
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = database.DataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<TempestMessage> ClaimOneAsync(TempestPostgreSqlQueue queue)
    {
        using var timeout = new CancellationTokenSource(Bound);
        return Assert.Single(await queue.ClaimAsync(Worker, 1, timeout.Token));
    }

    private static async Task RecordAsync(TempestPostgreSqlQueue queue, TempestOutcome outcome) =>
        Assert.Empty(await queue.RecordAsync([outcome]));

    private static TempestOutcome Success(TempestMessage m) => new(TempestOutcomeKind.Completed, m) { Status = TempestTaskStatus.Success };

    // ------------------------------------------------------------------ races

    [Fact]
    public async Task Racing_unique_submits_on_many_connections_add_one_row_and_all_others_name_it()
    {
        var queue = await QueueAsync("race");
        const int Racers = 24;
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var racing = Enumerable.Range(0, Racers).Select(i => Task.Run(async () =>
        {
            var job = Job($"race-{i}", key: "Counted:race");
            await start.Task;
            return (Id: job.Id!, Holder: await queue.EnqueueUniqueAsync(job));
        })).ToList();
        start.SetResult(); // all at once, each on a connection of its own from the pool
        var holders = await Task.WhenAll(racing);

        Assert.Equal(1L, await ScalarAsync<long>("SELECT count(*) FROM race.jobs WHERE unique_key = 'Counted:race'"));
        var added = Assert.Single(holders, h => h.Holder is null);
        Assert.Equal(Racers - 1, holders.Count(h => h.Holder == added.Id));
        Assert.Equal(added.Id, await ScalarAsync<string>("SELECT id FROM race.jobs"));
    }

    // ------------------------------------------------------------------ release points

    [Fact]
    public async Task A_queued_key_is_released_at_the_claim_and_a_return_does_not_take_it_again()
    {
        var queue = await QueueAsync("queued");
        Assert.Null(await queue.EnqueueUniqueAsync(Job("q-1", "Counted:q", TempestUniqueScope.Queued)));
        Assert.True(await ScalarAsync<bool>("SELECT unique_held FROM queued.jobs WHERE id = 'q-1'"));
        Assert.Equal("q-1", await queue.EnqueueUniqueAsync(Job("q-2", "Counted:q", TempestUniqueScope.Queued)));

        var first = await ClaimOneAsync(queue);
        Assert.Equal("q-1", first.Id);
        Assert.False(await ScalarAsync<bool>("SELECT unique_held FROM queued.jobs WHERE id = 'q-1'"));
        Assert.Null(await queue.EnqueueUniqueAsync(Job("q-3", "Counted:q", TempestUniqueScope.Queued)));

        // Unstarted goes back with its attempt undone (attempt 0 again): the key stays q-3's.
        await RecordAsync(queue, new TempestOutcome(TempestOutcomeKind.ReturnedUnstarted, first));
        Assert.Equal(0, await ScalarAsync<int>("SELECT attempt FROM queued.jobs WHERE id = 'q-1'"));
        Assert.False(await ScalarAsync<bool>("SELECT unique_held FROM queued.jobs WHERE id = 'q-1'"));
        Assert.Equal("q-3", await queue.EnqueueUniqueAsync(Job("q-4", "Counted:q", TempestUniqueScope.Queued)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the success is kept as a completed row: it must not hold the key
    public async Task A_queued_or_running_key_holds_through_a_retry_and_is_released_by_the_success(bool keepCompleted)
    {
        string schema = keepCompleted ? "success_kept" : "success";
        var queue = await QueueAsync(schema, o => o.KeepCompletedFor = keepCompleted ? TimeSpan.FromHours(1) : TimeSpan.Zero);
        Assert.Null(await queue.EnqueueUniqueAsync(Job("s-1", "Counted:s")));
        var running = await ClaimOneAsync(queue);
        Assert.Equal("s-1", await queue.EnqueueUniqueAsync(Job("s-2", "Counted:s")));
        await RecordAsync(queue, new TempestOutcome(TempestOutcomeKind.Retry, running) { Status = TempestTaskStatus.Failure, Error = Failure, RunAt = DateTimeOffset.UtcNow.AddSeconds(-1) });
        Assert.Equal("s-1", await queue.EnqueueUniqueAsync(Job("s-3", "Counted:s")));
        running = await ClaimOneAsync(queue);
        await RecordAsync(queue, Success(running));

        Assert.Equal(keepCompleted ? 1L : 0L, await ScalarAsync<long>($"SELECT count(*) FROM {schema}.jobs WHERE id = 's-1' AND state = 4"));
        Assert.Null(await queue.EnqueueUniqueAsync(Job("s-4", "Counted:s")));
    }

    [Fact]
    public async Task Every_dead_letter_releases_a_queued_or_running_key_and_a_requeue_takes_it_again_only_when_free()
    {
        var queue = await QueueAsync("dead", o => { o.LeaseDuration = TimeSpan.FromMilliseconds(300); o.MaxLeaseExpiries = 1; });

        // A dead letter recorded by a worker (a final failure, an unknown task).
        Assert.Null(await queue.EnqueueUniqueAsync(Job("d-1", "Counted:d")));
        await RecordAsync(queue, new TempestOutcome(TempestOutcomeKind.DeadLettered, await ClaimOneAsync(queue)) { Reason = "final failure", Status = TempestTaskStatus.Failure, Error = Failure });
        Assert.Null(await queue.EnqueueUniqueAsync(Job("d-2", "Counted:d")));

        // A poison: its lease expires once (MaxLeaseExpiries 1) and the rescue dead-letters it, on the server's clock.
        Assert.Equal("d-2", (await ClaimOneAsync(queue)).Id);
        using (var timeout = new CancellationTokenSource(Bound))
        {
            while ((await queue.RescueExpiredAsync(timeout.Token)).DeadLettered == 0) await Task.Delay(50, timeout.Token);
        }
        Assert.Equal(3, await ScalarAsync<short>("SELECT state FROM dead.jobs WHERE id = 'd-2'"));
        Assert.Null(await queue.EnqueueUniqueAsync(Job("d-3", "Counted:d")));

        // Requeued while d-3 holds the key: both dead letters run again, neither with the key (and the requeue succeeds).
        Assert.Equal(2, await queue.RequeueAllDeadAsync());
        Assert.Equal(1L, await ScalarAsync<long>("SELECT count(*) FROM dead.jobs WHERE unique_held"));
        Assert.Equal("d-3", await queue.EnqueueUniqueAsync(Job("d-4", "Counted:d")));

        // Once the key is free, a requeued dead letter takes it again.
        var inspector = (ITempestQueueInspector)queue;
        Assert.True(await inspector.CancelAsync("d-3"));
        Assert.True(await inspector.DeleteAsync("d-2"));
        await RecordAsync(queue, new TempestOutcome(TempestOutcomeKind.DeadLettered, await ClaimOneAsync(queue)) { Reason = "again" }); // d-1
        Assert.True(await inspector.RequeueDeadAsync("d-1"));
        Assert.True(await ScalarAsync<bool>("SELECT unique_held FROM dead.jobs WHERE id = 'd-1'"));
        Assert.Equal("d-1", await queue.EnqueueUniqueAsync(Job("d-5", "Counted:d")));
    }

    [Fact]
    public async Task A_period_key_holds_until_its_end_on_the_server_clock_whatever_the_job_did_and_the_maintenance_deletes_it()
    {
        // Two seconds: long enough for the steps before the wait on a loaded machine (300 ms was not, in a parallel run).
        var queue = await QueueAsync("period", o => o.MaintenanceInterval = TimeSpan.FromMilliseconds(1));
        Assert.Null(await queue.EnqueueUniqueAsync(Job("p-1", "Counted:p", TempestUniqueScope.Period, forMs: 2_000)));
        Assert.False(await ScalarAsync<bool>("SELECT unique_held FROM period.jobs WHERE id = 'p-1'")); // the lock is the key
        await RecordAsync(queue, Success(await ClaimOneAsync(queue)));
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM period.jobs"));
        Assert.Equal("p-1", await queue.EnqueueUniqueAsync(Job("p-2", "Counted:p", TempestUniqueScope.Period, forMs: 2_000)));
        await queue.EnqueueAsync(Job("p-3", "Counted:p", TempestUniqueScope.Period, forMs: 2_000)); // skipped silently
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM period.jobs"));

        // The server's clock decides the end: wait until it says so.
        using (var timeout = new CancellationTokenSource(Bound))
        {
            while (!await ScalarAsync<bool>("SELECT until <= now() FROM period.unique_locks WHERE key = 'Counted:p'")) await Task.Delay(20, timeout.Token);
        }
        var maintained = await queue.MaintainAsync();
        Assert.Equal(1L, maintained!.UniqueLocks);
        Assert.Null(await queue.EnqueueUniqueAsync(Job("p-4", "Counted:p", TempestUniqueScope.Period, forMs: 300)));
        Assert.Equal("p-4", (await ClaimOneAsync(queue)).Id);
    }

    [Fact]
    public async Task A_batch_takes_the_first_of_each_key_and_skips_keys_held_by_rows_or_periods()
    {
        var queue = await QueueAsync("batch");
        Assert.Null(await queue.EnqueueUniqueAsync(Job("b-held", "Counted:held")));
        await queue.EnqueueBatchAsync([
            Job("b-1", "Counted:k"), Job("b-2", "Counted:k"), Job("b-3", "Counted:held"),
            Job("b-4", "Counted:p", TempestUniqueScope.Period, forMs: 60_000), Job("b-5", "Counted:p", TempestUniqueScope.Period, forMs: 60_000),
            Job("b-6")]);
        await queue.EnqueueBatchAsync([Job("b-7", "Counted:p", TempestUniqueScope.Period, forMs: 60_000), Job("b-8")]);

        await using var command = database.DataSource.CreateCommand("SELECT id FROM batch.jobs ORDER BY seq");
        var ids = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) ids.Add(reader.GetString(0));
        }
        Assert.Equal(["b-held", "b-1", "b-4", "b-6", "b-8"], ids);
    }

    [Fact]
    public async Task A_unique_submit_in_a_transaction_holds_the_key_only_if_it_commits()
    {
        var queue = await QueueAsync("outbox");
        var engine = new PgTempest(new TempestOptions { Queue = queue, HandleSignals = false });
        await using (var connection = await database.DataSource.OpenConnectionAsync())
        {
            await using (var rolledBack = await connection.BeginTransactionAsync())
            {
                var target = engine.InTransaction(rolledBack).SubmitOptions.Target!;
                Assert.True(target.Features.HasFlag(TempestQueueFeatures.UniqueKeys | TempestQueueFeatures.NamedQueues));
                Assert.Null(await target.EnqueueUniqueAsync(Job("t-1", "Counted:t")));
                Assert.Equal("t-1", await target.EnqueueUniqueAsync(Job("t-2", "Counted:t"))); // the transaction sees its own
                await rolledBack.RollbackAsync();
            }
            await using var committed = await connection.BeginTransactionAsync();
            Assert.Null(await engine.InTransaction(committed).SubmitOptions.Target!.EnqueueUniqueAsync(Job("t-3", "Counted:t")));
            await committed.CommitAsync();
        }
        Assert.Equal("t-3", await queue.EnqueueUniqueAsync(Job("t-4", "Counted:t")));
    }

    // ------------------------------------------------------------------ named queues

    [Fact]
    public async Task A_claim_over_named_queues_takes_each_up_to_its_count_in_order_and_never_more_than_asked()
    {
        var queue = await QueueAsync("named");
        for (int i = 0; i < 3; i++)
        {
            await queue.EnqueueAsync(Job($"a-{i}", queue: "a"));
            await queue.EnqueueAsync(Job($"b-{i}", queue: "b"));
        }
        await queue.EnqueueAsync(Job("b-urgent", queue: "b", priority: 5));

        using var timeout = new CancellationTokenSource(Bound);
        var taken = await queue.ClaimAsync(Worker, [new("a", 1), new("b", 5)], 3, timeout.Token);
        Assert.Equal(["a-0", "b-urgent", "b-0"], taken.Select(m => m.Id));
        Assert.Equal(2L, await ScalarAsync<long>("SELECT count(*) FROM named.jobs WHERE state = 2 AND envelope_queue = 'b'"));

        // Strict order: the first queue named comes first, whatever the priorities.
        var rest = await queue.ClaimAsync(Worker, [new("b", 5), new("a", 5)], 10, timeout.Token);
        Assert.Equal(["b-1", "b-2", "a-1", "a-2"], rest.Select(m => m.Id));
        Assert.All(rest, m => Assert.Equal(m.Id![0..1], m.Envelope!.Queue));
        Assert.Equal(0L, await queue.CountAsync()); // nothing due is left in any named queue

        // The inspector lists every named queue's jobs, each with its queue.
        var running = await ((ITempestQueueInspector)queue).ListAsync(TempestJobState.Running, 0, 100);
        Assert.Equal(7, running.Count);
        Assert.Equal(3, running.Count(j => j.Envelope?.Queue == "a"));
    }

    [Fact]
    public async Task A_plain_claim_takes_the_default_queue_only_and_counting_sees_every_named_queue()
    {
        var queue = await QueueAsync("plain");
        await queue.EnqueueAsync(Job("mail-1", queue: "mail"));
        await queue.EnqueueAsync(Job("plain-1"));
        await queue.EnqueueAsync(Job("default-1", queue: "default"));
        Assert.Equal(3L, await queue.CountAsync());

        using var timeout = new CancellationTokenSource(Bound);
        Assert.Equal(["plain-1", "default-1"], (await queue.ClaimAsync(Worker, 10, timeout.Token)).Select(m => m.Id));
        Assert.Equal(1L, await queue.CountAsync());
        Assert.Equal("mail-1", Assert.Single(await queue.DequeueBatchAsync([new("mail", 3)], 3, timeout.Token)).Id);
    }

    // ------------------------------------------------------------------ schedules

    [Fact]
    public async Task Ticks_raced_from_several_connections_enqueue_one_job_each()
    {
        // Each racer its own data source: separate pools, separate connections, as separate worker processes have.
        const int Racers = 6, Ticks = 5;
        var sources = Enumerable.Range(0, Racers).Select(_ => NpgsqlDataSource.Create(database.ConnectionString)).ToList();
        try
        {
            var queues = sources.Select(s => new TempestPostgreSqlQueue(s, new TempestPostgreSqlOptions { Schema = "ticks" })).ToList();
            await queues[0].MigrateAsync();
            var first = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
            Assert.Equal(first, await queues[0].RegisterScheduleAsync(new TempestScheduleInfo("every-minute", "* * * * *", "UTC", TempestMisfire.RunOnce, "Counted"), first));
            for (int t = 1; t <= Ticks; t++)
            {
                var tick = first.AddMinutes(t);
                var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                int n = t;
                var racing = queues.Select((q, i) => Task.Run(async () =>
                {
                    await start.Task;
                    return await q.TryTakeTickAsync("every-minute", tick, tick.AddMinutes(1), Job($"tick-{n}-{i}"));
                })).ToList();
                start.SetResult();
                var taken = await Task.WhenAll(racing);
                Assert.Single(taken, x => x);
            }
            Assert.Equal((long)Ticks, await ScalarAsync<long>("SELECT count(*) FROM ticks.jobs"));
            var schedule = Assert.Single(await queues[0].GetSchedulesAsync());
            Assert.Equal(first.AddMinutes(Ticks), schedule.LastTick);
            Assert.StartsWith($"tick-{Ticks}-", schedule.LastJobId, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var source in sources) await source.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_tick_of_an_unregistered_schedule_creates_it_and_a_tick_job_honours_its_key()
    {
        var queue = await QueueAsync("tick_key");
        var tick = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Null(await queue.EnqueueUniqueAsync(Job("held", "Counted:tick")));
        Assert.True(await queue.TryTakeTickAsync("new", tick, null, Job("tick-1", "Counted:tick")));
        Assert.False(await queue.TryTakeTickAsync("new", tick, null, Job("tick-2")));
        Assert.Equal(1L, await ScalarAsync<long>("SELECT count(*) FROM tick_key.jobs")); // the tick's job was a duplicate
        var schedule = Assert.Single(await queue.GetSchedulesAsync());
        Assert.Equal(("new", tick, "Counted"), (schedule.Name, schedule.LastTick!.Value, schedule.TaskName));
    }
}
