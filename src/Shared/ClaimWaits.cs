namespace TaskTempest.Queues;

/// <summary>
/// How a server queue's claim waits when nothing is due: until a wake-up (<see cref="Wake"/>: this process's enqueue,
/// another's notice) or a poll of <c>pollInterval</c> plus up to a fifth at random, so that idle workers do not poll
/// together. Under a steady flow an empty claim is only a gap between two submits and the next (throttled) wake-up may be
/// an interval away, so right after a claim that found jobs an empty one looks again soon: 5 ms, doubling up to 80 ms.
/// Compiled into each server queue's package (src/Shared).
/// </summary>
internal sealed class ClaimWaits(TimeProvider clock, TimeSpan pollInterval)
{
    private static readonly TimeSpan FirstLinger = TimeSpan.FromMilliseconds(5), LastLinger = TimeSpan.FromMilliseconds(80);
    private TaskCompletionSource _signal = NewSignal();
    private bool _flowing; // the last claim found jobs: the next empty one lingers

    /// <summary>Wakes every claim waiting now.</summary>
    public void Wake() => Interlocked.Exchange(ref _signal, NewSignal()).TrySetResult();

    /// <summary>Calls <paramref name="tryClaim"/> until it returns messages, waiting between empty tries; before each wait
    /// <paramref name="beforeWait"/> (where the queue makes sure its wake-ups are listened to). Throws
    /// <see cref="OperationCanceledException"/> on <paramref name="cancellationToken"/>, and
    /// <see cref="ObjectDisposedException"/> for <paramref name="queue"/> once <paramref name="disposed"/> is cancelled. The
    /// token cancels the waits between tries, never a try in flight.</summary>
    public async ValueTask<IReadOnlyList<TempestMessage>> ClaimAsync(Func<CancellationToken, Task<List<TempestMessage>>> tryClaim, Action beforeWait,
        object queue, CancellationToken disposed, CancellationToken cancellationToken)
    {
        var linger = Volatile.Read(ref _flowing) ? FirstLinger : TimeSpan.Zero;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var signal = Volatile.Read(ref _signal); // before the try: a wake-up during it ends the wait at once
            // The claim itself is not cancelled, only the wait: a claim cancelled after the server leased the jobs would
            // drop them until their leases ran out (each counted as an expiry). A caller that stops hands back what comes.
            var claimed = await tryClaim(disposed).ConfigureAwait(false);
            if (claimed.Count > 0)
            {
                Volatile.Write(ref _flowing, true);
                return claimed;
            }
            beforeWait();
            TimeSpan poll;
            if (linger > TimeSpan.Zero && linger <= LastLinger)
            {
                poll = linger;
                linger *= 2;
            }
            else
            {
                Volatile.Write(ref _flowing, false);
                poll = pollInterval * (1 + Random.Shared.NextDouble() / 5);
            }
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, disposed);
            try
            {
                await Task.WhenAny(signal.Task, Task.Delay(poll, clock, wait.Token)).ConfigureAwait(false);
            }
            finally
            {
                wait.Cancel(); // ends the delay's timer when the signal came first
            }
            cancellationToken.ThrowIfCancellationRequested();
            ObjectDisposedException.ThrowIf(disposed.IsCancellationRequested, queue);
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
