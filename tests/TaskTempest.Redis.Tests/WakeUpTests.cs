using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;
using TaskTempest.Redis.Tests.Support;

namespace TaskTempest.Redis.Tests;

/// <summary>
/// The wake-up throttle: a burst of enqueues from one queue instance publishes once with its first call and once more,
/// trailing, an interval later, never once per enqueue. The queue's clock is a <see cref="FakeTimeProvider"/>, so the
/// interval passes only when the test says; a sentinel the test publishes itself tells it that every message published
/// before it has arrived (the server delivers to a subscriber in the order it ran the commands).
/// </summary>
public sealed class WakeUpTests
{
    private static readonly string Prefix = RedisServer.PrefixFor(typeof(WakeUpTests));
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private const string Sentinel = "sentinel";

    [Fact]
    public async Task A_burst_of_enqueues_publishes_one_wake_up_and_one_trailing_wake_up_per_interval()
    {
        var clock = new FakeTimeProvider();
        var redis = await RedisServer.ConnectionAsync();
        await RedisServer.DeleteKeysAsync(redis, Prefix + "{tempest:burst}:");
        var queue = await TempestRedisQueue.CreateAsync(redis, new TempestRedisOptions { KeyPrefix = Prefix, QueueName = "burst", TimeProvider = clock, Subscribe = false });
        var channel = RedisChannel.Literal(queue.KeyPrefix + "wake");
        await using var listener = await ConnectionMultiplexer.ConnectAsync(RedisServer.ConfiguredEndpoint + ",abortConnect=true");
        var received = Channel.CreateUnbounded<string>();
        (await listener.GetSubscriber().SubscribeAsync(channel)).OnMessage(m => received.Writer.TryWrite((string)m.Message!));

        async Task<List<string>> UntilSentinelAsync()
        {
            await redis.GetSubscriber().PublishAsync(channel, Sentinel);
            var messages = new List<string>();
            using var bound = new CancellationTokenSource(Bound);
            while (await received.Reader.ReadAsync(bound.Token) is var message && message != Sentinel) messages.Add(message);
            return messages;
        }

        for (int i = 0; i < 20; i++) await queue.EnqueueAsync(new RawTempestMessage($$"""["burst-{{i}}","Counted",{{i}}]""")); // 20 script calls in one interval
        Assert.Equal(["1"], await UntilSentinelAsync());

        clock.Advance(TempestRedisQueue.WakeInterval); // the trailing wake-up, for the 19 enqueues that carried none
        using (var bound = new CancellationTokenSource(Bound)) Assert.Equal("1", await received.Reader.ReadAsync(bound.Token));
        Assert.Empty(await UntilSentinelAsync());

        clock.Advance(TempestRedisQueue.WakeInterval);
        await queue.EnqueueAsync(new RawTempestMessage("""["burst-20","Counted",20]""")); // a quiet interval later: it publishes again, no trailing one
        Assert.Equal(["1"], await UntilSentinelAsync());
        clock.Advance(TempestRedisQueue.WakeInterval * 2);
        Assert.Empty(await UntilSentinelAsync());
        Assert.Equal(21, await queue.CountAsync());
        await queue.DisposeAsync();
    }
}
