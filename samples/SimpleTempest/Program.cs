using TaskTempest.Samples.Simple;

// The gem's simple example: 5000 random jobs on 5 threads. Runs until SIGINT or SIGTERM; exits 0
// when every running task finished within the half-second shutdown timeout, 1 when some were aborted.
int count = args.Length > 0 && int.TryParse(args[0], out int n) ? n : 5000;
var engine = SimpleTempest.Default;
SimpleWorkload.Submit(engine, count, Random.Shared);
SimpleWorkload.SubmitRetriesAndADelay(engine); // retried jobs and a delayed one: see the "(attempt 1 of 4, retry in 0.2 s)" lines
Console.WriteLine($"{engine.Name}: {count} jobs submitted; logs in {engine.Name}.log and {engine.Name}.task.log. Ctrl+C to stop.");
var result = engine.Run();
Console.WriteLine(result);
return result.ExitCode;
