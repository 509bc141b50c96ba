using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace TaskTempest;

/// <summary>
/// The names under which engines publish traces and metrics, with no OpenTelemetry dependency: an
/// <see cref="ActivitySource"/> and a <see cref="Meter"/>, both named <see cref="Name"/>. Listen with
/// <c>AddSource(TempestTelemetry.Name)</c> and <c>AddMeter(TempestTelemetry.Name)</c>. Nothing is allocated and no
/// clock is read for them while nobody listens.
/// </summary>
/// <remarks>
/// Spans follow OpenTelemetry's messaging conventions: a producer span <c>send {queue}</c> around each submit (one per
/// batch flush), whose context travels in the job's envelope (<c>traceparent</c>) through every queue, and a consumer span
/// <c>process {queue}</c> around each run of the job, its child. Metrics: <c>tasktempest.jobs.submitted</c>,
/// <c>tasktempest.jobs.started</c>, <c>tasktempest.jobs.ended</c> (by status), <c>tasktempest.job.duration</c> (seconds),
/// <c>tasktempest.jobs.in_flight</c>, <c>tasktempest.queue.depth</c> (where the queue can count),
/// <c>tasktempest.jobs.retries</c>, <c>tasktempest.jobs.dead_lettered</c> and <c>tasktempest.leases.lost</c>, tagged with
/// the engine (<c>tasktempest.engine</c>), the task (<c>tasktempest.task</c>) and the named queue
/// (<c>messaging.destination.name</c>) where they apply.
/// </remarks>
public static class TempestTelemetry
{
    /// <summary>The name of the engines' <see cref="ActivitySource"/> and of their <see cref="Meter"/>.</summary>
    public const string Name = "TaskTempest";

    internal static readonly ActivitySource Source = new(Name);
    internal static readonly Meter Meter = new(Name);

    internal static readonly Counter<long> JobsSubmitted = Meter.CreateCounter<long>(
        "tasktempest.jobs.submitted", "{job}", "Jobs handed to the queue by a submit (a duplicate of a unique job is not counted).");
    internal static readonly Counter<long> JobsStarted = Meter.CreateCounter<long>(
        "tasktempest.jobs.started", "{job}", "Runs of jobs started.");
    internal static readonly Counter<long> JobsEnded = Meter.CreateCounter<long>(
        "tasktempest.jobs.ended", "{job}", "Runs of jobs ended, by status: success, failure, timeout or aborted.");
    internal static readonly Histogram<double> JobDuration = Meter.CreateHistogram<double>(
        "tasktempest.job.duration", "s", "How long a run of a job took, from its start to its end, by status.");
    internal static readonly UpDownCounter<long> JobsInFlight = Meter.CreateUpDownCounter<long>(
        "tasktempest.jobs.in_flight", "{job}", "Jobs running now.");
    internal static readonly Counter<long> JobRetries = Meter.CreateCounter<long>(
        "tasktempest.jobs.retries", "{job}", "Failed or timed-out runs that will run again at a later run-at.");
    internal static readonly Counter<long> JobsDeadLettered = Meter.CreateCounter<long>(
        "tasktempest.jobs.dead_lettered", "{job}", "Jobs sent to the dead letters: out of attempts, unreadable, or their lease expired too often.");
    internal static readonly Counter<long> LeasesLost = Meter.CreateCounter<long>(
        "tasktempest.leases.lost", "{lease}", "Leases a running worker found taken from it (the job may run again elsewhere).");

    // The depth gauge asks each running engine's queue when a collection happens, never in between.
    private static readonly List<Func<Measurement<long>?>> s_depths = [];
    private static readonly Lock s_depthsGate = new();

    internal static readonly ObservableGauge<long> QueueDepth = Meter.CreateObservableGauge(
        "tasktempest.queue.depth", ObserveDepths, "{job}", "Jobs waiting in the queue an engine consumes (due and delayed), where the queue can count them.");

    internal static void AddDepth(Func<Measurement<long>?> observe)
    {
        lock (s_depthsGate) s_depths.Add(observe);
    }

    internal static void RemoveDepth(Func<Measurement<long>?> observe)
    {
        lock (s_depthsGate) s_depths.Remove(observe);
    }

    private static IEnumerable<Measurement<long>> ObserveDepths()
    {
        Func<Measurement<long>?>[] observers;
        lock (s_depthsGate) observers = [.. s_depths];
        var measurements = new List<Measurement<long>>(observers.Length);
        foreach (var observe in observers)
        {
            if (observe() is { } measurement) measurements.Add(measurement);
        }
        return measurements;
    }

    // Tag names: OpenTelemetry's messaging conventions where one fits, tasktempest.* for the rest.
    internal const string MessagingSystem = "messaging.system";
    internal const string MessagingSystemValue = "tasktempest";
    internal const string OperationType = "messaging.operation.type";
    internal const string OperationName = "messaging.operation.name";
    internal const string DestinationName = "messaging.destination.name";
    internal const string MessageId = "messaging.message.id";
    internal const string BatchCount = "messaging.batch.message_count";
    internal const string ErrorType = "error.type";
    internal const string EngineTag = "tasktempest.engine";
    internal const string TaskTag = "tasktempest.task";
    internal const string StatusTag = "tasktempest.status";
    internal const string AttemptTag = "tasktempest.attempt";
    internal const string DuplicateTag = "tasktempest.duplicate";
    internal const string ReasonTag = "tasktempest.reason";
}
