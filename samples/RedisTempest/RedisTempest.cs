using StackExchange.Redis;

namespace TaskTempest.Samples.Redis;

/// <summary>Fifty jobs in flight on one event loop: each awaits its wait and its script call, so the loop is free meanwhile.</summary>
[Tempest(Fibers = 50, ShutdownTimeoutSeconds = 10)]
public partial class RedisTempest;

/// <summary>
/// Waits a few milliseconds, then records that it ran, on the same server as the queue, before the engine acknowledges
/// the job. A worker killed between the two runs the job again elsewhere, so a job can be recorded twice (the queue
/// delivers at least once); a job never recorded would be a lost job.
/// </summary>
[TempestTask]
public sealed class RecordCompletion(Completions completions) : TempestTask
{
    public async Task Process(int number, int waitMilliseconds, CancellationToken cancellationToken)
    {
        await Task.Delay(waitMilliseconds, cancellationToken);
        await completions.RecordAsync(TaskId, number);
    }
}

/// <summary>
/// The completions of one queue's jobs, in keys of their own (<c>completions:{queue}:</c> and a suffix), written by one
/// script call per run: the job's number joins the set <c>numbers</c>, the hash <c>runs</c> counts the runs per job id,
/// <c>first</c> keeps each job's first completion (ms, the server's clock), and <c>records</c> counts every run.
/// </summary>
public sealed class Completions(IDatabase db, string queueName)
{
    private const string Record = """
        local t = redis.call('TIME')
        local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        redis.call('SADD', KEYS[1] .. 'numbers', ARGV[2])
        redis.call('INCR', KEYS[1] .. 'records')
        if redis.call('HINCRBY', KEYS[1] .. 'runs', ARGV[1], 1) == 1 then redis.call('HSET', KEYS[1] .. 'first', ARGV[1], ms) end
        return 1
        """;

    private readonly RedisKey[] _keys = [KeyPrefixFor(queueName)];

    /// <summary>The keys' common prefix for <paramref name="queueName"/>.</summary>
    public static string KeyPrefixFor(string queueName) => "completions:{" + queueName + "}:";

    /// <summary>Records one run of job <paramref name="jobId"/> (number <paramref name="number"/>).</summary>
    public Task RecordAsync(string jobId, int number) => db.ScriptEvaluateAsync(Record, _keys, [jobId, number]);
}
