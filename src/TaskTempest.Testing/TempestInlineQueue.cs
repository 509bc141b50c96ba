using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TaskTempest.Queues;

namespace TaskTempest.Testing;

/// <summary>
/// The inline test mode's queue (<see cref="TempestTesting.Inline{TEngine}"/>): it queues nothing. Every submit runs its
/// job at once, in the caller, through the engine (its task in a DI scope of <see cref="TempestOptions.Services"/> when it
/// takes services, <c>Process</c>, then its callbacks), and an exception of <c>Process</c> or of a callback is thrown to
/// the caller of <c>engine.Submit…(…)</c> or <c>await engine.Submit…Async(…)</c> as it was thrown.
/// </summary>
/// <remarks>
/// <para>
/// What it gives (<see cref="Features"/>): <see cref="TempestQueueFeatures.Delays"/>, because a delayed submit
/// (<c>engine.After(…)</c>, <c>engine.At(…)</c>) is accepted and runs at once, as in Sidekiq's inline mode: the test sees
/// the job's effect without moving a clock; <see cref="TempestQueueFeatures.NamedQueues"/>, because a job for any named
/// queue runs at once too (a priority changes nothing); <see cref="TempestQueueFeatures.UniqueKeys"/>, kept as the memory
/// queue keeps them: a submit whose key a job holds runs nothing and returns the holder's id (a key of scope
/// <see cref="TempestUniqueScope.Queued"/> is free once its job starts, one of
/// <see cref="TempestUniqueScope.QueuedOrRunning"/> once it ends, one of <see cref="TempestUniqueScope.Period"/> at its
/// period's end on the engine's clock). Nothing else: no acknowledgements, leases, batches out, counting or inspection.
/// </para>
/// <para>
/// A job runs once and is never retried; a task's timeout is not enforced (the job runs to its end in the caller); the
/// engine's <c>Run</c> has nothing to take (a dequeue waits until it is cancelled). A job that submits jobs runs them
/// inside its own run, depth first. A batch's flush (<c>engine.Batch()</c>) runs every job in it in order, then throws the
/// failure (an <see cref="AggregateException"/> when several failed); a job that ran is not run again by a later flush.
/// Each <c>TaskLogger</c> line goes to <see cref="TempestOptions.TaskLoggerFactory"/>, or nowhere when it is not set.
/// </para>
/// <para>
/// The job's synchronous part runs with no <see cref="SynchronizationContext"/>, as a worker has none: so that a
/// synchronous submit of an async task, which blocks the caller until the job ends, cannot deadlock on a test
/// framework's or a UI's single-threaded context that the job's awaits would otherwise want to come back to.
/// </para>
/// </remarks>
public sealed class TempestInlineQueue : ITempestQueue
{
    private readonly TempestEngine _engine;

    // Messages a batch's flush already ran: a flush that threw keeps its batch for the next flush, which must not run them again.
    private readonly ConditionalWeakTable<TempestMessage, object> _ran = [];

    // Held unique keys: the holder's id, and for a period the end of it (engine clock ticks).
    private readonly Lock _keysLock = new();
    private readonly Dictionary<string, (string JobId, long? UntilTicks)> _keys = new(StringComparer.Ordinal);

    internal TempestInlineQueue(TempestEngine engine) => _engine = engine;

    /// <summary>Delayed submits (run at once), named queues (run at once) and unique keys; see the remarks.</summary>
    public TempestQueueFeatures Features => TempestQueueFeatures.Delays | TempestQueueFeatures.NamedQueues | TempestQueueFeatures.UniqueKeys;

    /// <summary>Runs the job now, in the caller; a job whose unique key is held runs nothing.</summary>
    /// <exception cref="Exception">Whatever <c>Process</c>, or else a callback, threw.</exception>
    public ValueTask EnqueueAsync(TempestMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Envelope is { UniqueKey: not null })
        {
            var unique = EnqueueUniqueAsync(message, cancellationToken); // a duplicate is skipped, as the memory queue skips it
            if (!unique.IsCompletedSuccessfully) return new ValueTask(unique.AsTask());
            unique.GetAwaiter().GetResult();
            return default;
        }
        return RunAsync(message, cancellationToken);
    }

    /// <summary>Runs the job now unless a job holds its unique key: then nothing runs and the holder's id comes back.</summary>
    /// <exception cref="Exception">Whatever <c>Process</c>, or else a callback, threw.</exception>
    public ValueTask<string?> EnqueueUniqueAsync(TempestMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Envelope is not { UniqueKey: not null } envelope) return Ran(RunAsync(message, cancellationToken));
        if (TakeKey(message, envelope) is { } holder) return new(holder);
        var scope = envelope.EffectiveUniqueScope;
        if (scope == TempestUniqueScope.Queued) ReleaseKey(message, envelope); // queued no more once it starts
        if (scope != TempestUniqueScope.QueuedOrRunning) return Ran(RunAsync(message, cancellationToken));

        ValueTask run;
        try
        {
            run = RunAsync(message, cancellationToken);
        }
        catch
        {
            ReleaseKey(message, envelope);
            throw;
        }
        if (run.IsCompleted)
        {
            ReleaseKey(message, envelope);
            return Ran(run);
        }
        return ReleasedAfter(run, message, envelope);

        async ValueTask<string?> ReleasedAfter(ValueTask pending, TempestMessage job, TempestEnvelope keyed)
        {
            try
            {
                await pending.ConfigureAwait(false);
                return null;
            }
            finally
            {
                ReleaseKey(job, keyed);
            }
        }
    }

    /// <summary>Runs every job in order, then throws what failed: the one exception, or an <see cref="AggregateException"/>
    /// of several. A job a previous flush of the same batch ran is skipped.</summary>
    public async ValueTask EnqueueBatchAsync(IReadOnlyList<TempestMessage> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        List<ExceptionDispatchInfo>? failures = null;
        for (int i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            ArgumentNullException.ThrowIfNull(message);
            if (!_ran.TryAdd(message, message)) continue;
            try
            {
                await EnqueueAsync(message, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                (failures ??= []).Add(ExceptionDispatchInfo.Capture(e));
            }
        }
        if (failures is null) return;
        if (failures.Count == 1) failures[0].Throw();
        throw new AggregateException($"{failures.Count} jobs of the batch failed.", failures.Select(f => f.SourceException));
    }

    /// <summary>Nothing is ever queued, so there is nothing to take: waits until <paramref name="cancellationToken"/> is
    /// cancelled (then throws <see cref="OperationCanceledException"/>).</summary>
    public async ValueTask<TempestMessage?> DequeueAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        return null;
    }

    private static ValueTask<string?> Ran(ValueTask run)
    {
        if (!run.IsCompletedSuccessfully) return Awaited(run);
        run.GetAwaiter().GetResult(); // consumed, as a pooled source needs
        return new((string?)null);

        static async ValueTask<string?> Awaited(ValueTask pending)
        {
            await pending.ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>One run of the job through the engine, its synchronous part without the caller's synchronization context.</summary>
    private ValueTask RunAsync(TempestMessage message, CancellationToken cancellationToken)
    {
        if (message is RawTempestMessage raw) message = _engine.ParseMessage(raw); // text from another program: typed first
        message.Attempt++; // runs started, this one included, as a worker counts them
        var context = SynchronizationContext.Current;
        if (context is null) return _engine.RunInlineAsync(message, TaskLog(), cancellationToken);
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            return _engine.RunInlineAsync(message, TaskLog(), cancellationToken);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(context);
        }
    }

    // Read at each run: the factory is an option the test may set after the engine was made.
    private ILogger TaskLog() => _engine.Options.TaskLoggerFactory?.CreateLogger(_engine.Name) ?? NullLogger.Instance;

    /// <summary>Takes the key for <paramref name="message"/>, or returns the holder's id.</summary>
    private string? TakeKey(TempestMessage message, TempestEnvelope envelope)
    {
        string key = envelope.UniqueKey!;
        long now = _engine.Options.TimeProvider.GetUtcNow().UtcTicks;
        lock (_keysLock)
        {
            if (_keys.TryGetValue(key, out var hold) && (hold.UntilTicks is not { } until || until > now)) return hold.JobId;
            _keys[key] = (message.Id!, envelope.EffectiveUniqueScope == TempestUniqueScope.Period ? now + (envelope.UniqueFor ?? TimeSpan.Zero).Ticks : null);
            return null;
        }
    }

    private void ReleaseKey(TempestMessage message, TempestEnvelope envelope)
    {
        lock (_keysLock)
        {
            if (_keys.TryGetValue(envelope.UniqueKey!, out var hold) && hold.JobId == message.Id) _keys.Remove(envelope.UniqueKey!);
        }
    }
}
