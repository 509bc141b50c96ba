using TaskTempest;
using ZLogger;

namespace TaskTempest.Samples.Math;

/// <summary>The Quickstart's engine: two worker threads on the embedded in-memory queue.</summary>
[Tempest(Threads = 2)]
public partial class MathTempest;

/// <summary>The Quickstart's task: adds two numbers and logs the sum to the task log.</summary>
[TempestTask]
public sealed class Adder : TempestTask
{
    public void Process(int a, int b)
    {
        int c = a + b;
        TaskLogger.ZLogInformation($"{a} + {b} = {c}");
    }
}

/// <summary>The gem's math example: averages its arguments, and fails when given none.</summary>
[TempestTask]
public sealed class Averager : TempestTask
{
    public void Process(params int[] numbers)
    {
        int average = numbers.Sum() / numbers.Length; // DivideByZeroException for no numbers, as in the original
        TaskLogger.ZLogInformation($"The average of [{string.Join(", ", numbers)}] is {average}");
    }
}

/// <summary>The gem's math example: a deliberately slow recursive Fibonacci with the original's one-second
/// timeout; it watches its token, so a timeout (or a shutdown abort) stops it.</summary>
[TempestTask(TimeoutSeconds = 1)]
public sealed class Fibonacci : TempestTask
{
    public void Process(int n, CancellationToken cancellationToken)
    {
        long result = Compute(n, cancellationToken);
        TaskLogger.ZLogInformation($"fibonacci({n}) = {result}");
    }

    private static long Compute(int n, CancellationToken cancellationToken)
    {
        if (n < 2) return n;
        if (n > 20) cancellationToken.ThrowIfCancellationRequested();
        return Compute(n - 1, cancellationToken) + Compute(n - 2, cancellationToken);
    }
}
