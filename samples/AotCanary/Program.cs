using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using StackExchange.Redis;
using TaskTempest;
using TaskTempest.Dashboard;
using TaskTempest.Hosting;
using TaskTempest.PostgreSql;
using TaskTempest.Redis;
using TaskTempest.Samples.AotCanary;

// The NativeAOT canary: one binary with every runtime package, one job through each queue, then it runs until SIGINT
// or SIGTERM like any worker and exits 0 when every engine drained.
//   TASKTEMPEST_POSTGRES='Host=...;Username=...;Database=...' TASKTEMPEST_REDIS=host:port ./AotCanary [schema]
// The memory-queue engine runs the worker-service way (TaskTempest.Hosting: a generic host, AddTempest, a health check)
// and logs to the host's console; the PostgreSQL and Redis engines run on their own and write postgres.log,
// postgres.task.log, redis.log and redis.task.log. The standalone dashboard (TaskTempest.Dashboard) listens on a free
// loopback port and shows the PostgreSQL queue; the canary prints its address ("dashboard: http://127.0.0.1:..."). The schema name is also the Redis queue's name, so that each run has
// keys of its own.
string connectionString = Environment.GetEnvironmentVariable("TASKTEMPEST_POSTGRES")
    ?? throw new InvalidOperationException("Set TASKTEMPEST_POSTGRES to a PostgreSQL connection string (scripts/ci-services.sh start prints one).");
string redisEndpoint = Environment.GetEnvironmentVariable("TASKTEMPEST_REDIS")
    ?? throw new InvalidOperationException("Set TASKTEMPEST_REDIS to a Redis endpoint, host:port (scripts/ci-services.sh start prints one).");
string schema = args.Length > 0 ? args[0] : "canary";

// The slim builder keeps the binary to what the queue uses: arrays (the batched statements bind them), nothing else.
await using var dataSource = new NpgsqlSlimDataSourceBuilder(connectionString).EnableArrays().Build();
await using var postgres = new TempestPostgreSqlQueue(dataSource, new TempestPostgreSqlOptions { Schema = schema });

// The host owns SIGINT and SIGTERM for its engine; one line per log entry, so the canary's test can grep it.
var builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
builder.Services.AddTempest<CanaryTempest>();
builder.Services.AddHealthChecks().AddTempest<CanaryTempest>();
// The dashboard, standalone (a worker has no web app): its own Kestrel on loopback, a free port, printed below. It shows
// the PostgreSQL queue, since the hosted engine's embedded memory queue has no inspector.
builder.Services.AddTempestDashboard(dashboard =>
{
    dashboard.Standalone = new IPEndPoint(IPAddress.Loopback, 0);
    dashboard.Inspector = postgres;
    dashboard.Title = "AotCanary (PostgreSQL)";
});
using var host = builder.Build();

await using var redis = await ConnectionMultiplexer.ConnectAsync(redisEndpoint);
// CreateAsync refuses a server that can evict keys; the canary says what it found.
await using var onRedisQueue = await TempestRedisQueue.CreateAsync(redis, new TempestRedisOptions { KeyPrefix = "tt:canary:", QueueName = schema });
Console.WriteLine($"Redis {redisEndpoint}: maxmemory-policy {await TempestRedisServerCheck.ReadEvictionPolicyAsync(redis, redis.GetEndPoints()[0])}");


var onMemory = host.Services.GetRequiredService<CanaryTempest>(); // the hosted engine, injectable like any service
var onPostgres = new CanaryTempest(new TempestOptions { Queue = postgres, LogFile = "postgres.log", TaskLogFile = "postgres.task.log" });
var onRedis = new CanaryTempest(new TempestOptions { Queue = onRedisQueue, LogFile = "redis.log", TaskLogFile = "redis.task.log" });
// Each chirp is unique: a second submit with its key queues nothing and says so.
foreach (var (engine, queue, number) in new[] { (onMemory, "memory", 1), (onPostgres, "postgres", 2), (onRedis, "redis", 3) })
{
    var chirp = await engine.Unique("chirp").SubmitChirpAsync(queue, number);
    var again = engine.Unique("chirp").SubmitChirp(queue, number + 10);
    Console.WriteLine($"{queue}: a second chirp with its key is a duplicate: {again.Duplicate && again.Id == chirp.Id}");
}

await host.StartAsync();
Console.WriteLine($"dashboard: {host.Services.GetRequiredService<TempestDashboardServer>().Addresses.Single()}");
var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
Console.WriteLine($"health: {health.Status} ({health.Entries["CanaryTempest"].Description})");
Console.WriteLine("AotCanary running: one job through the memory queue (hosted), one through PostgreSQL, one through Redis, and a heartbeat a second on each. Ctrl+C to stop.");
var onTheirOwn = Task.WhenAll(onPostgres.RunAsync(), onRedis.RunAsync());
await host.WaitForShutdownAsync();
var results = new[] { await host.Services.GetRequiredService<TempestHostedService<CanaryTempest>>().Completion }.Concat(await onTheirOwn).ToList();
foreach (var result in results) Console.WriteLine(result);
return results.Max(r => r.ExitCode);
