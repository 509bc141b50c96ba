namespace TaskTempest.Engine;

/// <summary>
/// Runs jobs for one <c>Run</c>: worker threads (<see cref="Threads.ThreadDispatcher{TInbox}"/>) or one event
/// loop (<see cref="Cooperative.CooperativeDispatcher{TInbox}"/>). The run's own lifecycle (signals, drain,
/// abort, result) is written once, above both, against this.
/// </summary>
internal interface IDispatcher
{
    /// <summary>The main-log line that says what runs the jobs, e.g. <c>thread pool initialized (2 threads)</c>.</summary>
    string Initialized { get; }

    void Start();

    /// <summary>Completes when the dispatcher stopped taking messages (the run is stopping) and no job is in flight.</summary>
    Task DrainAsync();

    /// <summary>At shutdown's deadline: reports each job still in flight <c>aborted</c> and returns its message.</summary>
    Task AbortRunningAsync(List<string> aborted);

    /// <summary>Slots left empty because too many tasks are stuck on orphaned workers (the engine is unhealthy while above 0).</summary>
    int SlotsLost { get; }

    /// <summary>Tasks still running on orphaned workers, past their timeout.</summary>
    int StuckTasks { get; }

    /// <summary>Ends what nothing will use any more (the loop thread) and sums the counts.</summary>
    JobCounts Close();
}

/// <summary>How many jobs a run started and how they ended.</summary>
internal readonly record struct JobCounts(long Started, long Succeeded, long Failed, long TimedOut);
