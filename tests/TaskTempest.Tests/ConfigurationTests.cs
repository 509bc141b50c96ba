using Microsoft.Extensions.Logging;
using TaskTempest.Queues;
using TaskTempest.Tests.Support;

namespace TaskTempest.Tests;

/// <summary>Engine configuration from the attribute, overridden by options, inherited by derived engines; engine hooks.</summary>
public class ConfigurationTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static TempestOptions RecordedOptions(RecordingLoggerFactory main, TimeProvider? time = null, ITempestQueue? queue = null) => new()
    {
        Queue = queue ?? new TempestMemoryQueue(),
        MainLoggerFactory = main,
        TaskLoggerFactory = new RecordingLoggerFactory(),
        HandleSignals = false,
        TimeProvider = time ?? TimeProvider.System,
    };

    [Fact]
    public async Task Hooks_run_in_declared_order_around_the_run_and_each_task()
    {
        var main = new RecordingLoggerFactory();
        var time = new SignalingFakeTime();
        var engine = new ConfiguredTempest(RecordedOptions(main, time)) { FinishedTarget = 1 };
        engine.SubmitSum(4);
        var run = engine.RunAsync();

        await engine.ReachedTarget.Task.WaitAsync(Bound);
        engine.Stop();
        await run.WaitAsync(Bound);

        Assert.Equal(["before-1", "before-2", "after-init", "started Sum -", "finished Sum Success 00:00:00"], engine.Trail);
        Assert.Contains("hook says ready", main.Messages);
    }

    [Fact]
    public async Task The_attributes_timings_apply_and_options_override_them()
    {
        var main = new RecordingLoggerFactory();
        var time = new SignalingFakeTime();
        var engine = new ConfiguredTempest(RecordedOptions(main, time, new PollingQueue()));
        var run = engine.RunAsync();

        await time.TimerCreated(TimeSpan.FromSeconds(0.25)); // QueuePollIntervalSeconds = 0.25
        engine.Stop();
        await run.WaitAsync(Bound);
        Assert.Contains("shutdown requested (StopRequested): waiting up to 2 s for running tasks", main.Messages);

        var overridden = RecordedOptions(main = new RecordingLoggerFactory());
        overridden.ShutdownTimeout = TimeSpan.FromSeconds(5);
        engine = new ConfiguredTempest(overridden);
        run = engine.RunAsync();
        engine.Stop();
        await run.WaitAsync(Bound);
        Assert.Contains("shutdown requested (StopRequested): waiting up to 5 s for running tasks", main.Messages);
    }

    [Fact]
    public async Task Log_files_levels_and_formats_come_from_the_attribute_and_the_root_from_a_hook()
    {
        string root = Directory.CreateTempSubdirectory("tasktempest-config-").FullName;
        var engine = new ConfiguredTempest(new TempestOptions { HandleSignals = false }) { RootFromHook = root, FinishedTarget = 2 };
        string logged = engine.SubmitLoggingTask("hi");
        string failed = engine.SubmitFailing("boom");
        var run = engine.RunAsync();

        await engine.ReachedTarget.Task.WaitAsync(Bound);
        engine.Stop();
        await run.WaitAsync(Bound);

        var main = File.ReadAllLines(Path.Combine(root, "logs", "main.txt"));
        Assert.DoesNotContain(main, l => l.Contains("started", StringComparison.Ordinal)); // Information is below the Warning level
        Assert.Contains(main, l => l.Contains($"[ERROR] {{{failed}}} <Failing> failure ", StringComparison.Ordinal));
        Assert.Contains(main, l => l.EndsWith("[WARN] hook says ready", StringComparison.Ordinal));
        var tasks = File.ReadAllLines(Path.Combine(root, "logs", "tasks.txt"));
        Assert.Contains($"INFO|{{{logged}}} <logging-task> said hi|{DateTime.Now.Year}", tasks);
        Assert.False(File.Exists(Path.Combine(root, "ConfiguredTempest.log")));
        Directory.Delete(root, recursive: true);
    }

    [Fact]
    public async Task A_derived_engine_inherits_configuration_and_hooks_and_adds_its_own()
    {
        var main = new RecordingLoggerFactory();
        var engine = new DerivedTempest(RecordedOptions(main)) { FinishedTarget = 1 };
        engine.SubmitSum(1);
        var run = engine.RunAsync();
        await engine.ReachedTarget.Task.WaitAsync(Bound);
        engine.Stop();
        await run.WaitAsync(Bound);

        Assert.Equal("Derived", engine.Name);
        Assert.Equal(2, engine.Threads);
        Assert.Equal(["before-1", "before-2", "derived-before", "after-init"], engine.Trail.Take(4));
        Assert.Contains("thread pool initialized (2 threads)", main.Messages);
        Assert.Contains("shutdown requested (StopRequested): waiting up to 2 s for running tasks", main.Messages); // inherited
        Assert.IsType<DerivedTempest>(DerivedTempest.Default);
        Assert.IsType<ConfiguredTempest>(ConfiguredTempest.Default);
    }

    [Fact]
    public async Task A_hook_that_throws_is_logged_and_the_engine_goes_on()
    {
        var main = new RecordingLoggerFactory();
        var engine = new ConfiguredTempest(RecordedOptions(main)) { FailFinishedHook = true };
        string first = engine.SubmitSum(1);
        string second = engine.SubmitSum(2);
        var run = engine.RunAsync();

        await main.WaitForLineAsync($"{{{second}}} <Sum> failure in after-task-finished hook");
        engine.Stop();
        var result = await run.WaitAsync(Bound);

        Assert.Contains($"{{{first}}} <Sum> failure in after-task-finished hook", main.Messages);
        Assert.Equal(2, result.TasksSucceeded);
    }

    [Theory]
    [InlineData("{timestamp} {level}")]
    [InlineData("{message} {message}")]
    [InlineData("{when} {message}")]
    [InlineData("{timestamp {message}")]
    public async Task A_bad_log_format_fails_Run_before_anything_starts(string format)
    {
        string root = Directory.CreateTempSubdirectory("tasktempest-format-").FullName;
        var engine = new TestTempest(new TempestOptions { Root = root, LogFormat = format, HandleSignals = false });

        var error = await Assert.ThrowsAsync<FormatException>(() => engine.RunAsync());

        Assert.Contains(format, error.Message, StringComparison.Ordinal);
        Assert.False(engine.IsRunning);
        Assert.Empty(Directory.GetFiles(root));
        Directory.Delete(root);
    }

    [Fact]
    public void The_queue_and_the_clock_are_fixed_at_the_first_submit_and_setting_either_afterwards_throws_naming_it()
    {
        var engine = new TestTempest(new TempestOptions { HandleSignals = false });
        engine.Options.Queue = new TempestMemoryQueue(); // before the first submit: allowed
        engine.SubmitSum(1);

        var queue = Assert.Throws<InvalidOperationException>(() => engine.Options.Queue = new TempestMemoryQueue());
        Assert.Contains("TempestOptions.Queue", queue.Message, StringComparison.Ordinal);
        var clock = Assert.Throws<InvalidOperationException>(() => engine.Options.TimeProvider = new SignalingFakeTime());
        Assert.Contains("TempestOptions.TimeProvider", clock.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_queue_and_a_clock_set_in_a_before_initialize_hook_are_the_ones_the_whole_run_uses()
    {
        var main = new RecordingLoggerFactory();
        var hookQueue = new TempestMemoryQueue();
        var hookTime = new SignalingFakeTime();
        var engine = new ConfiguredTempest(new TempestOptions { MainLoggerFactory = main, TaskLoggerFactory = new RecordingLoggerFactory(), HandleSignals = false })
        {
            InBeforeInitialize = options =>
            {
                options.Queue = hookQueue;
                options.TimeProvider = hookTime;
            },
        };
        var run = engine.RunAsync();
        await main.WaitForLineAsync("hook says ready").WaitAsync(Bound);
        Assert.Same(hookQueue, engine.Queue);
        Assert.Throws<InvalidOperationException>(() => engine.Options.TimeProvider = TimeProvider.System);

        // The deadline and the duration both run on the hook's clock (the deadline used to stay on the old one).
        string gate = Gates.NewName();
        string id = engine.SubmitTimedBase(gate);
        await Gates.Get(gate).Started.Task.WaitAsync(Bound);
        await hookTime.TimerCreated(TimeSpan.FromSeconds(5));
        hookTime.Advance(TimeSpan.FromSeconds(5));
        await main.WaitForLineAsync($"{{{id}}} <TimedBase> timeout 5.0000").WaitAsync(Bound);

        engine.Stop();
        await run.WaitAsync(Bound);
    }
}
