using TaskTempest.Samples.Deadlock;

// The gem's deadlock example: 1000 tasks that deadlock on one lock, each timing out after a second.
// The engine stays alive, reports every timeout, and on SIGINT or SIGTERM stops within half a second
// (exit code 1 when it had to abort tasks still blocked).
int count = args.Length > 0 && int.TryParse(args[0], out int n) ? n : 1000;
var engine = DeadlockTempest.Default;
for (int i = 0; i < count; i++) engine.SubmitDeadlock(i);
Console.WriteLine($"{engine.Name}: {count} deadlocking jobs submitted; logs in {engine.Name}.log. Ctrl+C to stop.");
var result = engine.Run();
Console.WriteLine(result);
return result.ExitCode;
