namespace TaskTempest;

/// <summary>Where an engine is in its <c>Run</c>.</summary>
public enum TempestEngineState
{
    /// <summary>Not running: <c>Run</c> was not called, or it returned.</summary>
    Stopped,

    /// <summary><c>Run</c> began: hooks, settings, logs, the dispatcher and the queue's first steps.</summary>
    Starting,

    /// <summary>Taking and running jobs.</summary>
    Running,

    /// <summary>A stop was asked for: no new job is taken, running ones finish within the shutdown timeout.</summary>
    Draining,
}

/// <summary>An engine's state and health at one moment (<see cref="TempestEngine.Status"/>).</summary>
/// <param name="State">Where the engine is in its run.</param>
/// <param name="SlotsLost">Worker slots left empty because more tasks were stuck past their timeout than
/// <see cref="TempestOptions.MaxOrphanedWorkers"/> allows; the engine runs on with fewer workers meanwhile.</param>
/// <param name="StuckTasks">Tasks still running on orphaned workers, past their timeout.</param>
public readonly record struct TempestEngineStatus(TempestEngineState State, int SlotsLost, int StuckTasks)
{
    /// <summary>No slot is lost to stuck tasks: the engine runs jobs at its full width (a stopped engine is healthy too).</summary>
    public bool IsHealthy => SlotsLost == 0;
}
