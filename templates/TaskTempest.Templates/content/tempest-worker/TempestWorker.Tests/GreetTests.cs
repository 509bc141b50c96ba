using Microsoft.Extensions.Logging.Abstractions;
using TaskTempest;

namespace TempestWorker.Tests;

public class GreetTests
{
    [Fact]
    public async Task A_submitted_greeting_runs_and_writes_its_line()
    {
        var taskLog = new TaskLogProbe("Hello, world!");
        var engine = new WorkerTempest(new TempestOptions
        {
            HandleSignals = false,                           // the test stops it, not Ctrl+C
            MainLoggerFactory = NullLoggerFactory.Instance,  // no log files
            TaskLoggerFactory = taskLog,
        });

        engine.SubmitGreet("world");
        var run = engine.RunAsync();
        await taskLog.Seen.WaitAsync(TimeSpan.FromSeconds(30));   // the task's own line: it ran
        engine.Stop();
        var result = await run;

        Assert.Equal(1, result.TasksSucceeded);
        Assert.True(result.Drained);
    }
}
