using TaskTempest.Queues;
using TaskTempest.Tests.Support;

namespace TaskTempest.Tests;

/// <summary>
/// The general path for any queue: one fetcher asks the queue for messages for the free slots and one
/// flusher hands it the outcomes; workers and the event loop never call the queue themselves.
/// </summary>
public class InboxTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_general_queue_is_called_by_the_fetcher_and_the_flusher_only(bool fibers)
    {
        var memory = new TempestMemoryQueue();
        var queue = new ThreadRecordingQueue(memory);
        var main = new RecordingLoggerFactory();
        var options = new TempestOptions { Queue = queue, MainLoggerFactory = main, TaskLoggerFactory = new RecordingLoggerFactory(), HandleSignals = false };
        TempestEngine engine = fibers ? new FiberTestTempest(options) : new TestTempest(options);
        Func<int, string> submit = n => fibers ? ((FiberTestTempest)engine).SubmitSum(n) : ((TestTempest)engine).SubmitSum(n);

        var ids = Enumerable.Range(0, 50).Select(submit).ToList();
        memory.EnqueueRaw("[\"rawgood000000001\",\"Sum\",1,2]");
        memory.EnqueueRaw("[null,\"Nope\"]");
        var run = engine.RunAsync();
        await main.WaitForAsync(lines => lines.Count(l => l.Message.Contains("> success ", StringComparison.Ordinal)) == 51, "51 jobs to succeed");
        engine.Stop();
        var result = await run.WaitAsync(Bound); // the flusher has handed every outcome over when Run returns

        Assert.Equal(51, result.TasksSucceeded);
        Assert.Equal(51, queue.Acknowledged);
        Assert.Equal("task class not found: Nope", Assert.Single(memory.DeadLetters).Reason);
        Assert.All(ids, id => Assert.Contains(main.Messages, m => m.StartsWith($"{{{id}}} <Sum> success", StringComparison.Ordinal)));
        Assert.NotEmpty(queue.Callers);
        Assert.All(queue.Callers, caller =>
        {
            Assert.DoesNotContain($"{engine.Name} worker", caller, StringComparison.Ordinal);
            Assert.DoesNotContain("event loop", caller, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task A_slot_takes_its_next_message_only_once_the_queue_has_its_last_acknowledgement()
    {
        var memory = new TempestMemoryQueue();
        var queue = new GatedAckQueue(memory);
        var main = new RecordingLoggerFactory();
        var engine = new TestTempest(new TempestOptions { Queue = queue, MainLoggerFactory = main, TaskLoggerFactory = new RecordingLoggerFactory(), HandleSignals = false });
        for (int i = 0; i < 5; i++) engine.SubmitSum(i);
        var run = engine.RunAsync();

        // Both slots' jobs ended (a job's outcome is handed over before its final line) and the first acknowledgement
        // waits at the gate; the second waits beside it or behind it in the flusher (which hands over one batch at a time).
        await main.WaitForAsync(lines => lines.Count(l => l.Message.Contains("> success ", StringComparison.Ordinal)) == 2, "both slots' jobs to end");
        await queue.Waiting(1);
        Assert.Equal(3, memory.Count); // so the fetcher, out of credits, has taken nothing more
        queue.Open();
        await queue.Waiting(5);
        engine.Stop();
        var result = await run.WaitAsync(Bound);
        Assert.Equal(5, result.TasksSucceeded);
        Assert.Equal(0, memory.Count);
    }

    [Fact]
    public async Task A_queue_that_never_takes_an_acknowledgement_does_not_hold_Run_past_the_shutdown_timeout()
    {
        var queue = new GatedAckQueue(new TempestMemoryQueue());
        var main = new RecordingLoggerFactory();
        var engine = new SecondTempest(new TempestOptions
        {
            Queue = queue, MainLoggerFactory = main, TaskLoggerFactory = new RecordingLoggerFactory(), HandleSignals = false,
            ShutdownTimeout = TimeSpan.Zero, // no time at all: the flush is given up at once
        });
        engine.SubmitSum(1);
        var run = engine.RunAsync();
        await queue.Waiting(1);

        engine.Stop();
        await run.WaitAsync(Bound);

        Assert.Contains(main.Messages, m => m.StartsWith("the queue did not take the last outcomes within the shutdown timeout; ", StringComparison.Ordinal));
        await main.WaitForAsync(_ => queue.Cancelled == 1, "the hanging acknowledgement to be cancelled");
    }
}
