using StackExchange.Redis;

namespace TaskTempest.Tests.Shared;

/// <summary>
/// The crash drill (CrashDrill.cs) on the Redis queue, shared by its CrashTests and the throughput harness's crash-redis
/// mode: the workers are samples/RedisTempest, the scope is a queue name (its keys, <c>{tempest:&lt;name&gt;}:*</c>, and
/// its completions' keys, <c>completions:{&lt;name&gt;}:*</c>, deleted first), and each job records its completion on
/// the same server (see samples/RedisTempest/RedisTempest.cs). The reads that must agree with each other (a poll, the
/// jobs a dead worker held) are one script each, so they see one moment of the server.
/// </summary>
internal static class RedisCrashDrill
{
    public static async Task<CrashDrillReport> RunAsync(CrashDrillSettings settings, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(settings);
        await using var store = await RedisCrashStore.ConnectAsync(settings);
        return await CrashDrill.RunAsync(settings, store, log);
    }

    private sealed class RedisCrashStore : ICrashDrillStore
    {
        // KEYS[1] the queue's prefix, KEYS[2] the completions' prefix. A lease's owner is a worker id; the registry maps it
        // to its description, whose pid says which process it is.
        private const string Owners = """
            local Q, C = KEYS[1], KEYS[2]
            local pids = {}
            local workers = redis.call('HGETALL', Q .. 'workers')
            for i = 1, #workers, 2 do pids[workers[i]] = cjson.decode(workers[i + 1]).pid end
            local function pid_of(id)
              local owner = redis.call('HGET', Q .. 'j:' .. id, 'o')
              return owner and pids[owner]
            end
            """;

        // ARGV: the two workers' pids. Returns {distinct completions, jobs waiting or running, leases of a, leases of b}.
        private const string Poll = Owners + """

            local live = redis.call('ZCARD', Q .. 'ready') + redis.call('ZCARD', Q .. 'scheduled') + redis.call('ZCARD', Q .. 'retry')
              + redis.call('ZCARD', Q .. 'active') + redis.call('LLEN', Q .. 'incoming')
            local a, b = 0, 0
            for _, id in ipairs(redis.call('ZRANGE', Q .. 'active', 0, -1)) do
              local pid = pid_of(id)
              if pid == tonumber(ARGV[1]) then a = a + 1 elseif pid == tonumber(ARGV[2]) then b = b + 1 end
            end
            return {redis.call('HLEN', C .. 'runs'), live, a, b}
            """;

        // ARGV: the dead worker's pid. Returns {distinct completions, server time (ms), uncompleted held, held ids...}.
        private const string Held = Owners + """

            local t = redis.call('TIME')
            local out = {redis.call('HLEN', C .. 'runs'), tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), 0}
            for _, id in ipairs(redis.call('ZRANGE', Q .. 'active', 0, -1)) do
              if pid_of(id) == tonumber(ARGV[1]) then
                out[#out + 1] = id
                if redis.call('HEXISTS', C .. 'runs', id) == 0 then out[3] = out[3] + 1 end
              end
            end
            return out
            """;

        private readonly ConnectionMultiplexer _redis;
        private readonly IDatabase _db;
        private readonly string _queuePrefix, _completionsPrefix;
        private readonly RedisKey[] _keys;

        private RedisCrashStore(ConnectionMultiplexer redis, CrashDrillSettings settings)
        {
            _redis = redis;
            _db = redis.GetDatabase();
            _queuePrefix = "{tempest:" + settings.Scope + "}:";
            _completionsPrefix = "completions:{" + settings.Scope + "}:";
            _keys = [_queuePrefix, _completionsPrefix];
            WorkerTarget = [settings.ConnectionString, settings.Scope];
        }

        public static async Task<RedisCrashStore> ConnectAsync(CrashDrillSettings settings) =>
            new(await ConnectionMultiplexer.ConnectAsync(settings.ConnectionString), settings);

        public string Title => "Redis";

        public IReadOnlyList<string> WorkerTarget { get; }

        public async Task ResetAsync(CancellationToken token)
        {
            await foreach (var key in KeysAsync(_queuePrefix + "*").WithCancellation(token)) await _db.KeyDeleteAsync(key);
            await foreach (var key in KeysAsync(_completionsPrefix + "*").WithCancellation(token)) await _db.KeyDeleteAsync(key);
        }

        public async Task<int> RegisteredAsync(int[] processIds, CancellationToken token)
        {
            var workers = await _db.HashValuesAsync(_queuePrefix + "workers").WaitAsync(token);
            return workers.Count(w => processIds.Contains(System.Text.Json.JsonDocument.Parse((string)w!).RootElement.GetProperty("pid").GetInt32()));
        }

        public async Task<CrashPoll> PollAsync(int processA, int processB, CancellationToken token)
        {
            var r = (long[])(await _db.ScriptEvaluateAsync(Poll, _keys, [processA, processB]).WaitAsync(token))!;
            return new CrashPoll(r[0], r[1], r[2], r[3]);
        }

        public async Task<CrashHeld> HeldAsync(int processId, CancellationToken token)
        {
            var r = (RedisResult[])(await _db.ScriptEvaluateAsync(Held, _keys, [processId]).WaitAsync(token))!;
            return new CrashHeld((long)r[0], FromMs((long)r[1]), [.. r.Skip(3).Select(id => (string)id!)], (int)r[2]);
        }

        public async Task<DateTime?> LastFirstCompletionAsync(string[] ids, CancellationToken token)
        {
            var firsts = await _db.HashGetAsync(_completionsPrefix + "first", [.. ids.Select(id => (RedisValue)id)]).WaitAsync(token);
            return firsts.Any(f => f.IsNull) ? null : FromMs(firsts.Max(f => (long)f));
        }

        public async Task<CrashTotals> TotalsAsync(int jobs, string[] heldAtKills, CancellationToken token)
        {
            var runs = await _db.HashGetAllAsync(_completionsPrefix + "runs").WaitAsync(token);
            var duplicated = runs.Where(r => (long)r.Value > 1).Select(r => (string)r.Name!).ToHashSet(StringComparer.Ordinal);
            long records = (long)await _db.StringGetAsync(_completionsPrefix + "records").WaitAsync(token);
            var numbers = await _db.SetMembersAsync(_completionsPrefix + "numbers").WaitAsync(token);
            long inRange = numbers.Select(n => (long)n).Count(n => n >= 0 && n < jobs);
            long dead = await _db.SortedSetLengthAsync(_queuePrefix + "dead").WaitAsync(token);
            long left = 0;
            await foreach (var _ in KeysAsync(_queuePrefix + "j:*").WithCancellation(token)) left++; // every job hash: waiting, running, dead or kept
            return new CrashTotals(records, runs.Length, inRange, duplicated.Count, heldAtKills.Count(duplicated.Contains), dead, left);
        }

        // SCAN, a page at a time (the braces of a hash tag are not special in a pattern).
        private IAsyncEnumerable<RedisKey> KeysAsync(string pattern) => _redis.GetServer(_redis.GetEndPoints()[0]).KeysAsync(pattern: pattern, pageSize: 1000);

        private static DateTime FromMs(long ms) => DateTime.UnixEpoch.AddMilliseconds(ms);

        public ValueTask DisposeAsync() => _redis.DisposeAsync();
    }
}
