using SharedTasks.Worker;

// Tasks from another project: SubmitWelcomeMail and SubmitSumNumbers are generated from the manifest
// of SharedTasks.Jobs, with the tasks' own parameter names, defaults and params.
var engine = WorkerTempest.Default;
engine.SubmitWelcomeMail("ada@example.org", "Ada");
engine.SubmitWelcomeMail("grace@example.org");
engine.SubmitSumNumbers(1, 2, 3, 4);
Console.WriteLine($"{engine.Name} running; logs in {engine.Name}.log and {engine.Name}.task.log. Ctrl+C to stop.");
var result = engine.Run();
Console.WriteLine(result);
return result.ExitCode;
