using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using TaskTempest;
using TaskTempest.PostgreSql;
using TaskTempest.Samples.PostgreSql;

// A worker on the PostgreSQL queue, and the program that fills its queue. Any number of workers may share a schema.
//   PostgreSqlTempest work <connection string> <schema> [--lease <seconds>] [--max-lease-expiries <n>] [--every-second]
//       runs jobs, 50 at a time, until SIGINT or SIGTERM (it drains and exits 0, 1 if it had to abort tasks). Killed
//       instead (SIGKILL), its leases expire and the other workers run its jobs again. --every-second adds the
//       recurring schedule every-second ("* * * * * *"), whose jobs record the number -1: started in several workers,
//       each tick runs once among them.
//   PostgreSqlTempest submit <connection string> <schema> <count> [--seed <n>]
//       creates the tables and submits <count> jobs of 2-10 ms in one multi-row insert.
// Both create the queue's tables and the completions table if they are missing.
switch (args)
{
    case ["work", string connectionString, string schema, .. var options]:
    {
        var lease = TimeSpan.FromSeconds(Option(options, "--lease", 30.0));
        int maxLeaseExpiries = Option(options, "--max-lease-expiries", 3);
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var queue = new TempestPostgreSqlQueue(dataSource,
            new TempestPostgreSqlOptions { Schema = schema, LeaseDuration = lease, MaxLeaseExpiries = maxLeaseExpiries });
        var completions = await PrepareAsync(queue, dataSource, schema);
        // The task's constructor takes Completions: each job gets it from here.
        await using var services = new ServiceCollection().AddSingleton(completions).BuildServiceProvider();
        var engine = new PostgreSqlTempest(new TempestOptions { Queue = queue, Services = services });
        if (options.Contains("--every-second")) engine.AddRecurring("every-second", "* * * * * *", s => s.SubmitRecordCompletion(-1, 0));
        Console.WriteLine($"{engine.Name} {Environment.ProcessId}: working on {schema}, lease {lease.TotalSeconds:0.###} s, " +
            $"dead-lettered after {maxLeaseExpiries} lease expiries; logs in {engine.Name}.log. Ctrl+C to stop.");
        var result = await engine.RunAsync();
        Console.WriteLine(result);
        return result.ExitCode;
    }

    case ["submit", string connectionString, string schema, string countText, .. var options]
        when int.TryParse(countText, CultureInfo.InvariantCulture, out int count) && count >= 0:
    {
        var random = new Random(Option(options, "--seed", 1));
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var queue = new TempestPostgreSqlQueue(dataSource, new TempestPostgreSqlOptions { Schema = schema });
        await PrepareAsync(queue, dataSource, schema);
        var engine = new PostgreSqlTempest(new TempestOptions { Queue = queue });
        await using (var batch = engine.Batch())
        {
            for (int number = 0; number < count; number++) batch.SubmitRecordCompletion(number, random.Next(2, 11));
        }
        Console.WriteLine($"{count} jobs submitted to {schema}");
        return 0;
    }

    default:
        Console.Error.WriteLine("usage: PostgreSqlTempest work <connection string> <schema> [--lease <seconds>] [--max-lease-expiries <n>] [--every-second]");
        Console.Error.WriteLine("       PostgreSqlTempest submit <connection string> <schema> <count> [--seed <n>]");
        return 2;
}

static async Task<Completions> PrepareAsync(TempestPostgreSqlQueue queue, NpgsqlDataSource dataSource, string schema)
{
    await queue.MigrateAsync();
    var completions = new Completions(dataSource, schema);
    await completions.CreateTableAsync();
    return completions;
}

// `--name value` from the options, else the fallback; a value that does not parse is an error, not the default.
static T Option<T>(string[] options, string name, T fallback) where T : ISpanParsable<T>
{
    int at = Array.IndexOf(options, name);
    if (at < 0) return fallback;
    if (at + 1 < options.Length && T.TryParse(options[at + 1], CultureInfo.InvariantCulture, out var value)) return value;
    throw new ArgumentException($"{name} needs a value of type {typeof(T).Name}");
}
