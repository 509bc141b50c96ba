namespace TaskTempest;

/// <summary>Defaults shared by the runtime and the documentation.</summary>
public static class TempestDefaults
{
    /// <summary>Worker threads of an engine that does not set <see cref="TempestAttribute.Threads"/>.</summary>
    public const int Threads = 10;

    /// <summary>How long a graceful stop waits for running tasks: 30 s, like the .NET host.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long a timed-out task gets before its worker is interrupted, and again before it is orphaned: 1 s.</summary>
    public static readonly TimeSpan TimeoutGrace = TimeSpan.FromSeconds(1);

    /// <summary>How long a worker sleeps when a queue that cannot wait returned nothing: 1 s.</summary>
    public static readonly TimeSpan QueuePollInterval = TimeSpan.FromSeconds(1);
}
