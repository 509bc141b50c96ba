using TaskTempest.Samples.Fiber;

// The gem's fiber example: 5000 random jobs, 5 at a time on one event loop. Runs until SIGINT or
// SIGTERM; exits 0 when every running task finished within the half-second shutdown timeout, else 1.
int count = args.Length > 0 && int.TryParse(args[0], out int n) ? n : 5000;
var engine = FiberTempest.Default;
FiberWorkload.Submit(engine, count, Random.Shared);
Console.WriteLine($"{engine.Name}: {count} jobs submitted; logs in {engine.Name}.log and {engine.Name}.task.log. Ctrl+C to stop.");
var result = engine.Run();
Console.WriteLine(result);
return result.ExitCode;
