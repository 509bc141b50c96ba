using TaskTempest;
using ZLogger;

namespace TempestWorker;

/// <summary>A task: the engine makes one instance per job and calls <see cref="Process"/> with the submitted arguments.</summary>
[TempestTask]
public sealed class Greet : TempestTask
{
    public void Process(string name) => TaskLogger.ZLogInformation($"Hello, {name}!");
}
