using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using TaskTempest.PostgreSql;

namespace TaskTempest.Throughput.Postgres;

/// <summary>
/// The producer of live runs, in a process of its own (the harness started again as <c>pg-produce kind schema jobs
/// batch rate</c>): <c>engine</c> submits through an engine's generated <c>Batch()</c> submitter on a
/// TempestPostgreSqlQueue (one insert with its NOTIFY per flush); <c>bare</c> runs the queue's copied insert
/// (<see cref="QueueStatements"/>) with the same rows. Rate 0: no-op jobs in flushes of <c>batch</c>, one after the
/// other, as fast as they go. Rate above 0: latency jobs stamped with their submit time, a flush every 10 ms of
/// the jobs due by then at that rate (a late flush sends more, so the offered load holds). It warms up on its own
/// schema and pool first (closed before it says <c>ready</c>, so their transactions are counted before the harness
/// reads the server's), waits for <c>go</c> on its input, and ends with one line: a <see cref="ChildReport"/>.
/// </summary>
internal static class PgProducer
{
    public const string Application = "tt-bench-producer";
    public const string WarmApplication = "tt-bench-producer-warm";
    public const string FillApplication = "tt-bench-fill";
    public const string WarmSchema = "bench_warm";

    public static async Task<int> RunAsync(string kind, string schema, int jobs, int batch, int rate)
    {
        string connectionString = PgServer.Required();
        await using (var warm = DataSource(connectionString, WarmApplication))
        {
            var warmSubmitter = await SubmitterAsync(kind, warm, WarmSchema);
            for (int i = 0; i < 20; i++)
            {
                for (int k = 0; k < batch; k++)
                {
                    if (i % 2 == 0) warmSubmitter.Add(k);
                    else warmSubmitter.AddStamped(DateTime.UtcNow.Ticks);
                }
                await warmSubmitter.FlushAsync();
            }
            await warmSubmitter.FinishAsync(); // the owed notice, while its pool is open
            await using var truncate = warm.CreateCommand($"TRUNCATE {WarmSchema}.jobs");
            await truncate.ExecuteNonQueryAsync();
        }

        await using var dataSource = DataSource(connectionString, Application);
        using var trips = new RoundTrips(Application);
        var submitter = await SubmitterAsync(kind, dataSource, schema);
        await using (await dataSource.OpenConnectionAsync()) { } // the pool's connection open before the clock
        Console.WriteLine("ready");
        if (Console.ReadLine() != "go") return 2;

        using var self = Process.GetCurrentProcess();
        var cpu = self.TotalProcessorTime;
        long trips0 = trips.Count;
        var clock = Stopwatch.StartNew();
        long submitted = 0;
        if (rate <= 0)
        {
            while (submitted < jobs)
            {
                for (long end = Math.Min(jobs, submitted + batch); submitted < end; submitted++) submitter.Add((int)submitted);
                await submitter.FlushAsync();
            }
        }
        else
        {
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
                if (wait > TimeSpan.Zero) await Task.Delay(wait);
            }
        }
        var elapsed = clock.Elapsed;
        await submitter.FinishAsync();
        self.Refresh();
        Console.WriteLine(new ChildReport(submitted, (self.TotalProcessorTime - cpu).TotalMilliseconds, trips.Count - trips0, elapsed.TotalMilliseconds));
        return 0;
    }

    /// <summary>Pre-fills <paramref name="schema"/> with <paramref name="jobs"/> no-op jobs through an engine's Batch() (flushes of 1,000), on a pool closed afterwards.</summary>
    public static async Task FillAsync(string connectionString, string schema, int jobs)
    {
        await using var dataSource = DataSource(connectionString, FillApplication);
        var submitter = await SubmitterAsync("engine", dataSource, schema);
        for (int i = 0; i < jobs;)
        {
            for (int end = Math.Min(jobs, i + 1000); i < end; i++) submitter.Add(i);
            await submitter.FlushAsync();
        }
    }

    /// <summary>A pool whose backends carry <paramref name="application"/> and whose metrics carry it as the data source's name.</summary>
    public static NpgsqlDataSource DataSource(string connectionString, string application) =>
        new NpgsqlDataSourceBuilder(PgServer.WithApplication(connectionString, application)) { Name = application }.Build();

    private static async Task<ISubmitter> SubmitterAsync(string kind, NpgsqlDataSource dataSource, string schema)
    {
        var queue = new TempestPostgreSqlQueue(dataSource, new TempestPostgreSqlOptions { Schema = schema });
        await queue.MigrateAsync(); // the table exists, and the first flush does not migrate inside the clock
        return kind switch
        {
            "engine" => new EngineSubmitter(new PgFibers(new TempestOptions
            {
                Queue = queue,
                MainLoggerFactory = NullLoggerFactory.Instance,
                TaskLoggerFactory = NullLoggerFactory.Instance,
                HandleSignals = false,
            })),
            "bare" => new BareSubmitter(dataSource, schema),
            _ => throw new ArgumentException($"producer kind '{kind}': engine or bare", nameof(kind)),
        };
    }

    private interface ISubmitter
    {
        void Add(int i);

        void AddStamped(long ticks);

        ValueTask FlushAsync();

        /// <summary>Sends what a throttled NOTIFY still owes, before the process exits.</summary>
        ValueTask FinishAsync();
    }

    /// <summary>The engine's generated Batch(): the messages, their ids and texts, one EnqueueBatchAsync per flush.</summary>
    private sealed class EngineSubmitter(PgFibers engine) : ISubmitter
    {
        private readonly PgFibers.BatchSubmitter _batch = engine.Batch();

        public void Add(int i) => _batch.SubmitNoOp(i, i);

        public void AddStamped(long ticks) => _batch.SubmitStamped(ticks);

        public ValueTask FlushAsync() => _batch.FlushAsync();

        public ValueTask FinishAsync() => ((TempestPostgreSqlQueue)engine.Queue).DisposeAsync();
    }

    /// <summary>The copied insert with the rows the engine would write (its id format and its text of a plain message), and
    /// the queue's NOTIFY throttle (one with an insert at most every 100 ms, a trailing one for the inserts in between).</summary>
    private sealed class BareSubmitter(NpgsqlDataSource dataSource, string schema) : ISubmitter
    {
        private readonly List<string> _ids = [], _bodies = [];
        private string _task = "NoOp";
        private readonly Lock _notifyGate = new();
        private long? _lastNotify;
        private Timer? _trailing;

        private bool TakeNotifyTurn()
        {
            lock (_notifyGate)
            {
                long now = Stopwatch.GetTimestamp();
                if (_lastNotify is not { } last || Stopwatch.GetElapsedTime(last, now) >= TempestPostgreSqlQueue.NotifyInterval)
                {
                    _lastNotify = now;
                    return true;
                }
                _trailing ??= new Timer(_ => SendTrailing(), null, TempestPostgreSqlQueue.NotifyInterval - Stopwatch.GetElapsedTime(last, now), Timeout.InfiniteTimeSpan);
                return false;
            }
        }

        public ValueTask FinishAsync()
        {
            bool owed;
            lock (_notifyGate) owed = _trailing is not null;
            if (owed) SendTrailing();
            return ValueTask.CompletedTask;
        }

        private void SendTrailing()
        {
            lock (_notifyGate)
            {
                if (_trailing is null) return;
                _trailing.Dispose();
                _trailing = null;
                _lastNotify = Stopwatch.GetTimestamp();
            }
            using var batch = dataSource.CreateBatch();
            batch.BatchCommands.Add(QueueStatements.NotifyCommand(schema));
            batch.ExecuteNonQuery();
        }

        public void Add(int i)
        {
            string id = TempestId.New();
            _ids.Add(id);
            _bodies.Add(string.Create(CultureInfo.InvariantCulture, $"[\"{id}\",\"NoOp\",{i},{i}]"));
            _task = "NoOp";
        }

        public void AddStamped(long ticks)
        {
            string id = TempestId.New();
            _ids.Add(id);
            _bodies.Add(string.Create(CultureInfo.InvariantCulture, $"[\"{id}\",\"Stamped\",{ticks}]"));
            _task = "Stamped";
        }

        public async ValueTask FlushAsync()
        {
            if (_ids.Count == 0) return;
            await using (var batch = QueueStatements.InsertBatch(dataSource, schema, [.. _ids], _task, [.. _bodies], TakeNotifyTurn()))
                await batch.ExecuteNonQueryAsync();
            _ids.Clear();
            _bodies.Clear();
        }
    }
}
