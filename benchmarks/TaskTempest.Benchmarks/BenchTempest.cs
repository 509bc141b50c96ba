namespace TaskTempest.Benchmarks;

/// <summary>The engine every benchmark uses: one worker thread; the queue is passed in <see cref="TempestOptions"/>.</summary>
[Tempest(Threads = 1)]
public partial class BenchTempest;

/// <summary>The benchmarked task: adds two numbers and counts the job (see <see cref="Finish"/>).</summary>
[TempestTask]
public sealed class Adder : TempestTask
{
    /// <summary>Adds <paramref name="a"/> and <paramref name="b"/>; the sum is kept so the work is not optimised away.</summary>
    public void Process(int a, int b)
    {
        Sum += a + b;
        Finish.One();
    }

    /// <summary>The sum of every processed job (written by the one worker thread only).</summary>
    public static long Sum { get; set; }
}
