namespace TaskTempest.Queues;

/// <summary>
/// A leasing queue's hold on one delivery: who holds it, the token that makes its outcome count, and
/// until when (on the queue's clock: the server's, never the worker's). It lives with the delivery
/// (<see cref="TempestMessage.Lease"/>), not in the stored message: a new claim of the same message gets a
/// new token, so an outcome sent by a stale worker is refused.
/// </summary>
public sealed class TempestLease
{
    /// <summary>A lease handed out by a queue.</summary>
    public TempestLease(string owner, long token, DateTimeOffset until)
    {
        Owner = owner ?? throw new ArgumentNullException(nameof(owner));
        Token = token;
        Until = until;
    }

    /// <summary>The worker process that holds it (<see cref="TempestWorkerInfo.Id"/>).</summary>
    public string Owner { get; }

    /// <summary>Unique per claim: every outcome and extension is conditional on it.</summary>
    public long Token { get; }

    /// <summary>When it runs out unless extended; the queue moves it on at each heartbeat (the engine never reads it: the queue's own record decides).</summary>
    public DateTimeOffset Until { get; set; }

    /// <summary>The engine's: cancelled when a heartbeat finds this lease lost, so the job's token is cancelled.</summary>
    internal CancellationTokenSource? JobCancellation { get; set; }

    /// <summary>The engine's: the job ended and its outcome is on its way to the queue, where the conditional record
    /// decides (a refusal is logged there); a heartbeat that finds the lease gone meanwhile has nothing to cancel.</summary>
    internal bool OutcomePosted
    {
        get => Volatile.Read(ref _outcomePosted);
        set => Volatile.Write(ref _outcomePosted, value);
    }

    private bool _outcomePosted;
}
