using System.Diagnostics;
using System.Diagnostics.Metrics;
using TaskTempest.Queues;

namespace TaskTempest.Telemetry;

/// <summary>
/// One run's traces and metrics around its jobs (<see cref="TempestTelemetry"/> holds the source, the meter and the
/// names). Every call first asks whether anybody listens, so a run without listeners allocates nothing here and
/// reads no clock: a job's duration is the one the engine measures for its log line.
/// </summary>
internal sealed class RunTelemetry
{
    private readonly string _engine;
    private readonly Func<Measurement<long>?>? _depth;

    public RunTelemetry(string engine, ITempestQueue queue)
    {
        _engine = engine;
        if (queue is ICountingTempestQueue counting)
        {
            _depth = () => CountDepth(counting);
            TempestTelemetry.AddDepth(_depth);
        }
    }

    /// <summary>At the run's end: its queue is no longer counted.</summary>
    public void End()
    {
        if (_depth is not null) TempestTelemetry.RemoveDepth(_depth);
    }

    // A collection waits briefly for a server's count; a queue that does not answer in time is left out of this one.
    private static readonly TimeSpan DepthWait = TimeSpan.FromSeconds(2);

    private Measurement<long>? CountDepth(ICountingTempestQueue queue)
    {
        try
        {
            var counted = queue.CountAsync();
            long depth = counted.IsCompletedSuccessfully ? counted.Result
                : counted.AsTask().Wait(DepthWait) ? counted.Result : -1;
            return depth < 0 ? null : new Measurement<long>(depth, new KeyValuePair<string, object?>(TempestTelemetry.EngineTag, _engine));
        }
        catch (Exception)
        {
            return null; // an unreachable queue is the health check's and the engine's log's business, not a metric's
        }
    }

    /// <summary>A job's run starts: the counters, and its consumer span (a child of the submit's, through the envelope's
    /// traceparent), kept on the message until its end. The caller's current activity is left as it was.</summary>
    public void Started(TempestMessage message)
    {
        if (TempestTelemetry.JobsStarted.Enabled)
            TempestTelemetry.JobsStarted.Add(1, Tags(message));
        if (TempestTelemetry.JobsInFlight.Enabled)
            TempestTelemetry.JobsInFlight.Add(1, new KeyValuePair<string, object?>(TempestTelemetry.EngineTag, _engine));
        if (TempestTelemetry.Source.HasListeners()) message.Activity = StartConsumer(message);
    }

    private Activity? StartConsumer(TempestMessage message)
    {
        var previous = Activity.Current;
        ActivityContext.TryParse(message.Envelope?.TraceParent, null, isRemote: true, out var parent);
        string queue = QueueOf(message);
        var activity = TempestTelemetry.Source.StartActivity("process " + queue, ActivityKind.Consumer, parent);
        Activity.Current = previous; // the dispatcher makes it current around Process only (a fiber's loop runs many)
        if (activity is null) return null;
        if (activity.IsAllDataRequested)
        {
            activity.SetTag(TempestTelemetry.MessagingSystem, TempestTelemetry.MessagingSystemValue);
            activity.SetTag(TempestTelemetry.OperationType, "process");
            activity.SetTag(TempestTelemetry.OperationName, "process");
            activity.SetTag(TempestTelemetry.DestinationName, queue);
            activity.SetTag(TempestTelemetry.MessageId, message.Id);
            activity.SetTag(TempestTelemetry.EngineTag, _engine);
            activity.SetTag(TempestTelemetry.TaskTag, message.TaskName);
            activity.SetTag(TempestTelemetry.AttemptTag, message.Attempt);
        }
        return activity;
    }

    /// <summary>Makes the job's span current for the code of its <c>Process</c> (and what it awaits); dispose to restore.</summary>
    public static Current Enter(TempestMessage message)
    {
        if (message.Activity is not { } activity) return default;
        var previous = Activity.Current;
        Activity.Current = activity;
        return new Current(previous, true);
    }

    /// <summary>What <see cref="Enter"/> replaced.</summary>
    public readonly struct Current(Activity? previous, bool entered) : IDisposable
    {
        public void Dispose()
        {
            if (entered) Activity.Current = previous;
        }
    }

    /// <summary>A job's run ended with <paramref name="status"/>: the counters, the duration, and its span's end.</summary>
    public void Ended(TempestMessage message, TempestTaskStatus status, Exception? error, double seconds)
    {
        string statusText = StatusText(status);
        if (TempestTelemetry.JobsEnded.Enabled || TempestTelemetry.JobDuration.Enabled)
        {
            var tags = Tags(message);
            tags.Add(TempestTelemetry.StatusTag, statusText);
            TempestTelemetry.JobsEnded.Add(1, tags);
            TempestTelemetry.JobDuration.Record(seconds, tags);
        }
        LeftFlight();
        StopConsumer(message, statusText, status == TempestTaskStatus.Success ? null : error, status == TempestTaskStatus.Timeout ? "timeout" : null);
    }

    /// <summary>Shutdown gave up on a running job: it ends <c>aborted</c> (its message goes back to the queue).</summary>
    public void Aborted(TempestMessage message)
    {
        if (TempestTelemetry.JobsEnded.Enabled)
        {
            var tags = Tags(message);
            tags.Add(TempestTelemetry.StatusTag, "aborted");
            TempestTelemetry.JobsEnded.Add(1, tags);
        }
        LeftFlight();
        StopConsumer(message, "aborted", null, "aborted");
    }

    private void LeftFlight()
    {
        if (TempestTelemetry.JobsInFlight.Enabled)
            TempestTelemetry.JobsInFlight.Add(-1, new KeyValuePair<string, object?>(TempestTelemetry.EngineTag, _engine));
    }

    private static void StopConsumer(TempestMessage message, string status, Exception? error, string? errorType)
    {
        if (message.Activity is not { } activity) return;
        message.Activity = null;
        if (activity.IsAllDataRequested) activity.SetTag(TempestTelemetry.StatusTag, status);
        if (error is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, error.Message);
            activity.SetTag(TempestTelemetry.ErrorType, errorType ?? error.GetType().FullName);
            activity.AddException(error);
        }
        else if (errorType is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, status);
            activity.SetTag(TempestTelemetry.ErrorType, errorType);
        }
        activity.Stop();
    }

    /// <summary>A failed run will run again.</summary>
    public void Retried(TempestMessage message)
    {
        if (TempestTelemetry.JobRetries.Enabled) TempestTelemetry.JobRetries.Add(1, Tags(message));
    }

    /// <summary>Jobs went to the dead letters; <paramref name="task"/> is null where it is not known (unreadable text,
    /// a rescue's count).</summary>
    public void DeadLettered(string? task, string reason, long count = 1)
    {
        if (!TempestTelemetry.JobsDeadLettered.Enabled || count <= 0) return;
        TempestTelemetry.JobsDeadLettered.Add(count,
            new KeyValuePair<string, object?>(TempestTelemetry.EngineTag, _engine),
            new KeyValuePair<string, object?>(TempestTelemetry.TaskTag, task ?? "(unknown)"),
            new KeyValuePair<string, object?>(TempestTelemetry.ReasonTag, reason));
    }

    /// <summary>Leases found lost (by a heartbeat, or by the queue refusing an outcome).</summary>
    public void LeasesLost(int count)
    {
        if (TempestTelemetry.LeasesLost.Enabled && count > 0)
            TempestTelemetry.LeasesLost.Add(count, new KeyValuePair<string, object?>(TempestTelemetry.EngineTag, _engine));
    }

    private TagList Tags(TempestMessage message) => new()
    {
        { TempestTelemetry.EngineTag, _engine },
        { TempestTelemetry.TaskTag, message.TaskName },
        { TempestTelemetry.DestinationName, QueueOf(message) },
    };

    internal static string QueueOf(TempestMessage message) => message.Envelope?.Queue ?? TempestQueueNames.Default;

    private static string StatusText(TempestTaskStatus status) => status switch
    {
        TempestTaskStatus.Success => "success",
        TempestTaskStatus.Failure => "failure",
        TempestTaskStatus.Timeout => "timeout",
        _ => "aborted",
    };
}
