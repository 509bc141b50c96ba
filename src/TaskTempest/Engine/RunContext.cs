using TaskTempest.Logging;
using ZLogger;

namespace TaskTempest.Engine;

/// <summary>
/// What every part of one run shares: its settings, its logs and its two signals. <see cref="Stopping"/>
/// means "take no more jobs"; <see cref="Aborting"/> is the token each <c>Process</c> receives, cancelled
/// when shutdown gives up on running tasks. Once <see cref="Ended"/> is set the logs are closed: late
/// threads (an orphaned worker whose stuck code returns) must leave without a word.
/// </summary>
internal sealed class RunContext(RunSettings settings, TempestLogs logs, CancellationToken stopping, CancellationTokenSource aborting)
{
    private volatile bool _ended;

    public RunSettings Settings { get; } = settings;
    public TempestLogs Logs { get; } = logs;
    public TimeProvider Time { get; } = settings.Time;
    public CancellationToken Stopping { get; } = stopping;

    /// <summary>The run's traces and metrics around its jobs.</summary>
    public Telemetry.RunTelemetry Telemetry { get; } = new(settings.EngineName, settings.Queue);

    /// <summary>Never disposed: it owns no timer, and a task stuck past shutdown may still hold its token.</summary>
    public CancellationTokenSource Aborting { get; } = aborting;

    /// <summary>The token a job's <c>Process</c> gets (before any timeout): its lease's, cancelled when a heartbeat finds
    /// the lease lost or at shutdown's abort, or else the run's abort.</summary>
    public CancellationToken JobToken(TempestMessage message) => message.Lease?.JobCancellation?.Token ?? Aborting.Token;

    public bool Ended => _ended;

    public void End()
    {
        _ended = true;
        Telemetry.End();
    }

    /// <summary>
    /// Cancels <paramref name="source"/> on the thread pool: cancelling runs the tasks' own registrations and
    /// continuations, which may block or throw, and neither a timer thread nor Run may wait for them.
    /// </summary>
    public void CancelOffThread(CancellationTokenSource source, string what) =>
        ThreadPool.UnsafeQueueUserWorkItem(static state =>
        {
            var (run, source, what) = state;
            try
            {
                source.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The job ended and disposed its deadline meanwhile: nothing left to cancel.
            }
            catch (AggregateException e) when (!run.Ended)
            {
                run.Logs.Main.ZLogWarning(e, $"cancelling for {what}: a task's cancellation callback threw: {LogText.Escape(e.InnerException?.Message)}");
            }
            catch (AggregateException)
            {
            }
        }, (this, source, what), preferLocal: false);
}
