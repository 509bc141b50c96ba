using System.Diagnostics;
using TaskTempest.Queues;
using TaskTempest.Tests.Shared;
using TaskTempest.Tests.Support;

namespace TaskTempest.Tests;

/// <summary>Listeners are process-wide: while one listens, every engine's submits carry a trace context, so these tests
/// run alone, after the parallel ones.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "Telemetry";
}

/// <summary>
/// Traces and metrics on the memory queue, read with OpenTelemetry's in-memory exporters as a user's OTLP exporter would
/// read them: a producer span at submit, the job's consumer span its child through the envelope's traceparent, errors on
/// failed runs, and the job counters by task and status.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class TelemetryTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_submit_is_a_producer_span_and_each_run_a_consumer_span_in_its_trace()
    {
        using var telemetry = new TelemetryCapture();
        await using var h = Harness.Test().Start();

        string id;
        using (telemetry.Enter()) id = h.SubmitSum(4);
        await h.FinishedAsync(id);

        var producer = Assert.Single(telemetry.Spans, s => s.Kind == ActivityKind.Producer);
        Assert.Equal("send default", producer.DisplayName);
        Assert.Equal(telemetry.Root.SpanId, producer.ParentSpanId); // the caller's span is the submit's parent
        Assert.Equal(id, producer.GetTagItem("messaging.message.id"));
        Assert.Equal("send", producer.GetTagItem("messaging.operation.type"));
        Assert.Equal("tasktempest", producer.GetTagItem("messaging.system"));
        Assert.Equal("Sum", producer.GetTagItem("tasktempest.task"));

        var consumer = Assert.Single(telemetry.Spans, s => s.Kind == ActivityKind.Consumer);
        Assert.Equal("process default", consumer.DisplayName);
        Assert.Equal(producer.TraceId, consumer.TraceId);
        Assert.Equal(producer.SpanId, consumer.ParentSpanId);
        Assert.Equal(id, consumer.GetTagItem("messaging.message.id"));
        Assert.Equal("process", consumer.GetTagItem("messaging.operation.type"));
        Assert.Equal("success", consumer.GetTagItem("tasktempest.status"));
        Assert.Equal(1, consumer.GetTagItem("tasktempest.attempt"));
        Assert.Equal(ActivityStatusCode.Unset, consumer.Status);
    }

    [Fact]
    public async Task A_failed_run_is_an_error_span_with_the_exception_and_a_job_submitted_in_a_job_is_its_child()
    {
        using var telemetry = new TelemetryCapture();
        await using var h = Harness.Test().Start();

        string key = Guid.NewGuid().ToString("N");
        var submitted = SubmitsSum.Expect(key, h.Engine);
        string failing, parent;
        using (telemetry.Enter())
        {
            failing = h.Engine.SubmitFailing("no luck");
            parent = h.Engine.SubmitSubmitsSum(key);
        }
        await h.FinishedAsync(failing);
        await h.FinishedAsync(parent);
        string child = await submitted.WaitAsync(Bound);
        await h.FinishedAsync(child);

        var failed = Assert.Single(telemetry.Spans, s => s.Kind == ActivityKind.Consumer && (string?)s.GetTagItem("messaging.message.id") == failing);
        Assert.Equal(ActivityStatusCode.Error, failed.Status);
        Assert.Equal("no luck", failed.StatusDescription);
        Assert.Equal("System.InvalidOperationException", failed.GetTagItem("error.type"));
        Assert.Equal("failure", failed.GetTagItem("tasktempest.status"));
        var exception = Assert.Single(failed.Events, e => e.Name == "exception");
        Assert.Contains(exception.Tags, t => t.Key == "exception.message" && (string?)t.Value == "no luck");

        // The job's own submit runs under its consumer span: the child job's producer span is the consumer's child.
        var parentRun = Assert.Single(telemetry.Spans, s => s.Kind == ActivityKind.Consumer && (string?)s.GetTagItem("messaging.message.id") == parent);
        var childSubmit = Assert.Single(telemetry.Spans, s => s.Kind == ActivityKind.Producer && (string?)s.GetTagItem("messaging.message.id") == child);
        var childRun = Assert.Single(telemetry.Spans, s => s.Kind == ActivityKind.Consumer && (string?)s.GetTagItem("messaging.message.id") == child);
        Assert.Equal(parentRun.SpanId, childSubmit.ParentSpanId);
        Assert.Equal(childSubmit.SpanId, childRun.ParentSpanId);
        Assert.Equal(telemetry.Root.TraceId, childRun.TraceId);
    }

    [Fact]
    public async Task On_the_event_loop_each_fibers_code_sees_its_own_span_across_awaits()
    {
        using var telemetry = new TelemetryCapture();
        await using var h = CooperativeTests.Fibers().Start();

        var ids = new List<string>();
        using (telemetry.Enter())
        {
            for (int i = 0; i < 5; i++) ids.Add(h.Engine.SubmitSpanProbe());
        }
        foreach (var id in ids) await h.FinishedAsync(id);

        foreach (var id in ids)
        {
            var run = Assert.Single(telemetry.Spans, s => s.Kind == ActivityKind.Consumer && (string?)s.GetTagItem("messaging.message.id") == id);
            // Before and after each of its awaits, interleaved with the other fibers on one thread: its own span.
            Assert.Equal($"{run.Id} {run.Id} {run.Id}", SpanProbe.Seen[id]);
        }
    }

    [Fact]
    public async Task A_batch_is_one_producer_span_whose_jobs_are_its_children()
    {
        using var telemetry = new TelemetryCapture();
        await using var h = Harness.Test().Start();

        var ids = new List<string>();
        using (telemetry.Enter())
        {
            await using var batch = h.Engine.Batch();
            for (int i = 0; i < 3; i++) ids.Add(batch.SubmitSum(i));
        }
        foreach (var id in ids) await h.FinishedAsync(id);

        var producer = Assert.Single(telemetry.Spans, s => s.Kind == ActivityKind.Producer);
        Assert.Equal(3, producer.GetTagItem("messaging.batch.message_count"));
        var runs = telemetry.Spans.Where(s => s.Kind == ActivityKind.Consumer).ToList();
        Assert.Equal(ids.Order(), runs.Select(s => (string)s.GetTagItem("messaging.message.id")!).Order());
        Assert.All(runs, run => Assert.Equal(producer.SpanId, run.ParentSpanId));
    }

    [Fact]
    public async Task Metrics_count_jobs_by_task_and_status_with_durations_retries_and_dead_letters()
    {
        using var telemetry = new TelemetryCapture();
        var time = new SignalingFakeTime();
        await using var h = Harness.Test(time).Start();
        const string Engine = nameof(TestTempest);

        var ok = new[] { h.SubmitSum(1), h.SubmitSum(2) };
        string failed = h.Engine.SubmitFailing("boom");
        string flaky = h.Engine.SubmitFlaky(99); // fails all four attempts: three retries, then a dead letter
        foreach (var id in ok) await h.FinishedAsync(id);
        await h.FinishedAsync(failed);
        for (int attempt = 1; attempt <= 4; attempt++)
        {
            await h.MainLog.WaitForLineAsync($"{{{flaky}}} <Flaky> failure 0.0000 (attempt {attempt} of 4");
            time.Advance(TimeSpan.FromMinutes(3)); // past each backoff's most
        }

        Assert.Equal(2, telemetry.Sum("tasktempest.jobs.submitted", ("tasktempest.engine", Engine), ("tasktempest.task", "Sum")));
        Assert.Equal(2, telemetry.Sum("tasktempest.jobs.started", ("tasktempest.engine", Engine), ("tasktempest.task", "Sum")));
        Assert.Equal(2, telemetry.Sum("tasktempest.jobs.ended", ("tasktempest.task", "Sum"), ("tasktempest.status", "success"), ("messaging.destination.name", "default")));
        Assert.Equal(1, telemetry.Sum("tasktempest.jobs.ended", ("tasktempest.task", "Failing"), ("tasktempest.status", "failure")));
        Assert.Equal(4, telemetry.Sum("tasktempest.jobs.started", ("tasktempest.task", "Flaky")));
        Assert.Equal(4, telemetry.Sum("tasktempest.jobs.ended", ("tasktempest.task", "Flaky"), ("tasktempest.status", "failure")));
        Assert.Equal(3, telemetry.Sum("tasktempest.jobs.retries", ("tasktempest.task", "Flaky")));
        Assert.Equal(1, telemetry.Sum("tasktempest.jobs.dead_lettered", ("tasktempest.task", "Flaky"), ("tasktempest.reason", "out_of_attempts")));
        Assert.Equal(0, telemetry.Sum("tasktempest.jobs.in_flight", ("tasktempest.engine", Engine))); // every start ended

        var durations = Assert.Single(telemetry.Points("tasktempest.job.duration", ("tasktempest.task", "Sum"), ("tasktempest.status", "success")));
        Assert.Equal(2, durations.GetHistogramCount());
        Assert.Equal(0, durations.GetHistogramSum()); // the fake clock stood still while they ran: the engine's own measure

        var depth = Assert.Single(telemetry.Points("tasktempest.queue.depth", ("tasktempest.engine", Engine)));
        Assert.Equal(h.Queue.Count + h.Queue.DelayedCount, depth.GetGaugeLastValueLong());
    }

    [Fact]
    public async Task Nobody_listening_means_no_trace_context_and_no_envelope_for_a_plain_submit()
    {
        var queue = new TempestMemoryQueue();
        var engine = new TestTempest(new TempestOptions { Queue = queue, HandleSignals = false });
        Assert.Null(Activity.Current);
        engine.SubmitSum(3);
        var message = await queue.DequeueAsync(CancellationToken.None);
        Assert.NotNull(message);
        Assert.Null(message.Envelope); // the bare wire array: telemetry added nothing

        // A span of the caller's own (say, an ASP.NET request's) is carried even while nobody listens to TaskTempest.
        using var request = new Activity("request").SetIdFormat(ActivityIdFormat.W3C).Start();
        engine.SubmitSum(4);
        var traced = await queue.DequeueAsync(CancellationToken.None);
        Assert.Equal(request.Id, traced!.Envelope?.TraceParent);
    }
}

/// <summary>Submits a Sum job from its Process, on the engine the test registered under <c>key</c>.</summary>
[TempestTask]
public sealed class SubmitsSum : TempestTask
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, (TestTempest Engine, TaskCompletionSource<string> Child)> s_runs = new();

    /// <summary>Registers <paramref name="engine"/> for a job of <paramref name="key"/>; the task returns the child's id.</summary>
    public static Task<string> Expect(string key, TestTempest engine)
    {
        var child = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        s_runs[key] = (engine, child);
        return child.Task;
    }

    public void Process(string key)
    {
        var (engine, child) = s_runs[key];
        child.TrySetResult(engine.SubmitSum(1));
    }
}

/// <summary>Records the current span's id at its start and after two yields (each lets the loop run other fibers).</summary>
[TempestTask]
public sealed class SpanProbe : TempestTask
{
    public static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> Seen = new();

    public async Task Process()
    {
        string first = Activity.Current?.Id ?? "none";
        await Task.Yield();
        string second = Activity.Current?.Id ?? "none";
        await Task.Delay(1);
        Seen[TaskId] = $"{first} {second} {Activity.Current?.Id ?? "none"}";
    }
}
