using TaskTempest;

namespace SharedTasks.Worker;

/// <summary>Runs the jobs declared in SharedTasks.Jobs; it declares no task of its own.</summary>
[Tempest(Threads = 2)]
internal sealed partial class WorkerTempest;
