using Microsoft.Extensions.DependencyInjection;

namespace TaskTempest.Hosting;

/// <summary>
/// What <c>services.AddTempest&lt;TEngine&gt;()</c> returns: more settings for that hosted engine. Every call for the same
/// engine type adds to one registration; the engine is made, and its settings applied, when it is first resolved.
/// </summary>
/// <typeparam name="TEngine">The hosted engine.</typeparam>
public sealed class TempestBuilder<TEngine> where TEngine : TempestEngine, ITempestEngine<TEngine>
{
    private readonly TempestRegistration<TEngine> _registration;

    internal TempestBuilder(IServiceCollection services, TempestRegistration<TEngine> registration)
    {
        Services = services;
        _registration = registration;
    }

    /// <summary>The service collection the engine is registered in.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Sets host options in code (<see cref="TempestHostOptions.LogFiles"/>, say); configuration's
    /// <c>Tempest:&lt;Name&gt;</c> section is bound over them.</summary>
    public TempestBuilder<TEngine> ConfigureHost(Action<TempestHostOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        _registration.ConfigureHost(configure);
        return this;
    }

    /// <summary>Binds the host options from <paramref name="sectionPath"/> instead of <c>Tempest:&lt;Name&gt;</c>.</summary>
    public TempestBuilder<TEngine> BindConfiguration(string sectionPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(sectionPath);
        _registration.SectionPath = sectionPath;
        return this;
    }

    /// <summary>Sets the engine's options in code once more (instances: the queue, the clock), with the host's services at hand.</summary>
    public TempestBuilder<TEngine> Configure(Action<IServiceProvider, TempestOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        _registration.ConfigureOptions(configure);
        return this;
    }
}
