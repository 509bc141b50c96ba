namespace TaskTempest.Queues;

// The inspector (and so the dashboard) on the embedded queue. It sees what the queue holds: ready, scheduled and
// retrying messages, dead letters, and the failed runs it was told of (retries and dead letters). It hands messages
// out without leases, so it cannot know which run: Running is null in the counts and lists nothing, and it has no
// registry of workers.
public sealed partial class TempestMemoryQueue
{
    private const int MaxFailures = 1_000;

    // Messages of the lock-free lane the inspector cancelled, dropped when a reader meets them (the lane cannot remove
    // from its middle); by reference, under _cancelLock, counted for the readers' one plain read.
    private readonly Lock _cancelLock = new();
    private readonly HashSet<TempestMessage> _cancelled = new(ReferenceEqualityComparer.Instance);
    private int _cancelledCount;

    private bool DropIfCancelled(TempestMessage message)
    {
        lock (_cancelLock)
        {
            if (!_cancelled.Remove(message)) return false;
            Interlocked.Decrement(ref _cancelledCount);
            return true;
        }
    }

    private bool IsCancelled(TempestMessage message)
    {
        if (Volatile.Read(ref _cancelledCount) == 0) return false;
        lock (_cancelLock) return _cancelled.Contains(message);
    }

    /// <summary>Keeps a failed run in the recent-failure log; without <paramref name="status"/> (the engine's direct calls) a
    /// timeout is known by the error type the engine gives it.</summary>
    private void RecordFailure(TempestMessage message, TempestError? error, TempestTaskStatus? status = null)
    {
        status ??= error?.Type == "timeout" ? TempestTaskStatus.Timeout : TempestTaskStatus.Failure;
        var record = new TempestFailureRecord(message.Id ?? "", message.TaskName, message.Attempt, status.Value, error, _timeProvider.GetUtcNow());
        lock (_failuresLock)
        {
            _failures.Enqueue(record);
            while (_failures.Count > MaxFailures) _failures.Dequeue();
        }
    }

    /// <inheritdoc/>
    public ValueTask<TempestQueueCounts> GetCountsAsync(CancellationToken cancellationToken = default)
    {
        long scheduled = 0, retrying = 0;
        lock (_delayedLock)
        {
            foreach (var (message, _) in _delayed.UnorderedItems)
            {
                if (message.Envelope?.Failures > 0) retrying++;
                else scheduled++;
            }
        }
        long dead;
        lock (_deadLock) dead = _deadLetters.Count;
        return new(new TempestQueueCounts(Count, scheduled, retrying, Running: null, dead));
    }

    /// <inheritdoc/>
    /// <remarks>Ready: the default queue's lock-free lane, then its prioritised and the named queues' messages by priority;
    /// Running and Completed: none (the queue does not know them).</remarks>
    public ValueTask<IReadOnlyList<TempestJobInfo>> ListAsync(TempestJobState state, int offset, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        IEnumerable<TempestJobInfo> jobs = state switch
        {
            TempestJobState.Ready => Ready().Select(m => Describe(m, TempestJobState.Ready)),
            TempestJobState.Scheduled or TempestJobState.Retrying => Delayed()
                .Where(m => (m.Envelope?.Failures > 0) == (state == TempestJobState.Retrying))
                .Select(m => Describe(m, state)),
            TempestJobState.Dead => Enumerable.Reverse(Dead()).Select(Describe),
            _ => [],
        };
        return new([.. jobs.Skip(offset).Take(limit)]);
    }

    /// <inheritdoc/>
    public ValueTask<TempestJobInfo?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        var found = Ready().Where(m => m.Id == id).Select(m => Describe(m, TempestJobState.Ready))
            .Concat(Delayed().Where(m => m.Id == id).Select(m => Describe(m, m.Envelope?.Failures > 0 ? TempestJobState.Retrying : TempestJobState.Scheduled)))
            .Concat(Dead().Where(d => d.Message.Id == id).Select(Describe))
            .FirstOrDefault();
        return new(found);
    }

    /// <inheritdoc/>
    /// <remarks>The failed runs the queue was told of: those retried and those dead-lettered (a task without retries
    /// fails without telling the embedded queue); at most 1,000.</remarks>
    public ValueTask<IReadOnlyList<TempestFailureRecord>> GetRecentFailuresAsync(int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        lock (_failuresLock) return new([.. _failures.Reverse().Take(limit)]);
    }

    /// <inheritdoc/>
    /// <remarks>None: the embedded queue lives in one process and keeps no registry.</remarks>
    public ValueTask<IReadOnlyList<TempestWorkerStatus>> GetWorkersAsync(CancellationToken cancellationToken = default) => new([]);

    /// <inheritdoc/>
    /// <remarks>A waiting message (ready, scheduled or retrying) is removed and its unique key freed. A message a reader
    /// takes at the same moment runs all the same; a running one cannot be cancelled here (false).</remarks>
    public ValueTask<bool> CancelAsync(string id, CancellationToken cancellationToken = default) => new(RemoveWaiting(id));

    /// <inheritdoc/>
    public ValueTask<bool> RequeueDeadAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        TempestDeadLetter? dead;
        lock (_deadLock)
        {
            int at = _deadLetters.FindIndex(d => d.Message.Id == id);
            if (at < 0) return new(false);
            dead = _deadLetters[at];
            _deadLetters.RemoveAt(at);
        }
        Revive(dead.Message);
        return new(true);
    }

    /// <inheritdoc/>
    public ValueTask<int> RequeueAllDeadAsync(CancellationToken cancellationToken = default)
    {
        TempestDeadLetter[] all;
        lock (_deadLock)
        {
            all = [.. _deadLetters];
            _deadLetters.Clear();
        }
        foreach (var dead in all) Revive(dead.Message);
        return new(all.Length);
    }

    /// <inheritdoc/>
    public ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        lock (_deadLock)
        {
            if (_deadLetters.RemoveAll(d => d.Message.Id == id) > 0) return new(true);
        }
        return new(RemoveWaiting(id));
    }

    /// <inheritdoc/>
    public ValueTask<int> DeleteAllDeadAsync(CancellationToken cancellationToken = default)
    {
        lock (_deadLock)
        {
            int count = _deadLetters.Count;
            _deadLetters.Clear();
            return new(count);
        }
    }

    /// <summary>A dead letter runs again: same id, fresh counts; it takes its unique key again when the key is free, and
    /// runs without one otherwise.</summary>
    private void Revive(TempestMessage message)
    {
        if (message.Envelope is { } envelope)
        {
            envelope.Failures = 0;
            envelope.LeaseExpiries = 0;
            envelope.LastError = null;
            envelope.RunAt = null;
            if (envelope.UniqueKey is not null && TakeKey(message) is not null)
            {
                envelope.UniqueKey = null;
                envelope.UniqueScope = TempestUniqueScope.None;
                envelope.UniqueFor = null;
            }
        }
        message.Attempt = 0; // Write counts the next run as the first
        Write(message);
    }

    /// <summary>Takes the waiting message <paramref name="id"/> out (a scheduled or retrying one, one of a sorted queue, or
    /// one of the lock-free lane, dropped when a reader meets it) and frees its key.</summary>
    private bool RemoveWaiting(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        TempestMessage? removed = null;
        lock (_delayedLock)
        {
            var match = _delayed.UnorderedItems.FirstOrDefault(e => e.Element.Id == id).Element;
            if (match is not null) _delayed.Remove(match, out removed, out _, ReferenceEqualityComparer.Instance);
        }
        if (removed is null)
        {
            lock (_sortedLock)
            {
                foreach (var (queue, sorted) in _sorted)
                {
                    var match = sorted.UnorderedItems.FirstOrDefault(e => e.Element.Id == id).Element;
                    if (match is null || !sorted.Remove(match, out removed, out _, ReferenceEqualityComparer.Instance)) continue;
                    if (queue == TempestQueueNames.Default) Interlocked.Decrement(ref _defaultSortedCount);
                    break;
                }
            }
        }
        if (removed is null && _messages.FirstOrDefault(m => m.Id == id && !IsCancelled(m)) is { } plain)
        {
            lock (_cancelLock)
            {
                if (_cancelled.Add(plain)) Interlocked.Increment(ref _cancelledCount);
            }
            removed = plain;
        }
        if (removed is null) return false;
        if (removed.Envelope is { UniqueKey: not null })
        {
            Release(removed, TempestUniqueScope.Queued);
            Release(removed, TempestUniqueScope.QueuedOrRunning);
        }
        return true;
    }

    private List<TempestMessage> Ready()
    {
        var ready = _messages.Where(m => !IsCancelled(m)).ToList(); // a snapshot: the lane enumerates a moment's copy
        lock (_sortedLock)
        {
            foreach (var queue in _sorted.Keys.Order(StringComparer.Ordinal))
                ready.AddRange(_sorted[queue].UnorderedItems.OrderBy(e => e.Priority).Select(e => e.Element));
        }
        return ready;
    }

    private List<TempestMessage> Delayed()
    {
        lock (_delayedLock) return [.. _delayed.UnorderedItems.OrderBy(e => e.Priority).Select(e => e.Element)];
    }

    private List<TempestDeadLetter> Dead()
    {
        lock (_deadLock) return [.. _deadLetters];
    }

    private static TempestJobInfo Describe(TempestMessage message, TempestJobState state) => new()
    {
        Id = message.Id ?? "",
        TaskName = message.TaskName,
        State = state,
        Attempt = state == TempestJobState.Ready ? message.Attempt - 1 : message.Attempt, // a ready one was counted by its writer, ahead of its run
        Envelope = message.Envelope is { IsDefault: false } envelope ? envelope.Clone() : null,
        Message = TextOf(message),
    };

    private static TempestJobInfo Describe(TempestDeadLetter dead) => Describe(dead.Message, TempestJobState.Dead) with
    {
        DeadReason = dead.Reason,
        DeadAt = dead.DeadLetteredAt,
    };

    private static string TextOf(TempestMessage message) => message is RawTempestMessage raw ? raw.Json : message.ToJson();
}
