using System.Diagnostics;
using TaskTempest.Queues;

namespace TaskTempest.Telemetry;

/// <summary>
/// The producer's side of a job's trace: a <c>send {queue}</c> span around a submit (one per batch flush) while somebody
/// listens, and the trace context the job carries in its envelope's <c>traceparent</c> so that its consumer spans are
/// children of the submit's (or, with nobody listening to TaskTempest, of the caller's own span, such as an ASP.NET
/// request's). Nothing happens, and nothing is allocated, when neither exists.
/// </summary>
internal static class SubmitTelemetry
{
    /// <summary>Whether a submit now has anything to trace: a listener, or a current span to carry on.</summary>
    public static bool Active => TempestTelemetry.Source.HasListeners() || Activity.Current is not null;

    /// <summary>Starts the submit's span for <paramref name="message"/> (going to <paramref name="queue"/>) and puts the
    /// trace context in its envelope; null when nobody listens (the caller's context, if any, is carried all the same).</summary>
    public static Activity? Start(TempestMessage message, string queue, string engine)
    {
        var activity = StartSpan(queue, engine, message.TaskName, message.Id, batchCount: 0);
        Carry(message, activity ?? Activity.Current);
        return activity;
    }

    /// <summary>Starts a batch flush's one span and puts its context in every message that has none yet.</summary>
    public static Activity? StartBatch(IReadOnlyList<TempestMessage> messages, string engine)
    {
        string queue = messages.Count > 0 ? RunTelemetry.QueueOf(messages[0]) : TempestQueueNames.Default;
        string? task = messages.Count > 0 && messages.All(m => m.TaskName == messages[0].TaskName) ? messages[0].TaskName : null;
        var activity = StartSpan(queue, engine, task, id: null, messages.Count);
        var context = activity ?? Activity.Current;
        if (context is not null)
        {
            foreach (var message in messages) Carry(message, context);
        }
        return activity;
    }

    private static Activity? StartSpan(string queue, string engine, string? task, string? id, int batchCount)
    {
        if (!TempestTelemetry.Source.HasListeners()) return null;
        var activity = TempestTelemetry.Source.StartActivity("send " + queue, ActivityKind.Producer);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(TempestTelemetry.MessagingSystem, TempestTelemetry.MessagingSystemValue);
            activity.SetTag(TempestTelemetry.OperationType, "send");
            activity.SetTag(TempestTelemetry.OperationName, "send");
            activity.SetTag(TempestTelemetry.DestinationName, queue);
            activity.SetTag(TempestTelemetry.EngineTag, engine);
            if (task is not null) activity.SetTag(TempestTelemetry.TaskTag, task);
            if (id is not null) activity.SetTag(TempestTelemetry.MessageId, id);
            if (batchCount > 0) activity.SetTag(TempestTelemetry.BatchCount, batchCount);
        }
        return activity;
    }

    // Only W3C ids travel: a hierarchical id is no traceparent (the wire format would drop it anyway).
    private static void Carry(TempestMessage message, Activity? context)
    {
        if (context is not { IdFormat: ActivityIdFormat.W3C, Id: { } traceParent }) return;
        var envelope = message.Envelope ??= new TempestEnvelope();
        envelope.TraceParent ??= traceParent; // a retried or requeued job keeps the submit's context
    }

    /// <summary>The submit returned: the counter, and the span's end (a duplicate of a unique job says so).</summary>
    public static void Stop(Activity? activity, TempestMessage message, string engine, bool duplicate)
    {
        if (!duplicate && TempestTelemetry.JobsSubmitted.Enabled)
            TempestTelemetry.JobsSubmitted.Add(1,
                new KeyValuePair<string, object?>(TempestTelemetry.EngineTag, engine),
                new KeyValuePair<string, object?>(TempestTelemetry.TaskTag, message.TaskName),
                new KeyValuePair<string, object?>(TempestTelemetry.DestinationName, RunTelemetry.QueueOf(message)));
        if (activity is null) return;
        if (duplicate) activity.SetTag(TempestTelemetry.DuplicateTag, true);
        activity.Stop();
    }

    /// <summary>A batch's flush returned: each job counted, the span ended.</summary>
    public static void StopBatch(Activity? activity, IReadOnlyList<TempestMessage> messages, string engine)
    {
        if (TempestTelemetry.JobsSubmitted.Enabled)
        {
            foreach (var message in messages) Stop(null, message, engine, duplicate: false);
        }
        activity?.Stop();
    }

    /// <summary>The submit threw: the span ends with the error (the caller sees the exception).</summary>
    public static void Fail(Activity? activity, Exception error)
    {
        if (activity is null) return;
        activity.SetStatus(ActivityStatusCode.Error, error.Message);
        activity.SetTag(TempestTelemetry.ErrorType, error.GetType().FullName);
        activity.AddException(error);
        activity.Stop();
    }
}
