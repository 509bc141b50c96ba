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
}
