using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using TaskTempest.PostgreSql;

namespace TaskTempest.Throughput.Postgres;

/// <summary>One way of draining a PostgreSQL job table, in a schema of its own.</summary>
internal abstract class PgContender(string name, string schema, string producerKind, string configuration)
{
    public string Name { get; } = name;

    /// <summary>Its own schema, so that no other contender sees its rows.</summary>
    public string Schema { get; } = schema;

    /// <summary>The producer process that feeds its live runs: <c>bare</c> (the copied insert) or <c>engine</c> (the generated Batch()).</summary>
    public string ProducerKind { get; } = producerKind;

    public string Configuration { get; } = configuration;

    /// <summary>Everything before the clock: the workers exist and their pool is open, nothing claimed yet.</summary>
    public abstract Task<PgWorkers> PrepareAsync(NpgsqlDataSource dataSource, int jobs, bool stamped);
}

/// <summary>A contender's workers for one run.</summary>
internal abstract class PgWorkers
{
    public abstract void Start();

    /// <summary>Completes when every job has run and its completion is committed (its row deleted).</summary>
    public abstract Task Recorded { get; }

    public abstract Task StopAsync();
}

/// <summary>
/// The limit: the queue's claim and completion statements (<see cref="QueueStatements"/>) on Npgsql with no engine,
/// in the engine's shape: one claimer that claims as many as there are free slots (at most <c>claimMax</c>), the jobs
/// "run" as their rows are read, one completer that deletes the finished ones in batches (at most
/// <c>completeMax</c>), a slot free again once its row is deleted; idle claims wait for a NOTIFY on their own LISTEN
/// connection, or poll every second, as the queue does.
/// </summary>
internal sealed class BareLoop(int slots, int claimMax, int completeMax)
    : PgContender("bare Npgsql loop", "bench_bare", "bare",
        $"{slots} slots, claims of as many as there are free slots (at most {claimMax}), completions of all the finished jobs waiting (at most {completeMax}), " +
        "one claim and one completion in flight, LISTEN/NOTIFY wake-ups, 1 s poll: the engine's batching and concurrency, without the engine")
{
    private readonly int _slots = slots, _claimMax = claimMax, _completeMax = completeMax;

    public override Task<PgWorkers> PrepareAsync(NpgsqlDataSource dataSource, int jobs, bool stamped) =>
        Task.FromResult<PgWorkers>(new Running(this, dataSource, jobs, stamped));

    private sealed class Running(BareLoop loop, NpgsqlDataSource dataSource, int jobs, bool stamped) : PgWorkers
    {
        private readonly string _schema = loop.Schema;
        private readonly SemaphoreSlim _freeSlots = new(loop._slots);
        private readonly int _claimMax = loop._claimMax, _completeMax = loop._completeMax;
        private readonly Channel<(string Id, long Token)> _finished =
            Channel.CreateUnbounded<(string, long)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        private readonly TaskCompletionSource _recorded = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenSource _stop = new();
        private readonly string _owner = TempestId.New();
        private TaskCompletionSource _notified = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private Task _claimer = Task.CompletedTask, _completer = Task.CompletedTask, _listener = Task.CompletedTask;

        public override Task Recorded => _recorded.Task;

        public override void Start()
        {
            _listener = Task.Run(ListenAsync);
            _claimer = Task.Run(ClaimAsync);
            _completer = Task.Run(CompleteAsync);
        }

        private async Task ClaimAsync()
        {
            try
            {
                int claimed = 0;
                var rows = new List<(string Id, long Token, string? Body)>(_claimMax);
                var linger = TimeSpan.MaxValue; // none until a claim found rows
                while (claimed < jobs)
                {
                    await _freeSlots.WaitAsync(_stop.Token);
                    int asked = 1;
                    while (asked < _claimMax && asked < jobs - claimed && _freeSlots.Wait(0)) asked++;
                    var notified = Volatile.Read(ref _notified);
                    rows.Clear();
                    await using (var command = QueueStatements.ClaimCommand(dataSource, _schema, asked, _owner))
                    await using (var reader = await command.ExecuteReaderAsync(_stop.Token))
                    {
                        while (await reader.ReadAsync(_stop.Token))
                        {
                            rows.Add((reader.GetString(QueueStatements.IdColumn), reader.GetInt64(QueueStatements.TokenColumn),
                                stamped ? reader.GetString(QueueStatements.BodyColumn) : null));
                        }
                    }
                    // Only now is the claim committed: a completion sent before would not see the row as leased.
                    foreach (var (id, token, body) in rows)
                    {
                        if (body is not null) Latencies.Current.Record(DateTime.UtcNow.Ticks - Stamped.StampOf(body));
                        _finished.Writer.TryWrite((id, token));
                    }
                    int got = rows.Count;
                    claimed += got;
                    if (got < asked) _freeSlots.Release(asked - got);
                    // The queue's wait: after a claim that found rows, empty claims look again at 5 ms doubling to 80 ms, then
                    // a NOTIFY or the 1 s poll.
                    if (got > 0) linger = TimeSpan.FromMilliseconds(5);
                    else if (linger <= TimeSpan.FromMilliseconds(80))
                    {
                        await Task.WhenAny(notified.Task, Task.Delay(linger, _stop.Token));
                        linger *= 2;
                    }
                    else await Task.WhenAny(notified.Task, Task.Delay(TimeSpan.FromSeconds(1), _stop.Token));
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

        private async Task CompleteAsync()
        {
            try
            {
                var reader = _finished.Reader;
                var ids = new List<string>(_completeMax);
                var tokens = new List<long>(_completeMax);
                int completed = 0;
                while (completed < jobs && await reader.WaitToReadAsync(_stop.Token))
                {
                    ids.Clear();
                    tokens.Clear();
                    while (ids.Count < _completeMax && reader.TryRead(out var job))
                    {
                        ids.Add(job.Id);
                        tokens.Add(job.Token);
                    }
                    int deleted = 0;
                    await using (var batch = QueueStatements.CompleteBatch(dataSource, _schema, [.. ids], [.. tokens], "NoOp"))
                    await using (var rows = await batch.ExecuteReaderAsync(_stop.Token))
                    {
                        while (await rows.ReadAsync(_stop.Token)) deleted++;
                    }
                    if (deleted != ids.Count) throw new InvalidOperationException($"{deleted} of {ids.Count} completions took: a lease was lost");
                    completed += deleted;
                    _freeSlots.Release(deleted);
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

        private async Task ListenAsync()
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(_stop.Token);
                connection.Notification += (_, _) => Interlocked.Exchange(ref _notified, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
                await using (var listen = new NpgsqlCommand($"LISTEN tempest_{_schema}", connection))
                    await listen.ExecuteNonQueryAsync(_stop.Token);
                while (true) await connection.WaitAsync(_stop.Token);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
            }
        }

        public override async Task StopAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_claimer, _completer, _listener);
        }
    }
}

/// <summary>
/// TaskTempest on TempestPostgreSqlQueue: an engine with <see cref="PgFibers.Slots"/> fibers (cooperative mode) running
/// the no-op job, its queue on the schema with the queue's defaults, log lines off (null logger factories, as in the
/// other modes: the figure is the queue's path, not the log files').
/// </summary>
internal sealed class QueueEngine()
    : PgContender("TaskTempest on TempestPostgreSqlQueue", "bench_queue", "engine",
        $"[Tempest(Fibers = {PgFibers.Slots})], defaults otherwise: one fetcher claiming as many as there are free slots, one flusher recording " +
        $"the outcomes waiting (at most {PgFibers.Slots}) in one round trip, lease 30 s, heartbeat 10 s, Listen = true, PollInterval 1 s; log lines off")
{
    public override async Task<PgWorkers> PrepareAsync(NpgsqlDataSource dataSource, int jobs, bool stamped)
    {
        var queue = new TempestPostgreSqlQueue(dataSource, new TempestPostgreSqlOptions { Schema = Schema });
        await queue.MigrateAsync(); // once per queue instance: before the clock
        var engine = new PgFibers(new TempestOptions
        {
            Queue = queue,
            MainLoggerFactory = NullLoggerFactory.Instance,
            TaskLoggerFactory = NullLoggerFactory.Instance,
            HandleSignals = false,
        });
        return new Running(this, engine, queue, jobs);
    }

    private sealed class Running(QueueEngine contender, PgFibers engine, TempestPostgreSqlQueue queue, int jobs) : PgWorkers
    {
        private Task? _recorded;

        public override Task Recorded => _recorded ?? throw new InvalidOperationException("not started");

        public override void Start()
        {
            var ran = Finish.Expect(jobs);
            _recorded = RecordedAsync(ran, engine.RunAsync());
        }

        /// <summary>Every job ran (the tasks counted themselves), then the engine stopped: RunAsync returns once every
        /// outcome is handed to the queue (one more round trip or two: the last outcomes, the worker's registry entry).</summary>
        private async Task RecordedAsync(Task ran, Task<TempestRunResult> run)
        {
            if (await Task.WhenAny(ran, run) != ran) throw new InvalidOperationException($"{contender.Name}: the engine ended early: {await run}");
            engine.Stop();
            var result = await run;
            if (result.TasksSucceeded != jobs) throw new InvalidOperationException($"{contender.Name}: {result}");
        }

        public override async Task StopAsync()
        {
            if (_recorded is not null) await _recorded;
            await queue.DisposeAsync();
        }
    }
}
