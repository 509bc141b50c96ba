using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using TaskTempest;
using TaskTempest.Redis;
using TaskTempest.Samples.Redis;

// A worker on the Redis queue, and the program that fills its queue. Any number of workers may share a queue.
//   RedisTempest work <configuration> <queue> [--lease <seconds>] [--max-lease-expiries <n>]
//       runs jobs, 50 at a time, until SIGINT or SIGTERM (it drains and exits 0, 1 if it had to abort tasks). Killed
//       instead (SIGKILL), its leases expire and the other workers run its jobs again.
//   RedisTempest submit <configuration> <queue> <count> [--seed <n>]
//       submits <count> jobs of 2-10 ms in one batch.
// <configuration> is StackExchange.Redis's, e.g. 127.0.0.1:6379. Both refuse a server that may evict keys.
switch (args)
{
    case ["work", string configuration, string queueName, .. var options]:
    {
        var lease = TimeSpan.FromSeconds(Option(options, "--lease", 30.0));
        int maxLeaseExpiries = Option(options, "--max-lease-expiries", 3);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(configuration);
        await using var queue = await TempestRedisQueue.CreateAsync(redis,
            new TempestRedisOptions { QueueName = queueName, LeaseDuration = lease, MaxLeaseExpiries = maxLeaseExpiries });
        // The task's constructor takes Completions: each job gets it from here.
        await using var services = new ServiceCollection().AddSingleton(new Completions(redis.GetDatabase(), queueName)).BuildServiceProvider();
        var engine = new RedisTempest(new TempestOptions { Queue = queue, Services = services });
        Console.WriteLine($"{engine.Name} {Environment.ProcessId}: working on {queueName}, lease {lease.TotalSeconds:0.###} s, " +
            $"dead-lettered after {maxLeaseExpiries} lease expiries; logs in {engine.Name}.log. Ctrl+C to stop.");
        var result = await engine.RunAsync();
        Console.WriteLine(result);
        return result.ExitCode;
    }

    case ["submit", string configuration, string queueName, string countText, .. var options]
        when int.TryParse(countText, CultureInfo.InvariantCulture, out int count) && count >= 0:
    {
        var random = new Random(Option(options, "--seed", 1));
        await using var redis = await ConnectionMultiplexer.ConnectAsync(configuration);
        await using var queue = await TempestRedisQueue.CreateAsync(redis, new TempestRedisOptions { QueueName = queueName });
        var engine = new RedisTempest(new TempestOptions { Queue = queue });
        await using (var batch = engine.Batch())
        {
            for (int number = 0; number < count; number++) batch.SubmitRecordCompletion(number, random.Next(2, 11));
        }
        Console.WriteLine($"{count} jobs submitted to {queueName}");
        return 0;
    }

    default:
        Console.Error.WriteLine("usage: RedisTempest work <configuration> <queue> [--lease <seconds>] [--max-lease-expiries <n>]");
        Console.Error.WriteLine("       RedisTempest submit <configuration> <queue> <count> [--seed <n>]");
        return 2;
}

// `--name value` from the options, else the fallback; a value that does not parse is an error, not the default.
static T Option<T>(string[] options, string name, T fallback) where T : ISpanParsable<T>
{
    int at = Array.IndexOf(options, name);
    if (at < 0) return fallback;
    if (at + 1 < options.Length && T.TryParse(options[at + 1], CultureInfo.InvariantCulture, out var value)) return value;
    throw new ArgumentException($"{name} needs a value of type {typeof(T).Name}");
}
