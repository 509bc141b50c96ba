using TaskTempest.Tests.Shared;

namespace TaskTempest.Throughput;

/// <summary>
/// The SIGKILL drill at scale (tests/Shared/CrashDrill.cs, which the PostgreSQL and Redis CrashTests run with 5,000 jobs):
/// N jobs of 2-10 ms on two worker processes of the queue's sample (its Release build), a worker killed with SIGKILL and
/// restarted after a fifth, half and four fifths of the completions. crash-pg runs on the server TASKTEMPEST_POSTGRES
/// names (schema crash_pg, dropped and created again), crash-redis on the one TASKTEMPEST_REDIS names (queue crash-redis,
/// its keys deleted first). Exits 1 if a job was lost, dead-lettered or left behind, or a worker did not stop cleanly.
/// </summary>
internal static class CrashDrills
{
    public static Task<int> RunPostgresAsync(int jobs, string reproduce) =>
        RunAsync("TASKTEMPEST_POSTGRES", "'Host=127.0.0.1;Port=5440;Username=postgres;Database=postgres'", "PostgreSqlTempest", "crash_pg", jobs, reproduce,
            PostgresCrashDrill.RunAsync);

    public static Task<int> RunRedisAsync(int jobs, string reproduce) =>
        RunAsync("TASKTEMPEST_REDIS", "127.0.0.1:6390", "RedisTempest", "crash-redis", jobs, reproduce, RedisCrashDrill.RunAsync);

    private static async Task<int> RunAsync(string variable, string scriptsValue, string sample, string scope, int jobs, string reproduce,
        Func<CrashDrillSettings, Action<string>, Task<CrashDrillReport>> drill)
    {
        string? server = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(server))
        {
            Console.Error.WriteLine($"this drill needs a server: bash scripts/ci-services.sh start, then export {variable}={scriptsValue}");
            return 2;
        }
        string worker = Path.Combine(RepositoryPaths.Root, "samples", sample, "bin", "Release", "net10.0", sample + ".dll");
        if (!File.Exists(worker))
        {
            Console.Error.WriteLine($"no worker program at {worker}: dotnet build -c Release samples/{sample} first");
            return 2;
        }
        Console.WriteLine($"reproduce: dotnet build -c Release samples/{sample} && {reproduce}");
        Console.WriteLine($"  worker {worker} (built {File.GetLastWriteTime(worker):yyyy-MM-dd HH:mm}); {Environment.ProcessorCount} cores");
        var settings = new CrashDrillSettings(server, scope, RepositoryPaths.DotnetHost, worker, jobs, [jobs / 5, jobs / 2, jobs * 4 / 5])
        {
            Bound = TimeSpan.FromMinutes(10),
        };
        var report = await drill(settings, line => Console.WriteLine("  " + line));
        Console.WriteLine();
        foreach (var line in report.Lines()) Console.WriteLine(line);
        Console.WriteLine($"  workers' logs: {report.Logs}");
        bool clean = report.Kills.Count == settings.KillAt.Count && report.MissingNumbers == 0 && report.DeadLetters == 0 && report.RowsLeft == 0
            && report.ExitCodes.All(code => code == 0);
        return clean ? 0 : 1;
    }
}
