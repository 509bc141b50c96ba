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
public sealed partial class TempestMemoryQueue : IAcknowledgingTempestQueue, ICountingTempestQueue, ITempestScheduleStore, ITempestQueueInspector
{
    // A lock-free queue, and waiters kept aside: a writer reads the waiter count without a lock and
    // takes the lock only when someone waits, so a busy queue costs one lock-free enqueue and one
    // lock-free dequeue per message (a Channel<T> takes a lock on every write).
    private readonly ConcurrentQueue<TempestMessage> _messages = new();
    private readonly Lock _waitersLock = new();
    private readonly Queue<Waiter> _waiters = new(); // may hold waiters that gave up; skipped when woken
    private int _waiterCount; // entries in _waiters; written under the lock with Interlocked, read without it

    // Everything but the default queue at priority 0: other named queues, and priorities, each queue ordered by priority
    // (higher first) and then enqueue order, under _sortedLock. The default queue's plain messages never come here, so the
    // fast path pays one volatile read for it (_defaultSortedCount).
    private readonly Lock _sortedLock = new();
    private readonly Dictionary<string, PriorityQueue<TempestMessage, (int NegatedPriority, long Sequence)>> _sorted = new(StringComparer.Ordinal);
    private long _sortedSequence;
    private int _defaultSortedCount; // the default queue's messages with a priority, in _sorted

    // Claims over named queues wait here (woken by every write), apart from the plain waiters a write wakes one of.
    private TaskCompletionSource _anyWrite = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _namedWaiters;

    // Held unique keys (the job's id; a period's end) and the schedules, each under its own lock.
    private readonly Lock _uniqueLock = new();
    private readonly Dictionary<string, (string JobId, long? UntilTicks)> _unique = new(StringComparer.Ordinal);
    private readonly Lock _schedulesLock = new();
    private readonly SortedDictionary<string, TempestScheduleInfo> _schedules = new(StringComparer.Ordinal);

    // Dead letters, oldest first, and the recent failed runs, newest last (capped), each under its lock: rare, and the
    // inspector removes from them by id.
    private readonly Lock _deadLock = new();
    private readonly List<TempestDeadLetter> _deadLetters = [];
    private readonly Lock _failuresLock = new();
    private readonly Queue<TempestFailureRecord> _failures = new();
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
    public int Count
    {
        get
        {
            int count = Math.Max(0, _messages.Count - Volatile.Read(ref _cancelledCount));
            if (Volatile.Read(ref _defaultSortedCount) == 0 && _sorted.Count == 0) return count;
            lock (_sortedLock) foreach (var sorted in _sorted.Values) count += sorted.Count;
            return count;
        }
    }

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
    public IReadOnlyCollection<TempestDeadLetter> DeadLetters
    {
        get
        {
            lock (_deadLock) return [.. _deadLetters];
        }
    }

    /// <summary>Adds wire-format text as another program would (e.g. <c>[null,"Adder",2,5]</c>).</summary>
    public void EnqueueRaw(string json) => Write(new RawTempestMessage(json));

    /// <summary>Process-local: acknowledgements (its dead letters), batches, counting, delays (run-at and retries,
    /// on one timer), and enqueue order for one consumer.</summary>
    public TempestQueueFeatures Features =>
        TempestQueueFeatures.Acknowledgements | TempestQueueFeatures.Batches | TempestQueueFeatures.Counting
        | TempestQueueFeatures.Delays | TempestQueueFeatures.FifoForOneConsumer | TempestQueueFeatures.UniqueKeys
        | TempestQueueFeatures.NamedQueues | TempestQueueFeatures.Schedules | TempestQueueFeatures.Inspection;

    /// <inheritdoc/>
    /// <remarks>A message whose run-at is in the future is held until then; one without a run-at, or whose run-at
    /// has passed, is ready at once.</remarks>
    public ValueTask EnqueueAsync(TempestMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Envelope is { UniqueKey: not null } && TakeKey(message) is not null) return default; // a duplicate: skipped
        WriteWhenDue(message, message.Envelope?.RunAt);
        return default;
    }

    /// <inheritdoc/>
    /// <remarks>The key is held in a dictionary under a lock until the job is taken (queued), has ended (queued or
    /// running) or its period is over.</remarks>
    public ValueTask<string?> EnqueueUniqueAsync(TempestMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (TakeKey(message) is { } holder) return new(holder);
        WriteWhenDue(message, message.Envelope?.RunAt);
        return new((string?)null);
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
            if (message.Envelope is { UniqueKey: not null } && TakeKey(message) is not null) continue; // a duplicate: skipped
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

    /// <summary>Takes the next message of the default queue if one is waiting, without blocking (the engine's thread
    /// workers' fast path).</summary>
    internal bool TryDequeue([NotNullWhen(true)] out TempestMessage? message)
    {
        while (TryDequeueOne(out message))
        {
            // One plain read per message: nonzero only while the inspector has cancelled a message of the lock-free lane.
            if (Volatile.Read(ref _cancelledCount) == 0 || !DropIfCancelled(message)) return true;
        }
        return false;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private bool TryDequeueOne([NotNullWhen(true)] out TempestMessage? message)
    {
        if (Volatile.Read(ref _defaultSortedCount) != 0) return TryDequeueDefaultSorted(out message);
        if (!_messages.TryDequeue(out message)) return false;
        if (message.Envelope is { UniqueKey: not null }) Taken(message);
        return true;
    }

    /// <summary>The default queue when some of its messages have a priority: higher than 0 first, then the plain ones in
    /// order, then lower than 0.</summary>
    private bool TryDequeueDefaultSorted([NotNullWhen(true)] out TempestMessage? message)
    {
        lock (_sortedLock)
        {
            var sorted = _sorted[TempestQueueNames.Default];
            bool hasSorted = sorted.TryPeek(out var top, out var order);
            if (hasSorted && -order.NegatedPriority > 0 || (!_messages.TryDequeue(out message) && hasSorted))
            {
                message = sorted.Dequeue();
                Interlocked.Decrement(ref _defaultSortedCount);
            }
            else if (message is null) return false;
        }
        if (message.Envelope is { UniqueKey: not null }) Taken(message);
        return true;
    }

    /// <summary>Takes the next message of the named queue <paramref name="queue"/> (the default queue's through <see cref="TryDequeue(out TempestMessage?)"/>).</summary>
    private bool TryDequeue(string queue, [NotNullWhen(true)] out TempestMessage? message)
    {
        if (queue == TempestQueueNames.Default) return TryDequeue(out message);
        message = null;
        lock (_sortedLock)
        {
            if (!_sorted.TryGetValue(queue, out var sorted) || !sorted.TryDequeue(out message, out _)) return false;
        }
        if (message.Envelope is { UniqueKey: not null }) Taken(message);
        return true;
    }

    /// <summary>Takes from the named queues of <paramref name="takes"/>, in their order, as many as each allows; waits
    /// (woken by every write) while none of them has a message.</summary>
    public ValueTask<IReadOnlyList<TempestMessage>> DequeueBatchAsync(IReadOnlyList<TempestQueueTake> takes, int maxCount, CancellationToken cancellationToken)
    {
        TempestQueueTakes.Validate(takes, maxCount);
        var taken = TakeFrom(takes, maxCount);
        return taken is not null ? new(taken) : WaitAndTakeFromAsync(takes, maxCount, cancellationToken);
    }

    private List<TempestMessage>? TakeFrom(IReadOnlyList<TempestQueueTake> takes, int maxCount)
    {
        List<TempestMessage>? taken = null;
        for (int t = 0; t < takes.Count && (taken?.Count ?? 0) < maxCount; t++)
        {
            int limit = Math.Min(takes[t].MaxCount, maxCount - (taken?.Count ?? 0));
            for (int i = 0; i < limit && TryDequeue(takes[t].Queue, out var message); i++) (taken ??= []).Add(message);
        }
        return taken;
    }

    private async ValueTask<IReadOnlyList<TempestMessage>> WaitAndTakeFromAsync(IReadOnlyList<TempestQueueTake> takes, int maxCount, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _namedWaiters);
        try
        {
            while (true)
            {
                var signal = Volatile.Read(ref _anyWrite).Task; // before the look: a write during it ends the wait at once
                if (TakeFrom(takes, maxCount) is { } taken) return taken;
                await signal.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _namedWaiters);
        }
    }

    private void WakeNamedWaiters()
    {
        if (Volatile.Read(ref _namedWaiters) != 0)
            Interlocked.Exchange(ref _anyWrite, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
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
    public ValueTask AcknowledgeAsync(TempestMessage message, CancellationToken cancellationToken = default)
    {
        if (message?.Envelope is { UniqueKey: not null }) Ended(message);
        return default;
    }

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
                case TempestOutcomeKind.Completed:
                    if (outcome.Status is TempestTaskStatus.Failure or TempestTaskStatus.Timeout) RecordFailure(outcome.Message, outcome.Error, outcome.Status);
                    AcknowledgeAsync(outcome.Message, cancellationToken);
                    break;
                case TempestOutcomeKind.Retry: RetryWhenDue(outcome.Message, outcome.Error, outcome.RunAt, outcome.Status); break;
                case TempestOutcomeKind.Returned: Write(outcome.Message); break;
                case TempestOutcomeKind.ReturnedUnstarted: Requeue(outcome.Message); break;
                case TempestOutcomeKind.DeadLettered when outcome.Status is TempestTaskStatus.Failure or TempestTaskStatus.Timeout:
                    DeadLetterFailed(outcome.Message, outcome.Error, outcome.Reason ?? "dead-lettered", outcome.Status);
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

    internal void AddDeadLetter(TempestMessage message, string reason)
    {
        if (message.Envelope is { UniqueKey: not null }) Ended(message);
        var dead = new TempestDeadLetter(message, reason, _timeProvider.GetUtcNow());
        lock (_deadLock) _deadLetters.Add(dead);
    }

    // ---------------------------------------------------------------- unique keys

    /// <summary>Takes the message's key for it, or returns the holder's id (then the message must not be added).</summary>
    private string? TakeKey(TempestMessage message)
    {
        var envelope = message.Envelope!;
        string key = envelope.UniqueKey!;
        long now = _timeProvider.GetUtcNow().UtcTicks;
        lock (_uniqueLock)
        {
            if (_unique.TryGetValue(key, out var hold) && (hold.UntilTicks is not { } until || until > now)) return hold.JobId;
            _unique[key] = (message.Id!, envelope.EffectiveUniqueScope == TempestUniqueScope.Period ? now + (envelope.UniqueFor ?? TimeSpan.Zero).Ticks : null);
            return null;
        }
    }

    /// <summary>A worker took the message: a key held while queued is free.</summary>
    private void Taken(TempestMessage message) => Release(message, TempestUniqueScope.Queued);

    /// <summary>The job ended (success, or the dead letters): a key held while queued or running is free.</summary>
    internal void Ended(TempestMessage message) => Release(message, TempestUniqueScope.QueuedOrRunning);

    private void Release(TempestMessage message, TempestUniqueScope scope)
    {
        var envelope = message.Envelope!;
        if (envelope.EffectiveUniqueScope != scope) return;
        lock (_uniqueLock)
        {
            if (_unique.TryGetValue(envelope.UniqueKey!, out var hold) && hold.JobId == message.Id) _unique.Remove(envelope.UniqueKey!);
        }
    }

    // ---------------------------------------------------------------- schedules

    /// <inheritdoc/>
    public ValueTask<DateTimeOffset> RegisterScheduleAsync(TempestScheduleInfo schedule, DateTimeOffset firstTick, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        lock (_schedulesLock)
        {
            var known = _schedules.GetValueOrDefault(schedule.Name);
            var lastTick = known?.LastTick ?? firstTick;
            _schedules[schedule.Name] = schedule with { LastTick = lastTick, LastJobId = known?.LastJobId };
            return new(lastTick);
        }
    }

    /// <inheritdoc/>
    public ValueTask<bool> TryTakeTickAsync(string scheduleName, DateTimeOffset tick, DateTimeOffset? nextRun, TempestMessage? job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scheduleName);
        string? jobId;
        lock (_schedulesLock)
        {
            var known = _schedules.GetValueOrDefault(scheduleName);
            if (known?.LastTick is { } last && last >= tick) return new(false);
            // Under the schedules' lock, so that two takes of one tick cannot both enqueue.
            jobId = job is null ? null : job.Envelope is { UniqueKey: not null } ? TakeKey(job) ?? job.Id : job.Id;
            if (job is not null && jobId == job.Id) WriteWhenDue(job, job.Envelope?.RunAt);
            var info = known ?? new TempestScheduleInfo(scheduleName, "", "UTC", TempestMisfire.RunOnce, job?.TaskName ?? "");
            _schedules[scheduleName] = info with { LastTick = tick, NextRun = nextRun, LastJobId = jobId };
        }
        return new(true);
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<TempestScheduleInfo>> GetSchedulesAsync(CancellationToken cancellationToken = default)
    {
        lock (_schedulesLock) return new([.. _schedules.Values]);
    }

    /// <summary>A started run failed (or timed out) and the job runs again at <paramref name="runAt"/>: counts the
    /// failure, keeps <paramref name="error"/>, and holds the message until then (ready at once if it has passed).</summary>
    internal void Retry(TempestMessage message, TempestError? error, DateTimeOffset runAt) => RetryWhenDue(message, error, runAt);

    private void RetryWhenDue(TempestMessage message, TempestError? error, DateTimeOffset? runAt, TempestTaskStatus? status = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        var envelope = message.Envelope ??= new TempestEnvelope();
        envelope.Failures++;
        envelope.LastError = error;
        envelope.RunAt = runAt;
        RecordFailure(message, error, status);
        WriteWhenDue(message, runAt);
    }

    /// <summary>A started run failed (or timed out) and may not run again: counts the failure, keeps
    /// <paramref name="error"/> (the last one, when null) and dead-letters the message with <paramref name="reason"/>.</summary>
    internal void DeadLetterFailed(TempestMessage message, TempestError? error, string reason, TempestTaskStatus? status = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        var envelope = message.Envelope ??= new TempestEnvelope();
        envelope.Failures++;
        if (error is not null) envelope.LastError = error;
        RecordFailure(message, envelope.LastError, status);
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
        if (message.Envelope is { } envelope && (envelope.Priority != 0 || (envelope.Queue is { } named && named != TempestQueueNames.Default)))
        {
            WriteSorted(message, envelope);
            return;
        }
        _messages.Enqueue(message);
        // The enqueue publishes the message with a plain release store, which a later load may overtake:
        // without this fence a reader could register and find the queue empty while this writer still
        // reads no waiter, and sleep beside a message.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _waiterCount) != 0) WakeOne();
        WakeNamedWaiters();
    }

    /// <summary>A message of a named queue, or with a priority: into its queue's priority order.</summary>
    private void WriteSorted(TempestMessage message, TempestEnvelope envelope)
    {
        string queue = TempestQueueNames.Of(envelope);
        lock (_sortedLock)
        {
            if (!_sorted.TryGetValue(queue, out var sorted)) _sorted.Add(queue, sorted = new());
            sorted.Enqueue(message, (-envelope.Priority, _sortedSequence++));
            if (queue == TempestQueueNames.Default) Interlocked.Increment(ref _defaultSortedCount);
        }
        if (queue == TempestQueueNames.Default && Volatile.Read(ref _waiterCount) != 0) WakeOne();
        WakeNamedWaiters();
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
