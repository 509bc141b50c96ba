using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TaskTempest.Queues;
using TaskTempest.Testing;

namespace TaskTempest.Dashboard.Tests;

/// <summary>
/// An ASP.NET Core app on 127.0.0.1 (a free port) with the dashboard at /tempest over a TempestLeasingMemoryQueue
/// (the core's TempestMemoryQueue has no inspector) and DashTempest hosted on it, running.
/// </summary>
public sealed class DashboardApp : IAsyncDisposable
{
    /// <summary>A request with this header is made to look remote (its RemoteIpAddress becomes 203.0.113.7, a documentation
    /// address), so the loopback rule is checked end to end through Kestrel.</summary>
    public const string PretendRemoteHeader = "X-Test-Pretend-Remote";

    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private readonly WebApplication _app;

    private DashboardApp(WebApplication app, string address)
    {
        _app = app;
        Address = address;
        Engine = app.Services.GetRequiredService<DashTempest>();
        Probe = app.Services.GetRequiredService<Probe>();
    }

    public string Address { get; }

    public string Dashboard => Address + "/tempest/";

    public DashTempest Engine { get; }

    public Probe Probe { get; }

    /// <summary>The engine's queue, as the dashboard reads it.</summary>
    public ITempestQueueInspector Queue => (ITempestQueueInspector)Engine.Queue;

    /// <param name="configure">The dashboard's options.</param>
    /// <param name="serverQueue">A queue on a server instead of the leasing memory queue.</param>
    public static async Task<DashboardApp> StartAsync(Action<TempestDashboardOptions>? configure = null, ITempestQueue? serverQueue = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(new Probe());
        var queue = serverQueue ?? new TempestLeasingMemoryQueue(TimeProvider.System, new TempestLeasingMemoryQueueOptions { LeaseDuration = TimeSpan.FromSeconds(30) });
        builder.Services.AddTempest<DashTempest>(options =>
        {
            options.Queue = queue;
            options.QueuePollInterval = TimeSpan.FromMilliseconds(50);
        });
        builder.Services.AddTempestDashboard(configure);
        var app = builder.Build();
        app.Use((context, next) =>
        {
            if (context.Request.Headers.ContainsKey(PretendRemoteHeader)) context.Connection.RemoteIpAddress = IPAddress.Parse("203.0.113.7");
            return next(context);
        });
        app.MapTempestDashboard("/tempest");
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new DashboardApp(app, address);
    }

    /// <summary>Waits, with a bound, until the queue holds <paramref name="id"/> as a dead letter.</summary>
    public async Task WaitForDeadAsync(string id)
    {
        var clock = Stopwatch.StartNew();
        while ((await Queue.GetAsync(id))?.State != TempestJobState.Dead)
        {
            if (clock.Elapsed > Bound) throw new TimeoutException($"{id} never reached the dead letters");
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
