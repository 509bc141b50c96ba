using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TaskTempest.Hosting;

/// <summary>
/// What the <c>AddTempest&lt;TEngine&gt;</c> calls for one engine type said, kept in the service collection as an instance, so
/// that a second call adds to the first rather than registering a second engine; and the factory that makes the engine.
/// </summary>
internal sealed class TempestRegistration<TEngine> where TEngine : TempestEngine, ITempestEngine<TEngine>
{
    private readonly List<Action<IServiceProvider, TempestOptions>> _configureOptions = [];
    private readonly List<Action<TempestHostOptions>> _configureHost = [];

    /// <summary>The configuration section the host options bind from; null: <c>Tempest:&lt;Name&gt;</c>.</summary>
    public string? SectionPath { get; set; }

    public void ConfigureOptions(Action<IServiceProvider, TempestOptions> configure) => _configureOptions.Add(configure);

    public void ConfigureHost(Action<TempestHostOptions> configure) => _configureHost.Add(configure);

    /// <summary>
    /// Makes the engine: the generated <c>Create</c> (its <c>Configure</c> runs there), then the code's options, then the host
    /// options (code, then configuration over it), then what the host owns: signals, services and, unless log files were
    /// asked for, logging.
    /// </summary>
    public TEngine CreateEngine(IServiceProvider services)
    {
        // Set before Create, so that the engine's own Configure already sees the host's services.
        var engine = TEngine.Create(new TempestOptions { HandleSignals = false, Services = services });
        var options = engine.Options;
        foreach (var configure in _configureOptions) configure(services, options);

        var host = new TempestHostOptions();
        foreach (var configure in _configureHost) configure(host);
        if (services.GetService<IConfiguration>() is { } configuration)
            configuration.GetSection(SectionPath ?? TempestHostOptions.SectionName + ":" + engine.Name).Bind(host);
        host.ApplyTo(options);

        // The host's lifetime delivers SIGINT and SIGTERM (as a stop); an engine that also caught them would stop on its own,
        // outside the host's shutdown order.
        options.HandleSignals = false;
        options.Services ??= services;
        if (host.LogFiles != true && services.GetService<ILoggerFactory>() is { } loggerFactory)
        {
            options.MainLoggerFactory ??= new HostLoggerFactory(loggerFactory, "", () => options.LogLevel);
            options.TaskLoggerFactory ??= new HostLoggerFactory(loggerFactory, HostLoggerFactory.TaskSuffix, () => options.TaskLogLevel);
        }
        return engine;
    }
}
