using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TaskTempest;
using TaskTempest.Hosting;

// Beside AddHostedService and AddHealthChecks, where a host's code looks for them.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Runs TaskTempest engines in a .NET host: <c>builder.Services.AddTempest&lt;MathTempest&gt;()</c>.</summary>
public static class TempestServiceCollectionExtensions
{
    /// <summary>
    /// Registers <typeparamref name="TEngine"/> as a singleton (inject it to submit jobs) and runs it as a hosted service:
    /// it starts with the host, stops when the host stops (SIGINT, SIGTERM, <c>StopApplication</c>), and drains within the
    /// host's shutdown timeout less a margin. The engine logs to the host's logging, draws task constructors' services from the
    /// host's container (one scope per job) and binds <see cref="TempestHostOptions"/> from <c>Tempest:&lt;Name&gt;</c>.
    /// Each engine type gets its own call; a second call for the same type adds to the first.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configure">Sets the engine's options: instances such as the queue and the clock, and any other value.</param>
    /// <typeparam name="TEngine">A <c>[Tempest]</c> engine.</typeparam>
    public static TempestBuilder<TEngine> AddTempest<TEngine>(this IServiceCollection services, Action<TempestOptions>? configure = null)
        where TEngine : TempestEngine, ITempestEngine<TEngine>
    {
        var builder = Register<TEngine>(services, out var registration);
        if (configure is not null) registration.ConfigureOptions((_, options) => configure(options));
        return builder;
    }

    /// <inheritdoc cref="AddTempest{TEngine}(IServiceCollection, Action{TempestOptions}?)"/>
    /// <param name="services">The host's services.</param>
    /// <param name="configure">Sets the engine's options, with the host's services at hand (a queue made from a registered
    /// data source, say).</param>
    public static TempestBuilder<TEngine> AddTempest<TEngine>(this IServiceCollection services, Action<IServiceProvider, TempestOptions> configure)
        where TEngine : TempestEngine, ITempestEngine<TEngine>
    {
        ArgumentNullException.ThrowIfNull(configure);
        var builder = Register<TEngine>(services, out var registration);
        registration.ConfigureOptions(configure);
        return builder;
    }

    private static TempestBuilder<TEngine> Register<TEngine>(IServiceCollection services, out TempestRegistration<TEngine> registration)
        where TEngine : TempestEngine, ITempestEngine<TEngine>
    {
        ArgumentNullException.ThrowIfNull(services);
        foreach (var descriptor in services)
        {
            if (descriptor.ServiceType == typeof(TempestRegistration<TEngine>) && descriptor.ImplementationInstance is TempestRegistration<TEngine> existing)
            {
                registration = existing;
                return new TempestBuilder<TEngine>(services, existing);
            }
        }
        var created = new TempestRegistration<TEngine>();
        registration = created;
        services.AddSingleton(created);
        // Factories throughout: nothing here is activated by reflection.
        services.AddSingleton(provider => created.CreateEngine(provider));
        // Also as its base type, so that code that serves every engine (the dashboard) finds them all without knowing their types.
        services.AddSingleton<TempestEngine>(provider => provider.GetRequiredService<TEngine>());
        services.AddSingleton(provider => new TempestHostedService<TEngine>(
            provider.GetRequiredService<TEngine>(),
            provider.GetService<IOptions<HostOptions>>()?.Value.ShutdownTimeout ?? new HostOptions().ShutdownTimeout,
            provider.GetService<ILoggerFactory>(),
            provider.GetService<IHostApplicationLifetime>()));
        // One hosted service per engine type: a descriptor with a factory cannot go through TryAddEnumerable.
        services.AddSingleton<IHostedService>(provider => provider.GetRequiredService<TempestHostedService<TEngine>>());
        return new TempestBuilder<TEngine>(services, created);
    }
}
