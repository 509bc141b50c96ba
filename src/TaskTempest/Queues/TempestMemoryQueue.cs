using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace TaskTempest.Queues;

/// <summary>
/// The embedded default queue: thread-safe, in process, holding typed messages as objects (nothing is
/// serialized). Implements the whole contract; dead letters stay inspectable in <see cref="DeadLetters"/>.
/// Messages live only as long as the process.
/// </summary>
public sealed class TempestMemoryQueue : IAcknowledgingTempestQueue, ICountingTempestQueue
{
    // A lock-free queue, and waiters kept aside: a writer reads the waiter count without a lock and
    // takes the lock only when someone waits, so a busy queue costs one lock-free enqueue and one
    // lock-free dequeue per message (a Channel<T> takes a lock on every write).
    private readonly ConcurrentQueue<TempestMessage> _messages = new();
    private readonly Lock _waitersLock = new();
    private readonly Queue<Waiter> _waiters = new(); // may hold waiters that gave up; skipped when woken
    private int _waiterCount; // entries in _waiters; written under the lock with Interlocked, read without it

    private readonly ConcurrentQueue<TempestDeadLetter> _deadLetters = new();
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates an empty queue.</summary>
    public TempestMemoryQueue(TimeProvider? timeProvider = null) => _timeProvider = timeProvider ?? TimeProvider.System;

    /// <summary>How many messages wait to be dequeued.</summary>
    public int Count => _messages.Count;

    /// <inheritdoc/>
    public ValueTask<long> CountAsync(CancellationToken cancellationToken = default) => new(Count);

    /// <summary>The messages that could not run, oldest first, with the reason.</summary>
    public IReadOnlyCollection<TempestDeadLetter> DeadLetters => _deadLetters;

    /// <summary>Adds wire-format text as another program would (e.g. <c>[null,"Adder",2,5]</c>).</summary>
    public void EnqueueRaw(string json) => Write(new RawTempestMessage(json));

    /// <summary>Process-local and without delays (until they come with their own timer): acknowledgements (its
    /// dead letters), batches, counting, and enqueue order for one consumer.</summary>
    public TempestQueueFeatures Features =>
        TempestQueueFeatures.Acknowledgements | TempestQueueFeatures.Batches | TempestQueueFeatures.Counting | TempestQueueFeatures.FifoForOneConsumer;

    /// <inheritdoc/>
    /// <exception cref="NotSupportedException">The message has a run-at: this queue cannot delay.</exception>
    public ValueTask EnqueueAsync(TempestMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Envelope?.RunAt is not null) throw CannotDelay();
        Write(message);
        return default;
    }

    /// <inheritdoc/>
    public ValueTask EnqueueBatchAsync(IReadOnlyList<TempestMessage> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        for (int i = 0; i < messages.Count; i++)
        {
            if (messages[i]?.Envelope?.RunAt is not null) throw CannotDelay(); // before any is written: all or none
        }
        for (int i = 0; i < messages.Count; i++) Write(messages[i]);
        return default;
    }

    private static NotSupportedException CannotDelay() =>
        new("TempestMemoryQueue cannot delay a message (its envelope has a run-at): use a queue whose Features include Delays.");

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<TempestMessage>> DequeueBatchAsync(int maxCount, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        if (!TryDequeue(out var first)) return WaitAndDequeueBatchAsync(maxCount, cancellationToken);
        return new(TakeMore(first, maxCount));
    }

    private async ValueTask<IReadOnlyList<TempestMessage>> WaitAndDequeueBatchAsync(int maxCount, CancellationToken cancellationToken)
    {
        var first = (await WaitAndDequeueAsync(cancellationToken).ConfigureAwait(false))!;
        return TakeMore(first, maxCount);
    }

    private List<TempestMessage> TakeMore(TempestMessage first, int maxCount)
    {
        var batch = new List<TempestMessage>(Math.Min(maxCount, 64)) { first };
        while (batch.Count < maxCount && TryDequeue(out var next)) batch.Add(next);
        return batch;
    }

    /// <inheritdoc/>
    public ValueTask<TempestMessage?> DequeueAsync(CancellationToken cancellationToken)
    {
        if (TryDequeue(out var message)) return new(message);
        return WaitAndDequeueAsync(cancellationToken);
    }

    /// <summary>Takes the next message if one is waiting, without blocking (the engine's thread workers' fast path).</summary>
    internal bool TryDequeue([NotNullWhen(true)] out TempestMessage? message)
    {
        return _messages.TryDequeue(out message);
    }

    /// <summary>
    /// Takes the next message, blocking the calling thread until one arrives or <paramref name="cancellationToken"/>
    /// is cancelled (then it throws <see cref="OperationCanceledException"/>).
    /// </summary>
    internal TempestMessage Dequeue(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (TakeOrRegister(cancellationToken, out var waiter) is { } message) return message;
            using (waiter) waiter!.Task.GetAwaiter().GetResult();
        }
    }

    private async ValueTask<TempestMessage?> WaitAndDequeueAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (TakeOrRegister(cancellationToken, out var waiter) is { } message) return message;
            using (waiter) await waiter!.Task.ConfigureAwait(false);
        }
    }

    /// <summary>Takes a message, or registers a waiter for the caller to wait on before it tries again.</summary>
    private TempestMessage? TakeOrRegister(CancellationToken cancellationToken, out Waiter? waiter)
    {
        waiter = null;
        if (TryDequeue(out var message)) return message;
        waiter = AddWaiter(cancellationToken);
        if (!TryDequeue(out message)) return null;
        Withdraw(waiter);
        waiter.Dispose();
        waiter = null;
        return message;
    }

    /// <summary>
    /// Registers a waiter. The caller must look at the queue once more afterwards: a message written
    /// before the registration was visible to its writer wakes nobody.
    /// </summary>
    private Waiter AddWaiter(CancellationToken cancellationToken)
    {
        var waiter = new Waiter(cancellationToken);
        lock (_waitersLock)
        {
            _waiters.Enqueue(waiter);
            Interlocked.Increment(ref _waiterCount); // a full fence: the re-check that follows cannot move before it
        }
        return waiter;
    }

    /// <summary>
    /// One reader waiting for a message: completed with true by a writer, or cancelled. Either way it
    /// completes once, so a writer never spends its wake on a reader that gave up.
    /// </summary>
    private sealed class Waiter : TaskCompletionSource<bool>, IDisposable
    {
        private readonly CancellationTokenRegistration _cancellation;

        // Continuations never run on the writer's thread: a Submit call must not run someone else's job.
        public Waiter(CancellationToken cancellationToken) : base(TaskCreationOptions.RunContinuationsAsynchronously) =>
            _cancellation = cancellationToken.UnsafeRegister(static (w, token) => ((Waiter)w!).TrySetCanceled(token), this);

        public void Dispose() => _cancellation.Dispose();
    }

    /// <summary>
    /// A reader that served itself after registering withdraws its waiter, so that a writer that picks it
    /// skips it and wakes the next one. If a writer woke it first, that wake was meant for someone: pass it on.
    /// </summary>
    private void Withdraw(Waiter waiter)
    {
        if (!waiter.TrySetResult(false) && Volatile.Read(ref _waiterCount) != 0) WakeOne();
    }

    private void WakeOne()
    {
        lock (_waitersLock)
        {
            while (_waiters.TryDequeue(out var waiter))
            {
                Interlocked.Decrement(ref _waiterCount);
                if (waiter.TrySetResult(true)) return; // else it gave up (cancelled or served itself): wake the next
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask AcknowledgeAsync(TempestMessage message, CancellationToken cancellationToken = default) => default;

    /// <inheritdoc/>
    /// <remarks>A message put back unstarted does not count another attempt; nothing is ever refused (no leases).</remarks>
    public ValueTask<IReadOnlyList<TempestMessage>> RecordAsync(IReadOnlyList<TempestOutcome> outcomes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        for (int i = 0; i < outcomes.Count; i++)
        {
            if (outcomes[i].Kind == TempestOutcomeKind.Retry) throw CannotDelay(); // before any is recorded
        }
        for (int i = 0; i < outcomes.Count; i++)
        {
            var outcome = outcomes[i];
            switch (outcome.Kind)
            {
                case TempestOutcomeKind.Returned: Write(outcome.Message); break;
                case TempestOutcomeKind.ReturnedUnstarted: Requeue(outcome.Message); break;
                case TempestOutcomeKind.DeadLettered: AddDeadLetter(outcome.Message, outcome.Reason ?? "dead-lettered"); break;
            }
        }
        return new([]);
    }

    /// <inheritdoc/>
    public ValueTask ReturnAsync(TempestMessage message, CancellationToken cancellationToken = default)
    {
        Write(message);
        return default;
    }

    /// <inheritdoc/>
    public ValueTask DeadLetterAsync(TempestMessage message, string reason, CancellationToken cancellationToken = default)
    {
        AddDeadLetter(message, reason);
        return default;
    }

    internal void AddDeadLetter(TempestMessage message, string reason) =>
        _deadLetters.Enqueue(new TempestDeadLetter(message, reason, _timeProvider.GetUtcNow()));

    /// <summary>Puts back a message a worker took but never started: not another delivery, so not counted.</summary>
    internal void Requeue(TempestMessage message)
    {
        message.Attempt--;
        Write(message);
    }

    /// <summary>Enqueues; wakes one waiting reader if there is one.</summary>
    internal void Write(TempestMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        // Counted here, by the writer, not at dequeue: two workers writing to neighbouring messages
        // would share a cache line (measured: about a fifth of the throughput with two workers).
        message.Attempt++;
        _messages.Enqueue(message);
        // The enqueue publishes the message with a plain release store, which a later load may overtake:
        // without this fence a reader could register and find the queue empty while this writer still
        // reads no waiter, and sleep beside a message.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _waiterCount) != 0) WakeOne();
    }
}
