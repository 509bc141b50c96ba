using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace TaskTempest.Hosting.Tests;

public class HostedEngineTests
{
    private static readonly TimeSpan Bound = TestHost.Bound;

    [Fact]
    public async Task A_hosted_engine_runs_jobs_submitted_through_the_injected_engine_and_stops_with_the_host()
    {
        var test = new TestHost(b => b.Services.AddTempest<HostedTempest>(o => o.HandleSignals = true)); // the host owns signals anyway
        var engine = test.Get<HostedTempest>();
        var hosted = test.Get<TempestHostedService<HostedTempest>>();
        Assert.Same(engine, hosted.Engine);
        Assert.Single(test.Get<IEnumerable<IHostedService>>().OfType<TempestHostedService<HostedTempest>>());
        Assert.Equal(TempestEngineState.Stopped, engine.State);

        await test.Host.StartAsync();
        Assert.Equal(TempestEngineState.Running, engine.State);
        Assert.False(engine.Options.HandleSignals);
        string id = engine.SubmitSignal("one").Id;
        Assert.Equal(id, await test.Probe.Done("one").Task.WaitAsync(Bound));

        await test.Host.StopAsync();
        var result = await hosted.Completion.WaitAsync(Bound);
        Assert.Equal(TempestStopReason.StopRequested, result.StopReason);
        Assert.Equal(1, result.TasksSucceeded);
        Assert.True(result.Drained);
        Assert.Equal(TempestEngineState.Stopped, engine.State);
        // The run's result, logged by the hosted service.
        Assert.Contains(test.Logs.Lines, l => l.Category == "TaskTempest.Hosting" && l.Message == "HostedTempest: " + result);
        test.Host.Dispose();
    }

    [Fact]
    public async Task The_engine_drains_within_the_hosts_shutdown_timeout_less_the_margin_when_its_own_is_longer()
    {
        var time = new WatchedTime();
        var test = new TestHost(b => b.Services.AddTempest<HostedTempest>(o => o.TimeProvider = time), shutdownTimeout: TimeSpan.FromSeconds(5));
        var engine = test.Get<HostedTempest>();
        var hosted = test.Get<TempestHostedService<HostedTempest>>();
        Assert.Equal(TimeSpan.FromSeconds(30), engine.ShutdownTimeout); // the attribute's default, before the host starts
        try
        {
            await test.Host.StartAsync();
            Assert.Equal(TimeSpan.FromSeconds(4), hosted.DrainTimeout);
            Assert.Contains(test.Logs.Lines, l => l.Message == "HostedTempest: starting; drains within 4 s on stop (its own shutdown timeout 30 s, the host's 5 s less the margin)");
            string stuck = engine.SubmitHold("stuck").Id;
            await test.Probe.Started("stuck").Task.WaitAsync(Bound);

            var stopping = test.Host.StopAsync();
            Assert.Equal("shutdown requested (StopRequested): waiting up to 4 s for running tasks", (await test.Draining("HostedTempest").WaitAsync(Bound)).Message);
            // The drain's deadline is a timer on the engine's clock, due in 4 s: just short of it nothing gives.
            await time.TimerCreated(TimeSpan.FromSeconds(4)).WaitAsync(Bound);
            time.Fake.Advance(TimeSpan.FromSeconds(4) - TimeSpan.FromTicks(1));
            Assert.False(stopping.IsCompleted);
            Assert.Equal(TempestEngineState.Draining, engine.State);
            time.Fake.Advance(TimeSpan.FromTicks(1));

            await stopping.WaitAsync(Bound);
            var result = await hosted.Completion.WaitAsync(Bound);
            Assert.Equal([stuck], result.AbortedTaskIds);
            Assert.Equal(1, result.ExitCode);
            Assert.Contains(test.Logs.Lines, l => l.Category == "TaskTempest.Hosting" && l.Level == LogLevel.Warning && l.Message.EndsWith("1 aborted", StringComparison.Ordinal));
            Assert.DoesNotContain(test.Logs.Lines, l => l.Message.Contains("stopped waiting", StringComparison.Ordinal)); // the host never gave up on it
        }
        finally
        {
            test.Probe.OpenAll();
            test.Host.Dispose();
        }
    }

    [Theory]
    [InlineData(30, 5, 4)]      // the host's 5 s less its 1 s margin
    [InlineData(2, 5, 2)]       // its own is shorter: kept
    [InlineData(30, 30, 27)]    // 10 % of a long host timeout
    [InlineData(-1, 5, 4)]      // an engine that would wait forever is bounded too
    [InlineData(30, -1, 30)]    // a host that waits forever bounds nothing
    [InlineData(30, 0.5, 0)]    // a host that barely waits: aborted at once, messages returned
    [InlineData(-1, -1, -1)]
    public void The_drain_timeout_is_the_smaller_of_the_engines_and_the_hosts_less_a_margin(double engineSeconds, double hostSeconds, double expectedSeconds)
    {
        static TimeSpan Of(double seconds) => seconds < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(seconds);
        Assert.Equal(Of(expectedSeconds), TempestShutdown.DrainTimeout(Of(engineSeconds), Of(hostSeconds)));
    }

    [Fact]
    public async Task Several_engines_in_one_host_run_side_by_side_and_drain_at_the_same_time()
    {
        var test = new TestHost(b =>
        {
            // Engine clocks that stand still: however slow the machine, no drain runs out before the gates open.
            b.Services.AddTempest<HostedTempest>(o => o.TimeProvider = new WatchedTime());
            b.Services.AddTempest<SecondTempest>(o => o.TimeProvider = new WatchedTime());
            b.Services.AddTempest<ShortDrainTempest>();
        }, shutdownTimeout: TimeSpan.FromSeconds(5));
        try
        {
            await test.Host.StartAsync();
            var first = test.Get<HostedTempest>();
            var second = test.Get<SecondTempest>();
            Assert.Equal(3, test.Get<IEnumerable<IHostedService>>().Count());
            Assert.Equal(TimeSpan.FromSeconds(2), test.Get<TempestHostedService<ShortDrainTempest>>().DrainTimeout); // its own, shorter
            first.SubmitHold("first");
            second.SubmitHold("second");
            await Task.WhenAll(test.Probe.Started("first").Task, test.Probe.Started("second").Task).WaitAsync(Bound);

            var stopping = test.Host.StopAsync();
            // Both drain while both tasks still hold their workers: one engine's drain does not wait for the other's.
            await Task.WhenAll(test.Draining("HostedTempest"), test.Draining("SecondTempest")).WaitAsync(Bound);
            Assert.Equal(TempestEngineState.Draining, first.State);
            Assert.Equal(TempestEngineState.Draining, second.State);
            Assert.False(test.Probe.Done("first").Task.IsCompleted || test.Probe.Done("second").Task.IsCompleted);
            test.Probe.OpenAll();

            await stopping.WaitAsync(Bound);
            foreach (var result in await Task.WhenAll(
                test.Get<TempestHostedService<HostedTempest>>().Completion,
                test.Get<TempestHostedService<SecondTempest>>().Completion))
            {
                Assert.True(result.Drained);
                Assert.Equal(1, result.TasksSucceeded);
            }
        }
        finally
        {
            test.Probe.OpenAll();
            test.Host.Dispose();
        }
    }

    [Fact]
    public async Task Task_constructors_get_the_hosts_services_with_a_new_scope_per_job()
    {
        var test = new TestHost(b =>
        {
            b.Services.AddScoped<ScopedThing>();
            b.Services.AddTempest<HostedTempest>();
        });
        await test.Host.StartAsync();
        var engine = test.Get<HostedTempest>();
        Assert.Same(test.Probe, engine.Options.Services!.GetService<Probe>()); // the host's container
        engine.SubmitUsesScope("a");
        engine.SubmitUsesScope("b");
        await Task.WhenAll(test.Probe.Done("a").Task, test.Probe.Done("b").Task).WaitAsync(Bound);

        var (a, b) = (test.Probe.Things["a"], test.Probe.Things["b"]);
        Assert.NotEqual(a.Id, b.Id);
        // Each scope ends with its job.
        await Task.WhenAll(a.Disposed.Task, b.Disposed.Task).WaitAsync(Bound);
        await test.Host.StopAsync();
        test.Host.Dispose();
    }

    [Fact]
    public async Task A_hosted_engine_logs_to_the_hosts_logging_under_TaskTempest_categories()
    {
        var test = new TestHost(b => b.Services.AddTempest<HostedTempest>());
        await test.Host.StartAsync();
        string id = test.Get<HostedTempest>().SubmitSignal("logged").Id;
        await test.Logs.WaitFor(l => l.Message == $"{{{id}}} <Signal> success" || l.Message.StartsWith($"{{{id}}} <Signal> success ", StringComparison.Ordinal)).WaitAsync(Bound);
        await test.Host.StopAsync();
        test.Host.Dispose();

        var lines = test.Logs.Lines;
        Assert.Contains(lines, l => l.Category == "TaskTempest.HostedTempest" && l.Message == $"{{{id}}} <Signal> started");
        Assert.Contains(lines, l => l.Category == "TaskTempest.HostedTempest.Tasks" && l.Message == $"{{{id}}} <Signal> signal logged");
        Assert.Contains(lines, l => l.Category == "TaskTempest.HostedTempest" && l.Message.StartsWith("shutdown: stopped (StopRequested): 1 started, 1 success", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Category.StartsWith("TaskTempest", StringComparison.Ordinal) && l.Level >= LogLevel.Warning);
        Assert.False(File.Exists(Path.Combine(Directory.GetCurrentDirectory(), "HostedTempest.log")));
    }

    [Fact]
    public async Task LogFiles_leaves_the_loggers_unset_so_the_engine_writes_its_two_files()
    {
        string root = Directory.CreateTempSubdirectory("tasktempest-hosting-").FullName;
        var test = new TestHost(b => b.Services.AddTempest<HostedTempest>(o => o.Root = root).ConfigureHost(h => h.LogFiles = true));
        var engine = test.Get<HostedTempest>();
        Assert.Null(engine.Options.MainLoggerFactory);
        Assert.Null(engine.Options.TaskLoggerFactory);
        await test.Host.StartAsync();
        string id = engine.SubmitSignal("filed").Id;
        await test.Probe.Done("filed").Task.WaitAsync(Bound);
        await test.Host.StopAsync();
        test.Host.Dispose();

        Assert.Contains(File.ReadAllLines(Path.Combine(root, "HostedTempest.log")), l => l.Contains($"[INFO] {{{id}}} <Signal> success ", StringComparison.Ordinal));
        Assert.Contains(File.ReadAllLines(Path.Combine(root, "HostedTempest.task.log")), l => l.EndsWith($"[INFO] {{{id}}} <Signal> signal filed", StringComparison.Ordinal));
        Assert.DoesNotContain(test.Logs.Lines, l => l.Category.StartsWith("TaskTempest.HostedTempest", StringComparison.Ordinal));
        Directory.Delete(root, recursive: true);
    }
}
