using System.Diagnostics;
using Microsoft.Extensions.Logging;
using TaskTempest.Logging;
using ZLogger;

namespace TaskTempest.Throughput.Contenders;

/// <summary>
/// The baseline for the log-files-on contenders: 2 threads writing, per job, the two main-log lines the
/// engine writes (<c>{id} &lt;NoOp&gt; started</c>, <c>{id} &lt;NoOp&gt; success 0.0000</c>; a 16-character
/// id and a double) through the engine's own file logger (<see cref="TempestLogFiles.CreateFactory"/>, same
/// ZLogger formatter and line prefix), to a fresh temp folder. Timed from creating the factory until it is
/// disposed (flushed). No queue: the same work in both modes.
/// </summary>
internal sealed class ZLoggerLoop(int jobs) : Contender("ZLogger loop, 2 threads", jobs)
{
    // A field, not a constant, so it is a formatted argument as the engine's task name is.
    private static readonly string s_taskName = "NoOp";

    // Ids made ahead (not timed, not per job): what is measured is ZLogger's work alone.
    private static readonly string[] s_ids = [.. Enumerable.Range(0, 4096).Select(_ => TempestId.New())];

    public override Task<TimeSpan> RunAsync(int jobs, bool prefilled)
    {
        string root = Directory.CreateTempSubdirectory("tasktempest-bench-").FullName;
        try
        {
            var done = Finish.Expect(jobs);
            var clock = Stopwatch.StartNew();
            var factory = TempestLogFiles.CreateFactory(Path.Combine(root, "ZLoggerLoop.log"));
            var logger = factory.CreateLogger("ZLoggerLoop");
            var writers = new[] { (0, jobs / 2), (jobs / 2, jobs) }
                .Select(range => new Thread(() => Write(logger, range.Item1, range.Item2)) { IsBackground = true }).ToList();
            writers.ForEach(t => t.Start());
            writers.ForEach(t => t.Join());
            factory.Dispose(); // flushes
            var elapsed = clock.Elapsed;
            if (!done.IsCompleted) throw new InvalidOperationException($"{Name}: not every job ran");
            return Task.FromResult(elapsed);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static void Write(ILogger logger, int from, int to)
    {
        for (int i = from; i < to; i++)
        {
            string id = s_ids[i & (s_ids.Length - 1)];
            double seconds = (i & 7) * 0.00002;
            logger.ZLogInformation($"{{{id}}} <{s_taskName}> started");
            logger.ZLogInformation($"{{{id}}} <{s_taskName}> success {seconds:0.0000}");
            Finish.One();
        }
    }
}
