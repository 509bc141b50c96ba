using System.Net;
using System.Text.Json;
using Npgsql;
using TaskTempest.PostgreSql;
using TaskTempest.Queues;

namespace TaskTempest.Dashboard.Tests;

/// <summary>The JSON endpoints over the run's PostgreSQL (TASKTEMPEST_POSTGRES; scripts/test.sh starts it), in a schema of
/// the test's own, dropped at the end. Without the server it fails with the way to start it (never a skip).</summary>
public sealed class PostgreSqlTests
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
            await using var app = await DashboardApp.StartAsync(o => o.ActionFilter = _ => true, queue);
            string id = app.Engine.SubmitFlaky("postgres").Id;
            await app.WaitForDeadAsync(id);
            for (int i = 0; i < 5; i++) app.Engine.SubmitQuick(i);

            using var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = new Uri(app.Dashboard), Timeout = DashboardApp.Bound };
            using (var overview = JsonDocument.Parse(await http.GetStringAsync(new Uri("api/overview", UriKind.Relative))))
            {
                Assert.Equal(1, overview.RootElement.GetProperty("counts").GetProperty("dead").GetInt64());
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
            Assert.Equal(id, await app.Probe.Succeeded("postgres").Task.WaitAsync(DashboardApp.Bound));
            Assert.NotEqual(TempestJobState.Dead, (await queue.GetAsync(id))?.State);
        }
        finally
        {
            await using var drop = dataSource.CreateCommand($"DROP SCHEMA IF EXISTS {schema} CASCADE");
            await drop.ExecuteNonQueryAsync();
        }
    }
}
