using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using TaskTempest.Queues;

namespace TaskTempest.Tests.Support;

/// <summary>Counts DequeueAsync calls and lets a test await a count: proves idle workers wait instead of spinning.</summary>
public sealed class CountingQueue(ITempestQueue inner) : ITempestQueue
{
    private int _dequeues;
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _reached = new();

    public int Dequeues => Volatile.Read(ref _dequeues);

    public Task Reached(int count)
    {
        var tcs = _reached.GetOrAdd(count, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (Dequeues >= count) tcs.TrySetResult();
        return tcs.Task.WaitAsync(TimeSpan.FromSeconds(60));
    }

    public ValueTask EnqueueAsync(TempestMessage message, CancellationToken cancellationToken = default) => inner.EnqueueAsync(message, cancellationToken);

    public ValueTask<TempestMessage?> DequeueAsync(CancellationToken cancellationToken)
    {
        int count = Interlocked.Increment(ref _dequeues);
        foreach (var (target, tcs) in _reached)
        {
            if (count >= target) tcs.TrySetResult();
        }
        return inner.DequeueAsync(cancellationToken);
    }
}

/// <summary>The original's minimal queue: enqueue and dequeue only, returning null when empty (so workers poll).</summary>
public sealed class PollingQueue : ITempestQueue
{
    private readonly ConcurrentQueue<TempestMessage> _messages = new();

    public ValueTask EnqueueAsync(TempestMessage message, CancellationToken cancellationToken = default)
    {
        _messages.Enqueue(message);
        return default;
    }

    public ValueTask<TempestMessage?> DequeueAsync(CancellationToken cancellationToken) =>
        new(_messages.TryDequeue(out var message) ? message : null);
}

/// <summary>Throws on its first <paramref name="failures"/> dequeues, then behaves.</summary>
public sealed class FlakyQueue(ITempestQueue inner, int failures = 1) : ITempestQueue
{
    private int _calls;

    public ValueTask EnqueueAsync(TempestMessage message, CancellationToken cancellationToken = default) => inner.EnqueueAsync(message, cancellationToken);

    public ValueTask<TempestMessage?> DequeueAsync(CancellationToken cancellationToken) =>
        Interlocked.Increment(ref _calls) <= failures
            ? throw new IOException("queue server went away")
            : inner.DequeueAsync(cancellationToken);
}

/// <summary>A FakeTimeProvider that tells the test when a timer with a given due time was created,
/// so the test advances time only once the engine is waiting on it.</summary>
public sealed class SignalingFakeTime : FakeTimeProvider
{
    private readonly ConcurrentDictionary<TimeSpan, TaskCompletionSource> _created = new();

    public Task TimerCreated(TimeSpan dueTime) => Signal(dueTime).Task.WaitAsync(TimeSpan.FromSeconds(60));

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        Signal(dueTime).TrySetResult();
        return timer;
    }

    private TaskCompletionSource Signal(TimeSpan dueTime) =>
        _created.GetOrAdd(dueTime, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}

/// <summary>A memory queue whose first acknowledgement throws, as a queue server that hiccups would.</summary>
public sealed class FailingAckQueue(TempestMemoryQueue inner) : IAcknowledgingTempestQueue
{
    private int _acks;

    public ValueTask EnqueueAsync(TempestMessage message, CancellationToken cancellationToken = default) => inner.EnqueueAsync(message, cancellationToken);
    public ValueTask<TempestMessage?> DequeueAsync(CancellationToken cancellationToken) => inner.DequeueAsync(cancellationToken);
    public ValueTask ReturnAsync(TempestMessage message, CancellationToken cancellationToken = default) => inner.ReturnAsync(message, cancellationToken);
    public ValueTask DeadLetterAsync(TempestMessage message, string reason, CancellationToken cancellationToken = default) => inner.DeadLetterAsync(message, reason, cancellationToken);

    public ValueTask AcknowledgeAsync(TempestMessage message, CancellationToken cancellationToken = default) =>
        Interlocked.Increment(ref _acks) == 1 ? throw new IOException("ack lost") : inner.AcknowledgeAsync(message, cancellationToken);
}

/// <summary>
/// A memory queue behind the general interfaces (so the engine takes the fetcher's path), recording which
/// thread called it and counting acknowledgements.
/// </summary>
public sealed class ThreadRecordingQueue(TempestMemoryQueue inner) : IAcknowledgingTempestQueue
{
    public ConcurrentBag<string> Callers { get; } = new();
    public int Acknowledged => Volatile.Read(ref _acknowledged);
    private int _acknowledged;

    private void Record(string call) => Callers.Add($"{call} on {Thread.CurrentThread.Name ?? "a pool thread"}");

    public ValueTask EnqueueAsync(TempestMessage message, CancellationToken cancellationToken = default) => inner.EnqueueAsync(message, cancellationToken);

    public ValueTask<TempestMessage?> DequeueAsync(CancellationToken cancellationToken)
    {
        Record("dequeue");
        return inner.DequeueAsync(cancellationToken);
    }

    public ValueTask AcknowledgeAsync(TempestMessage message, CancellationToken cancellationToken = default)
    {
        Record("acknowledge");
        Interlocked.Increment(ref _acknowledged);
        return default;
    }

    public ValueTask ReturnAsync(TempestMessage message, CancellationToken cancellationToken = default)
    {
        Record("return");
        return inner.ReturnAsync(message, cancellationToken);
    }

    public ValueTask DeadLetterAsync(TempestMessage message, string reason, CancellationToken cancellationToken = default)
    {
        Record("dead-letter");
        return inner.DeadLetterAsync(message, reason, cancellationToken);
    }
}

/// <summary>A memory queue behind the general interfaces whose acknowledgements wait until the test opens the gate (or the engine cancels them).</summary>
public sealed class GatedAckQueue(TempestMemoryQueue inner) : IAcknowledgingTempestQueue
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _waiting;
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _reached = new();

    public int Cancelled => Volatile.Read(ref _cancelled);
    private int _cancelled;

    public void Open() => _open.TrySetResult();

    /// <summary>Completes once this many acknowledgements are waiting at the gate.</summary>
    public Task Waiting(int count)
    {
        var tcs = _reached.GetOrAdd(count, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (Volatile.Read(ref _waiting) >= count) tcs.TrySetResult();
        return tcs.Task.WaitAsync(TimeSpan.FromSeconds(60));
    }

    public ValueTask EnqueueAsync(TempestMessage message, CancellationToken cancellationToken = default) => inner.EnqueueAsync(message, cancellationToken);
    public ValueTask<TempestMessage?> DequeueAsync(CancellationToken cancellationToken) => inner.DequeueAsync(cancellationToken);
    public ValueTask ReturnAsync(TempestMessage message, CancellationToken cancellationToken = default) => inner.ReturnAsync(message, cancellationToken);
    public ValueTask DeadLetterAsync(TempestMessage message, string reason, CancellationToken cancellationToken = default) => inner.DeadLetterAsync(message, reason, cancellationToken);

    public async ValueTask AcknowledgeAsync(TempestMessage message, CancellationToken cancellationToken = default)
    {
        int waiting = Interlocked.Increment(ref _waiting);
        foreach (var (target, tcs) in _reached)
        {
            if (waiting >= target) tcs.TrySetResult();
        }
        try
        {
            await _open.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Interlocked.Increment(ref _cancelled);
            throw;
        }
    }
}

/// <summary>A fake clock that counts the timers created per due time, so a test can wait for the Nth (a heartbeat's next wait, say) before it moves time on.</summary>
public sealed class CountingFakeTime : FakeTimeProvider
{
    private readonly Lock _gate = new();
    private readonly Dictionary<TimeSpan, int> _created = [];
    private readonly List<(TimeSpan Due, int Count, TaskCompletionSource Reached)> _waits = [];

    public Task TimersCreated(TimeSpan dueTime, int count)
    {
        lock (_gate)
        {
            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_created.GetValueOrDefault(dueTime) >= count) reached.TrySetResult();
            else _waits.Add((dueTime, count, reached));
            return reached.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        lock (_gate)
        {
            int created = _created[dueTime] = _created.GetValueOrDefault(dueTime) + 1;
            foreach (var wait in _waits.Where(w => w.Due == dueTime && w.Count <= created).ToList())
            {
                wait.Reached.TrySetResult();
                _waits.Remove(wait);
            }
        }
        return timer;
    }
}

/// <summary>A memory queue behind the acknowledging interface alone: it states no Delays, so it takes no delayed submit and no retry.</summary>
public sealed class AcknowledgingOnlyQueue(TempestMemoryQueue inner) : IAcknowledgingTempestQueue
{
    public ValueTask EnqueueAsync(TempestMessage message, CancellationToken cancellationToken = default) => inner.EnqueueAsync(message, cancellationToken);
    public ValueTask<TempestMessage?> DequeueAsync(CancellationToken cancellationToken) => inner.DequeueAsync(cancellationToken);
    public ValueTask AcknowledgeAsync(TempestMessage message, CancellationToken cancellationToken = default) => inner.AcknowledgeAsync(message, cancellationToken);
    public ValueTask ReturnAsync(TempestMessage message, CancellationToken cancellationToken = default) => inner.ReturnAsync(message, cancellationToken);
    public ValueTask DeadLetterAsync(TempestMessage message, string reason, CancellationToken cancellationToken = default) => inner.DeadLetterAsync(message, reason, cancellationToken);
}

/// <summary>Counts how submits reach the queue (one by one, or in batches and how big), and can fail its next batch.</summary>
public sealed class SubmitCountingQueue(TempestMemoryQueue inner) : ITempestQueue
{
    private readonly ConcurrentQueue<int> _batches = new();
    private int _singles;

    public int Singles => Volatile.Read(ref _singles);
    public IReadOnlyCollection<int> Batches => _batches;
    public bool FailNextBatch { get; set; }
    public TempestMemoryQueue Inner => inner;

    public TempestQueueFeatures Features => inner.Features;

    public ValueTask EnqueueAsync(TempestMessage message, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _singles);
        return inner.EnqueueAsync(message, cancellationToken);
    }

    public ValueTask EnqueueBatchAsync(IReadOnlyList<TempestMessage> messages, CancellationToken cancellationToken = default)
    {
        if (FailNextBatch)
        {
            FailNextBatch = false;
            throw new IOException("queue server went away");
        }
        _batches.Enqueue(messages.Count);
        return inner.EnqueueBatchAsync(messages, cancellationToken);
    }

    public ValueTask<TempestMessage?> DequeueAsync(CancellationToken cancellationToken) => inner.DequeueAsync(cancellationToken);
}

/// <summary>A package's submit target, as PostgreSQL's transaction-bound one will be: it records what it is given.</summary>
public sealed class RecordingTarget(TempestQueueFeatures features) : ITempestSubmitTarget
{
    private readonly ConcurrentQueue<TempestMessage> _messages = new();
    private int _batches;

    public IReadOnlyCollection<TempestMessage> Messages => _messages;
    public int Batches => Volatile.Read(ref _batches);
    public TempestQueueFeatures Features => features;

    public ValueTask EnqueueAsync(TempestMessage message, CancellationToken cancellationToken = default)
    {
        _messages.Enqueue(message);
        return default;
    }

    public ValueTask EnqueueBatchAsync(IReadOnlyList<TempestMessage> messages, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _batches);
        foreach (var message in messages) _messages.Enqueue(message);
        return default;
    }
}

/// <summary>How a package adds a way to submit that keeps every typed Submit method (here: to a target of its own).</summary>
public static class RecordingTargetSubmitting
{
    public static TSubmitter To<TSubmitter>(this ITempestSubmitter<TSubmitter> submitter, ITempestSubmitTarget target) where TSubmitter : TempestSubmitter =>
        submitter.WithSubmitOptions(submitter.SubmitOptions with { Target = target });
}
