using System.Diagnostics;
using TaskTempest.PostgreSql.Tests.Support;
using TaskTempest.Tests.Shared;

namespace TaskTempest.PostgreSql.Tests;

/// <summary>Listeners are process-wide (every engine's submits would carry a trace context): these run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "Telemetry";
}

/// <summary>
/// A job's trace crosses the table: the submit's span context is stored with the row (the trace_parent column), and the
/// run, in an engine that only read the row, is the submit's child. A retried run is a second child of the same submit.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class TelemetryOnPostgreSqlTests(PostgresDatabase<TelemetryOnPostgreSqlTests> database) : IClassFixture<PostgresDatabase<TelemetryOnPostgreSqlTests>>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_run_of_a_job_read_from_the_table_is_a_child_of_its_submit_and_the_counters_count_it()
    {
        using var telemetry = new TelemetryCapture();
        var submitter = new TempestPostgreSqlQueue(database.DataSource, new TempestPostgreSqlOptions { Schema = "traced" });
        await submitter.MigrateAsync();
        var submitting = new PgTempest(new TempestOptions { Queue = submitter, HandleSignals = false });
        string id;
        using (telemetry.Enter()) id = submitting.SubmitFailsOnce(); // fails its first run, then succeeds

        await using var dataSource = Npgsql.NpgsqlDataSource.Create(database.ConnectionString); // another process's view
        var queue = new TempestPostgreSqlQueue(dataSource, new TempestPostgreSqlOptions { Schema = "traced", PollInterval = TimeSpan.FromMilliseconds(100) });
        var main = new RecordingLog();
        var engine = new PgTempest(new TempestOptions { Queue = queue, MainLoggerFactory = main, TaskLoggerFactory = new RecordingLog(), HandleSignals = false });
        var run = engine.RunAsync();
        await main.WaitForAsync(m => m.StartsWith($"{{{id}}} <FailsOnce> success", StringComparison.Ordinal));
        engine.Stop();
        await run.WaitAsync(Bound);

        var submit = Assert.Single(telemetry.Spans, s => s.Kind == ActivityKind.Producer);
        Assert.Equal(id, submit.GetTagItem("messaging.message.id"));
        var runs = telemetry.Spans.Where(s => s.Kind == ActivityKind.Consumer).OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal(2, runs.Count);
        Assert.All(runs, r => Assert.Equal(submit.TraceId, r.TraceId));
        Assert.All(runs, r => Assert.Equal(submit.SpanId, r.ParentSpanId));
        Assert.Equal(ActivityStatusCode.Error, runs[0].Status);
        Assert.Equal([1, 2], runs.Select(r => (int)r.GetTagItem("tasktempest.attempt")!));
        Assert.Equal("success", runs[1].GetTagItem("tasktempest.status"));

        Assert.Equal(1, telemetry.Sum("tasktempest.jobs.ended", ("tasktempest.task", "FailsOnce"), ("tasktempest.status", "failure")));
        Assert.Equal(1, telemetry.Sum("tasktempest.jobs.ended", ("tasktempest.task", "FailsOnce"), ("tasktempest.status", "success")));
        Assert.Equal(1, telemetry.Sum("tasktempest.jobs.retries", ("tasktempest.task", "FailsOnce")));
        Assert.Equal(0, telemetry.Sum("tasktempest.jobs.in_flight", ("tasktempest.engine", "PgTempest")));
    }
}
