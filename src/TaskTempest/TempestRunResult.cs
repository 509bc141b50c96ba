namespace TaskTempest;

/// <summary>How a <c>Run</c> ended. A program's <c>Main</c> can return <see cref="ExitCode"/>.</summary>
public sealed class TempestRunResult
{
    internal TempestRunResult(TempestStopReason stopReason, long started, long succeeded, long failed, long timedOut, IReadOnlyList<string> abortedTaskIds)
    {
        StopReason = stopReason;
        TasksStarted = started;
        TasksSucceeded = succeeded;
        TasksFailed = failed;
        TasksTimedOut = timedOut;
        AbortedTaskIds = abortedTaskIds;
    }

    /// <summary>What stopped the engine.</summary>
    public TempestStopReason StopReason { get; }

    /// <summary>Tasks that started during the run.</summary>
    public long TasksStarted { get; }

    /// <summary>Tasks that ended in success.</summary>
    public long TasksSucceeded { get; }

    /// <summary>Tasks that ended in failure.</summary>
    public long TasksFailed { get; }

    /// <summary>Tasks that ended in timeout.</summary>
    public long TasksTimedOut { get; }

    /// <summary>Ids of the tasks still running when the shutdown timeout ran out; their messages were returned to the queue.</summary>
    public IReadOnlyList<string> AbortedTaskIds { get; }

    /// <summary>Whether every running task finished within the shutdown timeout.</summary>
    public bool Drained => AbortedTaskIds.Count == 0;

    /// <summary>0 when the engine drained cleanly; 1 when tasks had to be aborted.</summary>
    public int ExitCode => Drained ? 0 : 1;

    /// <inheritdoc/>
    public override string ToString() =>
        $"stopped ({StopReason}): {TasksStarted} started, {TasksSucceeded} success, {TasksFailed} failure, {TasksTimedOut} timeout, {AbortedTaskIds.Count} aborted";
}
