using TaskTempest.Tests.Shared;

namespace TaskTempest.Throughput;

/// <summary>
/// The PostgreSQL queue's SIGKILL drill at scale (tests/Shared/PostgresCrashDrill.cs, which CrashTests runs with 5,000
/// jobs): N jobs of 2-10 ms on two worker processes of samples/PostgreSqlTempest (its Release build), a worker killed
/// with SIGKILL and restarted after a fifth, half and four fifths of the completions, on the server TASKTEMPEST_POSTGRES
/// names (schema crash_pg, dropped and created again). Exits 1 if a job was lost, dead-lettered or left behind, or a
/// worker did not stop cleanly.
/// </summary>
internal static class CrashPg
{
    public static async Task<int> RunAsync(int jobs, string reproduce)
    {
        string? connectionString = Environment.GetEnvironmentVariable("TASKTEMPEST_POSTGRES");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            Console.Error.WriteLine("crash-pg needs a server: bash scripts/ci-services.sh start, then export TASKTEMPEST_POSTGRES='Host=127.0.0.1;Port=5440;Username=postgres;Database=postgres'");
            return 2;
        }
        string worker = Path.Combine(RepositoryPaths.Root, "samples", "PostgreSqlTempest", "bin", "Release", "net10.0", "PostgreSqlTempest.dll");
        if (!File.Exists(worker))
        {
            Console.Error.WriteLine($"no worker program at {worker}: dotnet build -c Release samples/PostgreSqlTempest first");
            return 2;
        }
        Console.WriteLine($"reproduce: dotnet build -c Release samples/PostgreSqlTempest && {reproduce}");
        Console.WriteLine($"  worker {worker} (built {File.GetLastWriteTime(worker):yyyy-MM-dd HH:mm}); {Environment.ProcessorCount} cores");
        var settings = new CrashDrillSettings(connectionString, "crash_pg", RepositoryPaths.DotnetHost, worker, jobs, [jobs / 5, jobs / 2, jobs * 4 / 5])
        {
            Bound = TimeSpan.FromMinutes(10),
        };
        var report = await PostgresCrashDrill.RunAsync(settings, line => Console.WriteLine("  " + line));
        Console.WriteLine();
        foreach (var line in report.Lines()) Console.WriteLine(line);
        Console.WriteLine($"  workers' logs: {report.Logs}");
        bool clean = report.Kills.Count == settings.KillAt.Count && report.MissingNumbers == 0 && report.DeadLetters == 0 && report.RowsLeft == 0
            && report.ExitCodes.All(code => code == 0);
        return clean ? 0 : 1;
    }
}
