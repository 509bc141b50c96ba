using TaskTempest.Queues;
using TaskTempest.Tests.Support;

namespace TaskTempest.Tests;

/// <summary>Named queues on the embedded queue: what an engine consumes, strict order, a concurrency limit per queue,
/// priorities, and a queue that keeps one queue only. The queues' own claims are the conformance kit's.</summary>
public class NamedQueueTests
{
    private static int StartOrder(IHarness h, string id) =>
        h.MainLog.Messages.Select((m, i) => (m, i)).Single(x => x.m == $"{{{id}}} <Sum> started").i;

    [Fact]
    public async Task An_engine_consumes_its_queues_and_leaves_the_others()
    {
        await using var h = Harness.Test();
        h.Engine.Options.Queues.Add(new TempestNamedQueue("critical"));
        h.Engine.Options.Queues.Add(new TempestNamedQueue(TempestQueueNames.Default));
        string critical = h.Engine.ToQueue("critical").SubmitSum(1);
        string plain = h.Engine.SubmitSum(2);
        string mail = h.Engine.ToQueue("mail").SubmitSum(3);
        h.Start();
        await h.FinishedAsync(critical);
        await h.FinishedAsync(plain);
        await h.StopAsync();

        Assert.Null(Recorder.Get(mail));
        Assert.Equal(1, h.Queue.Count); // mail waits for an engine that consumes it
        Assert.DoesNotContain(h.MainLog.Messages, m => m.StartsWith($"{{{mail}}}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Strict_order_runs_the_first_queues_jobs_first()
    {
        await using var h = Harness.Second(); // one worker: jobs start one at a time
        h.Engine.Options.Queues.Add(new TempestNamedQueue("high"));
        h.Engine.Options.Queues.Add(new TempestNamedQueue("low"));
        var low = Enumerable.Range(0, 3).Select(i => h.Engine.ToQueue("low").SubmitSum(i).Id).ToList();
        var high = Enumerable.Range(0, 3).Select(i => h.Engine.ToQueue("high").SubmitSum(i).Id).ToList();
        h.Start();
        foreach (var id in low) await h.FinishedAsync(id);

        var order = high.Concat(low).Select(id => StartOrder(h, id)).ToList();
        Assert.Equal(order.Order(), order); // every high job started before any low one, each queue in its order
    }

    [Fact]
    public async Task A_concurrency_limit_keeps_a_slow_queue_from_taking_every_slot()
    {
        await using var h = Harness.Test(); // two workers
        h.Engine.Options.Queues.Add(new TempestNamedQueue("slow") { MaxConcurrency = 1 });
        h.Engine.Options.Queues.Add(new TempestNamedQueue(TempestQueueNames.Default));
        string first = Gates.NewName(), second = Gates.NewName();
        h.Engine.ToQueue("slow").SubmitGateTask(first);
        h.Engine.ToQueue("slow").SubmitGateTask(second);
        h.Start();
        await Gates.Get(first).Started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The second worker is free, but slow has its one: a default job gets the slot (were the limit broken, the second
        // gate job would hold it, and this job would not finish).
        string quick = h.Engine.SubmitSum(5);
        await h.FinishedAsync(quick);
        Assert.False(Gates.Get(second).Started.Task.IsCompleted);

        Gates.Get(first).Release();
        await Gates.Get(second).Started.Task.WaitAsync(TimeSpan.FromSeconds(30)); // its room came back
        Gates.Get(second).Release();
    }

    [Fact]
    public async Task Higher_priority_runs_first_within_a_queue()
    {
        await using var h = Harness.Second();
        string normal = h.Engine.SubmitSum(1);
        string urgent = h.Engine.WithPriority(10).SubmitSum(2);
        string later = h.Engine.WithPriority(-5).SubmitSum(3);
        string soon = h.Engine.WithPriority(1).SubmitSum(4);
        h.Start();
        await h.FinishedAsync(later);
        Assert.Equal([urgent, soon, normal, later], new[] { normal, urgent, later, soon }.OrderBy(id => StartOrder(h, id)));
    }

    [Fact]
    public async Task A_queue_that_keeps_one_queue_refuses_named_queues_at_submit_and_at_run()
    {
        var inner = new TempestMemoryQueue();
        var engine = new TestTempest(new TempestOptions { Queue = new CountingQueue(inner), HandleSignals = false });
        var error = Assert.Throws<NotSupportedException>(() => engine.ToQueue("mail").SubmitSum(1));
        Assert.Contains("NamedQueues", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, inner.Count);

        engine.Options.Queues.Add(new TempestNamedQueue("mail"));
        await Assert.ThrowsAsync<NotSupportedException>(() => engine.RunAsync());
    }

    [Fact]
    public async Task Bad_queue_settings_are_refused_when_the_run_starts()
    {
        var engine = new TestTempest(new TempestOptions { HandleSignals = false });
        engine.Options.Queues.Add(new TempestNamedQueue("a"));
        engine.Options.Queues.Add(new TempestNamedQueue("a"));
        await Assert.ThrowsAsync<ArgumentException>(() => engine.RunAsync());
        engine.Options.Queues.Clear();
        engine.Options.Queues.Add(new TempestNamedQueue("b") { Weight = 0 });
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => engine.RunAsync());
        Assert.Throws<ArgumentException>(() => engine.ToQueue("not a name"));
    }
}
