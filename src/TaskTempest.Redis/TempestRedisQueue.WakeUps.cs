using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using TaskTempest.Logging;

namespace TaskTempest.Redis;

public sealed partial class TempestRedisQueue
{
    // Wake-ups are hints, never correctness. An enqueue publishes on the queue's channel from its script, at most once per
    // WakeInterval from this instance (a burst publishes with its first call and once more, trailing, at the end of the
    // interval). Idle claims subscribe on the multiplexer's subscriber connection (StackExchange.Redis subscribes again
    // after a reconnect) and look again at once; the poll stays as the fallback for a lost message and for texts other
    // programs push, which publish nothing.

    /// <summary>At most one wake-up per this interval leaves one queue instance.</summary>
    public static readonly TimeSpan WakeInterval = TimeSpan.FromMilliseconds(100);

    private readonly Lock _subscriptionGate = new();
    private Task? _subscription;

    private RedisChannel WakeChannel => RedisChannel.Literal(_prefix + "wake");

    /// <summary>Subscribes the first time a claim waits (unless <see cref="TempestRedisOptions.Subscribe"/> is off); a
    /// failed subscription is logged and tried again at the next wait.</summary>
    private void EnsureSubscribed()
    {
        if (!_options.Subscribe) return;
        var subscription = Volatile.Read(ref _subscription);
        if (subscription is not null && !subscription.IsFaulted) return;
        lock (_subscriptionGate)
        {
            if (_subscription is null || _subscription.IsFaulted) _subscription = SubscribeAsync();
        }
    }

    private async Task SubscribeAsync()
    {
        try
        {
            await _redis.GetSubscriber().SubscribeAsync(WakeChannel, (_, _) => Wake()).ConfigureAwait(false);
            if (LastSubscribeError is not null)
                _logger.LogInformation("Redis queue {Prefix}: subscribed to wake-ups again", LogText.Escape(_prefix));
            LastSubscribeError = null;
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            LastSubscribeError = e;
            _logger.LogWarning("Redis queue {Prefix}: subscribing to wake-ups failed ({Error}); polling meanwhile",
                LogText.Escape(_prefix), Describe(e));
            throw;
        }
    }

    /// <summary>The last error of the wake-up subscription (it is tried again; the poll covers the gap), or null.</summary>
    public Exception? LastSubscribeError { get; private set; }

    private async Task UnsubscribeAsync()
    {
        if (Volatile.Read(ref _subscription) is not { IsCompletedSuccessfully: true }) return;
        try
        {
            await _redis.GetSubscriber().UnsubscribeAsync(WakeChannel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            // The connection is going or gone: so is the subscription.
        }
    }

    /// <summary>A trailing wake-up, or the one owed at disposal.</summary>
    private async Task PublishWakeAsync()
    {
        try
        {
            await _redis.GetSubscriber().PublishAsync(WakeChannel, "1").ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            // A lost hint: the poll finds the jobs.
            _logger.LogWarning("Redis queue {Prefix}: a wake-up publish failed ({Error}); idle workers find the jobs at their next poll",
                LogText.Escape(_prefix), Describe(e));
        }
    }

    /// <summary>An error as one safe hole of a log line: its type and its escaped message (a server's text is outside text).</summary>
    private static string Describe(Exception e) => e.GetType().Name + ": " + LogText.Escape(e.Message);
}
