using TaskTempest.Queues;

namespace TaskTempest.Testing;

/// <summary>
/// What <see cref="TempestLeasingMemoryQueue"/> tells the manual mode's harness, under the queue's lock (so in the
/// queue's own order, and in the same step as the change): an implementation must be quick and must not call the queue.
/// </summary>
internal interface ILeasingQueueObserver
{
    /// <summary>A message was added (a duplicate of a held unique key never is); <paramref name="message"/> is the one
    /// the submit handed over, before the queue stored its text.</summary>
    void Added(TempestMessage message);

    /// <summary>An outcome was recorded (one refused for a lost lease never is).</summary>
    void Recorded(in TempestOutcome outcome);
}
