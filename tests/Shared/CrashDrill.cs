using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace TaskTempest.Tests.Shared;

/// <summary>What one crash drill runs: the worker program (samples/PostgreSqlTempest or samples/RedisTempest, built), the
/// jobs, where a worker is killed, and the queue's settings in the workers.</summary>
/// <param name="ConnectionString">The server: an Npgsql connection string, or a StackExchange.Redis configuration.</param>
/// <param name="Scope">Where on the server the drill runs, cleared first: a PostgreSQL schema, or a Redis queue name.</param>
/// <param name="Dotnet">The dotnet host that runs <paramref name="WorkerDll"/>.</param>
/// <param name="KillAt">At the first poll where the distinct completions have reached each of these (ascending, below
/// <paramref name="Jobs"/>), a worker that holds leases is SIGKILLed and started again at once, never the one killed last
/// (b first, unless only a holds leases yet).</param>
internal sealed record CrashDrillSettings(string ConnectionString, string Scope, string Dotnet, string WorkerDll, int Jobs, IReadOnlyList<int> KillAt)
{
    /// <summary>The workers' lease (<c>--lease</c>): how long a dead worker's jobs wait before another may take them.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The workers' <c>--max-lease-expiries</c>: above the number of kills, so that no job is dead-lettered.</summary>
    public int MaxLeaseExpiries { get; init; } = 10;

    /// <summary>The whole drill, submit to the workers' exits, gives up after this.</summary>
    public TimeSpan Bound { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>How often the drill reads the completions (the kill points and the recoveries are seen at this grain).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Each PostgreSQL worker's connection pool (50 fibers share it); two workers and their neighbours fit in the
    /// server's connections. (A Redis worker multiplexes one connection.)</summary>
    public int WorkerPoolSize { get; init; } = 20;
}

/// <summary>One SIGKILL of a worker.</summary>
/// <param name="Target">The kill point it was armed for.</param>
/// <param name="CompletionsAtKill">Distinct jobs with a completion record, read right after the kill.</param>
/// <param name="ExitCode">The killed process's exit status: 137 (128 + SIGKILL).</param>
/// <param name="Held">Jobs leased to the killed worker at its death.</param>
/// <param name="HeldUncompleted">Of those, the jobs without a completion record then (in flight: they must run again).</param>
/// <param name="RecoverySeconds">From the kill until every held job had a completion record (the server's clock); null
/// if that never happened.</param>
/// <param name="RestartSeconds">From the kill until the worker started in its place held its first lease (the drill's poll
/// grain); null if it never did (no job was left for it).</param>
internal sealed record CrashKill(int Target, long CompletionsAtKill, string Worker, int ProcessId, int ExitCode, int Held, int HeldUncompleted,
    double? RecoverySeconds, double? RestartSeconds);

/// <summary>What a crash drill measured, at the end, after both workers stopped.</summary>
/// <param name="Title">The queue the drill ran on: "PostgreSQL" or "Redis".</param>
/// <param name="Totals">The completions (duplicates included), the dead letters and the jobs left, read at the end.</param>
/// <param name="ExitCodes">Workers a and b after the closing SIGINT.</param>
/// <param name="LeaseLostWarnings">"lease lost" warnings in the workers' main logs: a live worker's heartbeat found a lease
/// no longer its own.</param>
/// <param name="ErrorLines">ERROR and FATAL lines in the workers' main logs (a failed acknowledgement, say).</param>
/// <param name="Submit">The submit of the jobs, its process's start to its exit.</param>
/// <param name="Wall">The whole drill, from dropping the schema to the workers' exits.</param>
/// <param name="Logs">The folder of the workers' log files (a/ and b/, each worker's restarts appending).</param>
internal sealed record CrashDrillReport(string Title, CrashDrillSettings Settings, CrashTotals Totals, IReadOnlyList<CrashKill> Kills,
    IReadOnlyList<int> ExitCodes, int LeaseLostWarnings, int ErrorLines, TimeSpan Submit, TimeSpan Wall, string Logs)
{
    public long DistinctCompleted => Totals.DistinctCompleted;

    /// <summary>Job numbers 0..Jobs-1 without any completion record (lost, or dead-lettered).</summary>
    public long MissingNumbers => Settings.Jobs - Totals.Numbers;

    public long CompletionRows => Totals.CompletionRows;

    public long DuplicatedJobs => Totals.DuplicatedJobs;

    public long DuplicatedHeld => Totals.DuplicatedHeld;

    public long DeadLetters => Totals.DeadLetters;

    public long RowsLeft => Totals.JobsLeft;

    /// <summary>Completion records beyond the first of each job.</summary>
    public long DuplicateRows => CompletionRows - DistinctCompleted;

    /// <summary>The report as a few plain lines.</summary>
    public IEnumerable<string> Lines()
    {
        var s = Settings;
        yield return I($"{Title} crash drill: {s.Jobs:N0} jobs of 2-10 ms, 2 worker processes of 50 fibers, lease {s.Lease.TotalSeconds:0.###} s, ")
            + I($"MaxLeaseExpiries {s.MaxLeaseExpiries}; {Kills.Count} SIGKILLs ({string.Join(", ", Kills.Select(k => k.Worker))}), each worker restarted at once");
        yield return I($"  completed: {DistinctCompleted:N0} of {s.Jobs:N0} jobs have a completion record ({MissingNumbers:N0} missing); {CompletionRows:N0} records, ")
            + I($"{DuplicateRows:N0} duplicates over {DuplicatedJobs:N0} jobs ({DuplicatedHeld:N0} of them held by a killed worker); ")
            + I($"{DeadLetters:N0} dead letters; {RowsLeft:N0} jobs left in the queue");
        for (int i = 0; i < Kills.Count; i++)
        {
            var k = Kills[i];
            string recovered = k.RecoverySeconds is { } seconds ? I($"{seconds:0.00} s after the kill") : "never";
            string restarted = k.RestartSeconds is { } restart ? I($"its replacement held a lease {restart:0.00} s after the kill") : "its replacement never held a lease";
            yield return I($"  kill {i + 1} at {k.CompletionsAtKill:N0} completions (armed at {k.Target:N0}): worker {k.Worker} (pid {k.ProcessId}) exited {k.ExitCode} ")
                + I($"holding {k.Held} leases, {k.HeldUncompleted} of them without a completion record; all {k.Held} had one {recovered}; {restarted}");
        }
        yield return I($"  stopped by SIGINT: worker a exited {ExitCodes[0]}, worker b exited {ExitCodes[1]}; {LeaseLostWarnings} 'lease lost' warnings and {ErrorLines} errors in their logs; ")
            + I($"submit {Submit.TotalSeconds:0.00} s, wall {Wall.TotalSeconds:0.0} s");
    }

    public override string ToString() => string.Join('\n', Lines());

    private static string I(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>What the drill reads at the end, after both workers stopped.</summary>
/// <param name="CompletionRows">Completion records, duplicates included.</param>
/// <param name="DistinctCompleted">Jobs with at least one completion record.</param>
/// <param name="Numbers">Distinct job numbers 0..Jobs-1 with a completion record.</param>
/// <param name="DuplicatedJobs">Jobs with more than one completion record.</param>
/// <param name="DuplicatedHeld">Of those, jobs that a killed worker held at its death.</param>
/// <param name="DeadLetters">Jobs in the dead letters.</param>
/// <param name="JobsLeft">Jobs the queue still stores, dead letters included (rows in PostgreSQL, job hashes in Redis).</param>
internal readonly record struct CrashTotals(long CompletionRows, long DistinctCompleted, long Numbers, long DuplicatedJobs, long DuplicatedHeld,
    long DeadLetters, long JobsLeft);

/// <summary>One poll: distinct completions, jobs waiting or running (not dead), and the jobs leased to each of two workers.</summary>
internal readonly record struct CrashPoll(long Distinct, long Live, long HeldByA, long HeldByB);

/// <summary>Read in one atomic step right after a kill: the completions, the server's time, the jobs still leased to the dead
/// worker (their leases run on until they expire), and how many of those have no completion record.</summary>
internal readonly record struct CrashHeld(long Completions, DateTime At, string[] Held, int Uncompleted);

/// <summary>What a crash drill reads from one kind of server: the queue's and the completions' state, all on the server's clock.</summary>
internal interface ICrashDrillStore : IAsyncDisposable
{
    /// <summary>"PostgreSQL" or "Redis", for the report.</summary>
    string Title { get; }

    /// <summary>The worker program's arguments after its mode (<c>work</c>, <c>submit</c>): where its queue is.</summary>
    IReadOnlyList<string> WorkerTarget { get; }

    /// <summary>Removes everything a drill before left in its scope.</summary>
    Task ResetAsync(CancellationToken token);

    /// <summary>How many of these processes have registered as workers of the queue.</summary>
    Task<int> RegisteredAsync(int[] processIds, CancellationToken token);

    Task<CrashPoll> PollAsync(int processA, int processB, CancellationToken token);

    Task<CrashHeld> HeldAsync(int processId, CancellationToken token);

    /// <summary>When the last of these jobs had its first completion record (server time, UTC), or null while one has none.</summary>
    Task<DateTime?> LastFirstCompletionAsync(string[] ids, CancellationToken token);

    Task<CrashTotals> TotalsAsync(int jobs, string[] heldAtKills, CancellationToken token);
}

/// <summary>
/// The SIGKILL drill that the PostgreSQL and Redis queues' CrashTests and the throughput harness's crash modes run. Two
/// worker processes (a sample's work mode) share one queue: once both are registered, the sample's submit mode queues the
/// jobs, each job records its completion on the same server, and a worker is SIGKILLed at each kill point and started
/// again. The drill reads only the server (a bounded poll: the server says when work is done). Right after each kill it
/// reads which jobs the dead worker held (leased to the registry's worker of that process id), and its recovery is the
/// time until each of them has a completion record. When no job is left waiting or running, both workers get SIGINT and
/// must exit; the report counts completions, duplicates, dead letters and jobs left.
/// </summary>
internal static class CrashDrill
{
    public static async Task<CrashDrillReport> RunAsync(CrashDrillSettings settings, ICrashDrillStore store, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(log);
        for (int i = 0; i < settings.KillAt.Count; i++)
        {
            if (settings.KillAt[i] <= (i == 0 ? 0 : settings.KillAt[i - 1]) || settings.KillAt[i] >= settings.Jobs)
                throw new ArgumentException($"kill points must ascend from above 0 to below the {settings.Jobs} jobs: {string.Join(", ", settings.KillAt)}", nameof(settings));
        }
        if (!File.Exists(settings.WorkerDll)) throw new FileNotFoundException($"no worker program at {settings.WorkerDll}", settings.WorkerDll);

        var invariant = CultureInfo.InvariantCulture;
        var wall = Stopwatch.StartNew();
        using var bound = new CancellationTokenSource(settings.Bound);
        var token = bound.Token;
        string folder = Directory.CreateTempSubdirectory("tasktempest-crash-").FullName;
        await store.ResetAsync(token);

        // The submit mode prepares the queue (and the completions) when it has no job, then queues the jobs in one batch.
        async Task<TimeSpan> SubmitAsync(int jobs)
        {
            var clock = Stopwatch.StartNew();
            var submit = await ChildProcess.RunAsync(settings.Dotnet, [settings.WorkerDll, "submit", .. store.WorkerTarget, jobs.ToString(invariant)], folder, settings.Bound);
            if (submit.ExitCode != 0) throw new InvalidOperationException($"the submit of {jobs} jobs exited {submit.ExitCode}:\n{submit.Output}");
            return clock.Elapsed;
        }
        await SubmitAsync(0);

        string[] work = [settings.WorkerDll, "work", .. store.WorkerTarget, "--lease", settings.Lease.TotalSeconds.ToString(invariant),
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
        TimeSpan submitted = default;
        try
        {
            // Both workers up before the jobs come (the enqueue's wake-up reaches them), so the first kill point finds both running.
            while (await store.RegisteredAsync([running[0].ProcessId, running[1].ProcessId], token) < 2)
            {
                foreach (var worker in running) worker.ThrowIfExited();
                await Task.Delay(settings.PollInterval, token);
            }
            // Watched while the submit runs: the workers take jobs as they land, and a fast queue can finish them all
            // before the submitting process has even exited (the kill points would then pass unseen).
            var submitting = SubmitAsync(settings.Jobs);
            log($"workers a (pid {running[0].ProcessId}) and b (pid {running[1].ProcessId}) up; submitting {settings.Jobs:N0} jobs (logs under {folder})");
            while (true)
            {
                foreach (var worker in running) worker.ThrowIfExited();
                if (submitting.IsCompleted && submitted == default)
                {
                    submitted = await submitting;
                    log($"{settings.Jobs:N0} jobs submitted in {submitted.TotalSeconds:0.00} s");
                }
                var (distinct, live, heldByA, heldByB) = await store.PollAsync(running[0].ProcessId, running[1].ProcessId, token);
                progress = $"{distinct} of {settings.Jobs} jobs completed, {live} waiting or running, {kills.Count} kills";
                foreach (var recovery in recoveries.Where(r => r.Seconds is null)) await recovery.CheckAsync(store, token);
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
                    // Asked again just before the kill: on a fast queue near the end, the poll's leases may have ended
                    // meanwhile, and a kill of a worker that holds nothing tests no recovery.
                    if ((await store.HeldAsync(dying.ProcessId, token)).Held.Length == 0)
                    {
                        await Task.Delay(settings.PollInterval, token);
                        continue;
                    }
                    var sinceKill = Stopwatch.StartNew();
                    dying.Kill();
                    int exitCode = await dying.WaitForExitAsync(token);
                    var held = await store.HeldAsync(dying.ProcessId, token);
                    running[victim] = Start(dying.Name); // the same folder: its log files go on
                    restarting.Add((kills.Count, victim, sinceKill));
                    recoveries.Add(new Recovery(held.At, held.Held));
                    kills.Add(new CrashKill(settings.KillAt[kills.Count], held.Completions, dying.Name, dying.ProcessId, exitCode, held.Held.Length,
                        held.Uncompleted, null, null));
                    log($"kill {kills.Count}: SIGKILL to worker {dying.Name} (pid {dying.ProcessId}, exit {exitCode}) at {held.Completions:N0} completions; " +
                        $"it held {held.Held.Length} leases, {held.Uncompleted} without a completion record; restarted as pid {running[victim].ProcessId}");
                    continue;
                }
                if (live == 0 && submitted != default) break; // nothing waiting or running: every job ended (or is a dead letter)
                await Task.Delay(settings.PollInterval, token);
            }
            foreach (var recovery in recoveries.Where(r => r.Seconds is null)) await recovery.CheckAsync(store, token);
            for (int i = 0; i < kills.Count; i++) kills[i] = kills[i] with { RecoverySeconds = recoveries[i].Seconds };

            // A replacement started late may not have set up its signal handlers yet: a SIGINT then kills it (exit 130).
            // Registered means its engine runs, and so handles SIGINT.
            while (await store.RegisteredAsync([running[0].ProcessId, running[1].ProcessId], token) < 2)
            {
                foreach (var worker in running) worker.ThrowIfExited();
                await Task.Delay(settings.PollInterval, token);
            }
            foreach (var worker in running) ChildProcess.Interrupt(worker.ProcessId);
            int[] exitCodes = [await running[0].WaitForExitAsync(token), await running[1].WaitForExitAsync(token)];
            wall.Stop();

            var heldAtKills = recoveries.SelectMany(r => r.Ids).Distinct(StringComparer.Ordinal).ToArray();
            var totals = await store.TotalsAsync(settings.Jobs, heldAtKills, token);
            // The engine's main log is named after it, as the sample's program is.
            string mainLog = Path.GetFileNameWithoutExtension(settings.WorkerDll) + ".log";
            var mainLogs = Directory.EnumerateFiles(folder, mainLog, SearchOption.AllDirectories).SelectMany(File.ReadLines).ToList();
            int leaseLost = mainLogs.Count(line => line.Contains("> lease lost:", StringComparison.Ordinal));
            int errors = mainLogs.Count(line => line.Contains(" [ERROR] ", StringComparison.Ordinal) || line.Contains(" [FATAL] ", StringComparison.Ordinal));
            return new CrashDrillReport(store.Title, settings, totals, kills, exitCodes, leaseLost, errors, submitted, wall.Elapsed, folder);
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

    /// <summary>The jobs one kill left behind, and when the last of them had its first completion record.</summary>
    private sealed class Recovery(DateTime killedAt, string[] ids)
    {
        public string[] Ids => ids;

        public double? Seconds { get; private set; }

        public async Task CheckAsync(ICrashDrillStore store, CancellationToken token)
        {
            if (ids.Length == 0)
            {
                Seconds = 0;
                return;
            }
            if (await store.LastFirstCompletionAsync(ids, token) is not { } last) return;
            // A held job that had completed before the kill (its acknowledgement not yet in) counts from the kill.
            Seconds = Math.Max(0, (last - killedAt).TotalSeconds);
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
