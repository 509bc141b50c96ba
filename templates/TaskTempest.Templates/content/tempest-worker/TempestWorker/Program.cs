using TempestWorker;

// Submits one job, then runs the engine on its built-in memory queue until SIGINT or SIGTERM (Ctrl+C): it stops
// dequeuing, lets running tasks finish and exits 0 (1 if it had to abort some). Logs: WorkerTempest.log (one line when
// a task starts and one when it ends) and WorkerTempest.task.log (what tasks write to TaskLogger).
var engine = WorkerTempest.Default;
engine.SubmitGreet("world");

Console.WriteLine($"{engine.Name} running; logs: {engine.Name}.log and {engine.Name}.task.log. Ctrl+C to stop.");
var result = await engine.RunAsync();
Console.WriteLine(result);
return result.ExitCode;
