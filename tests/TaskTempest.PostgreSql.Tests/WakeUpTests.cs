using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using TaskTempest.PostgreSql.Tests.Support;
using TaskTempest.Tests.Shared;

namespace TaskTempest.PostgreSql.Tests;

/// <summary>
/// The NOTIFY throttle: a burst of enqueues from one queue instance sends one notice with its first insert and one
/// trailing notice an interval later, never one per insert. The queue's clock is a <see cref="FakeTimeProvider"/>, so
/// the interval passes only when the test says; a sentinel notice the test sends itself tells it that every notice
/// committed before it has arrived (PostgreSQL delivers notices in commit order).
/// </summary>
public sealed class WakeUpTests(PostgresDatabase<WakeUpTests> database) : IClassFixture<PostgresDatabase<WakeUpTests>>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_burst_of_enqueues_sends_one_notice_and_one_trailing_notice_per_interval()
    {
        var clock = new FakeTimeProvider();
        var queue = new TempestPostgreSqlQueue(database.DataSource, new TempestPostgreSqlOptions { Schema = "burst", TimeProvider = clock, Listen = false });
        await queue.MigrateAsync();
        await using var listener = new Listener(database.ConnectionString, "tempest_burst");
        await listener.StartAsync();
        var engine = new PgTempest(new TempestOptions { Queue = queue, MainLoggerFactory = new RecordingLog(), TaskLoggerFactory = new RecordingLog(), HandleSignals = false });

        for (int i = 0; i < 20; i++) engine.SubmitCounted(i); // 20 inserts, 20 round trips, within one interval of the fake clock
        Assert.Equal(["default"], await listener.NoticesUntilSentinelAsync());

        clock.Advance(TempestPostgreSqlQueue.NotifyInterval); // the trailing notice, for the 19 inserts that carried none
        Assert.Equal(["default"], await listener.NextNoticesAsync(1));
        Assert.Empty(await listener.NoticesUntilSentinelAsync());

        clock.Advance(TempestPostgreSqlQueue.NotifyInterval);
        engine.SubmitCounted(20); // a quiet interval later: this insert carries its own notice again, and no trailing one follows
        Assert.Equal(["default"], await listener.NoticesUntilSentinelAsync());
        clock.Advance(TempestPostgreSqlQueue.NotifyInterval * 2);
        Assert.Empty(await listener.NoticesUntilSentinelAsync());
        Assert.Equal(21, await CountAsync("SELECT count(*) FROM burst.jobs"));
        await queue.DisposeAsync();
    }

    private async Task<long> CountAsync(string sql)
    {
        await using var command = database.DataSource.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>A LISTEN connection of the test's own that keeps every payload it receives.</summary>
    private sealed class Listener(string connectionString, string channel) : IAsyncDisposable
    {
        private const string Sentinel = "sentinel";
        private readonly NpgsqlConnection _connection = new(connectionString);
        private readonly BlockingCollection<string> _payloads = [];
        private readonly CancellationTokenSource _stop = new();
        private Task? _loop;
        private int _sentinels;

        public async Task StartAsync()
        {
            await _connection.OpenAsync();
            _connection.Notification += (_, e) => _payloads.Add(e.Payload);
            await using (var listen = new NpgsqlCommand($"LISTEN {channel}", _connection)) await listen.ExecuteNonQueryAsync();
            _loop = Task.Run(async () =>
            {
                try { while (true) await _connection.WaitAsync(_stop.Token); }
                catch (OperationCanceledException) { }
            });
        }

        /// <summary>Sends a sentinel from another connection and returns what arrived before it.</summary>
        public async Task<List<string>> NoticesUntilSentinelAsync()
        {
            string sentinel = Sentinel + Interlocked.Increment(ref _sentinels);
            await using (var sender = new NpgsqlConnection(connectionString))
            {
                await sender.OpenAsync();
                await using var notify = new NpgsqlCommand($"SELECT pg_notify('{channel}', '{sentinel}')", sender);
                await notify.ExecuteNonQueryAsync();
            }
            var before = new List<string>();
            using var bound = new CancellationTokenSource(Bound);
            for (string payload; (payload = _payloads.Take(bound.Token)) != sentinel;) before.Add(payload);
            return before;
        }

        /// <summary>Waits (bounded) for <paramref name="count"/> notices.</summary>
        public Task<List<string>> NextNoticesAsync(int count) => Task.Run(() =>
        {
            using var bound = new CancellationTokenSource(Bound);
            return Enumerable.Range(0, count).Select(_ => _payloads.Take(bound.Token)).ToList();
        });

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            if (_loop is not null) await _loop;
            await _connection.DisposeAsync();
        }
    }
}
