namespace TaskTempest;

/// <summary>Why an engine stopped.</summary>
public enum TempestStopReason
{
    /// <summary><see cref="TempestEngine.Stop"/> was called.</summary>
    StopRequested,
    /// <summary>The token given to <c>Run</c> was cancelled.</summary>
    Cancelled,
    /// <summary>SIGINT (Ctrl+C).</summary>
    Interrupt,
    /// <summary>SIGTERM.</summary>
    Terminate,
}
