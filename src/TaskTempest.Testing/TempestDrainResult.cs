using System.Globalization;
using System.Text;
using TaskTempest.Queues;

namespace TaskTempest.Testing;

/// <summary>One run of a job in a drain, and how it ended: what the engine recorded on the queue, with the exception the
/// task log got.</summary>
public sealed class TempestJobRun
{
    internal TempestJobRun(TempestCapturedJob? job, in TempestOutcome outcome)
    {
        Job = job;
        Id = outcome.Message.Id!;
        TaskName = outcome.Message.TaskName;
        Attempt = outcome.Message.Attempt;
        Outcome = outcome.Kind;
        Status = outcome.Kind == TempestOutcomeKind.Returned ? TempestTaskStatus.Aborted : outcome.Status;
        Error = outcome.Error;
        RetryAt = outcome.Kind == TempestOutcomeKind.Retry ? outcome.RunAt : null;
        DeadLetterReason = outcome.Kind == TempestOutcomeKind.DeadLettered ? outcome.Reason : null;
    }

    /// <summary>The captured job (null for a job the harness did not see submitted: text put on the queue raw).</summary>
    public TempestCapturedJob? Job { get; }

    /// <summary>The job's id.</summary>
    public string Id { get; }

    /// <summary>The task's name on the wire.</summary>
    public string TaskName { get; }

    /// <summary>Which run this was: 1 for the first, 2 for the first retry...</summary>
    public int Attempt { get; }

    /// <summary>How the run ended: success, failure, timeout, or aborted (the engine stopped while it ran).</summary>
    public TempestTaskStatus Status { get; }

    /// <summary>Whether the run failed or timed out.</summary>
    public bool Failed => Status is TempestTaskStatus.Failure or TempestTaskStatus.Timeout;

    /// <summary>What the engine did with the job: <see cref="TempestOutcomeKind.Completed"/> (done: a success, or a final
    /// failure of a task without retries), <see cref="TempestOutcomeKind.Retry"/> (it runs again at <see cref="RetryAt"/>),
    /// <see cref="TempestOutcomeKind.DeadLettered"/> (out of attempts), <see cref="TempestOutcomeKind.Returned"/> (aborted).</summary>
    public TempestOutcomeKind Outcome { get; }

    /// <summary>What <c>Process</c> threw (for a timeout, what it threw after its deadline, if anything but a cancellation),
    /// as the task log got it; null for a success.</summary>
    public Exception? Exception { get; internal set; }

    /// <summary>The failure as the queue keeps it (type and cut message; for a timeout the limit it ran past); null for a success.</summary>
    public TempestError? Error { get; }

    /// <summary>For a retry: when the job may run again (move the clock there and drain).</summary>
    public DateTimeOffset? RetryAt { get; }

    /// <summary>For a dead letter: why.</summary>
    public string? DeadLetterReason { get; }

    /// <summary>The run in one line: <c>{id} &lt;Flaky&gt; attempt 1: Failure (System.InvalidOperationException: boom), retry at ...</c>.</summary>
    public override string ToString()
    {
        var line = new StringBuilder().Append(CultureInfo.InvariantCulture, $"{{{Id}}} <{TaskName}> attempt {Attempt}: {Status}");
        if (Exception is { } exception) line.Append(CultureInfo.InvariantCulture, $" ({exception.GetType().FullName}: {exception.Message})");
        else if (Error is { } error) line.Append(CultureInfo.InvariantCulture, $" ({error.Type}: {error.Message})");
        if (RetryAt is { } retryAt) line.Append(CultureInfo.InvariantCulture, $", retry at {retryAt:O}");
        if (DeadLetterReason is { } reason) line.Append(CultureInfo.InvariantCulture, $", dead-lettered: {reason}");
        return line.ToString();
    }
}

/// <summary>What one drain ran, in the order the queue recorded the runs' ends.</summary>
public sealed class TempestDrainResult
{
    internal TempestDrainResult(IReadOnlyList<TempestJobRun> runs, TempestRunResult? engineResult)
    {
        Runs = runs;
        Failures = [.. runs.Where(run => run.Failed)];
        EngineResult = engineResult;
    }

    /// <summary>Every run that ended in the drain (a job retried at once runs more than once).</summary>
    public IReadOnlyList<TempestJobRun> Runs { get; }

    /// <summary>The runs that failed or timed out.</summary>
    public IReadOnlyList<TempestJobRun> Failures { get; }

    /// <summary>The engine's run, as <c>Run</c> returned it; null when nothing was due, so the engine did not start.</summary>
    public TempestRunResult? EngineResult { get; }

    /// <summary>One line per run.</summary>
    public override string ToString() =>
        Runs.Count == 0 ? "nothing ran" : string.Join(Environment.NewLine, Runs.Select(run => run.ToString()));
}

/// <summary>
/// A drain in which a run failed or timed out (unless failures were allowed: <see cref="TempestManualOptions.ThrowOnFailure"/>,
/// <see cref="TempestDrainOptions.ThrowOnFailure"/>). The inner exception is the first failure's, so a test's report
/// shows its stack; <see cref="Result"/> has every run.
/// </summary>
public sealed class TempestJobFailedException : Exception
{
    /// <summary>Creates the exception for a drain's result.</summary>
    public TempestJobFailedException(TempestDrainResult result)
        : base(Describe(result ?? throw new ArgumentNullException(nameof(result))), result.Failures.FirstOrDefault(run => run.Exception is not null)?.Exception) =>
        Result = result;

    /// <summary>The drain's result: every run, the failed ones in <see cref="TempestDrainResult.Failures"/>.</summary>
    public TempestDrainResult Result { get; }

    private static string Describe(TempestDrainResult result)
    {
        var failures = result.Failures;
        string count = failures.Count == 1 ? "1 run" : $"{failures.Count} runs";
        return $"{count} failed in the drain (allow failures with TempestDrainOptions.AllowFailures to read them from the result):"
               + Environment.NewLine + string.Join(Environment.NewLine, failures.Select(run => "  " + run));
    }
}
