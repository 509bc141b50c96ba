using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;

namespace TaskTempest.Throughput.Contenders;

/// <summary>
/// TaskTempest with 2 workers: thread-pool mode (<see cref="Threads2"/>) or cooperative mode
/// (<see cref="Fibers2"/>), with per-task log lines off (null logger factories) or with the original's
/// default logging to files (<c>&lt;Root&gt;/&lt;Name&gt;.log</c> and <c>.task.log</c>, Root a fresh temp
/// folder per run, deleted afterwards). Log lines off: timed until every job is done. Log files on: timed
/// until every job is done and <c>RunAsync</c> has returned, which disposes the logs and so flushes them.
/// </summary>
internal sealed class TaskTempestEngine(bool fibers, bool logFiles, int jobs)
    : Contender($"TaskTempest, 2 {(fibers ? "fibers" : "threads")}, {(logFiles ? "log files on" : "log lines off")}", jobs)
{
    public bool LogFiles => logFiles;

    public override async Task<TimeSpan> RunAsync(int jobs, bool prefilled)
    {
        string? root = logFiles ? Directory.CreateTempSubdirectory("tasktempest-bench-").FullName : null;
        try
        {
            var options = new TempestOptions { HandleSignals = false, Root = root };
            if (!logFiles)
            {
                options.MainLoggerFactory = NullLoggerFactory.Instance;
                options.TaskLoggerFactory = NullLoggerFactory.Instance;
            }
            TempestEngine engine = fibers ? new Fibers2(options) : new Threads2(options);
            var done = Finish.Expect(jobs);
            if (prefilled) Submit(engine, jobs);
            var clock = Stopwatch.StartNew();
            var run = engine.RunAsync();
            if (!prefilled) Submit(engine, jobs);
            await done;
            var drained = clock.Elapsed;
            engine.Stop();
            var result = await run;
            var returned = clock.Elapsed;
            if (result.TasksSucceeded != jobs) throw new InvalidOperationException($"{Name}: {result}");
            return logFiles ? returned : drained;
        }
        finally
        {
            if (root is not null) Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Generated Submit methods are per engine class; a loop per class keeps the call direct.</summary>
    private static void Submit(TempestEngine engine, int jobs)
    {
        switch (engine)
        {
            case Threads2 t:
                for (int i = 0; i < jobs; i++) t.SubmitNoOp(i, i);
                break;
            case Fibers2 f:
                for (int i = 0; i < jobs; i++) f.SubmitNoOp(i, i);
                break;
            default:
                throw new InvalidOperationException(engine.Name);
        }
    }
}
