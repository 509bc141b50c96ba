using TaskTempest.Samples.Math;

// The Quickstart: ten random additions on two threads. `MathTempest math` runs the gem's math
// example instead: 1000 random Adder, Averager and Fibonacci jobs. Either runs until SIGINT or
// SIGTERM, then drains and exits 0 (1 if running tasks had to be aborted).
var engine = MathTempest.Default;

if (args is ["math"])
{
    for (int i = 0; i < 1000; i++)
    {
        switch (Random.Shared.Next(3))
        {
            case 0: engine.SubmitAdder(Random.Shared.Next(10), Random.Shared.Next(10)); break;
            case 1: engine.SubmitAverager([.. Enumerable.Range(0, Random.Shared.Next(5)).Select(_ => Random.Shared.Next(100))]); break;
            default: engine.SubmitFibonacci(Random.Shared.Next(30)); break;
        }
    }
}
else
{
    for (int i = 0; i < 10; i++)
    {
        int a = Random.Shared.Next(10), b = Random.Shared.Next(10);
        engine.SubmitAdder(a, b);
    }
}

Console.WriteLine($"{engine.Name} running; logs: {engine.Name}.log and {engine.Name}.task.log. Ctrl+C to stop.");
var result = engine.Run();
Console.WriteLine(result);
return result.ExitCode;
