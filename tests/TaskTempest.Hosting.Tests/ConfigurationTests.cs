using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TaskTempest.Queues;

namespace TaskTempest.Hosting.Tests;

public class ConfigurationTests
{
    [Fact]
    public void Each_engine_binds_its_own_Tempest_section_over_the_values_set_in_code()
    {
        var test = new TestHost(b =>
        {
            b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Tempest:HostedTempest:ShutdownTimeout"] = "00:00:03",
                ["Tempest:HostedTempest:QueuePollInterval"] = "00:00:00.250",
                ["Tempest:HostedTempest:TimeoutGrace"] = "00:00:02",
                ["Tempest:HostedTempest:MaxOrphanedWorkers"] = "7",
                ["Tempest:HostedTempest:LogLevel"] = "Warning",
                ["Tempest:HostedTempest:TaskLogLevel"] = "Error",
                ["Tempest:HostedTempest:Root"] = "/var/lib/worker",
                ["Tempest:HostedTempest:LogFile"] = "main.log",
                ["Tempest:HostedTempest:LogFiles"] = "true",
                ["Tempest:HostedTempest:QueueOrder"] = "Weighted",
                ["Tempest:HostedTempest:Queues:0:Name"] = "critical",
                ["Tempest:HostedTempest:Queues:0:Weight"] = "3",
                ["Tempest:HostedTempest:Queues:1:Name"] = "mail",
                ["Tempest:HostedTempest:Queues:1:MaxConcurrency"] = "2",
                ["Tempest:SecondTempest:MaxOrphanedWorkers"] = "1",
            });
            b.Services.AddTempest<HostedTempest>(o =>
            {
                o.QueuePollInterval = TimeSpan.FromSeconds(5);         // configuration names it: configuration wins
                o.LoopBlockedThreshold = TimeSpan.FromSeconds(3);      // configuration does not: code's stays
                o.Queues.Add(new TempestNamedQueue("from-code"));
            });
            b.Services.AddTempest<SecondTempest>();
        });

        var options = test.Get<HostedTempest>().Options;
        Assert.Equal(TimeSpan.FromSeconds(3), options.ShutdownTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.QueuePollInterval);
        Assert.Equal(TimeSpan.FromSeconds(2), options.TimeoutGrace);
        Assert.Equal(7, options.MaxOrphanedWorkers);
        Assert.Equal(LogLevel.Warning, options.LogLevel);
        Assert.Equal(LogLevel.Error, options.TaskLogLevel);
        Assert.Equal("/var/lib/worker", options.Root);
        Assert.Equal("main.log", options.LogFile);
        Assert.Null(options.MainLoggerFactory); // LogFiles: the engine's files
        Assert.Equal(TimeSpan.FromSeconds(3), options.LoopBlockedThreshold);
        Assert.Equal(TempestQueueOrder.Weighted, options.QueueOrder);
        Assert.Equal([new TempestNamedQueue("critical") { Weight = 3 }, new TempestNamedQueue("mail") { MaxConcurrency = 2 }], options.Queues);

        var second = test.Get<SecondTempest>().Options;
        Assert.Equal(1, second.MaxOrphanedWorkers);
        Assert.Null(second.ShutdownTimeout);
        Assert.NotNull(second.MainLoggerFactory); // no LogFiles in its section: the host's logging
        test.Host.Dispose();
    }

    [Fact]
    public void BindConfiguration_reads_another_section_and_ConfigureHost_sets_host_options_in_code()
    {
        var test = new TestHost(b =>
        {
            b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Tempest:HostedTempest:MaxOrphanedWorkers"] = "7", // not read: the engine binds Workers:Math
                ["Workers:Math:MaxOrphanedWorkers"] = "4",
            });
            b.Services.AddTempest<HostedTempest>()
                .BindConfiguration("Workers:Math")
                .ConfigureHost(h => { h.MaxOrphanedWorkers = 9; h.TimeoutGrace = TimeSpan.FromSeconds(5); })
                .Configure((services, o) => o.Root = services.GetRequiredService<Probe>() is not null ? "/from-services" : null);
        });
        var options = test.Get<HostedTempest>().Options;
        Assert.Equal(4, options.MaxOrphanedWorkers);                 // the section over ConfigureHost's 9
        Assert.Equal(TimeSpan.FromSeconds(5), options.TimeoutGrace); // ConfigureHost's, the section has none
        Assert.Equal("/from-services", options.Root);
        test.Host.Dispose();
    }

    [Fact]
    public async Task A_log_level_from_configuration_filters_the_engines_lines_in_the_hosts_logging()
    {
        var test = new TestHost(b =>
        {
            b.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Tempest:HostedTempest:LogLevel"] = "Warning" });
            b.Services.AddTempest<HostedTempest>();
        });
        await test.Host.StartAsync();
        string id = test.Get<HostedTempest>().SubmitSignal("quiet").Id;
        await test.Probe.Done("quiet").Task.WaitAsync(TestHost.Bound);
        await test.Host.StopAsync();
        test.Host.Dispose();

        var lines = test.Logs.Lines;
        Assert.DoesNotContain(lines, l => l.Category == "TaskTempest.HostedTempest" && l.Level < LogLevel.Warning);
        Assert.Contains(lines, l => l.Category == "TaskTempest.HostedTempest.Tasks" && l.Message == $"{{{id}}} <Signal> signal quiet"); // the task log keeps Information
    }

    [Fact]
    public async Task A_setting_the_engine_refuses_fails_the_hosts_start()
    {
        var test = new TestHost(b =>
        {
            b.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Tempest:HostedTempest:QueuePollInterval"] = "00:00:00" });
            b.Services.AddTempest<HostedTempest>();
        });
        var refused = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => test.Host.StartAsync());
        Assert.Contains("QueuePollInterval must be more than 0", refused.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => test.Get<TempestHostedService<HostedTempest>>().Completion);
        Assert.Equal(TempestEngineState.Stopped, test.Get<HostedTempest>().State);
        test.Host.Dispose();
    }
}
