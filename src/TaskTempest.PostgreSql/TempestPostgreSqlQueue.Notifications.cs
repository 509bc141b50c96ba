using Npgsql;

namespace TaskTempest.PostgreSql;

public sealed partial class TempestPostgreSqlQueue
{
    // Wake-ups are hints, never correctness: an enqueue sends one NOTIFY per statement (inside the caller's
    // transaction it is delivered at the commit, and a rollback sends none); waiting claims LISTEN on one dedicated
    // connection per queue instance and look again at once; the poll stays as the fallback for a lost notice.

    private readonly Lock _listenerGate = new();
    private Task? _listener;

    /// <summary>The channel of this schema's wake-ups (the schema is a validated identifier).</summary>
    private string Channel => "tempest_" + _s;

    /// <summary>The statement an insert is followed by, in the same round trip (and transaction).</summary>
    internal string NotifySql => $"SELECT pg_notify('{Channel}', $1)";

    /// <summary>Starts the listener the first time a claim waits (unless <see cref="TempestPostgreSqlOptions.Listen"/> is off).</summary>
    private void EnsureListening()
    {
        if (!_options.Listen || Volatile.Read(ref _listener) is not null) return;
        lock (_listenerGate) _listener ??= Task.Run(ListenAsync);
    }

    /// <summary>
    /// Listens until the queue is disposed. A dropped connection is opened again after a back-off (0.5 s doubling to
    /// 30 s); meanwhile the poll finds the jobs. A wake-up is sent after every (re)connect, since notices sent while
    /// nobody listened are gone.
    /// </summary>
    private async Task ListenAsync()
    {
        var stop = _disposed.Token;
        var backoff = TimeSpan.FromMilliseconds(500);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(stop).ConfigureAwait(false);
                connection.Notification += (_, _) => Wake();
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                    await listen.ExecuteNonQueryAsync(stop).ConfigureAwait(false);
                Wake();
                backoff = TimeSpan.FromMilliseconds(500);
                while (!stop.IsCancellationRequested) await connection.WaitAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or System.IO.IOException or InvalidOperationException or TimeoutException)
            {
                LastListenError = e;
                try { await Task.Delay(backoff, _options.TimeProvider, stop).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }

    /// <summary>The last error of the wake-up listener (it reconnects on its own; the poll covers the gap), or null.</summary>
    public Exception? LastListenError { get; private set; }
}
