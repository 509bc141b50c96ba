namespace TaskTempest.Benchmarks;

/// <summary>The engine every benchmark uses: one worker thread; the queue is passed in <see cref="TempestOptions"/>.</summary>
[Tempest(Threads = 1)]
public partial class BenchTempest;

/// <summary>The benchmarked task: adds two numbers and counts the job (see <see cref="JobCounter"/>).</summary>
[TempestTask]
public sealed class Adder : TempestTask
{
    /// <summary>Adds <paramref name="a"/> and <paramref name="b"/>; the sum is kept so the work is not optimised away.</summary>
    public void Process(int a, int b)
    {
        JobCounter.Sum += a + b;
        JobCounter.One();
    }
}

/// <summary>Counts processed jobs and completes a task when the expected number has been processed.</summary>
public static class JobCounter
{
    private static int s_left;
    private static TaskCompletionSource s_done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The sum of every processed job (written by the one worker thread only).</summary>
    public static long Sum { get; set; }

    /// <summary>Starts counting: the returned task completes when <paramref name="jobs"/> jobs have been processed.</summary>
    public static Task Expect(int jobs)
    {
        s_done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref s_left, jobs);
        return s_done.Task;
    }

    /// <summary>Called by each processed job.</summary>
    public static void One()
    {
        if (Interlocked.Decrement(ref s_left) == 0) s_done.TrySetResult();
    }
}
