using System.Text.Json;
using TaskTempest.Queues;

namespace TaskTempest.Testing;

/// <summary>Where a captured job is, as <see cref="TempestCapturedJob.State"/> reads it from the queue.</summary>
public enum TempestCapturedJobState
{
    /// <summary>Due, waiting for a drain to run it.</summary>
    Waiting,

    /// <summary>Waiting for its run-at (a delayed submit): move the clock past it.</summary>
    Scheduled,

    /// <summary>Waiting for its run-at after a failed run: move the clock past its backoff.</summary>
    Retrying,

    /// <summary>Taken by the engine and not ended (only during a drain, or after one that timed out).</summary>
    Running,

    /// <summary>Ended for good: it succeeded, or failed without retries, and the queue no longer holds it
    /// (<see cref="TempestCapturedJob.Runs"/> says how it ended).</summary>
    Done,

    /// <summary>In the dead letters: out of attempts (<see cref="TempestCapturedJob.DeadLetterReason"/> says why).</summary>
    Dead,
}

/// <summary>
/// A job submitted to a <see cref="TempestManualHarness{TEngine}"/>'s engine, as the test inspects it: what was submitted
/// (the typed message, its wire text and arguments, its queue and priority, fixed at the submit) and where it is now
/// (state, attempt, run-at, failures, read from the queue at each call), with every run a drain made of it.
/// </summary>
public sealed class TempestCapturedJob
{
    private readonly TempestLeasingMemoryQueue _queue;
    private readonly Lock _gate = new();
    private readonly List<TempestJobRun> _runs = [];
    private string? _json;
    private JsonElement[]? _arguments;

    internal TempestCapturedJob(TempestMessage message, TempestLeasingMemoryQueue queue, DateTimeOffset submittedAt)
    {
        Message = message;
        _queue = queue;
        SubmittedAt = submittedAt;
    }

    /// <summary>The job's id, as the submit returned it and the logs print it.</summary>
    public string Id => Message.Id!;

    /// <summary>The task's name on the wire.</summary>
    public string TaskName => Message.TaskName;

    /// <summary>
    /// The message the submit made: the task's generated message class (e.g. <c>AdderMessage</c>, whose public readonly
    /// fields are named after <c>Process</c>'s parameters). <c>Assert.IsType&lt;AdderMessage&gt;(job.Message).a</c>, or
    /// <see cref="MessageAs{TMessage}"/>, reads it typed.
    /// </summary>
    public TempestMessage Message { get; }

    /// <summary>The message as <typeparamref name="TMessage"/> (the task's generated message class).</summary>
    /// <exception cref="InvalidCastException">The job's message is of another class (another task's).</exception>
    public TMessage MessageAs<TMessage>() where TMessage : TempestMessage =>
        Message as TMessage ?? throw new InvalidCastException(
            $"The job {Id} runs {TaskName}: its message is a {Message.GetType().Name}, not a {typeof(TMessage).Name}.");

    /// <summary>The message in the wire format, as a queue that stores text keeps it: <c>["k3f9a2c1x7q0m4bd","Adder",2,5]</c>.</summary>
    public string Json => _json ??= Message.ToJson();

    /// <summary>The arguments as they are on the wire (the elements of <see cref="Json"/> after the id and the task name),
    /// e.g. <c>job.Arguments[0].GetInt32()</c>: what another program reading the queue would see.</summary>
    public IReadOnlyList<JsonElement> Arguments => _arguments ??= ReadArguments(Json);

    /// <summary>When it was submitted, on the harness's clock.</summary>
    public DateTimeOffset SubmittedAt { get; }

    /// <summary>The named queue it was submitted to (<c>default</c> unless the submit or the task named one).</summary>
    public string Queue => TempestQueueNames.Of(Message.Envelope);

    /// <summary>Its priority within its named queue (0 unless the submit or the task set one).</summary>
    public int Priority => Message.Envelope?.Priority ?? 0;

    /// <summary>Its unique key, if it has one.</summary>
    public string? UniqueKey => Message.Envelope?.UniqueKey;

    /// <summary>Where it is now (the queue's clock decides what is due).</summary>
    public TempestCapturedJobState State => Info() is { } info
        ? info.State switch
        {
            TempestJobState.Ready => TempestCapturedJobState.Waiting,
            TempestJobState.Scheduled => TempestCapturedJobState.Scheduled,
            TempestJobState.Retrying => TempestCapturedJobState.Retrying,
            TempestJobState.Running => TempestCapturedJobState.Running,
            TempestJobState.Dead => TempestCapturedJobState.Dead,
            _ => TempestCapturedJobState.Done,
        }
        : TempestCapturedJobState.Done;

    /// <summary>Runs started so far: 0 before its first drain, 1 after it, 2 after a retry ran...</summary>
    public int Attempt => Info()?.Attempt ?? LastRun?.Attempt ?? 0;

    /// <summary>When it may run: its delayed submit's run-at, or after a failure its retry's (due once the clock has reached
    /// it); null for a job submitted to run at once that has not failed.</summary>
    public DateTimeOffset? RunAt => Info() is { } info ? info.Envelope?.RunAt : LastRun?.RetryAt ?? Message.Envelope?.RunAt;

    /// <summary>Runs that failed or timed out so far (what its retries are counted against).</summary>
    public int Failures => Info() is { } info ? info.Envelope?.Failures ?? 0 : Runs.Count(run => run.Failed);

    /// <summary>The last failure's exception type and message, as the queue keeps it; null when no run failed.</summary>
    public TempestError? LastError => Info() is { } info ? info.Envelope?.LastError : LastRun?.Error;

    /// <summary>For a dead letter: why (<c>out of attempts (attempt 3 of 3); last error ...</c>).</summary>
    public string? DeadLetterReason => Info()?.DeadReason;

    /// <summary>Every run drains made of it, in order, each with how it ended and its exception.</summary>
    public IReadOnlyList<TempestJobRun> Runs
    {
        get { lock (_gate) return [.. _runs]; }
    }

    private TempestJobRun? LastRun
    {
        get { lock (_gate) return _runs.Count > 0 ? _runs[^1] : null; }
    }

    internal void Add(TempestJobRun run)
    {
        lock (_gate) _runs.Add(run);
    }

    // The queue's view; it completes at once (the queue is in process), and null means the queue forgot it: it ended.
    private TempestJobInfo? Info() => _queue.GetAsync(Id).GetAwaiter().GetResult();

    private static JsonElement[] ReadArguments(string json)
    {
        using var document = JsonDocument.Parse(json);
        var elements = document.RootElement;
        var arguments = new JsonElement[Math.Max(0, elements.GetArrayLength() - 2)];
        for (int i = 0; i < arguments.Length; i++) arguments[i] = elements[i + 2].Clone(); // outlives the document
        return arguments;
    }

    /// <summary>The job in one line: <c>{id} &lt;Adder&gt; [2,5] Waiting</c>.</summary>
    public override string ToString() => $"{{{Id}}} <{TaskName}> [{string.Join(",", Arguments.Select(a => a.GetRawText()))}] {State}";
}
