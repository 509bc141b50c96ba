namespace TaskTempest.Engine.Threads;

/// <summary>The worker threads of a run; it grows when orphaned workers are replaced.</summary>
internal sealed class WorkerList
{
    private readonly Lock _gate = new();
    private readonly List<Worker> _workers = [];
    private Worker[] _snapshot = [];

    /// <summary>Every worker added so far (a snapshot: idle workers read it to steal, without a lock).</summary>
    public Worker[] Snapshot => Volatile.Read(ref _snapshot);

    public Worker Add()
    {
        lock (_gate)
        {
            var worker = new Worker(_workers.Count);
            _workers.Add(worker);
            Volatile.Write(ref _snapshot, [.. _workers]);
            return worker;
        }
    }
}
