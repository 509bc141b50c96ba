namespace TaskTempest.Queues;

/// <summary>
/// At most one wake-up per interval from one queue instance: a burst of enqueues wakes with its first one and once
/// more, trailing, at the end of the interval, instead of once per enqueue (so a bulk load is no storm of notices, and
/// the last enqueue of a burst is always followed by one). Compiled into each server queue's package (src/Shared).
/// </summary>
internal sealed class WakeThrottle(TimeProvider clock, TimeSpan interval, Action sendTrailing)
{
    private readonly Lock _gate = new();
    private long? _last; // timestamp of the last wake-up sent or carried
    private ITimer? _trailing;

    /// <summary>Whether this enqueue carries the wake-up: yes when none went out for an interval; otherwise a trailing
    /// one is scheduled (once) for the end of the interval.</summary>
    public bool TakeTurn()
    {
        lock (_gate)
        {
            long now = clock.GetTimestamp();
            if (_last is not { } last || clock.GetElapsedTime(last, now) >= interval)
            {
                _last = now;
                return true;
            }
            _trailing ??= clock.CreateTimer(static state => ((WakeThrottle)state!).Trail(), this,
                interval - clock.GetElapsedTime(last, now), Timeout.InfiniteTimeSpan);
            return false;
        }
    }

    /// <summary>Cancels a trailing wake-up still due; true when one was owed (the caller sends it at its disposal).</summary>
    public bool CancelTrailing()
    {
        lock (_gate)
        {
            bool owed = _trailing is not null;
            _trailing?.Dispose();
            _trailing = null;
            return owed;
        }
    }

    private void Trail()
    {
        lock (_gate)
        {
            if (_trailing is null) return; // cancelled: the owner sends it
            _trailing.Dispose();
            _trailing = null;
            _last = clock.GetTimestamp();
        }
        sendTrailing();
    }
}
