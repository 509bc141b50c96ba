using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;

namespace TaskTempest.Tests.Shared;

/// <summary>What one crash drill runs: the worker program (samples/PostgreSqlTempest, built), the jobs, where a worker is
/// killed, and the queue's settings in the workers.</summary>
/// <param name="ConnectionString">The database; the drill drops and recreates <paramref name="Schema"/> in it.</param>
/// <param name="Dotnet">The dotnet host that runs <paramref name="WorkerDll"/>.</param>
/// <param name="KillAt">At the first poll where the distinct completions have reached each of these (ascending, below
/// <paramref name="Jobs"/>), a worker that holds leases is SIGKILLed and started again at once, never the one killed last
/// (b first, unless only a holds leases yet).</param>
internal sealed record CrashDrillSettings(string ConnectionString, string Schema, string Dotnet, string WorkerDll, int Jobs, IReadOnlyList<int> KillAt)
{
    /// <summary>The workers' lease (<c>--lease</c>): how long a dead worker's jobs wait before another may take them.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The workers' <c>--max-lease-expiries</c>: above the number of kills, so that no job is dead-lettered.</summary>
    public int MaxLeaseExpiries { get; init; } = 10;

    /// <summary>The whole drill, submit to the workers' exits, gives up after this.</summary>
    public TimeSpan Bound { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>How often the drill reads the completions (the kill points and the recoveries are seen at this grain).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Each worker's connection pool (50 fibers share it); two workers and their neighbours fit in the server's connections.</summary>
    public int WorkerPoolSize { get; init; } = 20;
}

/// <summary>One SIGKILL of a worker.</summary>
/// <param name="Target">The kill point it was armed for.</param>
/// <param name="CompletionsAtKill">Distinct jobs with a completion row, read right after the kill.</param>
/// <param name="ExitCode">The killed process's exit status: 137 (128 + SIGKILL).</param>
/// <param name="Held">Jobs leased to the killed worker at its death.</param>
/// <param name="HeldUncompleted">Of those, the jobs without a completion row then (in flight: they must run again).</param>
/// <param name="RecoverySeconds">From the kill until every held job had a completion row (the server's clock); null
/// if that never happened.</param>
/// <param name="RestartSeconds">From the kill until the worker started in its place held its first lease (the drill's poll
/// grain); null if it never did (no job was left for it).</param>
internal sealed record CrashKill(int Target, long CompletionsAtKill, string Worker, int ProcessId, int ExitCode, int Held, int HeldUncompleted,
    double? RecoverySeconds, double? RestartSeconds);

/// <summary>What a crash drill measured, at the end, after both workers stopped.</summary>
/// <param name="DistinctCompleted">Jobs with at least one completion row.</param>
/// <param name="MissingNumbers">Job numbers 0..Jobs-1 without any completion row (lost, or dead-lettered).</param>
/// <param name="CompletionRows">Completion rows, duplicates included.</param>
/// <param name="DuplicatedJobs">Jobs with more than one completion row.</param>
/// <param name="DuplicatedHeld">Of those, jobs that a killed worker held at its death.</param>
/// <param name="DeadLetters">Rows in the dead letters (<c>state = 3</c>).</param>
/// <param name="RowsLeft">Rows left in the jobs table, dead letters included.</param>
/// <param name="ExitCodes">Workers a and b after the closing SIGINT.</param>
/// <param name="LeaseLostWarnings">"lease lost" warnings in the workers' main logs: a live worker's heartbeat found a lease
/// no longer its own.</param>
/// <param name="ErrorLines">ERROR and FATAL lines in the workers' main logs (a failed acknowledgement, say).</param>
/// <param name="Submit">The submit of the jobs, its process's start to its exit.</param>
/// <param name="Wall">The whole drill, from dropping the schema to the workers' exits.</param>
/// <param name="Logs">The folder of the workers' log files (a/ and b/, each worker's restarts appending).</param>
internal sealed record CrashDrillReport(CrashDrillSettings Settings, long DistinctCompleted, long MissingNumbers, long CompletionRows,
    long DuplicatedJobs, long DuplicatedHeld, long DeadLetters, long RowsLeft, IReadOnlyList<CrashKill> Kills, IReadOnlyList<int> ExitCodes,
    int LeaseLostWarnings, int ErrorLines, TimeSpan Submit, TimeSpan Wall, string Logs)
{
    /// <summary>Completion rows beyond the first of each job.</summary>
    public long DuplicateRows => CompletionRows - DistinctCompleted;

    /// <summary>The report as a few plain lines.</summary>
    public IEnumerable<string> Lines()
    {
        var s = Settings;
        yield return I($"PostgreSQL crash drill: {s.Jobs:N0} jobs of 2-10 ms, 2 worker processes of 50 fibers, lease {s.Lease.TotalSeconds:0.###} s, ")
            + I($"MaxLeaseExpiries {s.MaxLeaseExpiries}; {Kills.Count} SIGKILLs ({string.Join(", ", Kills.Select(k => k.Worker))}), each worker restarted at once");
        yield return I($"  completed: {DistinctCompleted:N0} of {s.Jobs:N0} jobs have a completion row ({MissingNumbers:N0} missing); {CompletionRows:N0} rows, ")
            + I($"{DuplicateRows:N0} duplicates over {DuplicatedJobs:N0} jobs ({DuplicatedHeld:N0} of them held by a killed worker); ")
            + I($"{DeadLetters:N0} dead letters; {RowsLeft:N0} rows left in jobs");
        for (int i = 0; i < Kills.Count; i++)
        {
            var k = Kills[i];
            string recovered = k.RecoverySeconds is { } seconds ? I($"{seconds:0.00} s after the kill") : "never";
            string restarted = k.RestartSeconds is { } restart ? I($"its replacement held a lease {restart:0.00} s after the kill") : "its replacement never held a lease";
            yield return I($"  kill {i + 1} at {k.CompletionsAtKill:N0} completions (armed at {k.Target:N0}): worker {k.Worker} (pid {k.ProcessId}) exited {k.ExitCode} ")
                + I($"holding {k.Held} leases, {k.HeldUncompleted} of them without a completion row; all {k.Held} had one {recovered}; {restarted}");
        }
        yield return I($"  stopped by SIGINT: worker a exited {ExitCodes[0]}, worker b exited {ExitCodes[1]}; {LeaseLostWarnings} 'lease lost' warnings and {ErrorLines} errors in their logs; ")
            + I($"submit {Submit.TotalSeconds:0.00} s, wall {Wall.TotalSeconds:0.0} s");
    }

    public override string ToString() => string.Join('\n', Lines());

    private static string I(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// The PostgreSQL queue's SIGKILL drill, shared by CrashTests and the throughput harness's crash-pg mode. Two worker
/// processes (samples/PostgreSqlTempest) share one schema: once both are up, the sample's submit mode queues the jobs,
/// each job records its completion as a row in the same database, and a worker is SIGKILLed at each kill point and
/// started again. The
/// drill reads only the database (a bounded poll: the server says when work is done). Right after each kill it reads
/// which jobs the dead worker held (the jobs leased to the registry's worker of that process id), and its recovery is
/// the time until each of them has a completion row. When no job is left waiting or running, both workers get SIGINT
/// and must exit; the report counts completions, duplicates, dead letters and rows left.
/// </summary>
internal static class PostgresCrashDrill
{
    public static async Task<CrashDrillReport> RunAsync(CrashDrillSettings settings, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(log);
        for (int i = 0; i < settings.KillAt.Count; i++)
        {
            if (settings.KillAt[i] <= (i == 0 ? 0 : settings.KillAt[i - 1]) || settings.KillAt[i] >= settings.Jobs)
                throw new ArgumentException($"kill points must ascend from above 0 to below the {settings.Jobs} jobs: {string.Join(", ", settings.KillAt)}", nameof(settings));
        }
        if (!File.Exists(settings.WorkerDll)) throw new FileNotFoundException($"no worker program at {settings.WorkerDll}", settings.WorkerDll);

        string s = settings.Schema; // the workers validate it as an identifier before anything runs
        var invariant = CultureInfo.InvariantCulture;
        var wall = Stopwatch.StartNew();
        using var bound = new CancellationTokenSource(settings.Bound);
        var token = bound.Token;
        string folder = Directory.CreateTempSubdirectory("tasktempest-crash-").FullName;
        string workerConnection = new NpgsqlConnectionStringBuilder(settings.ConnectionString) { MaxPoolSize = settings.WorkerPoolSize }.ConnectionString;
        await using var db = NpgsqlDataSource.Create(settings.ConnectionString);
        await using (var drop = db.CreateCommand($"DROP SCHEMA IF EXISTS {s} CASCADE"))
            await drop.ExecuteNonQueryAsync(token);

        // The submit mode creates the queue's tables and the completions table (here with no job), then queues the jobs in one insert.
        async Task<TimeSpan> SubmitAsync(int jobs)
        {
            var clock = Stopwatch.StartNew();
            var submit = await ChildProcess.RunAsync(settings.Dotnet, [settings.WorkerDll, "submit", workerConnection, s, jobs.ToString(invariant)], folder, settings.Bound);
            if (submit.ExitCode != 0) throw new InvalidOperationException($"the submit of {jobs} jobs exited {submit.ExitCode}:\n{submit.Output}");
            return clock.Elapsed;
        }
        await SubmitAsync(0);

        string[] work = [settings.WorkerDll, "work", workerConnection, s, "--lease", settings.Lease.TotalSeconds.ToString(invariant),
            "--max-lease-expiries", settings.MaxLeaseExpiries.ToString(invariant)];
        var workers = new List<Worker>();
        Worker Start(string name)
        {
            var worker = Worker.Start(name, folder, settings.Dotnet, work);
            workers.Add(worker);
            return worker;
        }
        Worker[] running = [Start("a"), Start("b")];
        var kills = new List<CrashKill>();
        var recoveries = new List<Recovery>();
        var restarting = new List<(int Kill, int Slot, Stopwatch Clock)>(); // replacements yet to hold a lease
        string progress = "workers starting";
        TimeSpan submitted;
        try
        {
            // Both workers up before the jobs come (the NOTIFY of the insert wakes them), so the first kill point finds both running.
            while (await ScalarAsync(db, $"SELECT count(*) FROM {s}.workers WHERE pid = ANY(ARRAY[{running[0].ProcessId}, {running[1].ProcessId}])", token) < 2)
            {
                foreach (var worker in running) worker.ThrowIfExited();
                await Task.Delay(settings.PollInterval, token);
            }
            submitted = await SubmitAsync(settings.Jobs);
            log($"workers a (pid {running[0].ProcessId}) and b (pid {running[1].ProcessId}) up; {settings.Jobs:N0} jobs submitted in {submitted.TotalSeconds:0.00} s (logs under {folder})");
            while (true)
            {
                foreach (var worker in running) worker.ThrowIfExited();
                var (distinct, live, heldByA, heldByB) = await PollAsync(db, s, running[0].ProcessId, running[1].ProcessId, token);
                progress = $"{distinct} of {settings.Jobs} jobs completed, {live} waiting or running, {kills.Count} kills";
                foreach (var recovery in recoveries.Where(r => r.Seconds is null)) await recovery.CheckAsync(db, s, token);
                // Never the worker killed last: under load a restart lasts as long as thousands of completions (README,
                // "Crash test"), so at kill points 1,500 completions apart it is the other worker, up since before the
                // last kill, that holds leases. The first kill takes b, or a while b holds none yet (a first claim can
                // come late).
                int victim = kills.Count > 0 ? (kills[^1].Worker == "a" ? 1 : 0) : heldByB > 0 ? 1 : 0;
                foreach (var (kill, slot, clock) in restarting.Where(r => (r.Slot == 0 ? heldByA : heldByB) > 0))
                    kills[kill] = kills[kill] with { RestartSeconds = clock.Elapsed.TotalSeconds };
                restarting.RemoveAll(r => kills[r.Kill].RestartSeconds is not null);

                if (kills.Count < settings.KillAt.Count && distinct >= settings.KillAt[kills.Count] && (victim == 0 ? heldByA : heldByB) > 0)
                {
                    var dying = running[victim];
                    var sinceKill = Stopwatch.StartNew();
                    dying.Kill();
                    int exitCode = await dying.WaitForExitAsync(token);
                    var (atKill, killedAt, held, uncompleted) = await HeldAsync(db, s, dying.ProcessId, token);
                    running[victim] = Start(dying.Name); // the same folder: its log files go on
                    restarting.Add((kills.Count, victim, sinceKill));
                    recoveries.Add(new Recovery(killedAt, held));
                    kills.Add(new CrashKill(settings.KillAt[kills.Count], atKill, dying.Name, dying.ProcessId, exitCode, held.Length, uncompleted, null, null));
                    log($"kill {kills.Count}: SIGKILL to worker {dying.Name} (pid {dying.ProcessId}, exit {exitCode}) at {atKill:N0} completions; " +
                        $"it held {held.Length} leases, {uncompleted} without a completion row; restarted as pid {running[victim].ProcessId}");
                    continue;
                }
                if (live == 0) break; // nothing waiting or running: every job ended (or is a dead letter)
                await Task.Delay(settings.PollInterval, token);
            }
            foreach (var recovery in recoveries.Where(r => r.Seconds is null)) await recovery.CheckAsync(db, s, token);
            for (int i = 0; i < kills.Count; i++) kills[i] = kills[i] with { RecoverySeconds = recoveries[i].Seconds };

            foreach (var worker in running) ChildProcess.Interrupt(worker.ProcessId);
            int[] exitCodes = [await running[0].WaitForExitAsync(token), await running[1].WaitForExitAsync(token)];
            wall.Stop();

            var heldAtKills = recoveries.SelectMany(r => r.Ids).Distinct(StringComparer.Ordinal).ToArray();
            await using var batch = db.CreateBatch();
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"""
                SELECT count(*), count(DISTINCT job_id), count(DISTINCT number) FILTER (WHERE number >= 0 AND number < $1) FROM {s}.completions
                """) { Parameters = { new NpgsqlParameter<int> { TypedValue = settings.Jobs } } });
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"""
                SELECT count(*), count(*) FILTER (WHERE job_id = ANY($1)) FROM (SELECT job_id FROM {s}.completions GROUP BY job_id HAVING count(*) > 1) AS d
                """) { Parameters = { new NpgsqlParameter<string[]> { TypedValue = heldAtKills } } });
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT count(*) FILTER (WHERE state = 3), count(*) FROM {s}.jobs"));
            await using var reader = await batch.ExecuteReaderAsync(token);
            await reader.ReadAsync(token);
            long rows = reader.GetInt64(0), distinctJobs = reader.GetInt64(1), numbers = reader.GetInt64(2);
            await reader.NextResultAsync(token);
            await reader.ReadAsync(token);
            long duplicated = reader.GetInt64(0), duplicatedHeld = reader.GetInt64(1);
            await reader.NextResultAsync(token);
            await reader.ReadAsync(token);
            long dead = reader.GetInt64(0), left = reader.GetInt64(1);
            var mainLogs = Directory.EnumerateFiles(folder, "PostgreSqlTempest.log", SearchOption.AllDirectories).SelectMany(File.ReadLines).ToList();
            int leaseLost = mainLogs.Count(line => line.Contains("> lease lost:", StringComparison.Ordinal));
            int errors = mainLogs.Count(line => line.Contains(" [ERROR] ", StringComparison.Ordinal) || line.Contains(" [FATAL] ", StringComparison.Ordinal));
            return new CrashDrillReport(settings, distinctJobs, settings.Jobs - numbers, rows, duplicated, duplicatedHeld, dead, left,
                kills, exitCodes, leaseLost, errors, submitted, wall.Elapsed, folder);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            throw new TimeoutException($"the crash drill did not end within {settings.Bound.TotalSeconds} s ({progress}); worker output:\n" +
                string.Join("\n", workers.Select(w => w.Describe())));
        }
        finally
        {
            foreach (var worker in workers) worker.Dispose(); // kills any still running
        }
    }

    /// <summary>Distinct completions, jobs waiting or running, and the jobs leased to each of the two workers (by process id).</summary>
    private static async Task<(long Distinct, long Live, long HeldByA, long HeldByB)> PollAsync(NpgsqlDataSource db, string s, int a, int b, CancellationToken token)
    {
        await using var command = db.CreateCommand($"""
            SELECT (SELECT count(DISTINCT job_id) FROM {s}.completions),
                   (SELECT count(*) FROM {s}.jobs WHERE state <> 3),
                   count(*) FILTER (WHERE w.pid = $1), count(*) FILTER (WHERE w.pid = $2)
            FROM {s}.jobs j JOIN {s}.workers w ON w.id = j.lease_owner
            WHERE j.state = 2
            """);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = a });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = b });
        await using var reader = await command.ExecuteReaderAsync(token);
        await reader.ReadAsync(token);
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
    }

    /// <summary>In one snapshot, right after the kill: the completions, the server's time, the jobs still leased to the
    /// dead worker (their leases run on until they expire), and how many of those have no completion row.</summary>
    private static async Task<(long Completions, DateTime At, string[] Held, int Uncompleted)> HeldAsync(NpgsqlDataSource db, string s, int pid, CancellationToken token)
    {
        await using var command = db.CreateCommand($"""
            WITH held AS (
                SELECT j.id, EXISTS (SELECT 1 FROM {s}.completions c WHERE c.job_id = j.id) AS completed
                FROM {s}.jobs j JOIN {s}.workers w ON w.id = j.lease_owner
                WHERE j.state = 2 AND w.pid = $1)
            SELECT (SELECT count(DISTINCT job_id) FROM {s}.completions), clock_timestamp(),
                   ARRAY(SELECT id FROM held), (SELECT count(*) FROM held WHERE NOT completed)
            """);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = pid });
        await using var reader = await command.ExecuteReaderAsync(token);
        await reader.ReadAsync(token);
        return (reader.GetInt64(0), reader.GetDateTime(1), reader.GetFieldValue<string[]>(2), (int)reader.GetInt64(3));
    }

    private static async Task<long> ScalarAsync(NpgsqlDataSource db, string sql, CancellationToken token)
    {
        await using var command = db.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(token), CultureInfo.InvariantCulture);
    }

    /// <summary>The jobs one kill left behind, and when the last of them had its first completion row.</summary>
    private sealed class Recovery(DateTime killedAt, string[] ids)
    {
        public string[] Ids => ids;

        public double? Seconds { get; private set; }

        public async Task CheckAsync(NpgsqlDataSource db, string s, CancellationToken token)
        {
            if (ids.Length == 0)
            {
                Seconds = 0;
                return;
            }
            await using var command = db.CreateCommand($"""
                SELECT count(*), max(first) FROM (SELECT min(completed_at) AS first FROM {s}.completions WHERE job_id = ANY($1) GROUP BY job_id) AS t
                """);
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = ids });
            await using var reader = await command.ExecuteReaderAsync(token);
            await reader.ReadAsync(token);
            if (reader.GetInt64(0) < ids.Length) return;
            // A held job that had completed before the kill (its acknowledgement not yet in) counts from the kill.
            Seconds = Math.Max(0, (reader.GetDateTime(1) - killedAt).TotalSeconds);
        }
    }

    /// <summary>One worker process (the sample's work mode) with its output kept.</summary>
    private sealed class Worker : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();
        private readonly string _name;

        private Worker(string name, Process process)
        {
            _name = name;
            _process = process;
            ProcessId = process.Id;
        }

        public int ProcessId { get; }

        public string Name => _name;

        public static Worker Start(string name, string folder, string dotnet, string[] arguments)
        {
            string directory = Directory.CreateDirectory(Path.Combine(folder, name)).FullName; // each worker its own log files
            var worker = new Worker(name, ChildProcess.StartInterruptible(dotnet, arguments, directory));
            worker._process.OutputDataReceived += (_, e) => worker.Append(e.Data);
            worker._process.ErrorDataReceived += (_, e) => worker.Append(e.Data);
            worker._process.BeginOutputReadLine();
            worker._process.BeginErrorReadLine();
            return worker;
        }

        /// <summary>SIGKILL: <see cref="Process.Kill()"/> sends it on Unix (the exit status says so: 137).</summary>
        public void Kill() => _process.Kill();

        public async Task<int> WaitForExitAsync(CancellationToken token)
        {
            await _process.WaitForExitAsync(token);
            return _process.ExitCode;
        }

        public void ThrowIfExited()
        {
            if (_process.HasExited) throw new InvalidOperationException($"a worker exited on its own: {Describe()}");
        }

        public string Describe()
        {
            lock (_output) return $"worker {_name} (pid {ProcessId}){(_process.HasExited ? $", exited {_process.ExitCode}" : "")}:\n{_output}";
        }

        private void Append(string? line)
        {
            if (line is null) return;
            lock (_output) _output.AppendLine(line);
        }

        public void Dispose()
        {
            try
            {
                if (!_process.HasExited) _process.Kill();
            }
            catch (InvalidOperationException)
            {
                // it exited meanwhile
            }
            _process.Dispose();
        }
    }
}
