using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TaskTempest.Hosting.Tests;

public class HealthCheckTests
{
    private static readonly TimeSpan Bound = TestHost.Bound;

    private static async Task<HealthReportEntry> Check(TestHost test, string name = "HostedTempest") =>
        (await test.Get<HealthCheckService>().CheckHealthAsync().WaitAsync(Bound)).Entries[name];

    [Fact]
    public async Task A_running_engine_whose_queue_answers_is_healthy_and_a_stopped_one_unhealthy()
    {
        var test = new TestHost(b =>
        {
            b.Services.AddTempest<HostedTempest>();
            b.Services.AddHealthChecks().AddTempest<HostedTempest>();
        });
        var before = await Check(test);
        Assert.Equal(HealthStatus.Unhealthy, before.Status);
        Assert.Equal("HostedTempest: stopped; queue: 0 waiting", before.Description);

        await test.Host.StartAsync();
        var running = await Check(test);
        Assert.Equal(HealthStatus.Healthy, running.Status);
        Assert.Equal("HostedTempest: running; queue: 0 waiting", running.Description);
        Assert.Equal("Running", running.Data["state"]);
        Assert.Equal(0, running.Data["slotsLost"]);
        Assert.Equal(0L, running.Data["queued"]);
        await test.Host.StopAsync();

        Assert.Equal(HealthStatus.Unhealthy, (await Check(test)).Status);
        test.Host.Dispose();
    }

    [Fact]
    public async Task A_queue_that_fails_to_count_makes_the_engine_unhealthy_with_the_exceptions_type()
    {
        var test = new TestHost(b =>
        {
            b.Services.AddTempest<HostedTempest>(o => o.Queue = new FailingCountQueue(_ => throw new InvalidOperationException("the queue's server is down")));
            b.Services.AddHealthChecks().AddTempest<HostedTempest>(name: "math", tags: ["ready"]);
        });
        await test.Host.StartAsync();
        var entry = await Check(test, "math");
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Equal("HostedTempest: running; the queue failed: InvalidOperationException", entry.Description);
        Assert.IsType<InvalidOperationException>(entry.Exception);
        Assert.Equal("InvalidOperationException", entry.Data["queueError"]);
        Assert.Equal(["ready"], entry.Tags);
        await test.Host.StopAsync();
        test.Host.Dispose();
    }

    [Fact]
    public async Task A_queue_that_does_not_answer_within_the_timeout_fails_the_check_on_the_engines_clock()
    {
        var time = new WatchedTime();
        var never = new TaskCompletionSource<long>();
        var test = new TestHost(b =>
        {
            // It ignores its token, as a hung client might: the check must still end.
            b.Services.AddTempest<HostedTempest>(o => { o.TimeProvider = time; o.Queue = new FailingCountQueue(_ => new ValueTask<long>(never.Task)); });
            b.Services.AddHealthChecks().AddTempest<HostedTempest>(failureStatus: HealthStatus.Degraded, queueTimeout: TimeSpan.FromSeconds(3));
        });
        await test.Host.StartAsync();
        var checking = Check(test);
        await time.TimerCreated(TimeSpan.FromSeconds(3)).WaitAsync(Bound);
        Assert.False(checking.IsCompleted);
        time.Fake.Advance(TimeSpan.FromSeconds(3));
        var entry = await checking;
        Assert.Equal(HealthStatus.Degraded, entry.Status); // the registration's failure status
        Assert.Equal("HostedTempest: running; the queue did not answer within 3 s", entry.Description);
        Assert.Equal("TimeoutException", entry.Data["queueError"]);
        never.SetResult(0);
        await test.Host.StopAsync();
        test.Host.Dispose();
    }

    [Fact]
    public async Task A_draining_engine_is_degraded()
    {
        var test = new TestHost(b =>
        {
            b.Services.AddTempest<HostedTempest>(o => o.TimeProvider = new WatchedTime()); // the drain never runs out on its own
            b.Services.AddHealthChecks().AddTempest<HostedTempest>();
        });
        try
        {
            await test.Host.StartAsync();
            test.Get<HostedTempest>().SubmitHold("long");
            await test.Probe.Started("long").Task.WaitAsync(Bound);
            var stopping = test.Host.StopAsync();
            await test.Draining("HostedTempest").WaitAsync(Bound);

            var entry = await Check(test);
            Assert.Equal(HealthStatus.Degraded, entry.Status);
            Assert.Equal("HostedTempest: draining (stopping); queue: 0 waiting", entry.Description);
            Assert.Equal("Draining", entry.Data["state"]);
            test.Probe.OpenAll();
            await stopping.WaitAsync(Bound);
            Assert.True((await test.Get<TempestHostedService<HostedTempest>>().Completion).Drained);
        }
        finally
        {
            test.Probe.OpenAll();
            test.Host.Dispose();
        }
    }

    [Fact]
    public async Task Slots_lost_to_tasks_stuck_on_orphaned_workers_make_the_engine_unhealthy_until_they_return()
    {
        var time = new WatchedTime();
        var test = new TestHost(b =>
        {
            // No replacement for an orphaned worker: the first stuck task costs the engine its only slot.
            b.Services.AddTempest<ShortDrainTempest>(o => { o.TimeProvider = time; o.MaxOrphanedWorkers = 0; });
            b.Services.AddHealthChecks().AddTempest<ShortDrainTempest>();
        });
        try
        {
            await test.Host.StartAsync();
            test.Get<ShortDrainTempest>().SubmitStuck("spinning");
            await test.Probe.Started("spinning").Task.WaitAsync(Bound);
            await time.TimerCreated(TimeSpan.FromSeconds(1)).WaitAsync(Bound);
            // The escalation's steps run inside Advance: the deadline, the interrupt a grace later, the orphan one more.
            for (int step = 0; step < 3; step++) time.Fake.Advance(TimeSpan.FromSeconds(1));

            var entry = await Check(test, "ShortDrainTempest");
            Assert.Equal(HealthStatus.Unhealthy, entry.Status);
            Assert.Equal("ShortDrainTempest: 1 worker slots lost to tasks stuck past their timeout (1 stuck); it runs on with fewer workers; queue: 0 waiting", entry.Description);
            Assert.Equal(1, entry.Data["slotsLost"]);
            Assert.Equal(1, entry.Data["stuckTasks"]);

            test.Probe.OpenAll();
            await test.Logs.WaitFor(l => l.Message.Contains("a new worker fills the slot left empty at the cap", StringComparison.Ordinal)).WaitAsync(Bound);
            Assert.Equal(HealthStatus.Healthy, (await Check(test, "ShortDrainTempest")).Status);
            await test.Host.StopAsync();
        }
        finally
        {
            test.Probe.OpenAll();
            test.Host.Dispose();
        }
    }
}
