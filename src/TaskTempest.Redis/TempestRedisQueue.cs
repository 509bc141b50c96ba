using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;
using TaskTempest.Queues;
using TaskTempest.Wire;

namespace TaskTempest.Redis;

/// <summary>
/// A queue on Redis, shared by any number of worker processes on one server. Every step is one Lua script on the
/// server (<see cref="TempestRedisScripts"/>), atomic and non-blocking: a claim moves up to the free slots' worth of
/// due jobs into the active set, scored by lease-until on the server's clock, each with a fresh token; the engine's
/// heartbeat extends all of a worker's leases in one call; every outcome is conditional on the token; a rescue returns
/// expired leases and dead-letters a job whose lease expired <see cref="TempestRedisOptions.MaxLeaseExpiries"/> times.
/// Delayed and retrying jobs wait in sorted sets by run-at and move when due. A finished job is removed (its failure,
/// if it failed, stays in the capped recent-failure log); dead letters are capped by count and age.
/// Each named queue has its ready set under the same hash tag (a claim over several takes from them in order, in one
/// script); a unique key is a key of its own, taken with <c>SET NX</c> by the enqueue and freed, compare-and-delete, by
/// the script that ends its scope; recurring schedules keep their last tick in a hash each, taken with a compare-and-set
/// that enqueues the tick's job in the same script.
/// </summary>
/// <remarks>
/// Make one with <see cref="CreateAsync"/>, which refuses a server that can evict keys. Enqueue is idempotent by id
/// while the job is held. Other programs enqueue with one command, <c>RPUSH</c> of wire-format text to
/// <see cref="IncomingKey"/>. Unlike PostgreSQL, Redis cannot add a job inside the caller's own database transaction.
/// </remarks>
public sealed partial class TempestRedisQueue : ILeasingTempestQueue, ICountingTempestQueue, ITempestScheduleStore, IAsyncDisposable
{
    private readonly IConnectionMultiplexer _redis;
    private readonly IDatabase _db;
    private readonly TempestRedisOptions _options;
    private readonly RedisKey[] _keys; // KEYS[1] of every script: the prefix
    private readonly string _prefix;
    private readonly ILogger _logger;
    private readonly WakeThrottle _throttle;
    private readonly CancellationTokenSource _disposed = new();
    // Waiting claims of this process: woken by its own enqueues at once, by other processes' through pub/sub.
    private readonly ClaimWaits _claimWaits;

    private TempestRedisQueue(IConnectionMultiplexer redis, TempestRedisOptions options)
    {
        _redis = redis;
        _options = options;
        _db = redis.GetDatabase(options.Database);
        _prefix = $"{options.KeyPrefix}{{tempest:{options.QueueName}}}:";
        _keys = [_prefix];
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("TaskTempest.Redis");
        _throttle = new WakeThrottle(options.TimeProvider, WakeInterval, () => _ = PublishWakeAsync());
        _claimWaits = new ClaimWaits(options.TimeProvider, options.PollInterval);
    }

    /// <summary>
    /// A queue on <paramref name="redis"/> (the caller's connection; the queue does not dispose it). Refuses, with the
    /// reason and the fix, a server whose <c>maxmemory-policy</c> can evict keys (<see cref="TempestRedisServerCheck"/>),
    /// unless <see cref="TempestRedisOptions.AllowEviction"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">A server can evict keys.</exception>
    public static async Task<TempestRedisQueue> CreateAsync(IConnectionMultiplexer redis, TempestRedisOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        options ??= new TempestRedisOptions();
        options.Validate();
        await TempestRedisServerCheck.EnsureNoEvictionAsync(redis, options.AllowEviction).ConfigureAwait(false);
        return new TempestRedisQueue(redis, options);
    }

    /// <summary>The settings it was made with.</summary>
    public TempestRedisOptions Options => _options;

    /// <summary>The start of every key of this queue: <c>{KeyPrefix}{tempest:{QueueName}}:</c>.</summary>
    public string KeyPrefix => _prefix;

    /// <summary>
    /// The list another program enqueues to, with one command: <c>RPUSH &lt;IncomingKey&gt; &lt;text&gt;</c>, where the text is a
    /// message in the wire format, <c>["id-1","Adder",2,5]</c> (an id of 1 to 100 letters, digits, '-', '_', '.' or ':', or
    /// null for one given by the queue), or an envelope object <c>{"v":1,"runAt":"...","m":[...]}</c>. Claims take such texts
    /// in (up to 1,000 per call) and idle workers find them at their next poll, since a push sends no wake-up. Text that
    /// is no message, or names no task of the engine, ends in the dead letters with the reason. An envelope's
    /// <c>"queue"</c> puts the job in that named queue; its <c>"unique"</c> key (with <c>"uscope"</c>, <c>"ufor"</c>) is
    /// honoured: a text whose key a job holds is dropped and counted in <c>{KeyPrefix}duplicates</c>.
    /// </summary>
    public string IncomingKey => _prefix + "incoming";

    /// <inheritdoc/>
    public TimeSpan LeaseDuration => _options.LeaseDuration;

    /// <inheritdoc/>
    public TempestQueueFeatures Features =>
        TempestQueueFeatures.Acknowledgements | TempestQueueFeatures.Leases | TempestQueueFeatures.Delays
        | TempestQueueFeatures.Batches | TempestQueueFeatures.FifoForOneConsumer | TempestQueueFeatures.Counting
        | TempestQueueFeatures.Inspection | TempestQueueFeatures.UniqueKeys | TempestQueueFeatures.NamedQueues
        | TempestQueueFeatures.Schedules;

    private static long Ms(TimeSpan span) => (long)Math.Ceiling(span.TotalMilliseconds);

    private static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private Task<RedisResult> RunAsync(string script, RedisValue[] values) => _db.ScriptEvaluateAsync(script, _keys, values);

    // ------------------------------------------------------------------ enqueue

    /// <inheritdoc/>
    public ValueTask EnqueueAsync(TempestMessage message, CancellationToken cancellationToken = default) =>
        EnqueueBatchAsync([message ?? throw new ArgumentNullException(nameof(message))], cancellationToken);

    /// <summary>Adds every message, in order: one script call per 1,000, all sent at once (pipelined); a message whose
    /// id the queue holds is skipped, and so is one whose unique key a job holds (in one batch the first of a key wins).</summary>
    public async ValueTask EnqueueBatchAsync(IReadOnlyList<TempestMessage> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count == 0) return;
        cancellationToken.ThrowIfCancellationRequested();
        var calls = new List<Task<RedisResult>>((messages.Count + TempestRedisScripts.StepLimit - 1) / TempestRedisScripts.StepLimit);
        for (int start = 0; start < messages.Count; start += TempestRedisScripts.StepLimit)
        {
            int count = Math.Min(TempestRedisScripts.StepLimit, messages.Count - start);
            var values = new RedisValue[2 + count * TempestRedisScripts.EnqueueFields];
            values[0] = count;
            values[1] = _throttle.TakeTurn() ? 1 : 0;
            for (int i = 0; i < count; i++) WriteEnqueueFields(messages[start + i], values, 2 + i * TempestRedisScripts.EnqueueFields);
            calls.Add(RunAsync(TempestRedisScripts.Enqueue, values));
        }
        await Task.WhenAll(calls).WaitAsync(cancellationToken).ConfigureAwait(false);
        Wake();
    }

    /// <summary>Adds the message unless a job holds its unique key (one script call: <c>SET NX</c> and the add together);
    /// null when it was added (or its id is already held), else the holder's id.</summary>
    public async ValueTask<string?> EnqueueUniqueAsync(TempestMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        cancellationToken.ThrowIfCancellationRequested();
        var values = new RedisValue[2 + TempestRedisScripts.EnqueueFields];
        values[0] = 1;
        values[1] = _throttle.TakeTurn() ? 1 : 0;
        WriteEnqueueFields(message, values, 2);
        var result = (RedisResult[])(await RunAsync(TempestRedisScripts.Enqueue, values).WaitAsync(cancellationToken).ConfigureAwait(false))!;
        string holder = (string)result[1]!;
        if ((long)result[0] > 0) Wake();
        return holder.Length == 0 ? null : holder;
    }

    /// <summary>One message's fields as <see cref="TempestRedisScripts.Enqueue"/> takes them: a typed message as the bare
    /// wire array, its envelope in the hash's fields (not twice: a hash whose values all fit in 64 bytes stays in Redis's
    /// compact listpack encoding, a third of the memory); another program's text as it is (its header read).</summary>
    private static void WriteEnqueueFields(TempestMessage message, RedisValue[] values, int at)
    {
        ArgumentNullException.ThrowIfNull(message);
        string id, task, body;
        int attempt;
        TempestEnvelope? envelope;
        if (message is RawTempestMessage raw)
        {
            (id, task, attempt, envelope) = TempestWire.ReadStoredHeader(raw);
            body = raw.Json;
        }
        else
        {
            id = message.Id ?? throw new ArgumentException("The message has no id: the engine assigns one before it enqueues.", nameof(message));
            task = message.TaskName;
            attempt = Math.Max(0, message.Attempt);
            envelope = message.Envelope;
            body = message.ToJson();
        }
        values[at] = id;
        values[at + 1] = task;
        values[at + 2] = body;
        values[at + 3] = body.AsSpan().TrimStart(" \t\r\n").StartsWith('{') ? "1" : "0";
        values[at + 4] = attempt;
        values[at + 5] = envelope?.Failures ?? 0;
        values[at + 6] = envelope?.LeaseExpiries ?? 0;
        values[at + 7] = envelope?.MaxAttempts is { } max ? max : "";
        values[at + 8] = envelope?.RunAt is { } runAt ? runAt.ToUnixTimeMilliseconds() : "";
        values[at + 9] = envelope?.Queue ?? "";
        values[at + 10] = envelope?.Priority ?? 0;
        values[at + 11] = envelope?.UniqueKey ?? "";
        values[at + 12] = envelope?.LastError?.Type ?? "";
        values[at + 13] = envelope?.LastError?.Message ?? "";
        values[at + 14] = envelope?.TraceParent ?? "";
        values[at + 15] = (int)(envelope?.UniqueScope ?? TempestUniqueScope.None);
        values[at + 16] = envelope?.UniqueFor is { } uniqueFor ? Ms(uniqueFor) : "";
    }

    private void Wake() => _claimWaits.Wake();

    // ------------------------------------------------------------------ claim

    /// <summary>Claims one message of the <c>default</c> queue for an anonymous owner: through the two-method contract the
    /// queue still leases, so a delivery nobody records comes back when its lease expires.</summary>
    public async ValueTask<TempestMessage?> DequeueAsync(CancellationToken cancellationToken)
    {
        var claimed = await ClaimAsync(AnonymousWorker, 1, cancellationToken).ConfigureAwait(false);
        return claimed[0];
    }

    /// <summary>Claims up to <paramref name="maxCount"/> messages of the <c>default</c> queue for an anonymous owner.</summary>
    public ValueTask<IReadOnlyList<TempestMessage>> DequeueBatchAsync(int maxCount, CancellationToken cancellationToken) =>
        ClaimAsync(AnonymousWorker, maxCount, cancellationToken);

    /// <summary>Claims from the named queues of <paramref name="takes"/> for an anonymous owner
    /// (<see cref="ClaimAsync(TempestWorkerInfo, IReadOnlyList{TempestQueueTake}, int, CancellationToken)"/>).</summary>
    public ValueTask<IReadOnlyList<TempestMessage>> DequeueBatchAsync(IReadOnlyList<TempestQueueTake> takes, int maxCount, CancellationToken cancellationToken) =>
        ClaimAsync(AnonymousWorker, takes, maxCount, cancellationToken);

    private static readonly TempestWorkerInfo AnonymousWorker =
        new("anonymous", "", Environment.MachineName, Environment.ProcessId, 1, DateTimeOffset.UnixEpoch);

    /// <summary>
    /// Claims up to <paramref name="maxCount"/> due jobs of the <c>default</c> queue in one script call (by priority, then
    /// enqueue order), each leased
    /// to <paramref name="worker"/> with a fresh token until now plus <see cref="LeaseDuration"/> on the server's clock, and
    /// its attempt counted. When none is due it waits for a wake-up (this process's enqueue, another's publish) or polls
    /// (<see cref="TempestRedisOptions.PollInterval"/> with jitter; right after a claim that found jobs, sooner: 5 ms
    /// doubling to 80 ms), until <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public async ValueTask<IReadOnlyList<TempestMessage>> ClaimAsync(TempestWorkerInfo worker, int maxCount, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        RedisValue[] values = [maxCount, worker.Id, Ms(_options.LeaseDuration)];
        return await _claimWaits.ClaimAsync(token => TryClaimAsync(worker.Id, values).WaitAsync(token), EnsureSubscribed, this, _disposed.Token,
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Claims as <see cref="ClaimAsync(TempestWorkerInfo, int, CancellationToken)"/> does, from the named queues of
    /// <paramref name="takes"/> in one script call: from the first up to its count by its ready order, then from the next,
    /// never more than <paramref name="maxCount"/> in all. Any enqueue wakes the wait, whatever its queue.
    /// </summary>
    public async ValueTask<IReadOnlyList<TempestMessage>> ClaimAsync(TempestWorkerInfo worker, IReadOnlyList<TempestQueueTake> takes, int maxCount,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentNullException.ThrowIfNull(takes);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        if (takes.Count == 0) throw new ArgumentException("A claim names at least one queue.", nameof(takes));
        var values = new RedisValue[3 + takes.Count * 2];
        values[0] = maxCount;
        values[1] = worker.Id;
        values[2] = Ms(_options.LeaseDuration);
        for (int i = 0; i < takes.Count; i++)
        {
            TempestQueueNames.Validate(takes[i].Queue, nameof(takes));
            if (takes[i].MaxCount < 1) throw new ArgumentOutOfRangeException(nameof(takes), "Each queue of a claim takes at least one message.");
            values[3 + i * 2] = takes[i].Queue;
            values[4 + i * 2] = takes[i].MaxCount;
        }
        return await _claimWaits.ClaimAsync(token => TryClaimAsync(worker.Id, values).WaitAsync(token), EnsureSubscribed, this, _disposed.Token,
            cancellationToken).ConfigureAwait(false);
    }

    private async Task<List<TempestMessage>> TryClaimAsync(string owner, RedisValue[] values)
    {
        var result = await RunAsync(TempestRedisScripts.Claim, values).ConfigureAwait(false);
        var rows = (RedisResult[])result!;
        var claimed = new List<TempestMessage>(rows.Length);
        foreach (var row in rows)
        {
            string id = (string)row[0]!;
            var job = new JobFields((RedisResult[])row[3]!);
            claimed.Add(new RawTempestMessage(job.Body, id) // an id-less text runs under the job's id
            {
                Attempt = (int)row[4], // the hash as it was before the claim counted this attempt
                Envelope = job.Envelope,
                Lease = new TempestLease(owner, (long)row[1], FromMs((long)row[2])),
                Receipt = id,
            });
        }
        return claimed;
    }

    /// <summary>A job's hash as a script returns it (field, value, field, value...).</summary>
    private readonly struct JobFields
    {
        private readonly Dictionary<string, string> _fields;

        public JobFields(RedisResult[] pairs)
        {
            _fields = new Dictionary<string, string>(pairs.Length / 2, StringComparer.Ordinal);
            for (int i = 0; i + 1 < pairs.Length; i += 2) _fields[(string)pairs[i]!] = (string)pairs[i + 1]!;
        }

        public string? Text(string field) => _fields.TryGetValue(field, out var value) ? value : null;

        public long? Long(string field) => Text(field) is { } value ? long.Parse(value, NumberStyles.Integer, CultureInfo.InvariantCulture) : null;

        public int Int(string field) => (int)(Long(field) ?? 0);

        public string Body => Text("b") ?? "";

        public string Task => Text("t") ?? RawTempestMessage.RawTaskName;

        public int Attempt => Int("a");

        public string? State => Text("s");

        /// <summary>The envelope from the fields; null when all are defaults and the body is no envelope object (the
        /// engine then reads the text alone).</summary>
        public TempestEnvelope? Envelope
        {
            get
            {
                var envelope = new TempestEnvelope
                {
                    Failures = Int("f"),
                    LeaseExpiries = Int("x"),
                    MaxAttempts = Long("m") is { } max ? (int)max : null,
                    RunAt = Long("r") is { } runAt ? FromMs(runAt) : null,
                    Queue = Text("q"),
                    Priority = Int("p"),
                    UniqueKey = Text("u"),
                    UniqueScope = (TempestUniqueScope)Int("us"),
                    UniqueFor = Long("uf") is { } uniqueFor ? TimeSpan.FromMilliseconds(uniqueFor) : null,
                    LastError = Text("et") is { } type ? new TempestError(type, Text("em") ?? "") : null,
                    TraceParent = Text("tp"),
                };
                return envelope.IsDefault && Text("e") != "1" ? null : envelope;
            }
        }
    }

    // ------------------------------------------------------------------ heartbeat, rescue, registry

    /// <summary>Records <paramref name="worker"/>'s heartbeat and extends the leases of <paramref name="running"/> in one
    /// script call; returns those whose lease (id and token) is no longer theirs.</summary>
    public async ValueTask<IReadOnlyList<TempestMessage>> HeartbeatAsync(TempestWorkerInfo worker, IReadOnlyList<TempestMessage> running, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentNullException.ThrowIfNull(running);
        var leased = running.Where(m => m?.Lease is not null).ToList();
        var values = new RedisValue[3 + leased.Count * 2];
        values[0] = Ms(_options.LeaseDuration);
        values[1] = worker.Id;
        values[2] = WorkerRecord.Write(worker, running.Count);
        for (int i = 0; i < leased.Count; i++)
        {
            values[3 + i * 2] = ReceiptId(leased[i]);
            values[4 + i * 2] = leased[i].Lease!.Token;
        }
        var result = (RedisResult[])(await RunAsync(TempestRedisScripts.Heartbeat, values).WaitAsync(cancellationToken).ConfigureAwait(false))!;
        var until = FromMs((long)result[0]);
        var lost = new List<TempestMessage>();
        var kept = new HashSet<TempestMessage>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < leased.Count; i++)
        {
            if ((long)result[1 + i] == 1)
            {
                leased[i].Lease!.Until = until;
                kept.Add(leased[i]);
            }
        }
        foreach (var message in running)
        {
            if (message is not null && !kept.Contains(message)) lost.Add(message);
        }
        return lost;
    }

    /// <summary>The job a delivery came from: its receipt (the engine may give an id-less text a new id at its parse).</summary>
    private static string ReceiptId(TempestMessage message) => message.Receipt as string ?? message.Id ?? "";

    /// <summary>
    /// Returns every job whose lease expired (on the server's clock) to the ready set, counting a lease expiry each, and
    /// dead-letters those that reach <see cref="TempestRedisOptions.MaxLeaseExpiries"/> (<c>lease expired 3 times</c>). A
    /// returned job keeps its place in the order, so it runs before the jobs enqueued after it. The same call trims the
    /// dead letters, the kept successes and the failure log to their caps, and forgets silent workers. Scripts run one at
    /// a time on the server, so rescues from many workers never overlap.
    /// </summary>
    public async ValueTask<TempestRescue> RescueExpiredAsync(CancellationToken cancellationToken)
    {
        RedisValue[] values =
        [
            _options.MaxLeaseExpiries, Ms(_options.KeepDeadLettersFor), _options.MaxDeadLetters, Ms(_options.KeepCompletedFor),
            _options.MaxCompleted, Ms(_options.KeepFailuresFor), Ms(_options.ForgetSilentWorkersAfter),
        ];
        int returned = 0, dead = 0;
        for (int call = 0; call < 10; call++) // 1,000 leases per call: a mass expiry comes back in a few calls
        {
            var result = (RedisResult[])(await RunAsync(TempestRedisScripts.Rescue, values).WaitAsync(cancellationToken).ConfigureAwait(false))!;
            returned += (int)result[0];
            dead += (int)result[1];
            if ((int)result[2] == 0) break;
        }
        if (returned > 0) Wake();
        return new TempestRescue(returned, dead);
    }

    /// <inheritdoc/>
    public async ValueTask WorkerStoppedAsync(TempestWorkerInfo worker, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        var transaction = _db.CreateTransaction();
        _ = transaction.HashDeleteAsync(_prefix + "workers", worker.Id);
        _ = transaction.SortedSetRemoveAsync(_prefix + "beats", worker.Id);
        await transaction.ExecuteAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    // ------------------------------------------------------------------ counting

    /// <summary>The due jobs waiting in every named queue (exact: a few set sizes on the server).</summary>
    public async ValueTask<long> CountAsync(CancellationToken cancellationToken = default)
    {
        var counts = (RedisResult[])(await RunAsync(TempestRedisScripts.Counts, []).WaitAsync(cancellationToken).ConfigureAwait(false))!;
        return (long)counts[0];
    }

    /// <summary>Sends a wake-up still owed and ends the waits of claims in progress and the subscription; the connection
    /// stays the caller's.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested) return;
        if (_throttle.CancelTrailing()) await PublishWakeAsync().ConfigureAwait(false); // the last enqueues' wake-up
        await _disposed.CancelAsync().ConfigureAwait(false);
        await UnsubscribeAsync().ConfigureAwait(false);
    }
}
