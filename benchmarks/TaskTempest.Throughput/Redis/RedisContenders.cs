using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;
using TaskTempest.Queues;
using TaskTempest.Redis;

namespace TaskTempest.Throughput.Redis;

/// <summary>One way of running no-op jobs through Redis, under key names of its own.</summary>
internal abstract class RedisContender(string name, string tag, string configuration)
{
    public string Name { get; } = name;

    /// <summary>A short name for the round lines.</summary>
    public string Tag { get; } = tag;

    public string Configuration { get; } = configuration;

    /// <summary>Every key it writes, as SCAN patterns of the harness's database: deleted before each of its runs.</summary>
    public abstract IReadOnlyList<string> KeyPatterns { get; }

    /// <summary>What the key patterns mean, for the method section.</summary>
    public abstract string KeysDescription { get; }

    /// <summary>Null when it can run on this machine; else why not and what to do about it.</summary>
    public virtual string? Missing => null;

    /// <summary>The producer process of a run: <paramref name="jobs"/> jobs in submits of <paramref name="batch"/> one after
    /// the other (rate 0), or latency jobs at <paramref name="rate"/> jobs/s (see <see cref="RedisProducer"/>).</summary>
    public abstract ProcessStartInfo Producer(RedisServer server, int jobs, int batch, int rate);

    /// <summary>Everything before the clock: the workers exist and their connections are open, nothing claimed yet.</summary>
    public abstract Task<RedisWorkers> PrepareAsync(RedisServer server, int jobs, bool stamped);

    /// <summary>Jobs still held after a run in which every job ran (an outcome not recorded: 0 expected).</summary>
    public abstract Task<long> LeftAsync(RedisServer server);
}

/// <summary>A contender's workers for one run.</summary>
internal abstract class RedisWorkers
{
    public abstract void Start();

    /// <summary>Completes when every job has run and its outcome is recorded as the contender records it.</summary>
    public abstract Task Finished { get; }

    /// <summary>Commands the workers sent from <see cref="Start"/> on (final once <see cref="Finished"/> completed).</summary>
    public abstract long Commands { get; }

    /// <summary>The CPU of the process the workers run in, so far (for the in-process contenders: this harness's).</summary>
    public abstract TimeSpan Cpu();

    public abstract Task StopAsync();
}

/// <summary>Workers in this process on a multiplexer of their own: their commands are its <c>OperationCount</c>.</summary>
internal abstract class InProcessWorkers(ConnectionMultiplexer redis) : RedisWorkers
{
    private readonly Process _self = Process.GetCurrentProcess();
    private long _startCount;

    protected ConnectionMultiplexer Redis => redis;

    public sealed override void Start()
    {
        _startCount = redis.OperationCount;
        Run();
    }

    protected abstract void Run();

    public override long Commands => redis.OperationCount - _startCount;

    public override TimeSpan Cpu()
    {
        _self.Refresh();
        return _self.TotalProcessorTime;
    }

    public override async Task StopAsync()
    {
        await StopWorkersAsync();
        await redis.DisposeAsync();
        _self.Dispose();
    }

    protected abstract Task StopWorkersAsync();

    /// <summary>A multiplexer for one run's workers, its connections open.</summary>
    public static Task<ConnectionMultiplexer> ConnectAsync() => ConnectionMultiplexer.ConnectAsync(RedisServer.Configuration);
}

/// <summary>What both TaskTempest contenders share: a queue under <c>{prefix}{tempest:bench}:</c>, fed by this harness's producer process.</summary>
internal abstract class TempestContender(string name, string tag, string producerKind, string keyPrefix, string configuration)
    : RedisContender(name, tag, configuration)
{
    public const string QueueName = "bench";

    public string KeyPrefix { get; } = keyPrefix;

    /// <summary>KEYS[1] of every script: the queue's key prefix.</summary>
    public string QueuePrefix => $"{KeyPrefix}{{tempest:{QueueName}}}:";

    public override IReadOnlyList<string> KeyPatterns => [KeyPrefix + "*"];

    public override string KeysDescription => $"{KeyPrefix}* (the queue's keys, and its producer's warm-up queue's)";

    public override ProcessStartInfo Producer(RedisServer server, int jobs, int batch, int rate) =>
        HarnessChild.Harness("redis-produce", producerKind, KeyPrefix, Invariant(jobs), Invariant(batch), Invariant(rate));

    /// <summary>Job hashes left: every job that was not recorded as done still has one.</summary>
    public override Task<long> LeftAsync(RedisServer server) => server.CountAsync(QueuePrefix + "j:*");

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// The limit: the queue's own scripts (<see cref="TempestRedisScripts.Claim"/>, <see cref="TempestRedisScripts.Record"/>)
/// called directly with <c>ScriptEvaluateAsync(script, keys, values)</c> and the argument layout the queue uses, no engine,
/// in the engine's shape: one claimer that claims as many as there are free slots, the jobs "run" as their rows are read,
/// one recorder that records every finished job waiting (at most one per slot) in one call, a slot free again once its
/// outcome is recorded; one claim and one record in flight. An empty claim waits as the queue's does: 5 ms doubling to
/// 80 ms after a claim that found jobs, then a wake-up (pub/sub, subscribed at the first empty claim) or the 1 s poll.
/// </summary>
internal sealed class BareLoop(int slots) : TempestContender("bare StackExchange.Redis loop", "bare", "bare", "tt-bench-bare:",
    $"{slots} slots, TempestRedisScripts.Claim of as many as there are free slots, Record of all the finished jobs waiting (at most {slots}), " +
    "one of each in flight, the queue's default options as arguments (lease 30 s, remove on complete), its waits and wake-ups; no engine")
{
    private readonly int _slots = slots;

    /// <summary>Its last run's own count of the commands it sent (script calls, the subscription) and the multiplexer's
    /// OperationCount over the same run: the cross-check of the count the other .NET contender is measured by.</summary>
    public (long Own, long Counted) LastCounts { get; private set; }

    public override async Task<RedisWorkers> PrepareAsync(RedisServer server, int jobs, bool stamped) =>
        new Running(this, await InProcessWorkers.ConnectAsync(), jobs, stamped);

    private sealed class Running(BareLoop loop, ConnectionMultiplexer redis, int jobs, bool stamped) : InProcessWorkers(redis)
    {
        private readonly int _slots = loop._slots;
        private static readonly TimeSpan FirstLinger = TimeSpan.FromMilliseconds(5), LastLinger = TimeSpan.FromMilliseconds(80);
        private readonly TempestRedisOptions _options = new(); // the queue's defaults, as arguments
        private readonly IDatabase _db = redis.GetDatabase(RedisServer.Database);
        private readonly RedisKey[] _keys = [loop.QueuePrefix];
        private readonly SemaphoreSlim _freeSlots = new(loop._slots);
        private readonly Channel<(string Id, long Token, string Task)> _finished =
            Channel.CreateUnbounded<(string, long, string)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        private readonly TaskCompletionSource _recorded = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenSource _stop = new();
        private readonly string _owner = TempestId.New();
        private TaskCompletionSource _woken = NewSignal();
        private Task? _subscription;
        private bool _flowing;
        private long _sent; // commands this loop sent: its own count
        private Task _claimer = Task.CompletedTask, _recorder = Task.CompletedTask;

        public override Task Finished => _recorded.Task;

        protected override void Run()
        {
            _claimer = Task.Run(ClaimAsync);
            _recorder = Task.Run(RecordAsync);
        }

        private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

        private async Task ClaimAsync()
        {
            try
            {
                int claimed = 0;
                long lease = (long)Math.Ceiling(_options.LeaseDuration.TotalMilliseconds);
                while (claimed < jobs)
                {
                    await _freeSlots.WaitAsync(_stop.Token);
                    int asked = 1;
                    while (asked < _slots && asked < jobs - claimed && _freeSlots.Wait(0)) asked++;
                    var rows = await ClaimWaitingAsync(asked, lease);
                    foreach (var row in rows)
                    {
                        var fields = (RedisResult[])row[3]!;
                        string task = "";
                        for (int i = 0; i + 1 < fields.Length; i += 2)
                        {
                            string field = (string)fields[i]!;
                            if (field == "t") task = (string)fields[i + 1]!;
                            else if (field == "b" && stamped) Latencies.Current.Record(DateTime.UtcNow.Ticks - Stamped.StampOf((string)fields[i + 1]!));
                        }
                        _finished.Writer.TryWrite(((string)row[0]!, (long)row[1], task));
                    }
                    claimed += rows.Length;
                    if (rows.Length < asked) _freeSlots.Release(asked - rows.Length);
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                _recorded.TrySetException(e);
            }
        }

        /// <summary>The queue's ClaimAsync without the engine: a claim, and when it found nothing the queue's wait, again.</summary>
        private async Task<RedisResult[]> ClaimWaitingAsync(int asked, long lease)
        {
            var linger = _flowing ? FirstLinger : TimeSpan.Zero;
            while (true)
            {
                var woken = Volatile.Read(ref _woken);
                Interlocked.Increment(ref _sent);
                var rows = (RedisResult[])(await _db.ScriptEvaluateAsync(TempestRedisScripts.Claim, _keys, [asked, _owner, lease]))!;
                if (rows.Length > 0)
                {
                    _flowing = true;
                    return rows;
                }
                if (_subscription is null) Interlocked.Increment(ref _sent);
                _subscription ??= Redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(loop.QueuePrefix + "wake"),
                    (_, _) => Interlocked.Exchange(ref _woken, NewSignal()).TrySetResult());
                TimeSpan poll;
                if (linger > TimeSpan.Zero && linger <= LastLinger)
                {
                    poll = linger;
                    linger *= 2;
                }
                else
                {
                    _flowing = false;
                    poll = _options.PollInterval * (1 + Random.Shared.NextDouble() / 5);
                }
                await Task.WhenAny(woken.Task, Task.Delay(poll, _stop.Token));
                _stop.Token.ThrowIfCancellationRequested();
            }
        }

        private async Task RecordAsync()
        {
            try
            {
                var reader = _finished.Reader;
                var batch = new List<(string Id, long Token, string Task)>(_slots);
                const int Fixed = 5;
                int completed = 0;
                while (completed < jobs && await reader.WaitToReadAsync(_stop.Token))
                {
                    batch.Clear();
                    while (batch.Count < _slots && reader.TryRead(out var job)) batch.Add(job);
                    // As TempestRedisQueue.RecordAsync writes a success: its retention settings, then per outcome kind, id,
                    // token, task, status, error type, error message, run-at, reason.
                    var values = new RedisValue[Fixed + batch.Count * TempestRedisScripts.OutcomeFields];
                    values[0] = _options.KeepRecentFailures ? 1 : 0;
                    values[1] = _options.MaxFailures;
                    values[2] = (long)Math.Ceiling(_options.KeepCompletedFor.TotalMilliseconds);
                    values[3] = (long)Math.Ceiling(_options.KeepDeadLettersFor.TotalMilliseconds);
                    values[4] = _options.MaxDeadLetters;
                    for (int i = 0; i < batch.Count; i++)
                    {
                        int at = Fixed + i * TempestRedisScripts.OutcomeFields;
                        values[at] = (int)TempestOutcomeKind.Completed;
                        values[at + 1] = batch[i].Id;
                        values[at + 2] = batch[i].Token;
                        values[at + 3] = batch[i].Task;
                        values[at + 4] = (int)TempestTaskStatus.Success;
                        values[at + 5] = "";
                        values[at + 6] = "";
                        values[at + 7] = "";
                        values[at + 8] = "";
                    }
                    Interlocked.Increment(ref _sent);
                    var recorded = (RedisResult[])(await _db.ScriptEvaluateAsync(TempestRedisScripts.Record, _keys, values))!;
                    if (recorded.Any(r => (long)r != 1)) throw new InvalidOperationException($"{recorded.Count(r => (long)r != 1)} of {batch.Count} outcomes refused: a lease was lost");
                    completed += batch.Count;
                    _freeSlots.Release(batch.Count);
                }
                _recorded.TrySetResult();
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                _recorded.TrySetException(e);
            }
        }

        protected override async Task StopWorkersAsync()
        {
            loop.LastCounts = (Interlocked.Read(ref _sent), Commands);
            await _stop.CancelAsync();
            await Task.WhenAll(_claimer, _recorder);
        }
    }
}

/// <summary>
/// TaskTempest on TempestRedisQueue: an engine with <see cref="RedisFibers.Slots"/> fibers (cooperative mode) running the
/// no-op job, its queue made with <see cref="TempestRedisQueue.CreateAsync"/> and the queue's defaults (a key prefix and the
/// harness's database aside), log lines off (null logger factories, as in the other modes: the figure is the queue's
/// path, not the log files').
/// </summary>
internal sealed class QueueEngine() : TempestContender("TaskTempest on TempestRedisQueue", "engine", "engine", "tt-bench-engine:",
    $"[Tempest(Fibers = {RedisFibers.Slots})], defaults otherwise: one fetcher claiming as many as there are free slots, one flusher recording " +
    $"the outcomes waiting (at most {RedisFibers.Slots}) in one call, lease 30 s, heartbeat 10 s, wake-ups by pub/sub, PollInterval 1 s; log lines off")
{
    public override async Task<RedisWorkers> PrepareAsync(RedisServer server, int jobs, bool stamped)
    {
        var redis = await InProcessWorkers.ConnectAsync();
        var queue = await TempestRedisQueue.CreateAsync(redis, Options(KeyPrefix));
        var engine = new RedisFibers(new TempestOptions
        {
            Queue = queue,
            MainLoggerFactory = NullLoggerFactory.Instance,
            TaskLoggerFactory = NullLoggerFactory.Instance,
            HandleSignals = false,
        });
        return new Running(this, redis, engine, queue, jobs);
    }

    /// <summary>The queue's defaults but for the prefix, the queue name and the harness's database (the producer's too).</summary>
    public static TempestRedisOptions Options(string keyPrefix, string queueName = QueueName) =>
        new() { KeyPrefix = keyPrefix, QueueName = queueName, Database = RedisServer.Database };

    private sealed class Running(QueueEngine contender, ConnectionMultiplexer redis, RedisFibers engine, TempestRedisQueue queue, int jobs)
        : InProcessWorkers(redis)
    {
        private Task? _finished;

        public override Task Finished => _finished ?? throw new InvalidOperationException("not started");

        protected override void Run()
        {
            var ran = Finish.Expect(jobs);
            _finished = RecordedAsync(ran, engine.RunAsync());
        }

        /// <summary>Every job ran (the tasks counted themselves), then the engine stopped: RunAsync returns once every
        /// outcome is handed to the queue (a call or two more: the last outcomes, the worker leaving the registry).</summary>
        private async Task RecordedAsync(Task ran, Task<TempestRunResult> run)
        {
            if (await Task.WhenAny(ran, run) != ran) throw new InvalidOperationException($"{contender.Name}: the engine ended early: {await run}");
            engine.Stop();
            var result = await run;
            if (result.TasksSucceeded != jobs) throw new InvalidOperationException($"{contender.Name}: {result}");
        }

        protected override async Task StopWorkersAsync()
        {
            if (_finished is not null) await _finished;
            await queue.DisposeAsync();
        }
    }
}
