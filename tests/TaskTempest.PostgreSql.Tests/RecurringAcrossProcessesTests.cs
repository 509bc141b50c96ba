using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;
using TaskTempest.PostgreSql.Tests.Support;
using TaskTempest.Tests.Shared;
using Xunit.Abstractions;

namespace TaskTempest.PostgreSql.Tests;

/// <summary>
/// Each tick of a recurring schedule runs once across worker processes: two samples/PostgreSqlTempest workers (the
/// framework-dependent Release build the crash test uses) both register the schedule every-second ("* * * * * *") on one
/// schema, and each tick's job records the number -1 in the completions table. The server's clock decides the ticks, so
/// this test waits for real seconds (about eight). Both workers' main logs are read after a SIGINT: no tick was submitted
/// twice, the ticks are consecutive seconds, and every submitted job ran exactly once (or still waits in the queue).
/// </summary>
public sealed partial class RecurringAcrossProcessesTests(PostgresDatabase<RecurringAcrossProcessesTests> database, ITestOutputHelper output)
    : IClassFixture<PostgresDatabase<RecurringAcrossProcessesTests>>
{
    private const string Schema = "ticks";
    private const int TicksWanted = 6;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Two_workers_run_each_tick_of_one_schedule_once()
    {
        string worker = await CrashTestSteps.BuildSampleAsync("PostgreSqlTempest");
        string logs = Directory.CreateTempSubdirectory("tempest-ticks-").FullName;
        using var bound = new CancellationTokenSource(Bound);

        var workers = new[] { Start("a"), Start("b") };
        try
        {
            // The completions table exists once a worker has prepared the schema; until then the count is 0. Both workers
            // registered: both engines run (and handle the SIGINT at the end).
            long ran = 0;
            while ((ran = await TickCompletionsAsync(bound.Token)) < TicksWanted || await RegisteredAsync(workers, bound.Token) < 2)
            {
                foreach (var (name, process, text) in workers)
                {
                    if (process.HasExited) Assert.Fail($"worker {name} exited {process.ExitCode} on its own:\n{text}");
                }
                await Task.Delay(TimeSpan.FromMilliseconds(250), bound.Token); // the server's clock decides: a real wait
            }
            output.WriteLine($"{ran} ticks ran; stopping both workers");
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"fewer than {TicksWanted} ticks ran within {Bound.TotalSeconds} s:\n" + string.Join("\n", workers.Select(w => $"{w.Name}: {w.Output}")));
        }
        finally
        {
            foreach (var (_, process, _) in workers)
            {
                if (!process.HasExited) ChildProcess.Interrupt(process.Id);
            }
        }
        foreach (var (name, process, text) in workers)
        {
            await process.WaitForExitAsync(bound.Token);
            Assert.True(process.ExitCode == 0, $"worker {name} exited {process.ExitCode}:\n{text}");
        }

        // Who submitted which tick, from both main logs.
        var submitted = new List<(string Worker, DateTime Tick, string Id)>();
        foreach (var name in new[] { "a", "b" })
        {
            foreach (var line in File.ReadLines(Path.Combine(logs, name, "PostgreSqlTempest.log")))
            {
                var match = TickSubmitted().Match(line);
                if (match.Success)
                {
                    submitted.Add((name, DateTime.Parse(match.Groups["tick"].Value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal), match.Groups["id"].Value));
                }
            }
        }
        foreach (var (name, count) in submitted.CountBy(s => s.Worker)) output.WriteLine($"worker {name} submitted {count} ticks");

        var ticks = submitted.Select(s => s.Tick).Order().ToList();
        Assert.True(ticks.Count >= TicksWanted, $"only {ticks.Count} ticks submitted");
        Assert.Equal(ticks.Count, ticks.Distinct().Count()); // no tick submitted by both
        for (int i = 1; i < ticks.Count; i++) Assert.Equal(TimeSpan.FromSeconds(1), ticks[i] - ticks[i - 1]); // none missed meanwhile

        // Every submitted job ran once, or was still waiting when the workers stopped; no other job recorded -1.
        var runs = await CountRunsAsync();
        var waiting = await WaitingAsync();
        foreach (var (name, tick, id) in submitted)
        {
            int count = runs.GetValueOrDefault(id);
            Assert.True(count == 1 || (count == 0 && waiting.Contains(id)),
                $"the job {id} of tick {tick:O} (worker {name}) ran {count} times and is {(waiting.Contains(id) ? "" : "not ")}waiting");
        }
        Assert.Empty(runs.Keys.Except(submitted.Select(s => s.Id)));
        Directory.Delete(logs, recursive: true); // kept when an assertion fails

        (string Name, Process Process, StringBuilder Output) Start(string name)
        {
            string directory = Directory.CreateDirectory(Path.Combine(logs, name)).FullName; // each its own log files
            var process = ChildProcess.StartInterruptible(RepositoryPaths.DotnetHost,
                [worker, "work", database.ConnectionString, Schema, "--every-second"], directory);
            var text = new StringBuilder();
            process.OutputDataReceived += (_, e) => { lock (text) text.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { lock (text) text.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return (name, process, text);
        }
    }

    private async Task<long> TickCompletionsAsync(CancellationToken token)
    {
        await using var command = database.DataSource.CreateCommand(
            $"SELECT CASE WHEN to_regclass('{Schema}.completions') IS NULL THEN 0 ELSE (SELECT count(*) FROM {Schema}.completions WHERE number = -1) END");
        try
        {
            return Convert.ToInt64(await command.ExecuteScalarAsync(token), CultureInfo.InvariantCulture);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return 0; // the CASE's subquery is planned before to_regclass runs: created between the two, it still fails once
        }
    }

    private async Task<long> RegisteredAsync((string Name, Process Process, StringBuilder Output)[] workers, CancellationToken token)
    {
        await using var command = database.DataSource.CreateCommand(
            $"SELECT CASE WHEN to_regclass('{Schema}.workers') IS NULL THEN 0 ELSE (SELECT count(*) FROM {Schema}.workers WHERE pid = ANY($1)) END");
        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = [.. workers.Select(w => w.Process.Id)] });
        try
        {
            return Convert.ToInt64(await command.ExecuteScalarAsync(token), CultureInfo.InvariantCulture);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return 0; // created between the check and the count
        }
    }

    private async Task<Dictionary<string, int>> CountRunsAsync()
    {
        await using var command = database.DataSource.CreateCommand($"SELECT job_id, count(*)::int FROM {Schema}.completions WHERE number = -1 GROUP BY job_id");
        await using var reader = await command.ExecuteReaderAsync();
        var runs = new Dictionary<string, int>();
        while (await reader.ReadAsync()) runs[reader.GetString(0)] = reader.GetInt32(1);
        return runs;
    }

    private async Task<HashSet<string>> WaitingAsync()
    {
        await using var command = database.DataSource.CreateCommand($"SELECT id FROM {Schema}.jobs WHERE state <> 3");
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new HashSet<string>();
        while (await reader.ReadAsync()) ids.Add(reader.GetString(0));
        return ids;
    }

    // "schedule every-second: tick 2026-12-03T05:40:01.000Z submitted as {id} <RecordCompletion>; next run ..."
    [GeneratedRegex(@"schedule every-second: tick (?<tick>\S+).*? submitted as \{(?<id>[^}]+)\}")]
    private static partial Regex TickSubmitted();
}
