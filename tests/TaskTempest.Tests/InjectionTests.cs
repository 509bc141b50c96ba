using Microsoft.Extensions.DependencyInjection;
using TaskTempest.Tests.Support;

namespace TaskTempest.Tests;

public class InjectionTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Each_job_gets_its_own_DI_scope_which_lives_until_its_callbacks_have_run()
    {
        using var services = new ServiceCollection().AddScoped<ScopedProbe>().BuildServiceProvider();
        await using var h = new Harness<TestTempest>(o => { o.Services = services; return new TestTempest(o); }, (e, n) => e.SubmitSum(n)).Start();

        string first = h.Engine.SubmitInjected("a");
        string second = h.Engine.SubmitInjected("b");
        await h.FinishedAsync(first);
        await h.FinishedAsync(second);

        var probes = new[] { first, second }.Select(id => Recorder.Get(id)!.Split(' ')).ToList();
        Assert.Equal(["a", "b"], probes.Select(p => p[0]));
        Assert.NotEqual(probes[0][1], probes[1][1]); // one instance per job
        Assert.All(probes, p => Assert.Equal("True", p[2])); // an optional service that is not registered comes as null
        foreach (var p in probes) await ScopedProbe.All[Guid.Parse(p[1])].Disposed.Task.WaitAsync(Bound);
        Assert.Equal("scope-alive-in-callback", Recorder.Trail(first));
    }

    [Fact]
    public async Task A_task_that_needs_services_fails_clearly_when_the_engine_has_none()
    {
        await using var h = Harness.Test().Start();

        string id = h.Engine.SubmitInjected("x");
        await h.FinishedAsync(id);

        Assert.Contains(h.MainLog.Messages, m => m.StartsWith($"{{{id}}} <Injected> failure ", StringComparison.Ordinal));
        var logged = Assert.Single(h.TaskLog.Lines, l => l.Message == $"{{{id}}} <Injected> failure");
        Assert.Equal("The task Injected takes services in its constructor, but the engine has no TempestOptions.Services.", logged.Exception!.Message);
    }

    [Fact]
    public async Task A_task_can_log_to_its_own_logger_with_the_same_prefix()
    {
        await using var h = Harness.Test().Start();

        string id = h.Engine.SubmitOwnLogger("hello");
        await h.FinishedAsync(id);

        Assert.Contains($"{{{id}}} <OwnLogger> own logger says hello", OwnLogger.Sink.Messages);
        Assert.DoesNotContain(h.TaskLog.Messages, m => m.Contains("own logger says", StringComparison.Ordinal));
    }
}
