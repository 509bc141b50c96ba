using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TaskTempest.Hosting.Tests;

public class AspNetCoreTests
{
    [Fact]
    public async Task An_endpoint_submits_through_the_injected_engine_and_the_health_endpoint_reports_it()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0"); // loopback, a free port
        builder.Logging.ClearProviders();
        var probe = new Probe();
        builder.Services.AddSingleton(probe);
        builder.Services.AddTempest<HostedTempest>();
        builder.Services.AddHealthChecks().AddTempest<HostedTempest>();
        await using var app = builder.Build();
        app.MapPost("/signal/{label}", (string label, HostedTempest engine) => Results.Ok(engine.SubmitSignal(label).Id));
        app.MapHealthChecks("/health");
        await app.StartAsync();
        try
        {
            string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            using var http = new HttpClient { BaseAddress = new Uri(address), Timeout = TestHost.Bound };

            var response = await http.PostAsync(new Uri("/signal/web", UriKind.Relative), null);
            response.EnsureSuccessStatusCode();
            string id = (await response.Content.ReadFromJsonAsync<string>())!;
            Assert.Equal(id, await probe.Done("web").Task.WaitAsync(TestHost.Bound));
            Assert.Equal("Healthy", await http.GetStringAsync(new Uri("/health", UriKind.Relative)));
        }
        finally
        {
            await app.StopAsync();
        }
        Assert.True((await app.Services.GetRequiredService<TempestHostedService<HostedTempest>>().Completion).Drained);
    }
}
