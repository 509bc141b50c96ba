using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using TaskTempest;
using TaskTempest.Throughput;

// `-- profile-threads [jobs]`: TaskTempest's thread-pool mode alone, for a profiler.
if (args is ["profile-threads", ..])
{
    int profileJobs = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5_000_000;
    await Limit.ProfileAsync(profileJobs);
    return;
}

// `-- limit [jobs] [rounds]`: TaskTempest against a bare Channels loop and Dataflow (see Limit.cs).
if (args is ["limit", ..])
{
    int limitJobs = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000;
    int limitRounds = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 5;
    await Limit.RunAsync(limitJobs, limitRounds);
    return;
}

// Cooperative mode against thread-pool mode at equal concurrency, interleaved runs, medians.
//   no-op:   N no-op async jobs (pre-filled queue), 1 thread vs 1 fiber: the engine's cost per job
//   io-like: M jobs that each await a 1 ms delay, 50 threads vs 50 fibers
// usage: dotnet run -c Release --project benchmarks/TaskTempest.Throughput -- [noopJobs] [ioJobs] [rounds]
int noopJobs = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000;
int ioJobs = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 20_000;
int rounds = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 5;

Console.WriteLine($"TaskTempest throughput, {Environment.ProcessorCount} cores, .NET {Environment.Version}; {rounds} interleaved rounds, medians; per-task log lines off");
var contenders = new (string Name, Func<TempestOptions, TempestEngine> Create, Action<TempestEngine, int> Submit, int Jobs)[]
{
    ("no-op, 1 thread", o => new Threads1(o), (e, n) => Submit(e, n, noop: true), noopJobs),
    ("no-op, 1 fiber", o => new Fibers1(o), (e, n) => Submit(e, n, noop: true), noopJobs),
    ("1 ms await, 50 threads", o => new Threads50(o), (e, n) => Submit(e, n, noop: false), ioJobs),
    ("1 ms await, 50 fibers", o => new Fibers50(o), (e, n) => Submit(e, n, noop: false), ioJobs),
};

// Warm-up: one short run of each, so tiered compilation has settled before anything is measured.
foreach (var c in contenders) await Measure(c.Create, c.Submit, Math.Min(c.Jobs, 200_000));

var rates = contenders.ToDictionary(c => c.Name, _ => new List<double>());
for (int round = 0; round < rounds; round++)
{
    foreach (var c in contenders) rates[c.Name].Add(await Measure(c.Create, c.Submit, c.Jobs));
}

Console.WriteLine();
Console.WriteLine("| contender | jobs | jobs/s (median) | ns per job | min - max jobs/s |");
Console.WriteLine("|---|---:|---:|---:|---:|");
foreach (var c in contenders)
{
    var r = rates[c.Name].Order().ToList();
    double median = r[r.Count / 2];
    Console.WriteLine($"| {c.Name} | {c.Jobs:N0} | {median:N0} | {1e9 / median:N0} | {r[0]:N0} - {r[^1]:N0} |");
}

static void Submit(TempestEngine engine, int jobs, bool noop)
{
    // Generated Submit methods are per engine class; the harness calls them through this switch.
    for (int i = 0; i < jobs; i++)
    {
        switch (engine)
        {
            case Threads1 t when noop: t.SubmitNoOp(i, i); break;
            case Fibers1 f when noop: f.SubmitNoOp(i, i); break;
            case Threads50 t: t.SubmitIoLike(1); break;
            case Fibers50 f: f.SubmitIoLike(1); break;
            default: throw new InvalidOperationException(engine.Name);
        }
    }
}

static async Task<double> Measure(Func<TempestOptions, TempestEngine> create, Action<TempestEngine, int> submit, int jobs)
{
    var engine = create(new TempestOptions
    {
        MainLoggerFactory = NullLoggerFactory.Instance,
        TaskLoggerFactory = NullLoggerFactory.Instance,
        HandleSignals = false,
    });
    var done = Finish.Expect(jobs);
    submit(engine, jobs); // pre-filled: the queue holds every job before the engine starts
    var clock = Stopwatch.StartNew();
    var run = engine.RunAsync();
    await done;
    double seconds = clock.Elapsed.TotalSeconds;
    engine.Stop();
    await run;
    return jobs / seconds;
}
