using TaskTempest.Testing;

namespace TempestWorker.Tests;

public class GreetTests
{
    [Fact]
    public async Task A_submitted_greeting_runs_and_writes_its_line()
    {
        var taskLog = new TaskLogProbe("Hello, world!");
        // Inline mode: a submit runs the job at once, in the test, and its exception would surface here.
        var engine = TempestTesting.Inline<WorkerTempest>(options => options.TaskLoggerFactory = taskLog);

        engine.SubmitGreet("world");

        Assert.True(taskLog.Seen.IsCompletedSuccessfully, "the task wrote no greeting"); // already: it ran in the submit
        Assert.EndsWith("Hello, world!", await taskLog.Seen, StringComparison.Ordinal);
    }
}
