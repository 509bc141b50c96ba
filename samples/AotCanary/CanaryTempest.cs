using ZLogger;

namespace TaskTempest.Samples.AotCanary;

/// <summary>The canary's engine: each queue gets an instance of its own, with its own two log files.</summary>
[Tempest(Threads = 2)]
public partial class CanaryTempest;

/// <summary>Says which queue brought it, in the task log.</summary>
[TempestTask]
public sealed class Chirp : TempestTask
{
    public void Process(string queue, int number) => TaskLogger.ZLogInformation($"chirp {number} through {queue}");
}

/// <summary>Every second on Berlin's clock: the generated schedule, Cronos and the time-zone data, in the native binary.</summary>
[TempestTask]
[Recurring("* * * * * *", TimeZone = "Europe/Berlin")]
public sealed class Heartbeat : TempestTask
{
    public void Process() => TaskLogger.ZLogInformation($"beat");
}
