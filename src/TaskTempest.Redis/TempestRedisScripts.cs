namespace TaskTempest.Redis;

/// <summary>
/// The queue's Lua scripts. Each is one atomic, non-blocking step on the server, called with
/// <c>ScriptEvaluateAsync(script, keys, values)</c> (EVALSHA, and EVAL after a NOSCRIPT when the server lost its script
/// cache). <c>KEYS[1]</c> is the queue's key prefix, <c>&lt;KeyPrefix&gt;{tempest:&lt;name&gt;}:</c>: every key a script
/// touches is that prefix and a suffix, so all of a queue's keys share one hash tag and one cluster slot.
/// </summary>
/// <remarks>
/// The keys under the prefix:
/// <list type="table">
/// <item><term><c>j:&lt;id&gt;</c></term><description>a job's hash (fields below)</description></item>
/// <item><term><c>ready</c>, <c>ready:&lt;queue&gt;</c></term><description>zsets of due jobs of the named queue <c>default</c> and of each other
/// named queue, scored so that a lower score runs first: priority, then enqueue order</description></item>
/// <item><term><c>queues</c></term><description>set of the named queues other than <c>default</c> that jobs were enqueued to (counts and lists cover them)</description></item>
/// <item><term><c>u:&lt;unique key&gt;</c></term><description>a unique key's holder: the id of the job that holds it (<c>SET NX</c>, with <c>PX</c> for a period)</description></item>
/// <item><term><c>schedules</c>, <c>schedule:&lt;name&gt;</c></term><description>set of the recurring schedules' names and a hash per schedule: <c>cron</c>,
/// <c>tz</c>, <c>misfire</c>, <c>task</c>, <c>last_tick</c> and <c>next_run</c> (ms), <c>last_job_id</c>, <c>updated</c> (ms)</description></item>
/// <item><term><c>duplicates</c></term><description>counter of incoming texts dropped because their unique key was held</description></item>
/// <item><term><c>scheduled</c>, <c>retry</c></term><description>zsets of delayed and retrying jobs by run-at (ms, server time); moved to ready when due, at most 1,000 per call</description></item>
/// <item><term><c>active</c></term><description>zset of running jobs by lease-until (ms, server time)</description></item>
/// <item><term><c>dead</c>, <c>done</c></term><description>zsets of dead letters and kept successes by the time they ended</description></item>
/// <item><term><c>incoming</c></term><description>a list other programs <c>RPUSH</c> wire-format text to; taken in by the claim, up to 1,000 per call</description></item>
/// <item><term><c>failures</c></term><description>list of recent failed runs, newest first, capped by count and age</description></item>
/// <item><term><c>workers</c>, <c>beats</c></term><description>hash of worker descriptions and zset of their last heartbeats</description></item>
/// <item><term><c>seq</c>, <c>tokens</c>, <c>ids</c></term><description>counters: enqueue order, lease tokens, ids for id-less incoming text</description></item>
/// <item><term><c>wake</c></term><description>the pub/sub channel of wake-ups (a channel, not a key)</description></item>
/// </list>
/// A job's hash holds only the fields that are set: <c>b</c> body (the text as stored), <c>t</c> task, <c>e</c> 1 when the
/// body is an envelope object, <c>a</c> attempt, <c>f</c> failures, <c>x</c> lease expiries, <c>m</c> max attempts,
/// <c>r</c> scheduled run-at (ms), <c>q</c> named queue, <c>p</c> priority, <c>u</c> unique key, <c>us</c>/<c>uf</c> its scope and period (ms),
/// <c>et</c>/<c>em</c> last error,
/// <c>tp</c> traceparent, <c>n</c> enqueued at (ms), <c>sq</c> enqueue order, <c>s</c> state (<c>w</c> waiting, <c>y</c> retrying,
/// <c>r</c> running, <c>d</c> dead, <c>c</c> completed), <c>o</c>/<c>k</c>/<c>l</c> lease owner, token and until (ms),
/// <c>dr</c> dead reason, <c>da</c> when it ended (ms).
/// </remarks>
internal static class TempestRedisScripts
{
    /// <summary>Fields per message in <see cref="Enqueue"/>'s arguments.</summary>
    public const int EnqueueFields = 17;

    /// <summary>Fields per outcome in <see cref="Record"/>'s arguments.</summary>
    public const int OutcomeFields = 9;

    /// <summary>The most of one step a script does per call (delayed jobs moved, incoming texts taken, leases rescued,
    /// dead letters requeued), so that no call holds the server for long.</summary>
    public const int StepLimit = 1000;

    /// <summary>Priorities beyond this order as this (the ready score keeps priority and order exact in a double).</summary>
    public const int PriorityLimit = 65535;

    // Shared functions, prepended to every script that needs them.
    private const string Prelude = """
        local P = KEYS[1]
        local function now_ms()
          local t = redis.call('TIME')
          return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        end
        local function jkey(id) return P .. 'j:' .. id end
        -- Lower runs first: priority (higher first), then enqueue order. 2^36 orders per priority, priorities clamped to
        -- +-65535: the score stays an exact integer in a double.
        local function ready_score(prio, seq)
          prio = tonumber(prio) or 0
          if prio > 65535 then prio = 65535 elseif prio < -65535 then prio = -65535 end
          return tonumber(seq) - prio * 68719476736
        end
        local function next_seqs(n) return redis.call('INCRBY', P .. 'seq', n) - n end
        local function named(q) return q and q ~= '' and q ~= 'default' end
        -- The ready set of a named queue: `default` (or none) keeps the one key older data is in.
        local function rkey(q)
          if named(q) then return P .. 'ready:' .. q end
          return P .. 'ready'
        end
        -- A job into its named queue's ready set; a job that has an order keeps it (a rescued or returned job goes before
        -- later ones).
        local function make_ready(id, seq)
          local jk = jkey(id)
          local have = redis.call('HMGET', jk, 'sq', 'p', 'q')
          local s = have[1]
          if not s then s = seq or next_seqs(1); redis.call('HSET', jk, 'sq', s) end
          redis.call('HSET', jk, 's', 'w')
          redis.call('ZADD', rkey(have[3]), ready_score(have[2], s), id)
          if named(have[3]) then redis.call('SADD', P .. 'queues', have[3]) end
        end
        -- A unique key's scope as the queue enforces it: 1 queued, 2 queued or running (also for none), 3 a period.
        local function unique_scope(us)
          local scope = tonumber(us) or 0
          if scope == 0 then return 2 end
          return scope
        end
        -- Takes unique key `u` for job `id` (SET NX; a period's key expires by PX); nil when taken, else the holder's id.
        -- A key with no period whose holder is gone (no release could be missed, but a key must never block forever) is
        -- taken over.
        local function take_key(id, u, us, uf)
          local uk = P .. 'u:' .. u
          local period = unique_scope(us) == 3
          local ms = tonumber(uf) or 0
          if period and ms <= 0 then return nil end -- a period of nothing holds nothing
          local ok
          if period then ok = redis.call('SET', uk, id, 'NX', 'PX', ms) else ok = redis.call('SET', uk, id, 'NX') end
          if ok then return nil end
          local holder = redis.call('GET', uk)
          if not period and redis.call('PTTL', uk) == -1 and redis.call('EXISTS', jkey(holder)) == 0 then
            redis.call('SET', uk, id)
            return nil
          end
          return holder
        end
        -- Frees job `id`'s unique key where its scope ends, only while this job holds it (compare-and-delete). `claimed`:
        -- a worker took the job (frees a queued key); otherwise the job ended (frees a queued or a queued-or-running key).
        -- A period's key only expires.
        local function release_key(id, u, us, claimed)
          if not u then return end
          local scope = unique_scope(us)
          if scope == 3 or (claimed and scope ~= 1) then return end
          local uk = P .. 'u:' .. u
          if redis.call('GET', uk) == id then redis.call('DEL', uk) end
        end
        -- A requeued dead letter takes its key again when it is free; else it runs without it (another job holds it now).
        local function retake_key(id, jk, u, us)
          if not u or unique_scope(us) == 3 then return end
          local uk = P .. 'u:' .. u
          if not redis.call('SET', uk, id, 'NX') and redis.call('GET', uk) ~= id then redis.call('HDEL', jk, 'u', 'us', 'uf') end
        end
        -- Due delayed and retrying jobs into the ready set, in run-at order, at most `limit`; they get a new order.
        local function promote(now, limit)
          local moved = 0
          for _, set in ipairs({'scheduled', 'retry'}) do
            if moved >= limit then break end
            local due = redis.call('ZRANGE', P .. set, '-inf', now, 'BYSCORE', 'LIMIT', 0, limit - moved)
            if #due > 0 then
              redis.call('ZREM', P .. set, unpack(due))
              local first = next_seqs(#due)
              for i, id in ipairs(due) do
                local jk = jkey(id)
                redis.call('HSET', jk, 'sq', first + i - 1)
                make_ready(id, first + i - 1)
              end
              moved = moved + #due
            end
          end
          return moved
        end
        -- ISO 8601 (as .NET writes a DateTimeOffset) to ms since the epoch; nil when it is not one.
        local function iso_ms(text)
          if type(text) ~= 'string' then return nil end
          local y, mo, d, h, mi, s, frac, zone = string.match(text, '^(%d%d%d%d)-(%d%d)-(%d%d)T(%d%d):(%d%d):(%d%d)%.?(%d*)(.*)$')
          if not y then return nil end
          y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
          if mo <= 2 then y = y - 1 end
          local era = math.floor(y / 400)
          local yoe = y - era * 400
          local mp = (mo + 9) % 12
          local doy = math.floor((153 * mp + 2) / 5) + d - 1
          local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
          local days = era * 146097 + doe - 719468
          local ms = ((days * 24 + tonumber(h)) * 60 + tonumber(mi)) * 60000 + tonumber(s) * 1000
          if #frac > 0 then ms = ms + math.floor(tonumber('0.' .. frac) * 1000) end
          if zone ~= 'Z' and zone ~= '' then
            local sign, zh, zm = string.match(zone, '^([+-])(%d%d):(%d%d)$')
            if not sign then return nil end
            local offset = (tonumber(zh) * 60 + tonumber(zm)) * 60000
            if sign == '+' then ms = ms - offset else ms = ms + offset end
          end
          return ms
        end
        local function acceptable_id(id)
          return type(id) == 'string' and #id >= 1 and #id <= 100 and string.match(id, '^[%w%-_%.:]+$') ~= nil
        end
        -- Stores one job: the fields of `f` that are set, its order `seq`, and its place, added to `adds` (new_adds) for
        -- one ZADD per set (flush_adds). Returns true; false when its id is taken; false and the holder's id when its
        -- unique key is held (then nothing is stored).
        local function store(now, id, f, run_at, seq, adds)
          local jk = jkey(id)
          if redis.call('EXISTS', jk) == 1 then return false end
          if f.u and f.u ~= '' then
            local holder = take_key(id, f.u, f.us, f.uf)
            if holder then return false, holder end
          end
          local fields = {'n', now, 's', 'w', 'sq', seq}
          for k, v in pairs(f) do
            if v ~= nil and v ~= '' then fields[#fields + 1] = k; fields[#fields + 1] = v end
          end
          redis.call('HSET', jk, unpack(fields))
          local set, score
          if run_at and run_at > now then set, score = P .. 'scheduled', run_at else set, score = rkey(f.q), ready_score(f.p, seq) end
          local list = adds.sets[set]
          if not list then list = {}; adds.sets[set] = list end
          list[#list + 1] = score
          list[#list + 1] = id
          if named(f.q) then adds.queues[f.q] = true end
          return true
        end
        local function new_adds() return {sets = {}, queues = {}} end
        local function flush_adds(adds)
          for set, list in pairs(adds.sets) do redis.call('ZADD', set, unpack(list)) end
          local names = {}
          for q in pairs(adds.queues) do names[#names + 1] = q end
          if #names > 0 then redis.call('SADD', P .. 'queues', unpack(names)) end
        end
        -- Other programs' texts (RPUSH to `incoming`) into jobs, at most `limit`: the header is read here as the engine's
        -- reader would (id, task, envelope fields); text that is no message is stored as it is under a new id, with the
        -- task '(raw)', and the engine dead-letters it with the reason when it takes it.
        local function ingest(now, limit)
          local texts = redis.call('LPOP', P .. 'incoming', limit)
          if not texts then return 0 end
          local first = next_seqs(#texts)
          local adds = new_adds()
          local duplicates = 0
          for n, text in ipairs(texts) do
            local ok, doc = pcall(cjson.decode, text)
            local id, task, f, run_at = nil, '(raw)', {b = text}, nil
            if ok and type(doc) == 'table' then
              local m = doc
              if doc.m ~= nil then m = doc.m; f.e = '1' end
              if type(m) == 'table' and (m[1] == cjson.null or m[1] == '' or acceptable_id(m[1])) and type(m[2]) == 'string' then
                if acceptable_id(m[1]) then id = m[1] end
                task = m[2]
                if f.e then
                  local function num(v) if type(v) == 'number' then return math.floor(v) end return nil end
                  local function str(v) if type(v) == 'string' then return v end return nil end
                  f.a = num(doc.attempt); f.m = num(doc.max); f.q = str(doc.queue); f.p = num(doc.prio); f.u = str(doc.unique)
                  f.us = num(doc.uscope); f.uf = num(doc.ufor)
                  f.f = num(doc.fails); f.x = num(doc.expiries); f.tp = str(doc.tp)
                  if type(doc.err) == 'table' then f.et = str(doc.err.type); f.em = str(doc.err.msg) end
                  run_at = iso_ms(doc.runAt)
                  if run_at then f.r = run_at end
                end
              end
            end
            f.t = task
            if not id then id = 'in-' .. redis.call('INCR', P .. 'ids') end
            local _, holder = store(now, id, f, run_at, first + n - 1, adds)
            if holder then duplicates = duplicates + 1 end -- dropped: a job holds its key
          end
          flush_adds(adds)
          if duplicates > 0 then redis.call('INCRBY', P .. 'duplicates', duplicates) end
          return #texts
        end
        -- Dead letters and kept successes past their age or count, and the failure log past its cap, deleted (at most
        -- `limit` of each per call).
        local function trim_set(set, now, keep_ms, max, limit)
          local old = redis.call('ZRANGE', P .. set, '-inf', now - keep_ms, 'BYSCORE', 'LIMIT', 0, limit)
          local over = redis.call('ZCARD', P .. set) - #old - max
          if over > 0 then
            local extra = redis.call('ZRANGE', P .. set, #old, #old + math.min(over, limit) - 1)
            for _, id in ipairs(extra) do old[#old + 1] = id end
          end
          if #old > 0 then
            redis.call('ZREM', P .. set, unpack(old))
            for _, id in ipairs(old) do redis.call('DEL', jkey(id)) end
          end
          return #old
        end
        -- A job to the dead letters; its unique key (`u`, `us` as the caller read them, or read here) is free.
        local function dead_letter(now, id, reason, u, us)
          if u == nil then
            local key = redis.call('HMGET', jkey(id), 'u', 'us')
            u, us = key[1], key[2]
          end
          release_key(id, u, us, false)
          redis.call('HSET', jkey(id), 's', 'd', 'dr', reason, 'da', now)
          redis.call('HDEL', jkey(id), 'o', 'k', 'l')
          redis.call('ZADD', P .. 'dead', now, id)
        end
        """;

    // One message of an enqueue's arguments, shared by the scripts that enqueue (Enqueue, TakeTick): prepended after
    // the prelude.
    private const string EnqueueOne = """

        -- The message whose EnqueueFields start at ARGV[o + 1], stored with order `seq` into `adds` (store's result).
        local function enqueue_one(now, o, seq, adds)
          local run_at = tonumber(ARGV[o + 9])
          local f = {b = ARGV[o + 3], t = ARGV[o + 2], e = (ARGV[o + 4] == '1') and '1' or nil, a = ARGV[o + 5], f = ARGV[o + 6],
                     x = ARGV[o + 7], m = ARGV[o + 8], r = ARGV[o + 9], q = ARGV[o + 10], p = ARGV[o + 11], u = ARGV[o + 12],
                     et = ARGV[o + 13], em = ARGV[o + 14], tp = ARGV[o + 15], us = ARGV[o + 16], uf = ARGV[o + 17]}
          if f.a == '0' then f.a = nil end
          if f.f == '0' then f.f = nil end
          if f.x == '0' then f.x = nil end
          if f.p == '0' then f.p = nil end
          if f.us == '0' or f.u == '' then f.us = nil end
          if f.u == '' then f.uf = nil end
          return store(now, ARGV[o + 1], f, run_at, seq, adds)
        end
        """;

    /// <summary>ARGV: count, publish (1/0), then <see cref="EnqueueFields"/> per message: id, task, body, body is envelope
    /// (1/0), attempt, failures, lease expiries, max attempts, run-at (ms), named queue, priority, unique key, error type,
    /// error message, traceparent, unique scope (<see cref="Queues.TempestUniqueScope"/>), unique period (ms) ('' for
    /// none). An id already held is skipped, and so is a message whose unique key a job holds (in one call, the first of a
    /// key wins). Returns {how many were added, the holder of the first message's key ('' when it was added)}.</summary>
    public const string Enqueue = Prelude + EnqueueOne + """

        local now = now_ms()
        local added = 0
        local n = tonumber(ARGV[1])
        local first = next_seqs(n)
        local adds = new_adds()
        local holder = ''
        for i = 0, n - 1 do
          local ok, held = enqueue_one(now, 2 + i * 17, first + i, adds)
          if ok then added = added + 1 elseif i == 0 and held then holder = held end
        end
        flush_adds(adds)
        if added > 0 and ARGV[2] == '1' then redis.call('PUBLISH', P .. 'wake', '1') end
        return {added, holder}
        """;

    /// <summary>ARGV: the most to claim, the owner, the lease (ms), then named queue and its most per queue to take from
    /// (none: <c>default</c>), in order: from each by its ready order, never more than the most in all. Takes in incoming
    /// texts and moves due delayed jobs first; frees the key of a job unique while queued. Returns per job {id, token, until
    /// (ms), its hash's fields and values as they were, its attempt now}.</summary>
    public const string Claim = Prelude + """

        local now = now_ms()
        ingest(now, 1000)
        promote(now, 1000)
        local popped
        if #ARGV == 3 then
          popped = redis.call('ZPOPMIN', P .. 'ready', tonumber(ARGV[1]))
        else
          popped = {}
          local left = tonumber(ARGV[1])
          for t = 4, #ARGV - 1, 2 do
            if left <= 0 then break end
            local got = redis.call('ZPOPMIN', rkey(ARGV[t]), math.min(tonumber(ARGV[t + 1]), left))
            for _, v in ipairs(got) do popped[#popped + 1] = v end
            left = left - #got / 2
          end
        end
        local out = {}
        if #popped == 0 then return out end
        local until_ms = now + tonumber(ARGV[3])
        local token = redis.call('INCRBY', P .. 'tokens', #popped / 2) - #popped / 2
        local leased = {}
        for i = 1, #popped, 2 do
          local id = popped[i]
          local jk = jkey(id)
          local job = redis.call('HGETALL', jk)
          if #job > 0 then
            token = token + 1
            local attempt, u, us = 1, nil, nil
            for f = 1, #job, 2 do
              local name = job[f]
              if name == 'a' then attempt = tonumber(job[f + 1]) + 1 elseif name == 'u' then u = job[f + 1] elseif name == 'us' then us = job[f + 1] end
            end
            release_key(id, u, us, true)
            redis.call('HSET', jk, 'a', attempt, 's', 'r', 'o', ARGV[2], 'k', token, 'l', until_ms)
            leased[#leased + 1] = until_ms
            leased[#leased + 1] = id
            out[#out + 1] = {id, token, until_ms, job, attempt}
          end
        end
        if #leased > 0 then redis.call('ZADD', P .. 'active', unpack(leased)) end
        return out
        """;

    /// <summary>ARGV: the lease (ms), the worker's id, its description, then id and token per running job. Extends every
    /// lease still held under its token and records the heartbeat. Returns {until (ms), then 1 (extended) or 0 (lost) per job}.</summary>
    public const string Heartbeat = Prelude + """

        local now = now_ms()
        local until_ms = now + tonumber(ARGV[1])
        redis.call('HSET', P .. 'workers', ARGV[2], ARGV[3])
        redis.call('ZADD', P .. 'beats', now, ARGV[2])
        local out = {until_ms}
        for i = 4, #ARGV, 2 do
          local id = ARGV[i]
          local held = redis.call('HMGET', jkey(id), 'k', 's')
          if held[1] == ARGV[i + 1] and held[2] == 'r' then
            redis.call('ZADD', P .. 'active', 'XX', until_ms, id)
            out[#out + 1] = 1
          else
            out[#out + 1] = 0
          end
        end
        return out
        """;

    /// <summary>ARGV: the poison threshold, then the retention: dead letters' keep (ms) and cap, successes' keep (ms) and
    /// cap, the failure log's keep (ms), silent workers' keep (ms). Returns expired leases (at most 1,000) to the ready set
    /// with their order (a lease expiry counted each), dead-letters those past the threshold, and trims. Returns
    /// {returned, dead-lettered, more (1 when the limit was reached)}.</summary>
    public const string Rescue = Prelude + """

        local now = now_ms()
        local expired = redis.call('ZRANGE', P .. 'active', '-inf', '(' .. now, 'BYSCORE', 'LIMIT', 0, 1000)
        local returned, dead = 0, 0
        local threshold = tonumber(ARGV[1])
        for _, id in ipairs(expired) do
          redis.call('ZREM', P .. 'active', id)
          local jk = jkey(id)
          if redis.call('EXISTS', jk) == 1 then
            local expiries = redis.call('HINCRBY', jk, 'x', 1)
            redis.call('HDEL', jk, 'o', 'k', 'l')
            if expiries >= threshold then
              dead_letter(now, id, 'lease expired ' .. expiries .. ' times')
              dead = dead + 1
            else
              make_ready(id, nil)
              returned = returned + 1
            end
          end
        end
        trim_set('dead', now, tonumber(ARGV[2]), tonumber(ARGV[3]), 1000)
        trim_set('done', now, tonumber(ARGV[4]), tonumber(ARGV[5]), 1000)
        for _ = 1, 1000 do
          local last = redis.call('LINDEX', P .. 'failures', -1)
          if not last then break end
          local ok, entry = pcall(cjson.decode, last)
          if ok and type(entry) == 'table' and tonumber(entry[7]) and tonumber(entry[7]) >= now - tonumber(ARGV[6]) then break end
          redis.call('RPOP', P .. 'failures')
        end
        local silent = redis.call('ZRANGE', P .. 'beats', '-inf', now - tonumber(ARGV[7]), 'BYSCORE', 'LIMIT', 0, 1000)
        if #silent > 0 then
          redis.call('ZREM', P .. 'beats', unpack(silent))
          redis.call('HDEL', P .. 'workers', unpack(silent))
        end
        if returned > 0 then redis.call('PUBLISH', P .. 'wake', '1') end
        return {returned, dead, (#expired == 1000) and 1 or 0}
        """;

    /// <summary>ARGV: keep failures (1/0), the failure log's cap, successes' keep (ms, 0: delete at once), dead letters'
    /// keep (ms) and cap, then <see cref="OutcomeFields"/> per outcome: kind (<see cref="Queues.TempestOutcomeKind"/>), id,
    /// token, task ('' keeps the stored one), status, error type, error message, run-at (ms, '' for now), reason. Each acts
    /// only where the job runs under that token. Returns 1 (recorded) or 0 (refused) per outcome.</summary>
    public const string Record = Prelude + """

        local now = now_ms()
        local keep_failures = ARGV[1] == '1'
        local max_failures = tonumber(ARGV[2])
        local keep_done = tonumber(ARGV[3])
        local out = {}
        local woke, died = false, false
        local ended, removed = {}, {}
        for o = 6, #ARGV, 9 do
          local kind, id, token, task, status = tonumber(ARGV[o]), ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], tonumber(ARGV[o + 4])
          local et, em, run_at, reason = ARGV[o + 5], ARGV[o + 6], tonumber(ARGV[o + 7]), ARGV[o + 8]
          local jk = jkey(id)
          local held = redis.call('HMGET', jk, 'k', 's', 'a', 't', 'u', 'us')
          if held[1] == token and held[2] == 'r' then
            out[#out + 1] = 1
            ended[#ended + 1] = id
            if task == '' then task = held[4] or '(raw)' end
            local failed = (kind == 1) or ((kind == 0 or kind == 4) and (status == 1 or status == 2))
            if keep_failures and failed then
              local logged = status
              if kind == 1 then logged = (status == 2) and 2 or 1 end
              redis.call('LPUSH', P .. 'failures', cjson.encode({id, task, tonumber(held[3]) or 0, logged, et, em, now}))
              redis.call('LTRIM', P .. 'failures', 0, max_failures - 1)
            end
            if kind == 0 then
              release_key(id, held[5], held[6], false)
              if keep_done > 0 and status == 0 then
                redis.call('HSET', jk, 's', 'c', 'da', now, 't', task)
                redis.call('HDEL', jk, 'o', 'k', 'l')
                redis.call('ZADD', P .. 'done', now, id)
              else
                removed[#removed + 1] = jk
              end
            else
              redis.call('HDEL', jk, 'o', 'k', 'l')
              redis.call('HSET', jk, 't', task)
              if kind == 1 then
                redis.call('HINCRBY', jk, 'f', 1)
                if et ~= '' then redis.call('HSET', jk, 'et', et, 'em', em) end
                if run_at and run_at > now then
                  redis.call('HSET', jk, 's', 'y', 'r', run_at)
                  redis.call('ZADD', P .. 'retry', run_at, id)
                else
                  redis.call('HDEL', jk, 'r')
                  redis.call('HSET', jk, 'sq', next_seqs(1))
                  make_ready(id, nil)
                  woke = true
                end
              elseif kind == 2 or kind == 3 then
                if kind == 3 and (tonumber(held[3]) or 0) > 0 then redis.call('HINCRBY', jk, 'a', -1) end
                make_ready(id, nil)
                woke = true
              else
                if status == 1 or status == 2 then redis.call('HINCRBY', jk, 'f', 1) end
                if et ~= '' then redis.call('HSET', jk, 'et', et, 'em', em) end
                if reason == '' then reason = 'dead-lettered' end
                dead_letter(now, id, reason, held[5], held[6])
                died = true
              end
            end
          else
            out[#out + 1] = 0
          end
        end
        if #ended > 0 then redis.call('ZREM', P .. 'active', unpack(ended)) end
        if #removed > 0 then redis.call('DEL', unpack(removed)) end
        if died then trim_set('dead', now, tonumber(ARGV[4]), tonumber(ARGV[5]), 100) end
        if woke then redis.call('PUBLISH', P .. 'wake', '1') end
        return out
        """;

    /// <summary>No ARGV. Returns {ready, scheduled, retrying, running, dead, completed}: exact, each one command on the server
    /// (every named queue's ready jobs, and due delayed jobs not yet moved and incoming texts not yet taken in, count as ready).</summary>
    public const string Counts = Prelude + """

        local now = now_ms()
        local due_scheduled = redis.call('ZCOUNT', P .. 'scheduled', '-inf', now)
        local due_retry = redis.call('ZCOUNT', P .. 'retry', '-inf', now)
        local ready = redis.call('ZCARD', P .. 'ready')
        for _, q in ipairs(redis.call('SMEMBERS', P .. 'queues')) do ready = ready + redis.call('ZCARD', rkey(q)) end
        return {
          ready + due_scheduled + due_retry + redis.call('LLEN', P .. 'incoming'),
          redis.call('ZCARD', P .. 'scheduled') - due_scheduled,
          redis.call('ZCARD', P .. 'retry') - due_retry,
          redis.call('ZCARD', P .. 'active'),
          redis.call('ZCARD', P .. 'dead'),
          redis.call('ZCARD', P .. 'done')}
        """;

    /// <summary>ARGV: the state's set, reversed (1/0), offset, count. Moves due jobs and incoming texts into the ready sets
    /// first when the set is ready (so that the page is what the workers would take), and pages through the ready sets of
    /// <c>default</c> and then of every other named queue by name. Returns {now (ms), then per job {id, its hash}}.</summary>
    public const string List = Prelude + """

        local now = now_ms()
        local set = ARGV[1]
        if set == 'ready' then ingest(now, 1000); promote(now, 1000) end
        local first, last = tonumber(ARGV[3]), tonumber(ARGV[3]) + tonumber(ARGV[4]) - 1
        local ids
        if set == 'ready' then
          local names = redis.call('SMEMBERS', P .. 'queues')
          table.sort(names)
          table.insert(names, 1, 'default')
          ids = {}
          local skip, want = first, tonumber(ARGV[4])
          for _, q in ipairs(names) do
            if want <= 0 then break end
            local size = redis.call('ZCARD', rkey(q))
            if skip >= size then
              skip = skip - size
            else
              local page = redis.call('ZRANGE', rkey(q), skip, skip + want - 1)
              for _, id in ipairs(page) do ids[#ids + 1] = id end
              want = want - #page
              skip = 0
            end
          end
        elseif set == 'scheduled' or set == 'retry' then
          ids = redis.call('ZRANGE', P .. set, '(' .. now, '+inf', 'BYSCORE', 'LIMIT', first, tonumber(ARGV[4]))
        elseif ARGV[2] == '1' then
          ids = redis.call('ZRANGE', P .. set, first, last, 'REV')
        else
          ids = redis.call('ZRANGE', P .. set, first, last)
        end
        local out = {now}
        for _, id in ipairs(ids) do out[#out + 1] = {id, redis.call('HGETALL', jkey(id))} end
        return out
        """;

    /// <summary>ARGV: the id. Returns {now (ms), the job's hash (empty when there is none)}.</summary>
    public const string Get = Prelude + """

        return {now_ms(), redis.call('HGETALL', jkey(ARGV[1]))}
        """;

    /// <summary>ARGV: the change (cancel, delete, requeue), the id. Cancel removes a job that is not dead or completed (a
    /// running one's lease goes with it); delete one that is not running; requeue puts a dead letter back to run with fresh
    /// counts (taking its unique key again when it is free). Cancel and delete free a job's unique key (unless a period's).
    /// Returns 1 when it changed something.</summary>
    public const string ChangeOne = Prelude + """

        local change, id = ARGV[1], ARGV[2]
        local jk = jkey(id)
        local have = redis.call('HMGET', jk, 's', 'q', 'u', 'us')
        local state = have[1]
        if not state then return 0 end
        if change == 'requeue' then
          if state ~= 'd' then return 0 end
          redis.call('ZREM', P .. 'dead', id)
          redis.call('HDEL', jk, 'a', 'f', 'x', 'r', 'et', 'em', 'dr', 'da', 'sq')
          retake_key(id, jk, have[3], have[4])
          make_ready(id, nil)
          redis.call('PUBLISH', P .. 'wake', '1')
          return 1
        end
        if change == 'cancel' and (state == 'd' or state == 'c') then return 0 end
        if change == 'delete' and state == 'r' then return 0 end
        for _, set in ipairs({'ready', 'scheduled', 'retry', 'active', 'dead', 'done'}) do redis.call('ZREM', P .. set, id) end
        if named(have[2]) then redis.call('ZREM', rkey(have[2]), id) end
        release_key(id, have[3], have[4], false)
        redis.call('DEL', jk)
        return 1
        """;

    /// <summary>ARGV: the change (requeue, delete). Requeues or deletes up to 1,000 dead letters; returns how many (call
    /// again until it returns fewer than 1,000).</summary>
    public const string ChangeDead = Prelude + """

        local ids = redis.call('ZRANGE', P .. 'dead', 0, 999)
        if #ids == 0 then return 0 end
        redis.call('ZREM', P .. 'dead', unpack(ids))
        for _, id in ipairs(ids) do
          local jk = jkey(id)
          if ARGV[1] == 'requeue' then
            redis.call('HDEL', jk, 'a', 'f', 'x', 'r', 'et', 'em', 'dr', 'da', 'sq')
            local key = redis.call('HMGET', jk, 'u', 'us')
            retake_key(id, jk, key[1], key[2])
            make_ready(id, nil)
          else
            redis.call('DEL', jk)
          end
        end
        if ARGV[1] == 'requeue' then redis.call('PUBLISH', P .. 'wake', '1') end
        return #ids
        """;

    /// <summary>ARGV: the name, cron, time zone, misfire (<see cref="Queues.TempestMisfire"/>), task, next run (ms, '' for
    /// none), the first tick (ms). Writes the definition, keeps the last tick (the first tick for a new schedule). Returns
    /// the last tick (ms).</summary>
    public const string RegisterSchedule = Prelude + """

        local sk = P .. 'schedule:' .. ARGV[1]
        local last = redis.call('HGET', sk, 'last_tick')
        if not last then last = ARGV[7] end
        redis.call('HSET', sk, 'cron', ARGV[2], 'tz', ARGV[3], 'misfire', ARGV[4], 'task', ARGV[5], 'last_tick', last, 'updated', now_ms())
        if ARGV[6] == '' then redis.call('HDEL', sk, 'next_run') else redis.call('HSET', sk, 'next_run', ARGV[6]) end
        redis.call('SADD', P .. 'schedules', ARGV[1])
        return tonumber(last)
        """;

    /// <summary>ARGV: the name, the tick (ms), the next run (ms, '' for none), publish (1/0), then the tick's job as
    /// <see cref="EnqueueFields"/> (none: the tick is skipped). When the last tick is before this one: moves it here and
    /// enqueues the job as <see cref="Enqueue"/> does (its unique key honoured: a held key adds nothing, and the holder is
    /// the tick's job). Returns 1 when this call took the tick, 0 when an earlier one had it or a later one.</summary>
    public const string TakeTick = Prelude + EnqueueOne + """

        local sk = P .. 'schedule:' .. ARGV[1]
        local tick = tonumber(ARGV[2])
        local last = tonumber(redis.call('HGET', sk, 'last_tick'))
        if last and last >= tick then return 0 end
        local now = now_ms()
        local job_id = nil
        if #ARGV > 4 then
          local adds = new_adds()
          local added, holder = enqueue_one(now, 4, next_seqs(1), adds)
          flush_adds(adds)
          job_id = holder or ARGV[5]
          if added and ARGV[4] == '1' then redis.call('PUBLISH', P .. 'wake', '1') end
          if redis.call('HEXISTS', sk, 'task') == 0 then redis.call('HSET', sk, 'task', ARGV[6]) end
        end
        redis.call('HSET', sk, 'last_tick', tick, 'updated', now)
        if ARGV[3] == '' then redis.call('HDEL', sk, 'next_run') else redis.call('HSET', sk, 'next_run', ARGV[3]) end
        if job_id then redis.call('HSET', sk, 'last_job_id', job_id) else redis.call('HDEL', sk, 'last_job_id') end
        redis.call('SADD', P .. 'schedules', ARGV[1])
        return 1
        """;

    /// <summary>No ARGV. Returns per schedule, by name, {name, its hash}.</summary>
    public const string Schedules = Prelude + """

        local names = redis.call('SMEMBERS', P .. 'schedules')
        table.sort(names)
        local out = {}
        for _, name in ipairs(names) do out[#out + 1] = {name, redis.call('HGETALL', P .. 'schedule:' .. name)} end
        return out
        """;
}
