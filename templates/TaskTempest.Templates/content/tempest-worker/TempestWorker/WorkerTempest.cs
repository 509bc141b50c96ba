using TaskTempest;

namespace TempestWorker;

/// <summary>
/// The worker's engine: two worker threads on the built-in memory queue. The generator gives it a typed
/// <c>Submit…</c> method per task (<c>SubmitGreet</c>) and a <c>Default</c> instance. For jobs that outlive the
/// process, give it a durable queue (the TaskTempest.PostgreSql or TaskTempest.Redis package):
/// <c>new WorkerTempest(new TempestOptions { Queue = queue })</c>.
/// </summary>
[Tempest(Threads = 2)]
public partial class WorkerTempest;
