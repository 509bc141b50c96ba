using System.Buffers;
using System.Text;
using System.Text.Json;
using StackExchange.Redis;
using TaskTempest.Queues;

namespace TaskTempest.Redis;

public sealed partial class TempestRedisQueue : ITempestQueueInspector
{
    // The inspector is an operator's view and a dashboard's poll; the engine never calls it. Counts are set sizes (exact,
    // each one command on the server); pages are ranges of the state's sorted set.

    /// <summary>How many jobs are in each state (exact).</summary>
    public async ValueTask<TempestQueueCounts> GetCountsAsync(CancellationToken cancellationToken = default)
    {
        var c = (RedisResult[])(await RunAsync(TempestRedisScripts.Counts, []).WaitAsync(cancellationToken).ConfigureAwait(false))!;
        return new TempestQueueCounts((long)c[0], (long)c[1], (long)c[2], (long)c[3], (long)c[4]) { Completed = (long)c[5] };
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<TempestJobInfo>> ListAsync(TempestJobState state, int offset, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var (set, newestFirst) = state switch
        {
            TempestJobState.Ready => ("ready", false),
            TempestJobState.Scheduled => ("scheduled", false),
            TempestJobState.Retrying => ("retry", false),
            TempestJobState.Running => ("active", false),
            TempestJobState.Dead => ("dead", true),
            TempestJobState.Completed => ("done", true),
            _ => throw new ArgumentOutOfRangeException(nameof(state), state, "Not a job state."),
        };
        if (limit == 0) return [];
        var result = (RedisResult[])(await RunAsync(TempestRedisScripts.List, [set, newestFirst ? 1 : 0, offset, limit]).WaitAsync(cancellationToken).ConfigureAwait(false))!;
        long now = (long)result[0];
        var jobs = new List<TempestJobInfo>(result.Length - 1);
        for (int i = 1; i < result.Length; i++)
        {
            var row = (RedisResult[])result[i]!;
            var fields = (RedisResult[])row[1]!;
            if (fields.Length > 0) jobs.Add(ReadJob((string)row[0]!, new JobFields(fields), now)); // gone meanwhile: left out
        }
        return jobs;
    }

    /// <inheritdoc/>
    public async ValueTask<TempestJobInfo?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        var result = (RedisResult[])(await RunAsync(TempestRedisScripts.Get, [id]).WaitAsync(cancellationToken).ConfigureAwait(false))!;
        var fields = (RedisResult[])result[1]!;
        return fields.Length == 0 ? null : ReadJob(id, new JobFields(fields), (long)result[0]);
    }

    private static TempestJobInfo ReadJob(string id, JobFields job, long now)
    {
        bool due = job.Long("r") is not { } runAt || runAt <= now;
        return new TempestJobInfo
        {
            Id = id,
            TaskName = job.Task,
            State = job.State switch
            {
                "r" => TempestJobState.Running,
                "d" => TempestJobState.Dead,
                "c" => TempestJobState.Completed,
                _ when due => TempestJobState.Ready,
                "y" => TempestJobState.Retrying,
                _ => TempestJobState.Scheduled,
            },
            Attempt = job.Attempt,
            Envelope = job.Envelope,
            Lease = job.State == "r" && job.Long("k") is { } token ? new TempestLease(job.Text("o") ?? "", token, FromMs(job.Long("l") ?? 0)) : null,
            DeadReason = job.Text("dr"),
            DeadAt = job.State == "d" && job.Long("da") is { } deadAt ? FromMs(deadAt) : null,
            EnqueuedAt = job.Long("n") is { } enqueued ? FromMs(enqueued) : null,
            Message = job.Body,
        };
    }

    /// <summary>The most recent failed runs, newest first (the log is capped by <see cref="TempestRedisOptions.MaxFailures"/>
    /// at each outcome and by <see cref="TempestRedisOptions.KeepFailuresFor"/> at each rescue).</summary>
    public async ValueTask<IReadOnlyList<TempestFailureRecord>> GetRecentFailuresAsync(int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        if (limit == 0) return [];
        var entries = await _db.ListRangeAsync(_prefix + "failures", 0, limit - 1).WaitAsync(cancellationToken).ConfigureAwait(false);
        var failures = new List<TempestFailureRecord>(entries.Length);
        foreach (var entry in entries)
        {
            // [id, task, attempt, status, error type, error message, at (ms)], as the record script writes it.
            using var doc = JsonDocument.Parse((string)entry!);
            var e = doc.RootElement;
            string type = e[4].GetString() ?? "";
            failures.Add(new TempestFailureRecord(e[0].GetString()!, e[1].GetString()!, e[2].GetInt32(), (TempestTaskStatus)e[3].GetInt32(),
                type.Length == 0 ? null : new TempestError(type, e[5].GetString() ?? ""), FromMs(e[6].GetInt64())));
        }
        return failures;
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<TempestWorkerStatus>> GetWorkersAsync(CancellationToken cancellationToken = default)
    {
        var records = _db.HashGetAllAsync(_prefix + "workers");
        var beats = _db.SortedSetRangeByRankWithScoresAsync(_prefix + "beats");
        await Task.WhenAll(records, beats).WaitAsync(cancellationToken).ConfigureAwait(false);
        var lastBeat = beats.Result.ToDictionary(b => (string)b.Element!, b => (long)b.Score, StringComparer.Ordinal);
        var workers = new List<TempestWorkerStatus>();
        foreach (var record in records.Result)
        {
            string id = (string)record.Name!;
            if (!lastBeat.TryGetValue(id, out long beat)) continue; // stopping meanwhile
            var (info, running) = WorkerRecord.Read(id, (string)record.Value!);
            workers.Add(new TempestWorkerStatus(info, FromMs(beat), running));
        }
        workers.Sort(static (a, b) => a.Worker.StartedAt != b.Worker.StartedAt ? a.Worker.StartedAt.CompareTo(b.Worker.StartedAt)
            : string.CompareOrdinal(a.Worker.Id, b.Worker.Id));
        return workers;
    }

    /// <summary>Removes a waiting or running job; a running one's lease goes with it (its worker's next heartbeat reports it
    /// lost and cancels its token; its outcome is refused). False when there is no such job, or it is dead or completed.</summary>
    public ValueTask<bool> CancelAsync(string id, CancellationToken cancellationToken = default) => ChangeOneAsync("cancel", id, cancellationToken);

    /// <inheritdoc/>
    public async ValueTask<bool> RequeueDeadAsync(string id, CancellationToken cancellationToken = default)
    {
        bool requeued = await ChangeOneAsync("requeue", id, cancellationToken).ConfigureAwait(false);
        if (requeued) Wake();
        return requeued;
    }

    /// <inheritdoc/>
    public async ValueTask<int> RequeueAllDeadAsync(CancellationToken cancellationToken = default)
    {
        int requeued = await ChangeAllDeadAsync("requeue", cancellationToken).ConfigureAwait(false);
        if (requeued > 0) Wake();
        return requeued;
    }

    /// <inheritdoc/>
    public ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken = default) => ChangeOneAsync("delete", id, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<int> DeleteAllDeadAsync(CancellationToken cancellationToken = default) => ChangeAllDeadAsync("delete", cancellationToken);

    private async ValueTask<bool> ChangeOneAsync(string change, string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        var changed = await RunAsync(TempestRedisScripts.ChangeOne, [change, id]).WaitAsync(cancellationToken).ConfigureAwait(false);
        return (long)changed == 1;
    }

    /// <summary>1,000 dead letters per call, until none is left.</summary>
    private async ValueTask<int> ChangeAllDeadAsync(string change, CancellationToken cancellationToken)
    {
        int total = 0;
        while (true)
        {
            int changed = (int)await RunAsync(TempestRedisScripts.ChangeDead, [change]).WaitAsync(cancellationToken).ConfigureAwait(false);
            total += changed;
            if (changed < TempestRedisScripts.StepLimit) return total;
        }
    }

    /// <summary>A worker's entry in the registry: a small JSON object (the heartbeat writes it each beat).</summary>
    private static class WorkerRecord
    {
        public static string Write(TempestWorkerInfo worker, int running)
        {
            var buffer = new ArrayBufferWriter<byte>(160);
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteString("engine", worker.EngineName);
                w.WriteString("host", worker.Host);
                w.WriteNumber("pid", worker.ProcessId);
                w.WriteNumber("slots", worker.Slots);
                w.WriteNumber("started", worker.StartedAt.ToUnixTimeMilliseconds());
                w.WriteNumber("running", running);
                w.WriteEndObject();
            }
            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }

        /// <summary>The record <see cref="Write"/> wrote, read field by field (a field it does not know is skipped).</summary>
        public static (TempestWorkerInfo Info, int Running) Read(string id, string json)
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
            string engine = "", host = "";
            int pid = 0, slots = 0, running = 0;
            long started = 0;
            reader.Read(); // the object's start
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string name = reader.GetString()!;
                reader.Read();
                switch (name)
                {
                    case "engine": engine = reader.GetString() ?? ""; break;
                    case "host": host = reader.GetString() ?? ""; break;
                    case "pid": pid = reader.GetInt32(); break;
                    case "slots": slots = reader.GetInt32(); break;
                    case "started": started = reader.GetInt64(); break;
                    case "running": running = reader.GetInt32(); break;
                    default: reader.Skip(); break;
                }
            }
            return (new TempestWorkerInfo(id, engine, host, pid, slots, FromMs(started)), running);
        }
    }
}
