using System.Globalization;
using TaskTempest.Throughput;
using TaskTempest.Throughput.Contenders;
using TaskTempest.Throughput.Postgres;
using TaskTempest.Throughput.Redis;

// The throughput harness. Run from the repository root:
//   dotnet run -c Release --project benchmarks/TaskTempest.Throughput -- [compare] [jobs] [rounds] [hangfireJobs]
//       The comparison (the default; see Compare.cs): N no-op Adder-shaped jobs (default 1,000,000; Hangfire
//       20,000) on 2 workers through a bare Channels loop (the limit), Dataflow's ActionBlock, Hangfire with
//       InMemory storage, TaskTempest in thread-pool and cooperative mode with log lines off and with its
//       default log files, and a bare ZLogger loop writing the same lines (the log files' baseline);
//       pre-filled and live, 2 s warm-up each, interleaved rounds (default 5), medians, bytes per job,
//       peak working set, a markdown table.
//   ... -- limit [jobs] [rounds]                    the comparison's quick part: Channels, Dataflow, TaskTempest threads and fibers, log lines off
//   ... -- fibers [noopJobs] [ioJobs] [rounds]      cooperative against thread-pool mode at equal concurrency (see Fibers.cs)
//   ... -- submit [jobs] [rounds]                   jobs submitted per second, one by one and in batches of 100 and 1,000,
//       into the memory queue and the leasing memory queue, no workers (see Submits.cs); default 500,000 jobs, 5 rounds
//   ... -- telemetry [jobs] [rounds]                TaskTempest with nobody listening against a listener recording every span and metric,
//       2 threads and 2 fibers, submit and run timed apart, interleaved, medians (see TelemetryCost.cs); default 500,000 jobs, 5 rounds
//   ... -- profile-threads [jobs]                   TaskTempest's thread-pool mode alone, pre-filled, 3 runs, for a profiler
//   ... -- aot-start <MathTempest binary> [runs]    NativeAOT start-up to the first success line, 10 runs (see AotStart.cs);
//       publish the binary first: dotnet publish samples/MathTempest -c Release -r linux-x64 -o /tmp/mathaot
//   ... -- crash-pg [jobs]                          the PostgreSQL SIGKILL drill (see CrashDrills.cs), default 20,000 jobs, on
//       the server TASKTEMPEST_POSTGRES names; build the worker first: dotnet build -c Release samples/PostgreSqlTempest
//   ... -- crash-redis [jobs]                       the same drill on the Redis queue, default 20,000 jobs, on the server
//       TASKTEMPEST_REDIS names; build the worker first: dotnet build -c Release samples/RedisTempest
//   ... -- postgres [jobs] [rounds] [latencySeconds] the PostgreSQL rows (see Postgres/PgBench.cs) on the server TASKTEMPEST_POSTGRES names (a
//       superuser: fsync is toggled and restored): a bare Npgsql loop running the queue's own claim and completion statements (the limit)
//       and TaskTempest (Fibers = 256) on TempestPostgreSqlQueue, fsync on and off, pre-filled and live (a producer process bulk-submitting),
//       p50/p99 submit-to-start at 5,000 jobs/s and at half the measured maximum; jobs/s, round trips, client and server CPU;
//       default 200,000 jobs, 3 rounds, 5 s per latency run. pg_stat_statements, when loaded, adds rows per claim and per completion
//   ... -- pg-produce kind schema jobs batch rate  the live runs' producer process, started by the postgres mode (see Postgres/PgProducer.cs)
//   ... -- redis [jobs] [rounds] [latencySeconds]  the Redis rows (see Redis/RedisBench.cs) on the server TASKTEMPEST_REDIS names (host:port; a dev
//       server: bash scripts/ci-services.sh start), in its database 9 alone: a bare StackExchange.Redis loop calling the queue's own Claim and Record
//       scripts (the limit), TaskTempest (Fibers = 256) on TempestRedisQueue, BullMQ (Node, Redis/bullmq: npm ci when node_modules is missing) and
//       Sidekiq (Debian's ruby-sidekiq: apt-get install -y ruby-sidekiq as root; skipped with the command when missing), all at concurrency 256;
//       pre-filled, live (producer processes bulk-submitting) and paced at 2,000 jobs/s (p50/p99 submit-to-start); jobs/s, round trips, client and
//       server CPU, a gate line; default 100,000 jobs, 3 rounds, 5 s per latency run
//   ... -- redis-produce kind keyPrefix jobs batch rate  the .NET contenders' producer process, started by the redis mode (see Redis/RedisProducer.cs)

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
const string Run = "dotnet run -c Release --project benchmarks/TaskTempest.Throughput --";

int Arg(int index, int fallback) => args.Length > index ? int.Parse(args[index], CultureInfo.InvariantCulture) : fallback;
bool compare = args is [] or ["compare", ..] || int.TryParse(args[0], CultureInfo.InvariantCulture, out _);

switch (args)
{
    case ["profile-threads", ..]:
        var profiled = new TaskTempestEngine(fibers: false, logFiles: false, Arg(1, 5_000_000));
        for (int i = 0; i < 3; i++) Console.WriteLine($"{profiled.Jobs / (await profiled.RunAsync(profiled.Jobs, prefilled: true)).TotalSeconds:N0} jobs/s");
        break;

    case ["submit", ..]:
    {
        int jobs = Arg(1, 500_000), rounds = Arg(2, 5);
        Submits.Run(jobs, rounds, $"{Run} submit {jobs} {rounds}");
        break;
    }

    case ["telemetry", ..]:
    {
        int jobs = Arg(1, 500_000), rounds = Arg(2, 5);
        await TelemetryCost.RunAsync(jobs, rounds, $"{Run} telemetry {jobs} {rounds}");
        break;
    }

    case ["fibers", ..]:
        await Fibers.RunAsync(Arg(1, 1_000_000), Arg(2, 20_000), Arg(3, 5));
        break;

    case ["crash-pg", ..]:
        return await CrashDrills.RunPostgresAsync(Arg(1, 20_000), $"{Run} crash-pg {Arg(1, 20_000)}");

    case ["crash-redis", ..]:
        return await CrashDrills.RunRedisAsync(Arg(1, 20_000), $"{Run} crash-redis {Arg(1, 20_000)}");

    case ["aot-start", string binary, ..]:
        AotStart.Run(binary, Arg(2, 10));
        break;

    case ["aot-start"]:
        Console.Error.WriteLine("aot-start needs the MathTempest binary: -- aot-start /tmp/mathaot/MathTempest");
        return 2;

    case ["postgres", ..]:
    {
        int jobs = Arg(1, 200_000), rounds = Arg(2, 3), seconds = Arg(3, 5);
        await PgBench.RunAsync(jobs, rounds, seconds, $"TASKTEMPEST_POSTGRES='{PgServer.Required()}' {Run} postgres {jobs} {rounds} {seconds}");
        break;
    }

    case ["pg-produce", string kind, string schema, string jobs, string batch, string rate]:
        return await PgProducer.RunAsync(kind, schema, int.Parse(jobs, CultureInfo.InvariantCulture), int.Parse(batch, CultureInfo.InvariantCulture),
            int.Parse(rate, CultureInfo.InvariantCulture));

    case ["redis", ..]:
    {
        int jobs = Arg(1, 100_000), rounds = Arg(2, 3), seconds = Arg(3, 5);
        await RedisBench.RunAsync(jobs, rounds, seconds, $"TASKTEMPEST_REDIS='{RedisServer.Required()}' {Run} redis {jobs} {rounds} {seconds}");
        break;
    }

    case ["redis-produce", string kind, string keyPrefix, string jobs, string batch, string rate]:
        return await RedisProducer.RunAsync(kind, keyPrefix, int.Parse(jobs, CultureInfo.InvariantCulture), int.Parse(batch, CultureInfo.InvariantCulture),
            int.Parse(rate, CultureInfo.InvariantCulture));

    case ["limit", ..]:
    {
        int jobs = Arg(1, 1_000_000), rounds = Arg(2, 5);
        await Compare.RunAsync([new ChannelsLoop(jobs), new DataflowBlock(jobs), new TaskTempestEngine(fibers: false, logFiles: false, jobs),
                new TaskTempestEngine(fibers: true, logFiles: false, jobs)],
            rounds, $"{Run} limit {jobs} {rounds}");
        break;
    }

    case var _ when compare:
    {
        int skip = args is ["compare", ..] ? 1 : 0;
        int jobs = Arg(skip, 1_000_000), rounds = Arg(skip + 1, 5), hangfireJobs = Arg(skip + 2, 20_000);
        if (rounds < 1) throw new ArgumentOutOfRangeException(nameof(args), "rounds must be at least 1");
        Contender[] contenders =
        [
            new ChannelsLoop(jobs),
            new DataflowBlock(jobs),
            new HangfireServer(hangfireJobs),
            new TaskTempestEngine(fibers: false, logFiles: false, jobs),
            new TaskTempestEngine(fibers: true, logFiles: false, jobs),
            new ZLoggerLoop(jobs),
            new TaskTempestEngine(fibers: false, logFiles: true, jobs),
            new TaskTempestEngine(fibers: true, logFiles: true, jobs),
        ];
        await Compare.RunAsync(contenders, rounds, $"{Run} compare {jobs} {rounds} {hangfireJobs}");
        break;
    }

    default:
        Console.Error.WriteLine($"unknown mode '{string.Join(' ', args)}'; see the usage at the top of Program.cs");
        return 2;
}
return 0;
