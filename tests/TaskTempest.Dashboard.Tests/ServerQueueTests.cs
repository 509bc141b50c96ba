using System.Net;
using System.Text.Json;
using Npgsql;
using StackExchange.Redis;
using TaskTempest.PostgreSql;
using TaskTempest.Queues;
using TaskTempest.Redis;

namespace TaskTempest.Dashboard.Tests;

/// <summary>The JSON endpoints over the embedded memory queue, the run's PostgreSQL (TASKTEMPEST_POSTGRES, a schema of the test's own, dropped at the
/// end) and Redis (TASKTEMPEST_REDIS, a key prefix of its own, deleted at the end); scripts/test.sh starts both. Without a
/// server a test fails with the way to start it (never a skip).</summary>
public sealed class ServerQueueTests
{
    [Fact]
    public async Task The_endpoints_read_and_repair_a_PostgreSQL_queue()
    {
        string connectionString = Environment.GetEnvironmentVariable("TASKTEMPEST_POSTGRES") ?? throw new InvalidOperationException(
            "TASKTEMPEST_POSTGRES is not set: run the suite with scripts/test.sh, or start the server with scripts/ci-services.sh start and export the connection string it prints.");
        string schema = "dash_" + Guid.NewGuid().ToString("N")[..12];
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        try
        {
            await using var queue = new TempestPostgreSqlQueue(dataSource, new TempestPostgreSqlOptions { Schema = schema, PollInterval = TimeSpan.FromMilliseconds(100) });
            await ReadAndRepairAsync(queue, "postgres");
        }
        finally
        {
            await using var drop = dataSource.CreateCommand($"DROP SCHEMA IF EXISTS {schema} CASCADE");
            await drop.ExecuteNonQueryAsync();
        }
    }

    [Fact]
    public async Task The_endpoints_read_and_repair_a_Redis_queue()
    {
        string endpoint = Environment.GetEnvironmentVariable("TASKTEMPEST_REDIS") ?? throw new InvalidOperationException(
            "TASKTEMPEST_REDIS is not set: run the suite with scripts/test.sh, or start the servers with scripts/ci-services.sh start and export the endpoint it prints.");
        string prefix = "dash:" + Guid.NewGuid().ToString("N")[..12] + ":";
        await using var redis = await ConnectionMultiplexer.ConnectAsync(endpoint);
        try
        {
            await using var queue = await TempestRedisQueue.CreateAsync(redis, new TempestRedisOptions { KeyPrefix = prefix, PollInterval = TimeSpan.FromMilliseconds(100) });
            await ReadAndRepairAsync(queue, "redis");
        }
        finally
        {
            var server = redis.GetServer(redis.GetEndPoints()[0]);
            await foreach (var key in server.KeysAsync(pattern: prefix + "*", pageSize: 1000)) await redis.GetDatabase().KeyDeleteAsync(key);
        }
    }

    [Fact]
    public async Task The_endpoints_read_and_repair_the_embedded_memory_queue()
    {
        var queue = new TempestMemoryQueue();
        await ReadAndRepairAsync(queue, "memory");
    }

    /// <summary>A job dead-lettered on <paramref name="queue"/> shows in the overview, the dead letters and the failures;
    /// requeued through the API with the page's token, it runs again and succeeds.</summary>
    private static async Task ReadAndRepairAsync<TQueue>(TQueue queue, string label) where TQueue : ITempestQueue, ITempestQueueInspector
    {
        await using var app = await DashboardApp.StartAsync(o => o.ActionFilter = _ => true, queue);
        string id = app.Engine.SubmitFlaky(label).Id;
        await app.WaitForDeadAsync(id);
        for (int i = 0; i < 5; i++) app.Engine.SubmitQuick(i);

        using var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = new Uri(app.Dashboard), Timeout = DashboardApp.Bound };
        using (var overview = JsonDocument.Parse(await http.GetStringAsync(new Uri("api/overview", UriKind.Relative))))
        {
            Assert.Equal(1, overview.RootElement.GetProperty("counts").GetProperty("dead").GetInt64());
            if (queue is not TempestMemoryQueue) // the embedded queue keeps no registry of workers
                Assert.Contains(overview.RootElement.GetProperty("workers").EnumerateArray(), w => w.GetProperty("engine").GetString() == "DashTempest");
            Assert.Equal("DashTempest", overview.RootElement.GetProperty("title").GetString());
        }
        using (var dead = JsonDocument.Parse(await http.GetStringAsync(new Uri("api/jobs?state=Dead", UriKind.Relative))))
        {
            var job = Assert.Single(dead.RootElement.GetProperty("items").EnumerateArray());
            Assert.Equal(id, job.GetProperty("id").GetString());
            Assert.Equal("Flaky", job.GetProperty("task").GetString());
            Assert.Equal("System.InvalidOperationException", job.GetProperty("lastError").GetProperty("type").GetString());
        }
        using (var failures = JsonDocument.Parse(await http.GetStringAsync(new Uri("api/failures", UriKind.Relative))))
            Assert.Contains(failures.RootElement.EnumerateArray(), f => f.GetProperty("id").GetString() == id);
        Assert.StartsWith("[", await http.GetStringAsync(new Uri("api/schedules", UriKind.Relative)), StringComparison.Ordinal);

        // Requeued through the API (with the page's token), it runs again and succeeds.
        app.Probe.FailFlaky = false;
        using var token = JsonDocument.Parse(await http.GetStringAsync(new Uri("api/antiforgery", UriKind.Relative)));
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri("api/actions/requeue/" + id, UriKind.Relative));
        request.Headers.Add(token.RootElement.GetProperty("headerName").GetString()!, token.RootElement.GetProperty("token").GetString());
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(request)).StatusCode);
        Assert.Equal(id, await app.Probe.Succeeded(label).Task.WaitAsync(DashboardApp.Bound));
        Assert.NotEqual(TempestJobState.Dead, (await queue.GetAsync(id))?.State);
    }
}
