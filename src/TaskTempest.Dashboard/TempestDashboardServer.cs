using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace TaskTempest.Dashboard;

/// <summary>
/// The dashboard on a Kestrel server of its own, for a worker without a web app: it listens on
/// <see cref="TempestDashboardOptions.Standalone"/> and serves the dashboard at the root path. Registered by
/// <c>AddTempestDashboard</c> as a hosted service (it does nothing when <c>Standalone</c> is null), or started directly with
/// <see cref="StartAsync(TempestDashboardOptions, CancellationToken)"/>.
/// </summary>
public sealed class TempestDashboardServer : IHostedService, IAsyncDisposable
{
    private readonly TempestDashboardOptions _options;
    private readonly IServiceProvider? _hostServices;
    private WebApplication? _app;

    internal TempestDashboardServer(TempestDashboardOptions options, IServiceProvider? hostServices)
    {
        _options = options;
        _hostServices = hostServices;
    }

    /// <summary>Where it listens once started (<c>http://127.0.0.1:5099</c>; the real port when the endpoint's was 0); empty before.</summary>
    public IReadOnlyList<string> Addresses { get; private set; } = [];

    /// <summary>Starts a dashboard on <see cref="TempestDashboardOptions.Standalone"/> for <see cref="TempestDashboardOptions.Inspector"/>
    /// (both required here); dispose it to stop.</summary>
    /// <param name="options">The options; they are copied.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<TempestDashboardServer> StartAsync(TempestDashboardOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Inspector is null) throw new ArgumentException("Set TempestDashboardOptions.Inspector: the queue to show.", nameof(options));
        if (options.Standalone is null) throw new ArgumentException("Set TempestDashboardOptions.Standalone: the endpoint to listen on.", nameof(options));
        var server = new TempestDashboardServer(options.Clone(), null);
        await server.StartAsync(cancellationToken).ConfigureAwait(false);
        return server;
    }

    /// <inheritdoc/>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.Standalone is not { } endpoint) return;
        if (_options.ViewPolicy is not null || _options.ActionPolicy is not null)
            throw new InvalidOperationException("A standalone dashboard has no authentication of its own: use ViewFilter and ActionFilter (predicates), not policies, or mount it in your web app with MapTempestDashboard.");
        var options = _options.Clone();
        if (options.Inspector is null && _hostServices is not null)
            options.Inspector = DashboardEndpoints.ResolveInspector(options, _hostServices).Inspector;
        var engines = _hostServices?.GetServices<TempestEngine>().ToList() ?? [];

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        // Its own server only: no appsettings.json or ASPNETCORE_* of the worker's (a Kestrel:Endpoints section there
        // would add listeners beside the one asked for), and the worker's logs stay the worker's.
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(endpoint));
        builder.Services.AddAntiforgery();
        // The host's engines, so the page names them.
        foreach (var engine in engines) builder.Services.AddSingleton(engine);
        var app = builder.Build();
        app.MapTempestDashboard("/", o =>
        {
            o.Inspector = options.Inspector; o.Title = options.Title; o.ViewFilter = options.ViewFilter; o.ActionFilter = options.ActionFilter;
            o.ShowPayloads = options.ShowPayloads; o.HistorySeconds = options.HistorySeconds;
        });
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _app = app;
        Addresses = [.. app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? []];
    }

    /// <inheritdoc/>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _app, null) is { } app)
        {
            await app.StopAsync(cancellationToken).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);
}
