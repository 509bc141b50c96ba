using TaskTempest.Queues;

namespace TaskTempest.Engine.Inbox;

/// <summary>
/// The named queues an engine consumes (<see cref="TempestOptions.Queues"/>), each with its jobs in flight against its
/// concurrency limit: the fetcher asks the queue for each one's free room, in strict or weighted order, so a slow queue
/// with a limit cannot take every slot. Counted when a job is handed to a slot, uncounted when its slot's credit comes back.
/// </summary>
internal sealed class QueueLanes
{
    private readonly Lane[] _lanes;
    private readonly Dictionary<string, Lane> _byName;
    private readonly TempestQueueOrder _order;
    private readonly int _slots;
    private readonly SemaphoreSlim _roomFreed = new(0);
    private int _waitingForRoom; // the fetcher left a queue out for its limit: a freed slot there must wake it

    public QueueLanes(IReadOnlyList<TempestNamedQueue> queues, TempestQueueOrder order, int slots)
    {
        _lanes = [.. queues.Select(q => new Lane(q.Name, q.MaxConcurrency > 0 ? Math.Min(q.MaxConcurrency, slots) : slots, q.Weight))];
        _byName = _lanes.ToDictionary(l => l.Name, StringComparer.Ordinal);
        _order = order;
        _slots = slots;
    }

    private sealed class Lane(string name, int limit, int weight)
    {
        public string Name { get; } = name;
        public int Limit { get; } = limit;
        public int Weight { get; } = weight;
        public int InFlight;
    }

    /// <summary>
    /// What to ask the queue for with <paramref name="credits"/> free slots: each queue's room (its limit less its jobs in
    /// flight, at most the credits), in this claim's order; empty when every queue is at its limit.
    /// <paramref name="leftOut"/> when a queue was left out for its limit, so that the claim's wait must end when it has room.
    /// </summary>
    public List<TempestQueueTake> Plan(int credits, out bool leftOut)
    {
        var takes = new List<TempestQueueTake>(_lanes.Length);
        leftOut = false;
        foreach (var lane in Ordered())
        {
            int room = Math.Min(lane.Limit - Volatile.Read(ref lane.InFlight), credits);
            if (room > 0) takes.Add(new TempestQueueTake(lane.Name, room));
            else leftOut = true;
        }
        Volatile.Write(ref _waitingForRoom, leftOut ? 1 : 0);
        return takes;
    }

    /// <summary>Strict: as configured. Weighted: drawn, each queue's chance to come next in proportion to its weight.</summary>
    private IEnumerable<Lane> Ordered()
    {
        if (_order == TempestQueueOrder.Strict || _lanes.Length == 1) return _lanes;
        var left = new List<Lane>(_lanes);
        var drawn = new Lane[_lanes.Length];
        for (int i = 0; i < drawn.Length; i++)
        {
            int total = left.Sum(l => l.Weight), pick = Random.Shared.Next(total), at = 0;
            while (pick >= left[at].Weight) pick -= left[at++].Weight;
            drawn[i] = left[at];
            left.RemoveAt(at);
        }
        return drawn;
    }

    /// <summary>A delivery took a slot: counted in its queue.</summary>
    public void Started(TempestMessage message)
    {
        if (_byName.TryGetValue(TempestQueueNames.Of(message.Envelope), out var lane)) Interlocked.Increment(ref lane.InFlight);
    }

    /// <summary>A job's slot is free again: its queue has room; the fetcher, if it waits for room, looks again.</summary>
    public void Ended(TempestMessage message)
    {
        if (!_byName.TryGetValue(TempestQueueNames.Of(message.Envelope), out var lane)) return;
        int inFlight = Interlocked.Decrement(ref lane.InFlight);
        if (inFlight == lane.Limit - 1 && lane.Limit < _slots && Volatile.Read(ref _waitingForRoom) == 1) _roomFreed.Release();
    }

    /// <summary>Waits until a queue left out for its limit has room (a missed release only costs a spare look).</summary>
    public Task WaitForRoomAsync(CancellationToken cancellationToken) => _roomFreed.WaitAsync(cancellationToken);

    /// <summary>A token cancelled when a queue left out for its limit gets room (or the run stops): it ends a claim's wait
    /// on the others. Disposing it ends its own wait for room, so that it takes no later release.</summary>
    public RoomWait RoomOrStop(CancellationToken stopping) => new(this, stopping);

    public sealed class RoomWait : IDisposable
    {
        private readonly CancellationTokenSource _source;

        public RoomWait(QueueLanes lanes, CancellationToken stopping)
        {
            _source = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            _ = lanes.WaitForRoomAsync(_source.Token).ContinueWith(static (t, s) =>
            {
                var wait = (RoomWait)s!;
                if (!t.IsCompletedSuccessfully) return;
                wait.RoomFreed = true;
                try { wait._source.Cancel(); }
                catch (ObjectDisposedException) { } // the claim came back first
            }, this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        public CancellationToken Token => _source.Token;

        /// <summary>Whether the token was cancelled for room (not for the stop).</summary>
        public bool RoomFreed { get; private set; }

        public void Dispose()
        {
            try { _source.Cancel(); } catch (ObjectDisposedException) { }
            _source.Dispose();
        }
    }
}
