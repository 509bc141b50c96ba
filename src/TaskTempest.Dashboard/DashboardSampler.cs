using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using TaskTempest.Queues;

namespace TaskTempest.Dashboard;

/// <summary>
/// Samples once a second, on the server, so that every page sees the same history: jobs ended in this process (the
/// engines' <c>tasktempest.jobs.ended</c> counter, read by a <see cref="MeterListener"/>, so every engine in the process
/// counts without being named), the queue's depth, and when each running lease was first seen (the inspector knows a
/// lease's end, not a run's start).
/// </summary>
internal sealed class DashboardSampler : IDisposable
{
    private readonly ITempestQueueInspector _inspector;
    private readonly TimeProvider _time;
    private readonly int _capacity;
    private readonly MeterListener _listener = new();
    private readonly Queue<SampleDto> _samples = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _firstSeenRunning = new(StringComparer.Ordinal);
    private readonly ITimer _timer;
    private long _succeeded, _failed, _lastSucceeded, _lastFailed;
    private int _sampling;

    private readonly HashSet<string>? _engines;

    /// <param name="inspector">The queue.</param>
    /// <param name="time">The clock of the samples.</param>
    /// <param name="historySeconds">How many samples are kept.</param>
    /// <param name="engines">The engines whose jobs count (by name); empty: every engine in the process.</param>
    public DashboardSampler(ITempestQueueInspector inspector, TimeProvider time, int historySeconds, IReadOnlyList<string> engines)
    {
        _engines = engines.Count > 0 ? new HashSet<string>(engines, StringComparer.Ordinal) : null;
        _inspector = inspector;
        _time = time;
        _capacity = Math.Max(10, historySeconds);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == TempestTelemetry.Name && instrument.Name == "tasktempest.jobs.ended")
                listener.EnableMeasurementEvents(instrument, this);
        };
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) =>
        {
            var self = (DashboardSampler)state!;
            bool success = false, ours = self._engines is null;
            foreach (var tag in tags)
            {
                if (tag.Key == "tasktempest.status") success = tag.Value is "success";
                else if (tag.Key == "tasktempest.engine" && !ours) ours = tag.Value is string name && self._engines!.Contains(name);
            }
            if (!ours) return;
            if (success) Interlocked.Add(ref self._succeeded, value);
            else Interlocked.Add(ref self._failed, value);
        });
        _listener.Start();
        _timer = time.CreateTimer(static s => _ = ((DashboardSampler)s!).SampleAsync(), this, TimeSpan.Zero, TimeSpan.FromSeconds(1));
    }

    /// <summary>Jobs of the dashboard's engines ended successfully in this process since the dashboard started.</summary>
    public long Succeeded => Interlocked.Read(ref _succeeded);

    /// <summary>Jobs ended otherwise (failure, timeout, aborted) in this process since the dashboard started.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    public IReadOnlyList<SampleDto> Series()
    {
        lock (_samples) return [.. _samples];
    }

    public DateTimeOffset? FirstSeenRunning(TempestJobInfo job) =>
        job.Lease is { } lease && _firstSeenRunning.TryGetValue(Key(job.Id, lease), out var seen) ? seen : null;

    private static string Key(string id, TempestLease lease) => id + "\n" + lease.Owner + "\n" + lease.Token;

    private async Task SampleAsync()
    {
        // A slow queue never gets a second sampler call stacked on the first.
        if (Interlocked.Exchange(ref _sampling, 1) == 1) return;
        try
        {
            long succeeded = Succeeded, failed = Failed;
            int newSucceeded = (int)(succeeded - _lastSucceeded), newFailed = (int)(failed - _lastFailed);
            _lastSucceeded = succeeded;
            _lastFailed = failed;
            long? waiting = null, running = null;
            try
            {
                var counts = await _inspector.GetCountsAsync().ConfigureAwait(false);
                waiting = counts.Ready + counts.Scheduled.GetValueOrDefault() + counts.Retrying.GetValueOrDefault();
                running = counts.Running;
                if (counts.Running is not 0) await TrackRunningAsync().ConfigureAwait(false);
                else _firstSeenRunning.Clear();
            }
            catch (Exception)
            {
                // A queue that fails (or was disposed before the app stopped) costs the sample its depth, nothing more:
                // the overview reports the queue's error on its own call, and a timer callback must not throw.
            }
            var sample = new SampleDto(_time.GetUtcNow().ToUnixTimeMilliseconds(), newSucceeded, newFailed, waiting, running);
            lock (_samples)
            {
                _samples.Enqueue(sample);
                while (_samples.Count > _capacity) _samples.Dequeue();
            }
        }
        finally
        {
            Volatile.Write(ref _sampling, 0);
        }
    }

    private async Task TrackRunningAsync()
    {
        var now = _time.GetUtcNow();
        var running = await _inspector.ListAsync(TempestJobState.Running, 0, 500).ConfigureAwait(false);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var job in running)
        {
            if (job.Lease is not { } lease) continue;
            string key = Key(job.Id, lease);
            keys.Add(key);
            _firstSeenRunning.TryAdd(key, now);
        }
        foreach (var key in _firstSeenRunning.Keys)
            if (!keys.Contains(key)) _firstSeenRunning.TryRemove(key, out _);
    }

    public void Dispose()
    {
        _timer.Dispose();
        _listener.Dispose();
    }
}
