using Microsoft.Extensions.Logging;
using Npgsql;
using TaskTempest.Logging;
using TaskTempest.Queues;

namespace TaskTempest.PostgreSql;

public sealed partial class TempestPostgreSqlQueue
{
    // Wake-ups are hints, never correctness. An insert carries a NOTIFY in the same round trip (inside the caller's
    // transaction it is delivered at the commit, and a rollback sends none), at most one per NotifyInterval from this
    // instance: a burst of enqueues notifies with its first insert and once more, trailing, an interval later, instead
    // of once per insert (every commit that notifies takes PostgreSQL's global notify lock: a NOTIFY storm serializes
    // commits). Waiting claims LISTEN on one dedicated connection per queue instance and look again at once; the poll
    // stays as the fallback for a lost notice.

    /// <summary>At most one NOTIFY per this interval leaves one queue instance.</summary>
    public static readonly TimeSpan NotifyInterval = TimeSpan.FromMilliseconds(100);

    private readonly Lock _listenerGate = new();
    private Task? _listener;
    private readonly WakeThrottle _throttle;

    /// <summary>The channel of this schema's wake-ups (the schema is a validated identifier); the payload is the queue name.</summary>
    private string Channel => "tempest_" + _s;

    /// <summary>The statement an insert is followed by, in the same round trip (and transaction).</summary>
    internal string NotifySql => $"SELECT pg_notify('{Channel}', $1)";

    /// <summary>Whether this insert carries the NOTIFY: yes when none went out for an interval; otherwise a trailing one
    /// is scheduled (once) for the end of the interval, so the last insert of a burst is always followed by a notice.</summary>
    /// <remarks>A trailing notice can reach the listeners before a caller's transaction commits an insert it covered;
    /// such a job is then found by the next poll (<see cref="TempestPostgreSqlOptions.PollInterval"/>).</remarks>
    private bool TakeNotifyTurn() => _throttle.TakeTurn();

    private async Task NotifyAsync()
    {
        try
        {
            await using var command = _dataSource.CreateCommand(NotifySql);
            command.Parameters.Add(Value(_options.QueueName));
            await command.ExecuteNonQueryAsync(_disposed.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_disposed.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is NpgsqlException or System.IO.IOException or InvalidOperationException or TimeoutException)
        {
            // A lost hint: the poll finds the jobs.
            _logger.LogWarning("PostgreSQL queue {Schema}.{Queue}: a wake-up NOTIFY failed ({Error}); idle workers find the jobs at their next poll",
                _s, LogText.Escape(_options.QueueName), Describe(e));
        }
    }

    /// <summary>Starts the listener the first time a claim waits (unless <see cref="TempestPostgreSqlOptions.Listen"/> is off).</summary>
    private void EnsureListening()
    {
        if (!_options.Listen || Volatile.Read(ref _listener) is not null) return;
        lock (_listenerGate) _listener ??= Task.Run(ListenAsync);
    }

    /// <summary>
    /// Listens until the queue is disposed. A dropped connection is logged and opened again after a back-off (0.5 s
    /// doubling to 30 s); meanwhile the poll finds the jobs. A wake-up is sent after every (re)connect, since notices
    /// sent while nobody listened are gone.
    /// </summary>
    private async Task ListenAsync()
    {
        var stop = _disposed.Token;
        var backoff = TimeSpan.FromMilliseconds(500);
        bool lost = false;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(stop).ConfigureAwait(false);
                connection.Notification += (_, _) => Wake();
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                    await listen.ExecuteNonQueryAsync(stop).ConfigureAwait(false);
                Wake();
                if (lost) _logger.LogInformation("PostgreSQL queue {Schema}.{Queue}: listening for wake-ups again", _s, LogText.Escape(_options.QueueName));
                lost = false;
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
                lost = true;
                _logger.LogWarning("PostgreSQL queue {Schema}.{Queue}: the wake-up listener lost its connection ({Error}); reconnecting in {Backoff} s, polling meanwhile",
                    _s, LogText.Escape(_options.QueueName), Describe(e), backoff.TotalSeconds);
                try { await Task.Delay(backoff, _options.TimeProvider, stop).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }

    /// <summary>The last error of the wake-up listener (it reconnects on its own; the poll covers the gap), or null.</summary>
    public Exception? LastListenError { get; private set; }

    /// <summary>An error as one safe hole of a log line: its type and its escaped message (a server's text is outside text).</summary>
    private static string Describe(Exception e) => e.GetType().Name + ": " + LogText.Escape(e.Message);
}
