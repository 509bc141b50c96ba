using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace TaskTempest.Throughput.Redis;

/// <summary>One measured run of one contender on the server.</summary>
internal readonly record struct RedisSample(
    double JobsPerSecond, double ClientCommandsPerJob, double ServerCommandsPerJob, double ClientCpuPerJob, double WorkerCpuPerJob, double ServerCpuPerJob,
    double ClientCores, double ServerCores, double P50, double P99, long Left, string ServerCalls);

/// <summary>
/// The Redis rows: the bare StackExchange.Redis loop on the queue's own scripts (the limit), TaskTempest on
/// TempestRedisQueue, BullMQ and Sidekiq, on the one server <c>TASKTEMPEST_REDIS</c> names, at equal concurrency
/// (<see cref="RedisFibers.Slots"/>), pre-filled, live (a producer process submitting flat out) and paced (latency),
/// interleaved rounds, medians.
/// </summary>
internal static class RedisBench
{
    private const int FillBatch = 1000, ProducerBatch = 100, PacedRate = 2_000;

    public static async Task RunAsync(int jobs, int rounds, int latencySeconds, string command)
    {
        if (jobs < 1 || rounds < 1 || latencySeconds < 1) throw new ArgumentOutOfRangeException(nameof(jobs), "jobs, rounds and latency seconds must be at least 1");
        await using var server = await RedisServer.OpenAsync();
        RedisContender[] all = [new BareLoop(RedisFibers.Slots), new QueueEngine(), new BullMq(), new Sidekiq()];
        await server.EnsureOnlyOwnKeysAsync([.. all.SelectMany(c => c.KeyPatterns)]);
        foreach (var external in all.OfType<ExternalContender>()) await external.PrepareMachineAsync();
        var contenders = all.Where(c => c.Missing is null).ToArray();
        PrintMethod(server, all, jobs, rounds, latencySeconds, command);

        var samples = new Dictionary<(RunMode Mode, RedisContender Contender), List<RedisSample>>();
        void Add(RunMode mode, RedisContender contender, RedisSample sample)
        {
            if (!samples.TryGetValue((mode, contender), out var list)) samples[(mode, contender)] = list = [];
            list.Add(sample);
        }

        int warmJobs = Math.Min(jobs, 10_000);
        foreach (var contender in contenders)
        {
            var watch = Stopwatch.StartNew();
            await MeasureAsync(server, contender, RunMode.Prefilled, warmJobs);
            await MeasureAsync(server, contender, RunMode.Live, warmJobs);
            Console.WriteLine($"  warm-up (not measured): {contender.Name}, {warmJobs:N0} jobs pre-filled and live, {watch.Elapsed.TotalSeconds:0.0} s");
        }
        RunMode paced = new("paced", PacedRate);
        for (int round = 1; round <= rounds; round++)
        {
            foreach (var mode in new[] { RunMode.Prefilled, RunMode.Live })
            {
                var line = new StringBuilder($"  round {round}/{rounds} {mode,-12}");
                foreach (var contender in contenders)
                {
                    var sample = await MeasureAsync(server, contender, mode, jobs);
                    Add(mode, contender, sample);
                    line.Append(CultureInfo.InvariantCulture, $"  {contender.Tag} {sample.JobsPerSecond:N0}/s ({sample.ClientCommandsPerJob:0.000} cmd/job)");
                }
                Console.WriteLine(line);
            }
        }
        for (int round = 1; round <= rounds; round++)
        {
            var line = new StringBuilder($"  round {round}/{rounds} {paced,-12}");
            foreach (var contender in contenders)
            {
                var sample = await MeasureAsync(server, contender, paced, PacedRate * latencySeconds);
                Add(paced, contender, sample);
                line.Append(CultureInfo.InvariantCulture, $"  {contender.Tag} {sample.JobsPerSecond:N0}/s p50 {sample.P50:0.00} ms p99 {sample.P99:0.00} ms");
            }
            Console.WriteLine(line);
        }
        foreach (var contender in contenders) await server.DeleteAsync(contender.KeyPatterns);
        PrintResults(contenders, samples);
    }

    /// <summary>
    /// One run: the contender's keys deleted; pre-filled: its producer process submits every job first and exits; live and
    /// paced: its producer process is started and ready (connected, warmed up). Then its workers are prepared (connected,
    /// warmed up where they are another process), in a live run started 200 ms before the clock (their first claims or
    /// fetches are waiting when the first job comes), the counters read, and the clock runs from the workers' start
    /// (pre-filled) or the producer's go (live, paced) until the workers have run every job and recorded it as they record
    /// a job (see <see cref="RedisWorkers.Finished"/>); then the counters are read again.
    /// </summary>
    private static async Task<RedisSample> MeasureAsync(RedisServer server, RedisContender contender, RunMode mode, int jobs)
    {
        await server.DeleteAsync(contender.KeyPatterns);
        Latencies.Current = new Latencies();
        if (!mode.IsLive)
        {
            using var fill = await HarnessChild.StartAsync(contender.Producer(server, jobs, FillBatch, 0), $"{contender.Name}'s producer");
            fill.Go();
            var filled = await fill.DoneAsync();
            await fill.ExitAsync();
            if (filled.Count != jobs) throw new InvalidOperationException($"{contender.Name}: {filled.Count} of {jobs} jobs submitted");
        }
        using var producer = mode.IsLive
            ? await HarnessChild.StartAsync(contender.Producer(server, jobs, ProducerBatch, mode.Rate), $"{contender.Name}'s producer")
            : null;

        var workers = await contender.PrepareAsync(server, jobs, stamped: mode.IsPaced);
        bool stopped = false;
        try
        {
            if (producer is not null)
            {
                workers.Start();
                await Task.Delay(200);
            }
            var before = await server.ReadAsync();
            var workerCpu = workers.Cpu();
            var producerCpu = producer?.Cpu() ?? TimeSpan.Zero;
            var clock = Stopwatch.StartNew();
            if (producer is not null) producer.Go();
            else workers.Start();
            await workers.Finished.WaitAsync(TimeSpan.FromSeconds(120 + jobs / 1000));
            var elapsed = clock.Elapsed;
            var workerUsed = workers.Cpu() - workerCpu;
            var after = await server.ReadAsync();
            var report = default(ChildReport);
            var producerUsed = TimeSpan.Zero;
            if (producer is not null)
            {
                report = await producer.DoneAsync(); // it has sent every job before the workers could finish
                producerUsed = (producer.Cpu() ?? throw new InvalidOperationException("the producer exited before its input closed")) - producerCpu;
                await producer.ExitAsync();
            }
            long workerCommands = workers.Commands;
            await workers.StopAsync();
            stopped = true;
            long left = await contender.LeftAsync(server);
            if (left != 0) Console.WriteLine($"    {contender.Name}, {mode}: {left:N0} jobs still held after the run (outcomes not recorded)");

            double seconds = elapsed.TotalSeconds;
            double clientSeconds = (workerUsed + producerUsed).TotalSeconds;
            double serverSeconds = (after.Cpu - before.Cpu).TotalSeconds;
            // The first INFO is itself a command the second one counts.
            long serverCommands = after.Commands - before.Commands - 1;
            string calls = string.Join(", ", after.CallsSince(before).Where(c => c.Command != "info").Take(8)
                .Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Command} {c.Calls / (double)jobs:0.###}")));
            var latencies = Latencies.Current;
            if (mode.IsPaced && latencies.Count != jobs) throw new InvalidOperationException($"{contender.Name}: {latencies.Count} latencies for {jobs} jobs");
            return new RedisSample(
                jobs / seconds,
                (workerCommands + report.RoundTrips) / (double)jobs,
                serverCommands / (double)jobs,
                clientSeconds * 1e6 / jobs,
                workerUsed.TotalSeconds * 1e6 / jobs,
                serverSeconds * 1e6 / jobs,
                clientSeconds / seconds,
                serverSeconds / seconds,
                mode.IsPaced ? latencies.Milliseconds(0.50) : double.NaN,
                mode.IsPaced ? latencies.Milliseconds(0.99) : double.NaN,
                left,
                calls);
        }
        finally
        {
            if (!stopped) await workers.StopAsync();
        }
    }

    private static void PrintMethod(RedisServer server, RedisContender[] all, int jobs, int rounds, int latencySeconds, string command)
    {
        Console.WriteLine("# TaskTempest on Redis against a bare StackExchange.Redis loop on the queue's own scripts, BullMQ and Sidekiq");
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}; " +
                          $"load average at the start: {Measurement.LoadAverage()} (shared with other work: rounds are interleaved, medians reported)");
        Console.WriteLine($"server: Redis {server.Version} at {server.Host}:{server.Port} ({RedisServer.Variable}; a dev server: bash scripts/ci-services.sh start), " +
                          $"database {RedisServer.Database} (the harness's own); {server.Settings}; {server.OtherClients} other clients connected at the start " +
                          "(their work, if any, shows in the server's CPU and commands)");
        Console.WriteLine($"reproduce: {command}");
        Console.WriteLine($"contenders, all at concurrency {RedisFibers.Slots}:");
        foreach (var c in all)
        {
            string runtime = c is ExternalContender { Runtime: { Length: > 0 } r } ? $" ({r})" : "";
            Console.WriteLine(c.Missing is { } why ? $"  {c.Name}: SKIPPED: {why}" : $"  {c.Name}{runtime}: {c.Configuration}");
        }
        Console.WriteLine("  Sidekiq (open source) fetches with BRPOP and acknowledges nothing: a job is gone from Redis once taken, so a crash loses the jobs it was");
        Console.WriteLine("    running (no lease, no recovery); it does less work per job than a reliable queue (TaskTempest: claim with lease and token, conditional record)");
        Console.WriteLine("keys, in database " + RedisServer.Database + " only, deleted before each of a contender's runs (SCAN MATCH + UNLINK) and at the end; the harness refuses to");
        Console.WriteLine("  start when that database holds any other key:");
        foreach (var c in all) Console.WriteLine($"  {c.Name}: {c.KeysDescription}");
        Console.WriteLine("method:");
        Console.WriteLine($"  a warm-up run of each contender, pre-filled and live, {Math.Min(jobs, 10_000):N0} jobs; rounds: {rounds}, contenders interleaved per mode; medians over the rounds");
        Console.WriteLine("  producers: each contender's own, in a process of its own (as the postgres mode's): the .NET contenders' is this harness started again");
        Console.WriteLine("    (-- redis-produce): TaskTempest's submits through the generated Batch() (TempestRedisQueue.EnqueueBatchAsync: the Enqueue script), the bare");
        Console.WriteLine("    loop's calls TempestRedisScripts.Enqueue with the arguments the queue writes and its wake-up throttle; BullMQ's is bullmq/producer.js");
        Console.WriteLine("    (Queue.addBulk), Sidekiq's sidekiq/producer.rb (Sidekiq::Client.push_bulk); each warms up first with its own loop on a queue of its own");
        Console.WriteLine("    (deleted): flat out, 50 x min(bulk, 100) jobs, and 0.25 s paced in a paced run; the .NET one again until a pass compiles almost no method");
        Console.WriteLine("    (a fresh process tiers its hot methods up as they are called: without this, 0.3 core of JIT work fell into a 2 s paced window)");
        Console.WriteLine("  workers: the .NET contenders' run in this process (warm from the warm-up runs), on a multiplexer of their own per run; BullMQ's and");
        Console.WriteLine("    Sidekiq's in a process started per run: BullMQ's worker.js runs 2,000 jobs on a queue of its own first; Sidekiq opens a connection per");
        Console.WriteLine("    thread before it says ready (Ruby 3.1 runs without a JIT here)");
        Console.WriteLine($"  pre-filled: {jobs:N0} no-op jobs submitted by the producer in bulks of {FillBatch:N0} before the clock; the clock runs from the workers' start");
        Console.WriteLine($"  live: {jobs:N0} no-op jobs, the producer submitting bulks of {ProducerBatch} one after the other, flat out, while the workers drain (started 200 ms");
        Console.WriteLine("    before); the clock runs from the producer's go");
        Console.WriteLine($"  paced: latency jobs at {PacedRate:N0} jobs/s for {latencySeconds} s: every 10 ms one bulk of the jobs due, each stamped with its submit time");
        Console.WriteLine("    (wall clock: UTC ticks in .NET, µs in Node and Ruby); the job records start - submit (the bare loop: when its claim returns the job); p50/p99");
        Console.WriteLine("  the clock stops when every job has run and is recorded as its contender records a job: the bare loop's last Record script returned;");
        Console.WriteLine("    TaskTempest's tasks all ran (Finish countdown), then Stop() and RunAsync returned (every outcome handed to the queue); BullMQ's 'completed'");
        Console.WriteLine("    events (emitted after its moveToFinished script returned) reached the count; Sidekiq's server middleware counted the last job returned");
        Console.WriteLine("    (nothing to record: no acknowledgement); the other processes print their report line on their own count, read from their output");
        Console.WriteLine("  round trips/job: commands each client sent, counted in the client, workers' from their start and producer's from its go, over the run's jobs:");
        Console.WriteLine("    .NET: the multiplexer's OperationCount (every command: a script call, a PUBLISH, a SUBSCRIBE; StackExchange.Redis pipelines concurrent commands");
        Console.WriteLine("    on one connection); BullMQ: calls of ioredis's Redis.prototype.sendCommand (pipelined and MULTI commands each counted); Sidekiq: commands");
        Console.WriteLine("    through redis-rb's Redis::Client#process (a pipeline's each counted). A command is a round trip unless pipelined with others: an upper bound");
        Console.WriteLine("  server cmds/job: INFO total_commands_processed over the clock, which counts commands run inside scripts too (so it is no count of round trips)");
        Console.WriteLine("  CPU: client = the workers' process (this harness's Process.TotalProcessorTime for the .NET contenders; the Node or Ruby process's, read from here");
        Console.WriteLine("    through /proc/<pid>/stat) over the clock, plus the producer process's from its go to its report; server = INFO used_cpu_sys + used_cpu_user");
        Console.WriteLine("    of redis-server over the clock (the whole server: other clients' work included); per job and in cores");
        Console.WriteLine("  jobs left: after a run in which every job ran, job hashes still there (TaskTempest, BullMQ) or jobs still queued (Sidekiq)");
        Console.WriteLine();
    }

    private static void PrintResults(RedisContender[] contenders, Dictionary<(RunMode Mode, RedisContender Contender), List<RedisSample>> samples)
    {
        double M(List<RedisSample> list, Func<RedisSample, double> pick) => Measurement.Median(list.Select(pick));
        string F(double value, string format) => double.IsNaN(value) ? "n/a" : value.ToString(format, CultureInfo.InvariantCulture);
        var bare = contenders.OfType<BareLoop>().Single();
        var engine = contenders.OfType<QueueEngine>().Single();

        Console.WriteLine();
        Console.WriteLine($"load average at the end: {Measurement.LoadAverage()}");
        Console.WriteLine("spread over the rounds (min - max jobs/s):");
        foreach (var ((mode, contender), list) in samples)
            Console.WriteLine($"  {mode,-14} {contender.Name,-32} {list.Min(s => s.JobsPerSecond),10:N0} - {list.Max(s => s.JobsPerSecond),10:N0}");
        Console.WriteLine($"the bare loop's own count of the commands it sent against StackExchange.Redis's OperationCount (the count TaskTempest's row is measured by), " +
                          $"its last run: {bare.LastCounts.Own:N0} and {bare.LastCounts.Counted:N0}");
        Console.WriteLine("client CPU µs per job, the workers' process + the producer's (medians of each):");
        foreach (var ((mode, contender), list) in samples)
            Console.WriteLine($"  {mode,-14} {contender.Name,-32} {M(list, s => s.WorkerCpuPerJob),7:0.0} + {M(list, s => s.ClientCpuPerJob - s.WorkerCpuPerJob),7:0.0}");
        Console.WriteLine("server calls per job by command over the last round (INFO commandstats: top-level and inside scripts alike):");
        foreach (var ((mode, contender), list) in samples) Console.WriteLine($"  {mode,-14} {contender.Name,-32} {list[^1].ServerCalls}");
        Console.WriteLine();
        Console.WriteLine("| contender | mode | jobs/s (median) | ratio to bare loop | round trips/job (client commands) | server cmds/job | client CPU µs/job | server CPU µs/job | CPU cores client + server | p50 ms | p99 ms | jobs left (all rounds) |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var ((mode, contender), list) in samples)
        {
            double rate = M(list, s => s.JobsPerSecond);
            string ratio = mode.IsPaced || !samples.TryGetValue((mode, bare), out var limit) ? "" : F(rate / M(limit, s => s.JobsPerSecond), "0.00");
            Console.WriteLine($"| {contender.Name} | {mode} | {rate:N0} | {ratio} | {F(M(list, s => s.ClientCommandsPerJob), "0.000")} | " +
                              $"{F(M(list, s => s.ServerCommandsPerJob), "0.0")} | {F(M(list, s => s.ClientCpuPerJob), "0.0")} | {F(M(list, s => s.ServerCpuPerJob), "0.0")} | " +
                              $"{F(M(list, s => s.ClientCores), "0.00")} + {F(M(list, s => s.ServerCores), "0.00")} | {F(M(list, s => s.P50), "0.00")} | {F(M(list, s => s.P99), "0.00")} | " +
                              $"{list.Sum(s => s.Left):N0} |");
        }

        Console.WriteLine();
        double Rate(RunMode mode, RedisContender c) => samples.TryGetValue((mode, c), out var l) ? M(l, s => s.JobsPerSecond) : double.NaN;
        RunMode[] modes = [RunMode.Prefilled, RunMode.Live];
        var ratios = modes.Select(m => (Mode: m, Ratio: Rate(m, engine) / Rate(m, bare))).ToList();
        Console.WriteLine("gate: TaskTempest at least 0.70 of the bare loop: " + string.Join(", ", ratios.Select(r => $"{r.Mode} {F(r.Ratio, "0.00")}")) +
                          (ratios.All(r => r.Ratio >= 0.7) ? ": reached" : ": not reached"));
        foreach (var peer in new[] { "BullMQ", "Sidekiq" })
        {
            var other = contenders.FirstOrDefault(c => c.Name == peer);
            if (other is null)
            {
                Console.WriteLine($"gate: TaskTempest ahead of {peer} in the same run: not measured ({peer} skipped): not reached");
                continue;
            }
            var against = modes.Select(m => (Mode: m, Engine: Rate(m, engine), Peer: Rate(m, other))).ToList();
            Console.WriteLine($"gate: TaskTempest ahead of {peer} in the same run: " +
                              string.Join(", ", against.Select(a => $"{a.Mode} {a.Engine:N0} against {a.Peer:N0} jobs/s")) +
                              (against.All(a => a.Engine > a.Peer) ? ": reached" : ": not reached"));
        }
    }
}
