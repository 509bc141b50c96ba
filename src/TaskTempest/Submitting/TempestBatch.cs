using TaskTempest.Queues;

namespace TaskTempest;

/// <summary>
/// Jobs collected by <c>engine.Batch()</c> and sent together: <see cref="FlushAsync"/> hands them all to the queue in
/// one call (<see cref="ITempestQueue.EnqueueBatchAsync"/>, one round trip where the queue can). Each job has its id
/// as soon as it is submitted, and none is queued before the flush; one that fails keeps every job in the batch, so
/// that the flush can be tried again. Submits may come from several threads.
/// </summary>
public sealed class TempestBatch
{
    private readonly TempestEngine _engine;
    private readonly Lock _gate = new();
    private List<TempestMessage> _messages = [];

    internal TempestBatch(TempestEngine engine, ITempestSubmitTarget? target)
    {
        _engine = engine;
        Target = target;
    }

    /// <summary>Where the batch goes: a package's target, or null for the engine's queue.</summary>
    public ITempestSubmitTarget? Target { get; }

    /// <summary>Jobs submitted and not yet flushed.</summary>
    public int Count
    {
        get { lock (_gate) return _messages.Count; }
    }

    internal void Add(TempestMessage message)
    {
        lock (_gate) _messages.Add(message);
    }

    /// <summary>Sends every job submitted since the last flush in one call; nothing when there is none.</summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        List<TempestMessage> sending;
        lock (_gate)
        {
            if (_messages.Count == 0) return;
            sending = _messages;
            _messages = new List<TempestMessage>(sending.Count); // a batch flushed every N submits keeps its size: no regrowth
        }
        try
        {
            await _engine.EnqueueBatchAsync(sending, Target, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            lock (_gate) _messages.InsertRange(0, sending); // not sent: they stay for the next flush
            throw;
        }
    }

    /// <summary><see cref="FlushAsync"/>, blocking the caller until the queue has the jobs.</summary>
    public void Flush()
    {
        var flushed = FlushAsync();
        if (flushed.IsCompletedSuccessfully) flushed.GetAwaiter().GetResult();
        else flushed.AsTask().GetAwaiter().GetResult();
    }
}
