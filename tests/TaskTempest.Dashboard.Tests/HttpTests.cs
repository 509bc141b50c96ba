using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using System.Text.Json;
using TaskTempest.Queues;

namespace TaskTempest.Dashboard.Tests;

/// <summary>The safety rules and the JSON endpoints, over HTTP to a real Kestrel app on loopback.</summary>
public sealed class HttpTests
{
    private static HttpClient Client(DashboardApp app, CookieContainer? cookies = null) =>
        new(new HttpClientHandler { CookieContainer = cookies ?? new CookieContainer(), UseCookies = true })
        { BaseAddress = new Uri(app.Dashboard), Timeout = DashboardApp.Bound };

    private static HttpRequestMessage Remote(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        request.Headers.Add(DashboardApp.PretendRemoteHeader, "1");
        return request;
    }

    [Fact]
    public async Task A_remote_request_is_refused_without_a_view_policy_and_answered_with_one()
    {
        await using (var app = await DashboardApp.StartAsync())
        {
            using var http = Client(app);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("api/overview", UriKind.Relative))).StatusCode); // loopback
            foreach (string path in new[] { "", "app.js", "api/overview", "api/jobs?state=Dead", "api/antiforgery" })
            {
                var response = await http.SendAsync(Remote(HttpMethod.Get, path));
                Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
                Assert.Contains("loopback requests only", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
        }
        // A view filter opens it (here: to a header a test sets; a real one checks the user).
        await using (var app = await DashboardApp.StartAsync(o => o.ViewFilter = c => c.Request.Headers.ContainsKey(DashboardApp.PretendRemoteHeader)))
        {
            using var http = Client(app);
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(Remote(HttpMethod.Get, "api/overview"))).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync(new Uri("api/overview", UriKind.Relative))).StatusCode); // the filter, not loopback, decides now
        }
    }

    [Fact]
    public async Task An_action_without_an_action_policy_is_refused_even_with_a_valid_token()
    {
        await using var app = await DashboardApp.StartAsync();
        string id = app.Engine.SubmitFail("x").Id;
        await app.WaitForDeadAsync(id);
        using var http = Client(app);
        using var overview = JsonDocument.Parse(await http.GetStringAsync(new Uri("api/overview", UriKind.Relative)));
        Assert.False(overview.RootElement.GetProperty("actionsAllowed").GetBoolean());
        foreach (string action in new[] { "requeue/" + id, "requeue-all", "delete/" + id, "delete-all-dead" })
        {
            var response = await http.PostAsync(new Uri("api/actions/" + action, UriKind.Relative), null);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Contains("actions are off", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.Equal(TempestJobState.Dead, (await app.Queue.GetAsync(id))!.State);
    }

    [Fact]
    public async Task An_action_needs_the_antiforgery_token_and_then_requeues_and_deletes()
    {
        await using var app = await DashboardApp.StartAsync(o => o.ActionFilter = _ => true);
        string first = app.Engine.SubmitFail("a").Id, second = app.Engine.SubmitFail("b").Id, third = app.Engine.SubmitFail("c").Id;
        foreach (var id in new[] { first, second, third }) await app.WaitForDeadAsync(id);
        var cookies = new CookieContainer();
        using var http = Client(app, cookies);

        // No token, and a token without its cookie: refused, nothing changed.
        var bare = await http.PostAsync(new Uri("api/actions/delete/" + first, UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.BadRequest, bare.StatusCode);
        Assert.Contains("antiforgery", await bare.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var tokenJson = JsonDocument.Parse(await http.GetStringAsync(new Uri("api/antiforgery", UriKind.Relative)));
        string header = tokenJson.RootElement.GetProperty("headerName").GetString()!, token = tokenJson.RootElement.GetProperty("token").GetString()!;
        using (var stranger = Client(app))
        {
            var request = new HttpRequestMessage(HttpMethod.Post, new Uri("api/actions/delete/" + first, UriKind.Relative));
            request.Headers.Add(header, token);
            Assert.Equal(HttpStatusCode.BadRequest, (await stranger.SendAsync(request)).StatusCode);
        }
        Assert.Equal(TempestJobState.Dead, (await app.Queue.GetAsync(first))!.State);

        async Task<JsonElement> Post(string action)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, new Uri("api/actions/" + action, UriKind.Relative));
            request.Headers.Add(header, token);
            var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        }
        Assert.Equal(1, (await Post("delete/" + first)).GetProperty("count").GetInt32());
        Assert.Null(await app.Queue.GetAsync(first));
        Assert.Equal(2, (await Post("delete-all-dead")).GetProperty("count").GetInt32());
        Assert.Equal(0L, (await app.Queue.GetCountsAsync()).Dead);
    }

    [Fact]
    public async Task Payloads_are_hidden_by_default_their_type_and_length_shown()
    {
        const string secret = "jane.doe@example.com";
        await using var app = await DashboardApp.StartAsync();
        string id = app.Engine.SubmitFail(secret).Id;
        await app.WaitForDeadAsync(id);
        using var http = Client(app);
        foreach (string path in new[] { "api/jobs/" + id, "api/jobs?state=Dead", "api/failures" })
        {
            string json = await http.GetStringAsync(new Uri(path, UriKind.Relative));
            Assert.DoesNotContain(secret, json, StringComparison.Ordinal);
            Assert.Contains("\"type\":\"System.InvalidOperationException\"", json, StringComparison.Ordinal);
        }
        using var job = JsonDocument.Parse(await http.GetStringAsync(new Uri("api/jobs/" + id, UriKind.Relative)));
        var argument = job.RootElement.GetProperty("payload").GetProperty("arguments")[0];
        Assert.Equal("string", argument.GetProperty("kind").GetString());
        Assert.Equal(secret.Length, argument.GetProperty("length").GetInt32());
        Assert.False(argument.TryGetProperty("value", out _));
        Assert.False(job.RootElement.GetProperty("payload").TryGetProperty("message", out _));
        Assert.Contains("characters hidden]", job.RootElement.GetProperty("deadReason").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri("api/jobs/nosuchjob", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync(new Uri("api/jobs?state=Nowhere", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task The_standalone_server_listens_on_loopback_for_a_worker_without_a_web_app()
    {
        var queue = new TaskTempest.Testing.TempestLeasingMemoryQueue();
        await using var server = await TempestDashboardServer.StartAsync(new TempestDashboardOptions
        {
            Inspector = queue, Standalone = new IPEndPoint(IPAddress.Loopback, 0), Title = "standalone",
        });
        string address = Assert.Single(server.Addresses);
        Assert.StartsWith("http://127.0.0.1:", address, StringComparison.Ordinal);
        using var http = new HttpClient { BaseAddress = new Uri(address), Timeout = DashboardApp.Bound };
        using var overview = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/overview", UriKind.Relative)));
        Assert.Equal("standalone", overview.RootElement.GetProperty("title").GetString());
        Assert.Contains("<title>", await http.GetStringAsync(new Uri("/", UriKind.Relative)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_running_job_shows_its_worker_start_and_duration()
    {
        await using var app = await DashboardApp.StartAsync();
        string id = app.Engine.SubmitHold("long").Id;
        using var http = Client(app);
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (true)
            {
                // The sampler sees a lease within a second; the duration then grows from there.
                using var page = JsonDocument.Parse(await http.GetStringAsync(new Uri("api/jobs?state=Running", UriKind.Relative)));
                var items = page.RootElement.GetProperty("items");
                if (items.GetArrayLength() == 1 && items[0].TryGetProperty("runningSince", out _) && items[0].GetProperty("runningSeconds").GetDouble() > 0)
                {
                    var job = items[0];
                    Assert.Equal(id, job.GetProperty("id").GetString());
                    Assert.Equal("Hold", job.GetProperty("task").GetString());
                    Assert.Equal(1, job.GetProperty("attempt").GetInt32());
                    Assert.StartsWith("DashTempest on ", job.GetProperty("worker").GetString(), StringComparison.Ordinal);
                    break;
                }
                Assert.True(clock.Elapsed < DashboardApp.Bound, "the running job never showed with its start");
                await Task.Delay(50);
            }
            using var overview = JsonDocument.Parse(await http.GetStringAsync(new Uri("api/overview", UriKind.Relative)));
            Assert.Equal(1, overview.RootElement.GetProperty("counts").GetProperty("running").GetInt64());
        }
        finally
        {
            app.Probe.Gate.TrySetResult();
        }
    }

    [Fact]
    public async Task A_queue_without_an_inspector_is_refused_when_mapped_with_the_reason()
    {
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
        builder.Services.AddTempest<DashTempest>(o => o.Queue = new UninspectedQueue());
        builder.Services.AddTempestDashboard();
        await using var app = builder.Build();
        var refused = Assert.Throws<InvalidOperationException>(() => app.MapTempestDashboard("/tempest"));
        Assert.Contains("ITempestQueueInspector", refused.Message, StringComparison.Ordinal);
        Assert.Contains("DashTempest: UninspectedQueue", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>A queue with the contract's minimum, and so no inspector (every queue the packages ship has one).</summary>
    private sealed class UninspectedQueue : TaskTempest.Queues.ITempestQueue
    {
        private readonly TaskTempest.Queues.TempestMemoryQueue _inner = new();

        public ValueTask EnqueueAsync(TempestMessage message, CancellationToken cancellationToken = default) => _inner.EnqueueAsync(message, cancellationToken);

        public ValueTask<TempestMessage?> DequeueAsync(CancellationToken cancellationToken) => _inner.DequeueAsync(cancellationToken);
    }
}
