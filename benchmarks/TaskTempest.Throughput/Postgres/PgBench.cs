using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Npgsql;
using TaskTempest.PostgreSql;

namespace TaskTempest.Throughput.Postgres;

/// <summary>One measured run of one contender on the server.</summary>
internal readonly record struct PgSample(
    double JobsPerSecond, double ClientTripsPerJob, double ServerTransactionsPerJob, double RowsPerClaim, double RowsPerCompletion,
    double ClientCpuPerJob, double ServerCpuPerJob, double ClientCores, double ServerCores, double P50, double P99, long Deadlocks, long RowsLeft);

/// <summary>
/// The PostgreSQL rows: the bare Npgsql loop (the limit) and TaskTempest on TempestPostgreSqlQueue on the server
/// <c>TASKTEMPEST_POSTGRES</c> names, with fsync on and off (toggled with ALTER SYSTEM and restored at the end),
/// pre-filled, live (a producer process submitting flat out) and paced (latency), interleaved rounds, medians.
/// </summary>
internal static class PgBench
{
    private const string Workers = "tt-bench-workers";
    private const int ProducerBatch = 100;
    private const int FixedRate = 5_000;

    public static async Task RunAsync(int jobs, int rounds, int latencySeconds, string command)
    {
        if (jobs < 1 || rounds < 1 || latencySeconds < 1) throw new ArgumentOutOfRangeException(nameof(jobs), "jobs, rounds and latency seconds must be at least 1");
        await using var server = await PgServer.OpenAsync();
        PgContender[] contenders = [new BareLoop(PgFibers.Slots, claimMax: PgFibers.Slots, completeMax: PgFibers.Slots), new QueueEngine()];
        await MigrateAsync(server, [.. contenders.Select(c => c.Schema), PgProducer.WarmSchema]);
        PrintMethod(server, contenders, jobs, rounds, latencySeconds, command);

        var samples = new Dictionary<(bool Fsync, RunMode Mode, PgContender Contender), List<PgSample>>();
        void Add(bool fsync, RunMode mode, PgContender contender, PgSample sample)
        {
            if (!samples.TryGetValue((fsync, mode, contender), out var list)) samples[(fsync, mode, contender)] = list = [];
            list.Add(sample);
        }

        var original = await server.FsyncAsync();
        if (original.FromAlterSystem)
            Console.WriteLine($"note: fsync = {(original.On ? "on" : "off")} comes from ALTER SYSTEM (postgresql.auto.conf): a run killed before its restore leaves its setting there");
        // A server-wide setting: put back on SIGINT and SIGTERM too (the finally below does not run then).
        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => server.RestoreFsyncNow(original));
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => server.RestoreFsyncNow(original));
        try
        {
            foreach (bool fsync in new[] { true, false })
            {
                await server.SetFsyncAsync(fsync);
                Console.WriteLine($"fsync = {(fsync ? "on" : "off")}");
                int warmJobs = Math.Min(jobs, 10_000);
                foreach (var contender in contenders)
                {
                    var watch = Stopwatch.StartNew();
                    await MeasureAsync(server, contender, RunMode.Prefilled, warmJobs);
                    await MeasureAsync(server, contender, RunMode.Live, warmJobs);
                    Console.WriteLine($"  warm-up (not measured): {contender.Name}, {warmJobs:N0} jobs pre-filled and live, {watch.Elapsed.TotalSeconds:0.0} s");
                }
                for (int round = 1; round <= rounds; round++)
                {
                    foreach (var mode in new[] { RunMode.Prefilled, RunMode.Live })
                    {
                        var line = new StringBuilder($"  round {round}/{rounds} {mode,-12}");
                        foreach (var contender in contenders)
                        {
                            var sample = await MeasureAsync(server, contender, mode, jobs);
                            Add(fsync, mode, contender, sample);
                            line.Append(CultureInfo.InvariantCulture, $"  {contender.Schema} {sample.JobsPerSecond:N0}/s ({sample.ClientTripsPerJob:0.000} rt/job)");
                        }
                        Console.WriteLine(line);
                    }
                }
                // Half the TaskTempest contender's measured maximum: its live median (the most it sustained with a producer
                // process submitting on the same two cores), rounded down to 100 jobs/s.
                double maximum = Measurement.Median(samples[(fsync, RunMode.Live, contenders[1])].Select(s => s.JobsPerSecond));
                int half = Math.Max(100, (int)(maximum / 2 / 100) * 100);
                RunMode[] paced = [new("paced", FixedRate), new("paced", half)];
                for (int round = 1; round <= rounds; round++)
                {
                    foreach (var mode in paced)
                    {
                        var line = new StringBuilder($"  round {round}/{rounds} {mode,-12}");
                        foreach (var contender in contenders)
                        {
                            var sample = await MeasureAsync(server, contender, mode, mode.Rate * latencySeconds);
                            Add(fsync, mode, contender, sample);
                            line.Append(CultureInfo.InvariantCulture, $"  {contender.Schema} {sample.JobsPerSecond:N0}/s p50 {sample.P50:0.00} ms p99 {sample.P99:0.00} ms");
                        }
                        Console.WriteLine(line);
                    }
                }
            }
        }
        finally
        {
            await server.RestoreFsyncAsync(original);
            Console.WriteLine($"fsync restored to {(original.On ? "on" : "off")} ({(original.FromAlterSystem ? "ALTER SYSTEM" : "RESET: the configuration file's value")})");
        }

        await PrintStatementCheckAsync(server, contenders);
        PrintResults(contenders, samples);
    }

    private static async Task MigrateAsync(PgServer server, IEnumerable<string> schemas)
    {
        await using var dataSource = NpgsqlDataSource.Create(PgServer.WithApplication(server.ConnectionString, PgServer.AdminApplication));
        foreach (var schema in schemas) await new TempestPostgreSqlQueue(dataSource, new TempestPostgreSqlOptions { Schema = schema }).MigrateAsync();
    }

    /// <summary>
    /// One run: an empty table (pre-filled: then the jobs and a CHECKPOINT), a new pool for the workers (opened before the
    /// clock), the counters read, the clock from the workers' start (pre-filled) or the producer's go (live, paced) until
    /// every job has run and its row is deleted; then the workers stop, their pool and the producer's close, and the
    /// server's transaction count is read once their backends have exited (a backend flushes its statistics then).
    /// </summary>
    private static async Task<PgSample> MeasureAsync(PgServer server, PgContender contender, RunMode mode, int jobs)
    {
        string schema = contender.Schema;
        await server.TruncateAsync(schema);
        // Every run in a checkpoint cycle of its own: none starts during it (it writes far less WAL than max_wal_size, in
        // far less time than checkpoint_timeout), and the pages it changes were all written since, so no run pays for
        // full-page images that another did not.
        await server.CheckpointAsync();
        Latencies.Current = new Latencies();
        if (!mode.IsLive)
        {
            await PgProducer.FillAsync(server.ConnectionString, schema, jobs);
            await server.WaitForBackendsGoneAsync(PgProducer.FillApplication);
        }
        using var producer = mode.IsLive ? await HarnessChild.StartAsync(HarnessChild.Harness("pg-produce", contender.ProducerKind, schema,
            jobs.ToString(CultureInfo.InvariantCulture), ProducerBatch.ToString(CultureInfo.InvariantCulture), mode.Rate.ToString(CultureInfo.InvariantCulture)), "the producer") : null;
        if (producer is not null) await server.WaitForBackendsGoneAsync(PgProducer.WarmApplication);

        var dataSource = PgProducer.DataSource(server.ConnectionString, Workers);
        bool closed = false;
        PgSample sample;
        try
        {
            using var trips = new RoundTrips(Workers);
            var opened = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => dataSource.OpenConnectionAsync().AsTask()));
            foreach (var connection in opened) await connection.DisposeAsync();
            var workers = await contender.PrepareAsync(dataSource, jobs, stamped: mode.IsPaced);
            if (producer is not null)
            {
                workers.Start();
                await Task.Delay(200); // the idle claims are listening before the first insert
            }

            var statements = await server.StatementsAsync(schema);
            var (transactions, deadlocks) = await server.CountersAsync();
            long roundTrips = trips.Count;
            using var self = Process.GetCurrentProcess();
            var cpu = self.TotalProcessorTime;
            var serverCpu = server.Cpu();
            var clock = Stopwatch.StartNew();
            if (producer is not null) producer.Go();
            else workers.Start();
            await workers.Recorded.WaitAsync(TimeSpan.FromSeconds(120 + jobs / 1000));
            var elapsed = clock.Elapsed;
            self.Refresh();
            var clientCpu = self.TotalProcessorTime - cpu;
            var serverUsed = server.Cpu() - serverCpu;
            roundTrips = trips.Count - roundTrips;

            var report = default(ChildReport);
            if (producer is not null)
            {
                report = await producer.DoneAsync();
                await producer.ExitAsync();
            }
            await workers.StopAsync();
            await dataSource.DisposeAsync();
            closed = true;
            await server.WaitForBackendsGoneAsync(Workers);
            await server.WaitForBackendsGoneAsync(PgProducer.Application);
            var counters = await server.CountersAsync();
            transactions = counters.Transactions - transactions;
            deadlocks = counters.Deadlocks - deadlocks;
            statements = await server.StatementsAsync(schema) - statements;
            // Every job ran, so a row left is an outcome the queue did not record (the job would run again after its lease):
            // counted and reported, not hidden.
            long left = await server.RowsAsync(schema);
            if (left != 0 || deadlocks != 0) Console.WriteLine($"    {contender.Name}, {mode}: {left:N0} rows left after the run (outcomes not recorded), {deadlocks} deadlocks on the server");

            double seconds = elapsed.TotalSeconds;
            double clientSeconds = clientCpu.TotalSeconds + report.CpuMilliseconds / 1000;
            var latencies = Latencies.Current;
            sample = new PgSample(
                jobs / seconds,
                (roundTrips + report.RoundTrips) / (double)jobs,
                transactions / (double)jobs,
                statements.Claims > 0 ? statements.Claimed / (double)statements.Claims : double.NaN,
                statements.Completes > 0 ? statements.Completed / (double)statements.Completes : double.NaN,
                clientSeconds * 1e6 / jobs,
                serverUsed is { } used ? used.TotalSeconds * 1e6 / jobs : double.NaN,
                clientSeconds / seconds,
                serverUsed is { } busy ? busy.TotalSeconds / seconds : double.NaN,
                mode.IsPaced ? latencies.Milliseconds(0.50) : double.NaN,
                mode.IsPaced ? latencies.Milliseconds(0.99) : double.NaN,
                deadlocks,
                left);
            if (mode.IsPaced && latencies.Count != jobs) throw new InvalidOperationException($"{contender.Name}: {latencies.Count} latencies for {jobs} jobs");
        }
        finally
        {
            if (!closed) await dataSource.DisposeAsync();
        }
        return sample;
    }

    private static void PrintMethod(PgServer server, PgContender[] contenders, int jobs, int rounds, int latencySeconds, string command)
    {
        var target = new NpgsqlConnectionStringBuilder(server.ConnectionString);
        Console.WriteLine("# TaskTempest on PostgreSQL against a bare Npgsql loop running the same statements");
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}; " +
                          $"load average at the start: {Measurement.LoadAverage()} (shared with other work: rounds are interleaved, medians reported)");
        Console.WriteLine($"server: PostgreSQL {server.Version} at {target.Host}:{target.Port}, database {server.Database}, on this machine: " +
                          $"{(server.SeesServerCpu ? "yes (its processes' CPU read from /proc)" : "no (server CPU not measured)")}; {server.Settings}");
        Console.WriteLine($"reproduce: {command}");
        Console.WriteLine("contenders (each in its own schema, truncated before every run):");
        foreach (var c in contenders) Console.WriteLine($"  {c.Schema}: {c.Name}: {c.Configuration}");
        Console.WriteLine("method:");
        Console.WriteLine($"  fsync on, then off (ALTER SYSTEM SET fsync; SELECT pg_reload_conf(); restored at the end); synchronous_commit as the server has it; a warm-up run of each contender per setting");
        Console.WriteLine("  every run: TRUNCATE of its schema's tables and ANALYZE of the empty jobs table (never analysed, the claim would sort the whole backlog:");
        Console.WriteLine("    see PgServer.TruncateAsync), then a CHECKPOINT (no checkpoint starts within a run, and no run pays for full-page images another did not)");
        Console.WriteLine($"  pre-filled: {jobs:N0} no-op jobs inserted first (an engine's Batch(), flushes of 1,000); the clock runs from the workers' start");
        Console.WriteLine($"  live: {jobs:N0} no-op jobs from a producer process (this harness started again, -- pg-produce), flushes of {ProducerBatch} one after the other, flat out;");
        Console.WriteLine("    bench_queue's producer submits through the generated Batch() (TempestPostgreSqlQueue's insert + NOTIFY), bench_bare's runs the copied insert + NOTIFY");
        Console.WriteLine($"    with the same rows; the clock runs from the producer's go");
        Console.WriteLine($"  paced: latency jobs at {FixedRate:N0} jobs/s and at half TaskTempest's live median, {latencySeconds} s each: a flush every 10 ms of the jobs due,");
        Console.WriteLine("    each stamped with its submit time (UTC ticks); the job records start - submit (the bare loop: when it reads the row); NOTIFY on (Listen = true)");
        Console.WriteLine("  the clock stops when every job has run and its completion is committed (its row deleted): the bare loop's last DELETE returned; TaskTempest's");
        Console.WriteLine("    tasks all ran, then Stop() and RunAsync returned (it hands every outcome to the queue first; one more round trip: the worker leaves the registry)");
        Console.WriteLine($"  rounds: {rounds}, contenders interleaved per mode; medians over the rounds of every column");
        Console.WriteLine("  round trips/job: Npgsql's own metrics (meter Npgsql, db.client.operation.duration: one per command or batch) of the workers' pool and the producer's,");
        Console.WriteLine("    over the clock; server xacts/job: pg_stat_database xact_commit + xact_rollback delta of the database over the run (every statement or batch");
        Console.WriteLine("    outside a transaction is one, and so is the DISCARD ALL Npgsql sends ahead of the first command on a connection taken from its pool: two per");
        Console.WriteLine("    pooled round trip; and each NOTIFY an idle listening backend takes in, which it reads in a transaction of its own), read after the run's");
        Console.WriteLine("    backends exited, producer included, the harness's own statements left out; a few per run are the pools' start (Npgsql's type loading,");
        Console.WriteLine("    the queue's migration check)");
        Console.WriteLine($"  rows/claim, rows/completion: pg_stat_statements' rows / calls of the two statements {(server.HasStatements ? "" : "(not loaded on this server: n/a)")}");
        Console.WriteLine("  deadlocks: pg_stat_database.deadlocks over the run; outcomes lost: rows still in the table after a run in which every job ran");
        Console.WriteLine("    (a completion the queue did not record: the job runs again once its lease expires)");
        Console.WriteLine("  CPU: client = Process.TotalProcessorTime of the worker process over the clock + the producer's from go to its last flush; server = utime + stime of");
        Console.WriteLine("    every postgres process of that server (/proc/<pid>/stat, children of its postmaster, reaped ones included), over the clock; per job and in cores");
        Console.WriteLine();
    }

    private static async Task PrintStatementCheckAsync(PgServer server, PgContender[] contenders)
    {
        if (!server.HasStatements) return;
        var bare = await server.StatementTextsAsync(contenders[0].Schema);
        var queue = await server.StatementTextsAsync(contenders[1].Schema);
        string Same(string? b, string? q) =>
            b is null || q is null ? "not seen" : b == q.Replace(contenders[1].Schema, contenders[0].Schema, StringComparison.Ordinal) ? "identical" : "DIFFERENT";
        Console.WriteLine($"the bare loop's statements against the queue's (pg_stat_statements, schema names aside): claim {Same(bare.Claim, queue.Claim)}, " +
                          $"completion {Same(bare.Complete, queue.Complete)}, insert {Same(bare.Insert, queue.Insert)}");
    }

    private static void PrintResults(PgContender[] contenders, Dictionary<(bool Fsync, RunMode Mode, PgContender Contender), List<PgSample>> samples)
    {
        double M(List<PgSample> list, Func<PgSample, double> pick) => Measurement.Median(list.Select(pick));
        string F(double value, string format) => double.IsNaN(value) ? "n/a" : value.ToString(format, CultureInfo.InvariantCulture);

        Console.WriteLine();
        Console.WriteLine($"load average at the end: {Measurement.LoadAverage()}");
        Console.WriteLine("spread over the rounds (min - max jobs/s):");
        foreach (var ((fsync, mode, contender), list) in samples)
            Console.WriteLine($"  fsync {(fsync ? "on " : "off")} {mode,-14} {contender.Name,-40} {list.Min(s => s.JobsPerSecond),10:N0} - {list.Max(s => s.JobsPerSecond),10:N0}");
        Console.WriteLine();
        Console.WriteLine("| contender | fsync | mode | jobs/s (median) | ratio to bare loop | round trips/job (client) | server xacts/job | rows/claim | rows/completion | client CPU µs/job | server CPU µs/job | CPU cores client + server | p50 ms | p99 ms | deadlocks, outcomes lost (all rounds) |");
        Console.WriteLine("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var ((fsync, mode, contender), list) in samples)
        {
            double rate = M(list, s => s.JobsPerSecond);
            string ratio = mode.IsPaced || !samples.TryGetValue((fsync, mode, contenders[0]), out var bare) ? "" : F(rate / M(bare, s => s.JobsPerSecond), "0.00");
            Console.WriteLine($"| {contender.Name} | {(fsync ? "on" : "off")} | {mode} | {rate:N0} | {ratio} | {F(M(list, s => s.ClientTripsPerJob), "0.000")} | " +
                              $"{F(M(list, s => s.ServerTransactionsPerJob), "0.000")} | {F(M(list, s => s.RowsPerClaim), "0.0")} | {F(M(list, s => s.RowsPerCompletion), "0.0")} | " +
                              $"{F(M(list, s => s.ClientCpuPerJob), "0.0")} | {F(M(list, s => s.ServerCpuPerJob), "0.0")} | " +
                              $"{F(M(list, s => s.ClientCores), "0.00")} + {F(M(list, s => s.ServerCores), "0.00")} | {F(M(list, s => s.P50), "0.00")} | {F(M(list, s => s.P99), "0.00")} | " +
                              $"{list.Sum(s => s.Deadlocks)}, {list.Sum(s => s.RowsLeft):N0} |");
        }

        Console.WriteLine();
        double Rate(bool fsync, RunMode mode, PgContender c) => samples.TryGetValue((fsync, mode, c), out var l) ? M(l, s => s.JobsPerSecond) : double.NaN;
        foreach (bool fsync in new[] { true, false })
        {
            var ratios = new[] { RunMode.Prefilled, RunMode.Live }.Select(m => (Mode: m, Ratio: Rate(fsync, m, contenders[1]) / Rate(fsync, m, contenders[0]))).ToList();
            Console.WriteLine($"gate, fsync {(fsync ? "on" : "off")}: at least 0.70 of the bare loop: " +
                              string.Join(", ", ratios.Select(r => $"{r.Mode} {F(r.Ratio, "0.00")}")) + (ratios.All(r => r.Ratio >= 0.7) ? ": met" : ": not met"));
        }
        double best = Math.Max(Rate(false, RunMode.Prefilled, contenders[1]), Rate(false, RunMode.Live, contenders[1]));
        Console.WriteLine($"aim: 40,000 jobs/s with fsync off, client and server sharing these {Environment.ProcessorCount} cores: TaskTempest {best:N0} (its better median of pre-filled and live)" +
                          (best >= 40_000 ? ": reached" : ": not reached"));
    }
}
