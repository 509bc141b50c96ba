using TaskTempest.Tests.Support;

namespace TaskTempest.Tests;

public class DispatchTests
{
    [Fact]
    public async Task Process_receives_the_submitted_typed_arguments()
    {
        await using var h = Harness.Test().Start();
        var guid = Guid.NewGuid();
        var when = new DateTimeOffset(2026, 11, 27, 10, 30, 0, TimeSpan.FromHours(2));

        string id = h.Engine.SubmitTypedArgs(42, "hello", guid, when, [1.5, -2], Shade.Blue, null, ["x", "y"], 12.34m, true);
        await h.FinishedAsync(id);

        Assert.Equal($"42|hello|{guid}|2026-11-27T10:30:00.0000000+02:00|1.5,-2|Blue|null|x,y|12.34|True", Recorder.Get(id));
        Assert.Contains($"{{{id}}} <TypedArgs> started", h.MainLog.Messages);
    }

    [Fact]
    public async Task Params_and_optional_parameters_take_what_was_given()
    {
        await using var h = Harness.Test().Start();

        string three = h.Engine.SubmitSum(1, 2, 3);
        string none = h.Engine.SubmitSum();
        string defaults = h.Engine.SubmitWithDefaults(5);
        string given = h.Engine.SubmitWithDefaults(5, "five", 9);
        foreach (var id in new[] { three, none, defaults, given }) await h.FinishedAsync(id);

        Assert.Equal("3:6", Recorder.Get(three));
        Assert.Equal("0:0", Recorder.Get(none));
        Assert.Equal("5/none/7", Recorder.Get(defaults));
        Assert.Equal("5/five/9", Recorder.Get(given));
    }

    [Fact]
    public async Task Async_Process_methods_are_awaited_before_success_is_logged()
    {
        await using var h = Harness.Test().Start();

        string id = await h.Engine.SubmitValueTaskTaskAsync(7);
        await h.FinishedAsync(id);

        Assert.Equal("value-task 7", Recorder.Get(id));
        Assert.Contains(h.MainLog.Messages, m => m.StartsWith($"{{{id}}} <ValueTaskTask> success ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_failing_task_is_logged_as_failure_and_the_engine_goes_on()
    {
        await using var h = Harness.Test().Start();

        string failed = h.Engine.SubmitFailing("boom");
        string after = h.Engine.SubmitSum(1, 1);
        await h.FinishedAsync(failed);
        await h.FinishedAsync(after);

        var failure = Assert.Single(h.MainLog.Lines, l => l.Message.StartsWith($"{{{failed}}} <Failing> failure ", StringComparison.Ordinal));
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Error, failure.Level);
        var taskLine = Assert.Single(h.TaskLog.Lines, l => l.Message == $"{{{failed}}} <Failing> failure");
        Assert.Equal("boom", Assert.IsType<InvalidOperationException>(taskLine.Exception).Message);
        Assert.Equal("2:2", Recorder.Get(after));
        var result = await h.StopAsync();
        Assert.Equal(1, result.TasksFailed);
        Assert.Equal(1, result.TasksSucceeded);
    }

    [Fact]
    public async Task The_task_logger_prefixes_lines_with_id_and_wire_name()
    {
        await using var h = Harness.Test().Start();

        string id = h.Engine.SubmitLoggingTask("hi");
        await h.FinishedAsync(id);

        Assert.Contains($"{{{id}}} <logging-task> said hi", h.TaskLog.Messages);
    }

    [Fact]
    public async Task Submitted_messages_carry_the_wire_format_of_the_original()
    {
        var h = Harness.Test();

        string id = h.Engine.SubmitSum(2, 5);

        var message = (await h.Queue.DequeueAsync(CancellationToken.None))!;
        Assert.Equal(id, message.Id);
        Assert.Equal("Sum", message.TaskName);
        Assert.Equal($"[\"{id}\",\"Sum\",2,5]", message.ToJson());
    }

    [Fact]
    public void A_message_written_by_another_program_round_trips_through_the_typed_message()
    {
        var engine = new TestTempest();
        const string json = "[\"k3f9a2c1x7q0m4bd\",\"TypedArgs\",42,\"hello\",\"0f8fad5b-d9cb-469f-a165-70867728950e\",\"2026-11-27T10:30:00+02:00\",[1.5,-2],2,null,[\"x\"],12.34,true]";

        var message = engine.ParseMessage(json);

        Assert.Equal("TypedArgs", message.TaskName);
        Assert.Equal("k3f9a2c1x7q0m4bd", message.Id);
        Assert.Equal(json, message.ToJson());
    }

    [Theory]
    [InlineData(10)]     // encoded on the stack
    [InlineData(5000)]   // longer than the stack buffer: encoded on the heap
    public void Short_and_long_messages_round_trip_and_the_writer_is_reused_cleanly(int textLength)
    {
        var engine = new TestTempest();
        string text = new('x', textLength);
        string json = $"[\"k3f9a2c1x7q0m4bd\",\"TypedArgs\",1,\"{text}\",\"0f8fad5b-d9cb-469f-a165-70867728950e\",\"2026-11-27T10:30:00+02:00\",[],0,null,[],0,false]";

        var message = engine.ParseMessage(json);

        Assert.Equal(json, message.ToJson());
        Assert.Equal(json, message.ToJson()); // the second use of the thread's writer starts clean
        Assert.Equal("[\"k3f9a2c1x7q0m4bd\",\"Sum\",1]", engine.ParseMessage("[\"k3f9a2c1x7q0m4bd\",\"Sum\",1]").ToJson());
    }

    [Fact]
    public void A_message_without_an_id_gets_one_when_first_read()
    {
        var message = new TestTempest().ParseMessage("[null,\"Sum\",1]");

        Assert.True(TempestId.IsWellFormed(message.Id));
    }

    [Theory]
    [InlineData("{\"task\":\"Sum\"}", "a message must be a JSON array")]
    [InlineData("[null,\"Nope\",1]", "task class not found: Nope")]
    [InlineData("[null,\"Sum\",\"x\"]", "expected an int, found a string")]
    [InlineData("[null,\"WithDefaults\"]", "too few arguments")]
    [InlineData("[null,\"WithDefaults\",1,\"a\",2,3]", "too many arguments: the task takes 3")]
    [InlineData("[null,\"Failing\",null]", "expected a string, found null")]
    [InlineData("[null,\"Sum\",1", "malformed JSON")]
    [InlineData("[null,\"Sum\",99999999999]", "an argument does not fit")]
    [InlineData("[null,\"Pause\",\"99999999.00:00:00\",1]", "an argument does not fit")]
    [InlineData("[null,\"Pause\",\"00:00:01\",1e400]", "out of range (it would be infinite)")]
    [InlineData("[null,\"Sum\",1] [2]", "malformed JSON")]
    [InlineData("[\"a b\",\"Sum\",1]", "the id must be 1 to 100 letters")]
    [InlineData("[\"{x} <Sum> success\",\"Sum\",1]", "the id must be 1 to 100 letters")]
    public void Bad_wire_input_gets_a_clear_error(string json, string expected)
    {
        var error = Assert.Throws<Wire.TempestWireException>(() => new TestTempest().ParseMessage(json));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tasks_declared_in_a_referenced_library_are_submitted_and_dispatched()
    {
        await using var h = Harness.Test().Start();

        string mail = h.Engine.SubmitWelcomeMail("ada@example.org", "Ada"); // SharedTasks.Jobs, through its manifest
        string sum = h.Engine.SubmitSumNumbers(1, 2, 3);
        h.Queue.EnqueueRaw("[null,\"welcome-mail\",\"grace@example.org\"]"); // the optional name left out
        await h.FinishedAsync(mail);
        await h.FinishedAsync(sum);
        await h.TaskLog.WaitForLineAsync("welcome mail sent to a new user <grace@example.org>");

        Assert.Contains($"{{{mail}}} <welcome-mail> welcome mail sent to Ada <ada@example.org>", h.TaskLog.Messages);
        Assert.Contains($"{{{sum}}} <sum> sum of 3 numbers: 6", h.TaskLog.Messages);
    }

    [Fact]
    public void Default_is_one_instance_and_Configure_runs_for_every_instance()
    {
        Assert.Same(SecondTempest.Default, SecondTempest.Default);
        Assert.Equal(SecondTempest.ConfiguredPollInterval, SecondTempest.Default.Options.QueuePollInterval);
        Assert.Equal(SecondTempest.ConfiguredPollInterval, new SecondTempest(new TempestOptions()).Options.QueuePollInterval);
        Assert.Equal("Second", SecondTempest.Default.Name);
        Assert.Equal(1, SecondTempest.Default.Threads);
        Assert.Equal("TestTempest", TestTempest.Default.Name);
        Assert.Equal(2, TestTempest.Default.Threads);
    }

    [Fact]
    public void Ids_are_16_greppable_characters_and_do_not_repeat()
    {
        var ids = Enumerable.Range(0, 200_000).Select(_ => TempestId.New()).ToList();

        Assert.All(ids.Take(1000), id => Assert.True(TempestId.IsWellFormed(id), id));
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.All(ids.Take(1000), id => Assert.Equal(16, id.Length));
        Assert.False(TempestId.IsWellFormed("K3F9A2C1X7Q0M4BD"));
        Assert.False(TempestId.IsWellFormed("k3f9a2c1x7q0m4b"));
        // 80 bits: every character position varies.
        for (int i = 0; i < TempestId.Length; i++)
        {
            int position = i;
            Assert.True(ids.Take(1000).Select(id => id[position]).Distinct().Count() > 16, $"position {position} barely varies");
        }
    }
}
