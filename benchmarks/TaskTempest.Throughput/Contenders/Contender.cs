namespace TaskTempest.Throughput.Contenders;

/// <summary>
/// One way of running N no-op Adder-shaped jobs (two int arguments) on 2 workers. Each job ends with
/// <see cref="Finish.One"/>, so every contender does the same work per job.
/// </summary>
internal abstract class Contender(string name, int jobs)
{
    /// <summary>The row's name in the tables.</summary>
    public string Name { get; } = name;

    /// <summary>How many jobs one measured run pushes through.</summary>
    public int Jobs { get; } = jobs;

    /// <summary>
    /// Runs <paramref name="jobs"/> jobs. Pre-filled: all submitted first, the clock starts when draining
    /// starts; live: the clock covers producer and workers running at once. Returns the measured time.
    /// </summary>
    public abstract Task<TimeSpan> RunAsync(int jobs, bool prefilled);
}

/// <summary>The message of the bare loops: one small object per job, as a queue of jobs would hold.</summary>
internal sealed class Job(int a, int b)
{
    public readonly int A = a, B = b;

    /// <summary>The no-op job itself.</summary>
    public static void Work(Job job)
    {
        if (job.A + job.B >= 0) Finish.One();
    }
}
