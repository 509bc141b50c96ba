using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;
using TaskTempest.Queues;
using TaskTempest.Redis;

namespace TaskTempest.Throughput.Redis;

/// <summary>
/// The producer of the .NET contenders' runs, in a process of its own as the postgres mode's is (the harness started again
/// as <c>redis-produce kind keyPrefix jobs batch rate</c>): <c>engine</c> submits through an engine's generated
/// <c>Batch()</c> submitter on a TempestRedisQueue (one Enqueue script call per flush); <c>bare</c> calls
/// <see cref="TempestRedisScripts.Enqueue"/> itself with the arguments the queue writes for the same messages and the
/// queue's wake-up throttle. Rate 0: no-op jobs in flushes of <c>batch</c>, one after the other, as fast as they go.
/// Rate above 0: latency jobs stamped with their submit time, a flush every 10 ms of the jobs due by then at that rate
/// (a late flush sends more, so the offered load holds). It warms up on a queue of its own first (its keys deleted, see
/// <see cref="RunAsync"/>), says <c>ready</c>, waits for <c>go</c>, prints a <see cref="ChildReport"/> (commands: its multiplexer's OperationCount),
/// and exits when its input closes.
/// </summary>
internal static class RedisProducer
{
    private const string WarmQueue = "warm";

    public static async Task<int> RunAsync(string kind, string keyPrefix, int jobs, int batch, int rate)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(RedisServer.Configuration);
        // The warm-up runs the producer's own loop on a queue of its own: flat out, 50 × min(batch, 100) jobs, and paced for
        // 0.25 s when the run is paced; again until a pass compiles (almost) nothing: a fresh process tiers its hot methods up
        // (TieredPGO: an instrumented tier, then the final one) while they are called, and that JIT work is start-up.
        var warm = await SubmitterAsync(kind, redis, keyPrefix, WarmQueue);
        for (int pass = 0; pass < 8; pass++)
        {
            long compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
            await ProduceAsync(warm, 50L * Math.Min(batch, 100), batch, 0);
            if (rate > 0) await ProduceAsync(warm, rate / 4, batch, rate);
            await Task.Delay(200); // the tiering delay passes, background compilations finish
            if (pass > 0 && System.Runtime.JitInfo.GetCompiledMethodCount() - compiled < 5) break;
        }
        await warm.FinishAsync();
        await RedisServer.DeleteAsync(redis.GetServer(redis.GetEndPoints().Single()), redis.GetDatabase(RedisServer.Database), $"{keyPrefix}{{tempest:{WarmQueue}}}:*");

        var submitter = await SubmitterAsync(kind, redis, keyPrefix, TempestContender.QueueName);
        Console.WriteLine("ready");
        if (Console.ReadLine() != "go") return 2;

        using var self = Process.GetCurrentProcess();
        var cpu = self.TotalProcessorTime;
        long commands = redis.OperationCount;
        var clock = Stopwatch.StartNew();
        long submitted = await ProduceAsync(submitter, jobs, batch, rate);
        var elapsed = clock.Elapsed;
        await submitter.FinishAsync(); // the wake-up a throttle still owes
        self.Refresh();
        Console.WriteLine(new ChildReport(submitted, (self.TotalProcessorTime - cpu).TotalMilliseconds, redis.OperationCount - commands, elapsed.TotalMilliseconds));
        while (Console.ReadLine() is not null)
        {
        }
        return 0;
    }

    /// <summary>Rate 0: <paramref name="jobs"/> no-op jobs in flushes of <paramref name="batch"/>, one after the other. Rate
    /// above 0: latency jobs, every 10 ms one flush of the jobs due by then at that rate.</summary>
    private static async Task<long> ProduceAsync(ISubmitter submitter, long jobs, int batch, int rate)
    {
        var clock = Stopwatch.StartNew();
        long submitted = 0;
        if (rate <= 0)
        {
            while (submitted < jobs)
            {
                for (long end = Math.Min(jobs, submitted + batch); submitted < end; submitted++) submitter.Add((int)submitted);
                await submitter.FlushAsync();
            }
            return submitted;
        }
        var tick = TimeSpan.FromMilliseconds(10);
        while (submitted < jobs)
        {
            long due = Math.Min(jobs, (long)Math.Ceiling(clock.Elapsed.TotalSeconds * rate));
            if (due > submitted)
            {
                long stamp = DateTime.UtcNow.Ticks;
                for (; submitted < due; submitted++) submitter.AddStamped(stamp);
                await submitter.FlushAsync();
            }
            var now = clock.Elapsed;
            var wait = tick * (Math.Floor(now / tick) + 1) - now;
            // Whole milliseconds: a timer truncates a shorter wait to none, and the loop would spin to the tick.
            if (wait > TimeSpan.Zero) await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds)));
        }
        return submitted;
    }

    private static async Task<ISubmitter> SubmitterAsync(string kind, ConnectionMultiplexer redis, string keyPrefix, string queueName) => kind switch
    {
        "engine" => new EngineSubmitter(new RedisFibers(new TempestOptions
        {
            Queue = await TempestRedisQueue.CreateAsync(redis, QueueEngine.Options(keyPrefix, queueName)),
            MainLoggerFactory = NullLoggerFactory.Instance,
            TaskLoggerFactory = NullLoggerFactory.Instance,
            HandleSignals = false,
        })),
        "bare" => new BareSubmitter(redis, $"{keyPrefix}{{tempest:{queueName}}}:"),
        _ => throw new ArgumentException($"producer kind '{kind}': engine or bare", nameof(kind)),
    };

    private interface ISubmitter
    {
        void Add(int i);

        void AddStamped(long ticks);

        ValueTask FlushAsync();

        /// <summary>Sends the wake-up the throttle still owes, before the process exits.</summary>
        ValueTask FinishAsync();
    }

    /// <summary>The engine's generated Batch(): the messages, their ids and texts, one EnqueueBatchAsync per flush.</summary>
    private sealed class EngineSubmitter(RedisFibers engine) : ISubmitter
    {
        private readonly RedisFibers.BatchSubmitter _batch = engine.Batch();

        public void Add(int i) => _batch.SubmitNoOp(i, i);

        public void AddStamped(long ticks) => _batch.SubmitStamped(ticks);

        public ValueTask FlushAsync() => _batch.FlushAsync();

        public ValueTask FinishAsync() => ((TempestRedisQueue)engine.Queue).DisposeAsync();
    }

    /// <summary>The Enqueue script with the arguments TempestRedisQueue writes for a typed message with no envelope (its id
    /// format, its text, every envelope field empty), one call per 1,000 as the queue splits, and the queue's own wake-up
    /// throttle (a publish with an enqueue at most every 100 ms, a trailing one for the enqueues in between).</summary>
    private sealed class BareSubmitter : ISubmitter
    {
        private readonly IDatabase _db;
        private readonly ISubscriber _subscriber;
        private readonly RedisKey[] _keys;
        private readonly RedisChannel _wake;
        private readonly WakeThrottle _throttle;
        private readonly List<(string Id, string Task, string Body)> _messages = [];

        public BareSubmitter(ConnectionMultiplexer redis, string queuePrefix)
        {
            _db = redis.GetDatabase(RedisServer.Database);
            _subscriber = redis.GetSubscriber();
            _keys = [queuePrefix];
            _wake = RedisChannel.Literal(queuePrefix + "wake");
            _throttle = new WakeThrottle(TimeProvider.System, TempestRedisQueue.WakeInterval, () => _ = _subscriber.PublishAsync(_wake, "1"));
        }

        public void Add(int i)
        {
            string id = TempestId.New();
            _messages.Add((id, "NoOp", string.Create(CultureInfo.InvariantCulture, $"[\"{id}\",\"NoOp\",{i},{i}]")));
        }

        public void AddStamped(long ticks)
        {
            string id = TempestId.New();
            _messages.Add((id, "Stamped", string.Create(CultureInfo.InvariantCulture, $"[\"{id}\",\"Stamped\",{ticks}]")));
        }

        public async ValueTask FlushAsync()
        {
            if (_messages.Count == 0) return;
            var calls = new List<Task<RedisResult>>();
            for (int start = 0; start < _messages.Count; start += TempestRedisScripts.StepLimit)
            {
                int count = Math.Min(TempestRedisScripts.StepLimit, _messages.Count - start);
                var values = new RedisValue[2 + count * TempestRedisScripts.EnqueueFields];
                values[0] = count;
                values[1] = _throttle.TakeTurn() ? 1 : 0;
                for (int i = 0; i < count; i++)
                {
                    var (id, task, body) = _messages[start + i];
                    int at = 2 + i * TempestRedisScripts.EnqueueFields;
                    values[at] = id;
                    values[at + 1] = task;
                    values[at + 2] = body;
                    values[at + 3] = "0"; // the body is no envelope object
                    values[at + 4] = 0;   // attempt
                    values[at + 5] = 0;   // failures
                    values[at + 6] = 0;   // lease expiries
                    for (int f = 7; f < TempestRedisScripts.EnqueueFields; f++) values[at + f] = f == 10 ? 0 : ""; // priority 0, the rest unset
                }
                calls.Add(_db.ScriptEvaluateAsync(TempestRedisScripts.Enqueue, _keys, values));
            }
            await Task.WhenAll(calls);
            _messages.Clear();
        }

        public async ValueTask FinishAsync()
        {
            if (_throttle.CancelTrailing()) await _subscriber.PublishAsync(_wake, "1");
        }
    }
}
