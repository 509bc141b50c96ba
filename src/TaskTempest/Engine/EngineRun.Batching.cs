using TaskTempest.Queues;

namespace TaskTempest.Engine;

/// <summary>
/// How thread workers take messages from the embedded queue. Two workers that each dequeue one message
/// at a time pass the queue's head between their cores on every job, and that costs more than the rest
/// of a no-op job (a bare two-thread ConcurrentQueue drain measured 11-88 ns per item here, against
/// 7.6 ns on one thread). So while every worker is busy, a worker takes up to <see cref="BatchSize"/>
/// messages at once into its own small queue. None of them can wait there while another worker has
/// nothing to do: a worker that finds the shared queue empty counts itself idle and steals from the
/// others' batches before it sleeps, and a worker that filled its batch just as another went idle hands
/// the batch straight back.
/// </summary>
internal sealed partial class EngineRun
{
    /// <summary>The most messages a worker takes at once.</summary>
    internal const int BatchSize = 16;

    /// <summary>Workers looking for work (stealing, or asleep on the queue); batches are taken only when there are none.</summary>
    private int _idleWorkers;

    /// <summary>The next message for <paramref name="worker"/>; <paramref name="immediate"/> when it was there without waiting.</summary>
    private TempestMessage TakeFromMemoryQueue(TempestMemoryQueue memory, Worker worker, CancellationToken stopping, out bool immediate)
    {
        immediate = true;
        if (worker.Batch.TryDequeue(out var message)) return message;
        if (memory.TryDequeue(out message))
        {
            // One worker has no one to pass the queue's head to: it takes one message at a time.
            if (engine.Threads > 1 && Volatile.Read(ref _idleWorkers) == 0) FillBatch(memory, worker);
            return message;
        }
        immediate = false;
        return WaitForMessage(memory, worker, stopping);
    }

    private void FillBatch(TempestMemoryQueue memory, Worker worker)
    {
        for (int i = 1; i < BatchSize && memory.TryDequeue(out var next); i++) worker.Batch.Enqueue(next);
        // A worker that went idle while this one filled its batch may have looked at the batch before it
        // was filled, and be asleep now: hand it back. (This barrier and the increment in WaitForMessage
        // are full fences, so one of the two workers sees the other; the enqueues alone are not.)
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _idleWorkers) != 0) HandBack(memory, worker);
    }

    /// <summary>
    /// Steals from a busy worker's batch, or sleeps on the queue. No spinning first: on a machine with
    /// few cores a spinning worker takes the core the producer needs (measured: live throughput went from
    /// 5.2M to 5.7-7.4M jobs/s with the spins taken out), and blocking on the queue spins briefly anyway.
    /// </summary>
    private TempestMessage WaitForMessage(TempestMemoryQueue memory, Worker worker, CancellationToken stopping)
    {
        Interlocked.Increment(ref _idleWorkers);
        try
        {
            return TrySteal(worker, out var message) ? message : memory.Dequeue(stopping);
        }
        finally
        {
            Interlocked.Decrement(ref _idleWorkers);
        }
    }

    private bool TrySteal(Worker thief, out TempestMessage message)
    {
        foreach (var other in Workers)
        {
            if (other != thief && other.Batch.TryDequeue(out message!)) return true;
        }
        message = null!;
        return false;
    }

    /// <summary>Puts every worker's unstarted batch back in the shared queue.</summary>
    private void HandBackAllBatches()
    {
        if (_memoryQueue is not { } memory) return;
        foreach (var worker in Workers) HandBack(memory, worker);
    }

    /// <summary>Puts a worker's unstarted batch back in the shared queue (at its end), waking sleeping workers.</summary>
    private static void HandBack(TempestMemoryQueue memory, Worker worker)
    {
        while (worker.Batch.TryDequeue(out var message)) memory.Requeue(message);
    }
}
