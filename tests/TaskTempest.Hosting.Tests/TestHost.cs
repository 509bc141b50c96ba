using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace TaskTempest.Hosting.Tests;

/// <summary>A worker-service host for one test: no default sources or console logger, a capturing logger and a probe.</summary>
internal sealed class TestHost
{
    /// <summary>How long a test waits for something that happens within milliseconds, before it fails instead of hanging.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    public TestHost(Action<HostApplicationBuilder> configure, TimeSpan? shutdownTimeout = null)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Trace);
        builder.Logging.AddProvider(Logs);
        builder.Services.AddSingleton(Probe);
        if (shutdownTimeout is { } timeout) builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = timeout);
        configure(builder);
        Host = builder.Build();
    }

    public IHost Host { get; }
    public CapturingLoggerProvider Logs { get; } = new();
    public Probe Probe { get; } = new();

    public T Get<T>() where T : notnull => Host.Services.GetRequiredService<T>();

    /// <summary>The engine's main-log line that says it began to drain (it follows the stop at once).</summary>
    public Task<CapturedLine> Draining(string engine) =>
        Logs.WaitFor(l => l.Category == "TaskTempest." + engine && l.Message.StartsWith("shutdown requested", StringComparison.Ordinal));
}
