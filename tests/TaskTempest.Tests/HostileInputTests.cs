using System.Text.RegularExpressions;
using TaskTempest.Queues;
using ZLogger;

namespace TaskTempest.Tests;

/// <summary>Completes when the job the test submitted last has finished.</summary>
public sealed class LastJob
{
    public string? Id { get; set; }
    public TaskCompletionSource Finished { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Saw(TempestTaskEvent e)
    {
        if (e.TaskId == Id) Finished.TrySetResult();
    }
}

/// <summary>One worker, so jobs run in queue order: the last job's end means every message before it was handled.</summary>
[Tempest(Threads = 1)]
public partial class HostileTempest
{
    public LastJob Last { get; } = new();

    [AfterTaskFinished]
    private void Finished(TempestTaskEvent e) => Last.Saw(e);
}

/// <summary>The same on one fiber of the event loop.</summary>
[Tempest(Fibers = 1)]
public partial class HostileFiberTempest
{
    public LastJob Last { get; } = new();

    [AfterTaskFinished]
    private void Finished(TempestTaskEvent e) => Last.Saw(e);
}

/// <summary>Logs its one-character argument through the task logger.</summary>
[TempestTask]
public sealed class EchoChar : TempestTask
{
    public void Process(char c) => TaskLogger.ZLogInformation($"got [{c}]");
}

/// <summary>
/// Text from outside never writes a log line of its own: hostile raw messages, char and string arguments,
/// exception messages and a task that logs its own argument go through an engine writing both default log
/// files, and every line of both files must start with the engine's prefix or be an indented continuation.
/// </summary>
public sealed partial class HostileInputTests : IDisposable
{
    private const string Forged = "2026/01/01 00:00:00 [INFO] {forgedforgedforg} <Adder> success 0.0001";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly string _root = Directory.CreateTempSubdirectory("tasktempest-hostile-").FullName;

    [GeneratedRegex(@"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\] ")]
    private static partial Regex LinePrefix();

    [GeneratedRegex(@"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[[A-Z]+\] \{([^}]*)\}")]
    private static partial Regex LineId();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Hostile_text_never_starts_a_line_of_its_own_in_either_log(bool fibers)
    {
        var queue = new TempestMemoryQueue();
        var options = new TempestOptions { Queue = queue, Root = _root, HandleSignals = false };
        // The two engines' generated Submit methods, behind one shape.
        var thread = fibers ? null : new HostileTempest(options);
        var fiber = fibers ? new HostileFiberTempest(options) : null;
        TempestEngine engine = (TempestEngine?)thread ?? fiber!;
        var last = thread?.Last ?? fiber!.Last;
        Func<char, string> echo = c => thread?.SubmitEchoChar(c) ?? fiber!.SubmitEchoChar(c);
        Func<string, string> say = text => thread?.SubmitLoggingTask(text) ?? fiber!.SubmitLoggingTask(text);
        Func<string, string> fail = reason => thread?.SubmitFailing(reason) ?? fiber!.SubmitFailing(reason);

        string longName = new('x', 5000);
        string[] raw =
        [
            // The issue's example: a task name with a line break and a whole forged line after it.
            "[null,\"Evil\\n" + Forged + "\"]",
            // A char argument of more than one character, quoted back in the parse error.
            "[null,\"EchoChar\",\"\\n" + Forged + "\"]",
            // Not JSON at all: NUL, CR, LF, ESC and C1 bytes, as another program might write them.
            "\0garbage\r\n" + Forged + "\u001b[31m\u0085\u2028",
            // Valid JSON whose whitespace between tokens is a line break, and an unknown name.
            "[null,\n\"Nope\r\n" + Forged + "\"]",
            // A name far longer than a log line should hold.
            "[null,\"" + longName + "\"]",
        ];
        foreach (string text in raw) queue.EnqueueRaw(text);
        // A one-character line break that the task logs, from a raw message with an id of its own.
        queue.EnqueueRaw("[\"rawchar000000001\",\"EchoChar\",\"\\n\"]");

        var submitted = new List<string>
        {
            echo('\n'),
            echo('\u001b'),
            say("line one\n" + Forged + "\r\nand\0more"),
            fail("boom\n" + Forged + "\n\u001b[2J"),
        };
        last.Id = say("the last one");
        submitted.Add(last.Id);

        var run = engine.RunAsync();
        await last.Finished.Task.WaitAsync(Bound);
        engine.Stop();
        await run.WaitAsync(Bound); // the files are flushed when Run returns

        string main = File.ReadAllText(Path.Combine(_root, engine.Name + ".log"));
        string task = File.ReadAllText(Path.Combine(_root, engine.Name + ".task.log"));

        foreach (var (file, text) in new[] { ("main", main), ("task", task) })
        {
            // Nothing a terminal or grep treats as a control character or a line break but the line feeds.
            Assert.DoesNotMatch(@"[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]", text);
            foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                Assert.True(LinePrefix().IsMatch(line) || line.StartsWith("    ", StringComparison.Ordinal),
                    $"a line of the {file} log neither starts with the engine's prefix nor is an indented continuation: {line}");
            }
        }

        var deadLetters = queue.DeadLetters.ToList();
        Assert.Equal(raw.Length, deadLetters.Count);
        var known = submitted.Concat(deadLetters.Select(d => d.Message.Id!)).Append("rawchar000000001").ToHashSet();
        foreach (string line in main.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (LineId().Match(line) is { Success: true } id)
                Assert.True(known.Contains(id.Groups[1].Value), $"the main log has a line for an id nobody submitted: {line}");
        }

        for (int i = 0; i < raw.Length; i++)
        {
            // The reason is escaped and cut; the raw text stays intact.
            Assert.Equal(raw[i], Assert.IsType<RawTempestMessage>(deadLetters[i].Message).Json);
            Assert.DoesNotMatch(@"[\u0000-\u001f\u007f-\u009f\u2028\u2029]", deadLetters[i].Reason);
            Assert.True(deadLetters[i].Reason.Length < 260, deadLetters[i].Reason);
        }
        Assert.Equal("task class not found: Evil\\n" + Forged, deadLetters[0].Reason);
        Assert.StartsWith("task class not found: xxxx", deadLetters[4].Reason, StringComparison.Ordinal);
        Assert.EndsWith("... (cut: 5000 characters in all)", deadLetters[4].Reason, StringComparison.Ordinal);

        // What tasks log keeps its content, escaped; the exception's own lines are indented continuations.
        Assert.Contains("<EchoChar> got [\\n]", task, StringComparison.Ordinal);
        Assert.Contains("<EchoChar> got [\\u001b]", task, StringComparison.Ordinal);
        Assert.Contains("<logging-task> said line one\\n" + Forged + "\\r\\nand\\u0000more", task, StringComparison.Ordinal);
        Assert.Contains("\n    System.InvalidOperationException: boom\n    " + Forged + "\n    \\u001b[2J\n", task, StringComparison.Ordinal);
        Assert.Contains($"{{{submitted[3]}}} <Failing> failure ", main, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
