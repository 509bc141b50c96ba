using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using TaskTempest.Queues;
using TaskTempest.Tests.Support;

namespace TaskTempest.Tests;

public class LifecycleTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60); // a safety net against hanging, never a wait for work

    [Fact]
    public async Task Stop_lets_running_tasks_finish_and_leaves_undequeued_messages_in_the_queue()
    {
        await using var h = Harness.Second().Start(); // one worker: jobs run in queue order
        string gate = Gates.NewName();
        string running = h.Engine.SubmitGateTask(gate);
        for (int i = 0; i < 3; i++) h.Engine.SubmitSum(i);
        await Gates.Get(gate).Started.Task.WaitAsync(Bound);
        Assert.Equal(TempestEngineState.Running, h.Engine.State); // a job runs: the run is past its start

        h.Engine.Stop();
        Assert.Equal(TempestEngineState.Draining, h.Engine.State); // at once: a health check sees the drain
        await h.MainLog.WaitForLineAsync("shutdown requested (StopRequested)");
        Assert.False(h.Running!.IsCompleted, "Run returned while a task was still running");
        Assert.Equal(TempestEngineState.Draining, h.Engine.State);
        Gates.Get(gate).Release();
        var result = await h.Running.WaitAsync(Bound);

        Assert.True(result.Drained);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(TempestStopReason.StopRequested, result.StopReason);
        Assert.Equal(1, result.TasksSucceeded);
        Assert.Equal(3, h.Queue.Count);
        Assert.Contains("shutdown: 3 messages left in the queue", h.MainLog.Messages);
        Assert.Contains(h.MainLog.Messages, m => m.StartsWith($"{{{running}}} <GateTask> success ", StringComparison.Ordinal));
        Assert.False(h.Engine.IsRunning);
        Assert.Equal(TempestEngineState.Stopped, h.Engine.State);
    }

    [Fact]
    public async Task Tasks_still_running_at_the_shutdown_timeout_are_aborted_and_returned_to_the_queue()
    {
        var time = new SignalingFakeTime();
        var shutdownTimeout = TimeSpan.FromSeconds(5);
        await using var h = Harness.Second(time, shutdownTimeout).Start();
        string gate = Gates.NewName();
        string stuck = h.Engine.SubmitGateTask(gate);
        string waiting = h.Engine.SubmitSum(1);
        await Gates.Get(gate).Started.Task.WaitAsync(Bound);

        h.Engine.Stop();
        await time.TimerCreated(shutdownTimeout);
        time.Advance(shutdownTimeout);
        var result = await h.Running!.WaitAsync(Bound);

        Assert.Equal([stuck], result.AbortedTaskIds);
        Assert.False(result.Drained);
        Assert.Equal(1, result.ExitCode);
        var aborted = Assert.Single(h.MainLog.Lines, l => l.Message == $"{{{stuck}}} <GateTask> aborted");
        Assert.Equal(LogLevel.Warning, aborted.Level);
        await Gates.Get(gate).Cancelled.Task.WaitAsync(Bound); // the task's CancellationToken was cancelled
        Assert.Equal(2, h.Queue.Count); // the never-dequeued message stayed, the aborted one came back
        var first = await h.Queue.DequeueAsync(CancellationToken.None);
        var second = await h.Queue.DequeueAsync(CancellationToken.None);
        Assert.Equal([waiting, stuck], [first!.Id!, second!.Id!]);
    }

    [Fact]
    public async Task Cancelling_the_run_token_stops_the_engine()
    {
        var h = Harness.Test();
        using var cts = new CancellationTokenSource();
        var run = h.Engine.RunAsync(cts.Token);

        cts.Cancel();
        var result = await run.WaitAsync(Bound);

        Assert.Equal(TempestStopReason.Cancelled, result.StopReason);
        Assert.True(result.Drained);
    }

    [Fact]
    public async Task An_engine_runs_once_at_a_time()
    {
        await using var h = Harness.Test().Start();

        await Assert.ThrowsAsync<InvalidOperationException>(() => h.Engine.RunAsync());
    }

    [Fact]
    public async Task Idle_workers_wait_on_the_queue_instead_of_spinning()
    {
        var memory = new TempestMemoryQueue();
        var counting = new CountingQueue(memory);
        var main = new RecordingLoggerFactory();
        var engine = new TestTempest(new TempestOptions { Queue = counting, MainLoggerFactory = main, TaskLoggerFactory = new RecordingLoggerFactory(), HandleSignals = false });
        var run = engine.RunAsync();

        // A general queue is asked by the engine's one fetcher, never by the workers themselves.
        await counting.Reached(1); // the fetcher asked once and is now waiting
        await main.WaitForLineAsync("dispatcher initialized");
        string id = engine.SubmitSum(1);
        await counting.Reached(2); // the job woke the fetcher, which handed it on and asked again for the other free slot
        await main.WaitForLineAsync($"{{{id}}} <Sum> success");

        engine.Stop();
        await run.WaitAsync(Bound);
        Assert.Equal(2, counting.Dequeues);
    }

    [Fact]
    public async Task A_queue_that_returns_nothing_is_polled_at_the_poll_interval()
    {
        var time = new SignalingFakeTime();
        var poll = TimeSpan.FromSeconds(1);
        var queue = new CountingQueue(new PollingQueue());
        var main = new RecordingLoggerFactory();
        var engine = new SecondTempest(new TempestOptions { Queue = queue, MainLoggerFactory = main, TaskLoggerFactory = new RecordingLoggerFactory(), HandleSignals = false, TimeProvider = time });
        engine.Options.QueuePollInterval = poll;
        var run = engine.RunAsync();

        await time.TimerCreated(poll); // the worker found nothing and sleeps
        Assert.Equal(1, queue.Dequeues);
        string id = engine.SubmitSum(2);
        time.Advance(poll);
        await main.WaitForLineAsync($"{{{id}}} <Sum> success");
        await queue.Reached(3); // asked again after the job, found nothing, sleeps until time moves

        engine.Stop();
        await run.WaitAsync(Bound);
        Assert.Equal(3, queue.Dequeues);
    }

    [Fact]
    public async Task A_dequeue_that_throws_is_logged_and_retried_with_a_doubling_back_off()
    {
        var time = new SignalingFakeTime();
        var main = new RecordingLoggerFactory();
        var engine = new SecondTempest(new TempestOptions
        {
            Queue = new FlakyQueue(new TempestMemoryQueue(), failures: 3), MainLoggerFactory = main,
            TaskLoggerFactory = new RecordingLoggerFactory(), HandleSignals = false, TimeProvider = time,
        });
        engine.Options.QueuePollInterval = TimeSpan.FromSeconds(1);
        string id = engine.SubmitSum(3);
        var run = engine.RunAsync();

        foreach (int seconds in new[] { 1, 2, 4 })
        {
            await time.TimerCreated(TimeSpan.FromSeconds(seconds)); // waits only as long as the back-off says
            time.Advance(TimeSpan.FromSeconds(seconds));
        }
        await main.WaitForLineAsync($"{{{id}}} <Sum> success");
        engine.Stop();
        await run.WaitAsync(Bound);

        var failures = main.Lines.Where(l => l.Message.Contains("dequeue failed", StringComparison.Ordinal)).ToList();
        Assert.Equal(
            ["dequeue failed (1 in a row): queue server went away; retrying in 1 s",
             "dequeue failed (2 in a row): queue server went away; retrying in 2 s",
             "dequeue failed (3 in a row): queue server went away; retrying in 4 s"],
            failures.Select(l => l.Message));
        Assert.All(failures, l => Assert.IsType<IOException>(l.Exception));
        Assert.All(failures, l => Assert.Equal(LogLevel.Error, l.Level));
    }

    [Fact]
    public async Task Bad_messages_are_logged_with_their_id_and_dead_lettered_and_the_engine_keeps_running()
    {
        await using var h = Harness.Second().Start(); // one worker: the good job runs after the bad ones
        h.Queue.EnqueueRaw("[\"abcdefgh12345678\",\"Nope\",1]");
        h.Queue.EnqueueRaw("[null,\"Sum\",\"x\"]");
        h.Queue.EnqueueRaw("not json");
        h.Queue.EnqueueRaw("[null,\"logging-task\",\"from outside\"]");
        string good = h.Engine.SubmitSum(4);

        await h.FinishedAsync(good);

        var deadLetters = h.Queue.DeadLetters.ToList();
        Assert.Equal(3, deadLetters.Count);
        Assert.Equal("task class not found: Nope", deadLetters[0].Reason);
        Assert.Equal("abcdefgh12345678", deadLetters[0].Message.Id);
        Assert.Equal("[\"abcdefgh12345678\",\"Nope\",1]", Assert.IsType<RawTempestMessage>(deadLetters[0].Message).Json);
        Assert.Contains("expected an int, found a string", deadLetters[1].Reason, StringComparison.Ordinal);
        Assert.True(TempestId.IsWellFormed(deadLetters[1].Message.Id), "a message without an id gets one when first read");
        Assert.StartsWith("malformed JSON", deadLetters[2].Reason, StringComparison.Ordinal);

        var notFound = Assert.Single(h.MainLog.Lines, l => l.Message == "{abcdefgh12345678} task class not found: Nope");
        Assert.Equal(LogLevel.Error, notFound.Level);
        Assert.Contains(h.MainLog.Messages, m => m.StartsWith($"{{{deadLetters[1].Message.Id}}} expected an int", StringComparison.Ordinal));
        Assert.Contains(h.TaskLog.Messages, m => m.EndsWith("<logging-task> said from outside", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_acknowledgement_that_throws_is_logged_with_the_id_and_the_worker_goes_on()
    {
        var main = new RecordingLoggerFactory();
        var engine = new SecondTempest(new TempestOptions { Queue = new FailingAckQueue(new TempestMemoryQueue()), MainLoggerFactory = main, TaskLoggerFactory = new RecordingLoggerFactory(), HandleSignals = false });
        string first = engine.SubmitSum(1);
        string second = engine.SubmitSum(2); // one worker: runs only if the worker survived the failed ack
        var run = engine.RunAsync();

        await main.WaitForLineAsync($"{{{second}}} <Sum> success");
        engine.Stop();
        await run.WaitAsync(Bound);

        Assert.Contains(main.Messages, m => m.StartsWith($"{{{first}}} <Sum> success", StringComparison.Ordinal));
        var error = Assert.Single(main.Lines, l => l.Level == LogLevel.Error);
        Assert.Equal($"{{{first}}} <Sum> could not be acknowledged: ack lost", error.Message);
    }

    [Fact]
    public async Task A_message_whose_id_cannot_even_be_read_is_dead_lettered_under_a_new_id()
    {
        await using var h = Harness.Second().Start();
        h.Queue.EnqueueRaw("[\"\\ud800\",\"Sum\",1]"); // a lone surrogate: not valid text
        string good = h.Engine.SubmitSum(5);

        await h.FinishedAsync(good);

        var deadLetter = Assert.Single(h.Queue.DeadLetters);
        Assert.True(TempestId.IsWellFormed(deadLetter.Message.Id), deadLetter.Message.Id);
        Assert.Contains(h.MainLog.Lines, l => l.Level == LogLevel.Error && l.Message.StartsWith($"{{{deadLetter.Message.Id}}} ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(-5, 1000)]
    [InlineData(1000, 0)]
    [InlineData(1000, -1)]
    public async Task Invalid_timing_options_are_rejected_when_Run_starts(int shutdownMilliseconds, int pollMilliseconds)
    {
        var h = Harness.Test();
        h.Engine.Options.ShutdownTimeout = TimeSpan.FromMilliseconds(shutdownMilliseconds);
        h.Engine.Options.QueuePollInterval = TimeSpan.FromMilliseconds(pollMilliseconds);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => h.Engine.RunAsync());
        Assert.False(h.Engine.IsRunning);
        Assert.Empty(h.MainLog.Lines);
    }

    [Fact]
    public async Task Stop_is_harmless_before_during_and_after_a_run()
    {
        var h = Harness.Test();
        h.Engine.Stop();
        var run = h.Engine.RunAsync();
        h.Engine.Stop();
        h.Engine.Stop();
        var result = await run.WaitAsync(Bound);
        h.Engine.Stop();

        Assert.Equal(TempestStopReason.StopRequested, result.StopReason);
    }

    [Fact]
    public async Task Two_engines_run_side_by_side_each_on_its_own_queue()
    {
        await using var first = Harness.Test().Start();
        await using var second = Harness.Second().Start();
        await using var third = Harness.Test().Start(); // a second instance of the same engine class

        var submitted = new[] { first, (IHarness)second, third }.Select(h => Enumerable.Range(0, 20).Select(i => h.SubmitSum(i)).ToHashSet()).ToList();
        foreach (var (h, ids) in new[] { (IHarness)first, second, third }.Zip(submitted))
        {
            foreach (var id in ids) await h.FinishedAsync(id);
        }

        var harnesses = new IHarness[] { first, second, third };
        for (int i = 0; i < harnesses.Length; i++)
        {
            var started = harnesses[i].MainLog.Messages.Where(m => m.EndsWith("<Sum> started", StringComparison.Ordinal))
                .Select(m => m[1..17]).ToHashSet();
            Assert.Equal(submitted[i], started);
        }
        Assert.All(second.MainLog.Lines, l => Assert.Equal("Second", l.Category));
        Assert.All(first.MainLog.Lines, l => Assert.Equal("TestTempest", l.Category));
    }

    [Fact]
    public async Task The_default_logs_are_two_files_in_the_original_line_shapes()
    {
        string root = Directory.CreateTempSubdirectory("tasktempest-logs-").FullName;
        var queue = new TempestMemoryQueue();
        var engine = new SecondTempest(new TempestOptions { Root = root, Queue = queue, HandleSignals = false });
        string logged = engine.SubmitLoggingTask("hello");
        string failed = engine.SubmitFailing("boom");
        string gate = Gates.NewName();
        engine.SubmitGateTask(gate); // one worker: when this starts, the two before it have ended
        var run = engine.RunAsync();

        await Gates.Get(gate).Started.Task.WaitAsync(Bound);
        Gates.Get(gate).Release();
        engine.Stop();
        var result = await run.WaitAsync(Bound); // Run flushes and closes the files before it returns

        Assert.Equal(2, result.TasksSucceeded);
        const string Stamp = @"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} ";
        var main = File.ReadAllLines(Path.Combine(root, "Second.log"));
        AssertLine(main, Stamp + @"\[INFO\] logging initialized$");
        AssertLine(main, Stamp + $@"\[INFO\] \{{{logged}\}} <logging-task> started$");
        AssertLine(main, Stamp + $@"\[INFO\] \{{{logged}\}} <logging-task> success \d+\.\d{{4}}$");
        AssertLine(main, Stamp + $@"\[ERROR\] \{{{failed}\}} <Failing> failure \d+\.\d{{4}}$");
        AssertLine(main, Stamp + @"\[INFO\] shutdown: stopped \(StopRequested\): 3 started, 2 success, 1 failure, 0 timeout, 0 aborted$");

        var task = File.ReadAllLines(Path.Combine(root, "Second.task.log"));
        AssertLine(task, Stamp + $@"\[INFO\] \{{{logged}\}} <logging-task> said hello$");
        int failure = AssertLine(task, Stamp + $@"\[ERROR\] \{{{failed}\}} <Failing> failure$");
        // The exception follows as indented continuation lines.
        Assert.Equal("    System.InvalidOperationException: boom", task[failure + 1]);
        Assert.StartsWith("       at TaskTempest.Tests.Failing.Process", task[failure + 2], StringComparison.Ordinal);
        Directory.Delete(root, recursive: true);
    }

    private static int AssertLine(string[] lines, string pattern)
    {
        int index = Array.FindIndex(lines, l => Regex.IsMatch(l, pattern));
        Assert.True(index >= 0, $"no line matches {pattern}:\n{string.Join("\n", lines)}");
        return index;
    }
}
