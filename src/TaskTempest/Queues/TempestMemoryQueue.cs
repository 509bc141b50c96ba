using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace TaskTempest.Queues;

/// <summary>
/// The embedded default queue: thread-safe, in process, holding typed messages as objects (nothing is
/// serialized). Implements the whole contract without leases: acknowledgements, batches, counting, and delays
/// and retries (a message whose <see cref="TempestEnvelope.RunAt"/> is in the future, on the queue's
/// <see cref="TimeProvider"/>, is held until then). Dead letters stay inspectable in <see cref="DeadLetters"/>.
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

    // Messages held for a run-at (scheduled and retrying), earliest first, ties in enqueue order; under _delayedLock.
    // They wait on one timer, armed for the earliest; a message without a run-at never comes here.
    private readonly Lock _delayedLock = new();
    private readonly PriorityQueue<TempestMessage, (long DueTicks, long Sequence)> _delayed = new();
    private long _delayedSequence;
    private long _timerDueTicks = TimerDisarmed; // under _delayedLock: the due time the timer is armed (or being armed) for

    // Armed under _timerLock, never under _delayedLock: a fake clock runs due timer callbacks on the thread that arms.
    private readonly Lock _timerLock = new();
    private ITimer? _timer; // made at the first delayed message

    private const long TimerDisarmed = long.MaxValue;

    // Timers: at least this long, since the system timer cuts a due time to whole milliseconds and would fire
    // early again and again; at most this long, since it refuses about 49 days (firing early is harmless).
    private static readonly TimeSpan MinTimerDue = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan MaxTimerDue = TimeSpan.FromDays(1);

    /// <summary>Creates an empty queue.</summary>
    public TempestMemoryQueue(TimeProvider? timeProvider = null) => _timeProvider = timeProvider ?? TimeProvider.System;

    /// <summary>How many messages are ready to be dequeued (not those held for a run-at: see <see cref="DelayedCount"/>).</summary>
    public int Count => _messages.Count;

    /// <summary>How many messages are held for a run-at that has not come: scheduled and retrying.</summary>
    public int DelayedCount
    {
        get
        {
            lock (_delayedLock) return _delayed.Count;
        }
    }

    /// <inheritdoc/>
    /// <remarks>The ready messages only, as <see cref="Count"/>.</remarks>
    public ValueTask<long> CountAsync(CancellationToken cancellationToken = default) => new(Count);

    /// <summary>The messages that could not run, oldest first, with the reason.</summary>
    public IReadOnlyCollection<TempestDeadLetter> DeadLetters => _deadLetters;

    /// <summary>Adds wire-format text as another program would (e.g. <c>[null,"Adder",2,5]</c>).</summary>
    public void EnqueueRaw(string json) => Write(new RawTempestMessage(json));

    /// <summary>Process-local: acknowledgements (its dead letters), batches, counting, delays (run-at and retries,
    /// on one timer), and enqueue order for one consumer.</summary>
    public TempestQueueFeatures Features =>
        TempestQueueFeatures.Acknowledgements | TempestQueueFeatures.Batches | TempestQueueFeatures.Counting
        | TempestQueueFeatures.Delays | TempestQueueFeatures.FifoForOneConsumer;

    /// <inheritdoc/>
    /// <remarks>A message whose run-at is in the future is held until then; one without a run-at, or whose run-at
    /// has passed, is ready at once.</remarks>
    public ValueTask EnqueueAsync(TempestMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        WriteWhenDue(message, message.Envelope?.RunAt);
        return default;
    }

    /// <inheritdoc/>
    /// <remarks>Each message as <see cref="EnqueueAsync"/> takes it.</remarks>
    public ValueTask EnqueueBatchAsync(IReadOnlyList<TempestMessage> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        for (int i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            ArgumentNullException.ThrowIfNull(message);
            WriteWhenDue(message, message.Envelope?.RunAt);
        }
        return default;
    }

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
    /// <remarks>
    /// A retry counts a failure, keeps the error and is held until its run-at (ready at once when it is null or has
    /// passed); a message put back unstarted does not count another attempt; a dead letter of a failed or timed-out
    /// run counts that failure and keeps its error. Nothing is ever refused (no leases).
    /// </remarks>
    public ValueTask<IReadOnlyList<TempestMessage>> RecordAsync(IReadOnlyList<TempestOutcome> outcomes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        for (int i = 0; i < outcomes.Count; i++)
        {
            var outcome = outcomes[i];
            switch (outcome.Kind)
            {
                case TempestOutcomeKind.Retry: RetryWhenDue(outcome.Message, outcome.Error, outcome.RunAt); break;
                case TempestOutcomeKind.Returned: Write(outcome.Message); break;
                case TempestOutcomeKind.ReturnedUnstarted: Requeue(outcome.Message); break;
                case TempestOutcomeKind.DeadLettered when outcome.Status is TempestTaskStatus.Failure or TempestTaskStatus.Timeout:
                    DeadLetterFailed(outcome.Message, outcome.Error, outcome.Reason ?? "dead-lettered");
                    break;
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

    /// <summary>A started run failed (or timed out) and the job runs again at <paramref name="runAt"/>: counts the
    /// failure, keeps <paramref name="error"/>, and holds the message until then (ready at once if it has passed).</summary>
    internal void Retry(TempestMessage message, TempestError? error, DateTimeOffset runAt) => RetryWhenDue(message, error, runAt);

    private void RetryWhenDue(TempestMessage message, TempestError? error, DateTimeOffset? runAt)
    {
        ArgumentNullException.ThrowIfNull(message);
        var envelope = message.Envelope ??= new TempestEnvelope();
        envelope.Failures++;
        envelope.LastError = error;
        envelope.RunAt = runAt;
        WriteWhenDue(message, runAt);
    }

    /// <summary>A started run failed (or timed out) and may not run again: counts the failure, keeps
    /// <paramref name="error"/> (the last one, when null) and dead-letters the message with <paramref name="reason"/>.</summary>
    internal void DeadLetterFailed(TempestMessage message, TempestError? error, string reason)
    {
        ArgumentNullException.ThrowIfNull(message);
        var envelope = message.Envelope ??= new TempestEnvelope();
        envelope.Failures++;
        if (error is not null) envelope.LastError = error;
        AddDeadLetter(message, reason);
    }

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

    // ---------------------------------------------------------------- delays: one timer for every held message

    /// <summary>Writes <paramref name="message"/> now if <paramref name="runAt"/> is null or has passed, else holds it until then.</summary>
    private void WriteWhenDue(TempestMessage message, DateTimeOffset? runAt)
    {
        // Only a message with a run-at reads the clock: a plain one goes straight to the lock-free queue.
        if (runAt is { } at && at.UtcTicks > _timeProvider.GetUtcNow().UtcTicks) Hold(message, at.UtcTicks);
        else Write(message);
    }

    private void Hold(TempestMessage message, long dueTicks)
    {
        bool earlierThanTimer;
        lock (_delayedLock)
        {
            _delayed.Enqueue(message, (dueTicks, _delayedSequence++));
            earlierThanTimer = dueTicks < _timerDueTicks;
            if (earlierThanTimer) _timerDueTicks = dueTicks; // so that later messages of a burst leave the timer alone
        }
        if (earlierThanTimer) PromoteDueAndArmTimer();
    }

    private void OnTimer()
    {
        // A timer callback that throws ends the process. Nothing here throws but a custom TimeProvider could:
        // then forget the timer's due time, so that the next held message arms it again.
        try
        {
            PromoteDueAndArmTimer();
        }
        catch (Exception)
        {
            lock (_delayedLock) _timerDueTicks = TimerDisarmed;
        }
    }

    /// <summary>
    /// Moves every held message that is due to the ready queue, earliest first (ties in enqueue order), then arms
    /// the timer for the earliest one left, or disarms it. The timer's callback comes here too, so one that fires
    /// a little early promotes nothing and is armed again for the rest.
    /// </summary>
    private void PromoteDueAndArmTimer()
    {
        lock (_timerLock)
        {
            while (true)
            {
                long now = _timeProvider.GetUtcNow().UtcTicks;
                long next;
                lock (_delayedLock)
                {
                    // Written under the lock, so that concurrent promotions keep the due order. Safe: Write only
                    // wakes a waiting reader, whose continuation runs elsewhere (never on this thread).
                    while (_delayed.TryPeek(out var message, out var due) && due.DueTicks <= now)
                    {
                        _delayed.Dequeue();
                        Write(message);
                    }
                    next = _delayed.TryPeek(out _, out var earliest) ? earliest.DueTicks : TimerDisarmed;
                    _timerDueTicks = next;
                }
                if (next == TimerDisarmed)
                {
                    _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                    return;
                }
                var dueIn = TimeSpan.FromTicks(next - now); // positive: everything due at now was promoted
                (_timer ??= CreateTimer()).Change(dueIn < MinTimerDue ? MinTimerDue : dueIn > MaxTimerDue ? MaxTimerDue : dueIn,
                    Timeout.InfiniteTimeSpan);
                // A due time counts from the clock as it is when the timer is armed: if another thread moved the clock
                // on meanwhile (a test advancing a fake clock), the timer would fire late, so look again.
                if (_timeProvider.GetUtcNow().UtcTicks - now < MinTimerDue.Ticks) return;
            }
        }
    }

    private ITimer CreateTimer()
    {
        // Without the first delayed caller's ExecutionContext: the timer outlives that call, and would keep its
        // async-locals alive and hand them to every promotion.
        bool suppressFlow = !ExecutionContext.IsFlowSuppressed();
        if (suppressFlow) ExecutionContext.SuppressFlow();
        try
        {
            return _timeProvider.CreateTimer(static state => ((TempestMemoryQueue)state!).OnTimer(), this,
                Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        finally
        {
            if (suppressFlow) ExecutionContext.RestoreFlow();
        }
    }
}
