namespace TaskTempest.Queues;

/// <summary>
/// One engine run in one process, as leasing queues know it: the owner of its leases and an entry in the
/// queue's registry of workers, kept alive by the engine's heartbeat.
/// </summary>
/// <param name="Id">Unique per run; the owner written on every lease it holds.</param>
/// <param name="EngineName">The engine's name.</param>
/// <param name="Host">The machine's name.</param>
/// <param name="ProcessId">The process id.</param>
/// <param name="Slots">How many jobs it runs at once.</param>
/// <param name="StartedAt">When its run started.</param>
public sealed record TempestWorkerInfo(string Id, string EngineName, string Host, int ProcessId, int Slots, DateTimeOffset StartedAt);

/// <summary>A worker in a queue's registry, with its last heartbeat (on the queue's clock).</summary>
/// <param name="Worker">Who.</param>
/// <param name="LastHeartbeat">When the queue last heard from it.</param>
/// <param name="Running">How many leases it held at that heartbeat.</param>
public sealed record TempestWorkerStatus(TempestWorkerInfo Worker, DateTimeOffset LastHeartbeat, int Running);

/// <summary>What one rescue of expired leases did.</summary>
/// <param name="Returned">Messages whose lease had expired, put back to run again (each counted one lease expiry).</param>
/// <param name="DeadLettered">Messages whose lease expired once too often: poison, now in the dead letters.</param>
public readonly record struct TempestRescue(int Returned, int DeadLettered);
