namespace TaskTempest.BenchmarkSupport;

/// <summary>
/// Counts finished jobs down and completes when the expected number has finished. Every benchmarked job
/// ends with <see cref="One"/>, so every contender does the same work per job. Linked into both benchmark
/// programs (see their project files).
/// </summary>
public static class Finish
{
    private static int s_left;
    private static TaskCompletionSource s_done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Starts counting: the returned task completes when <paramref name="jobs"/> jobs have finished.</summary>
    public static Task Expect(int jobs)
    {
        s_done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref s_left, jobs);
        return s_done.Task;
    }

    /// <summary>Called by each finished job.</summary>
    public static void One()
    {
        if (Interlocked.Decrement(ref s_left) == 0) s_done.TrySetResult();
    }
}
