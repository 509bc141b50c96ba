using System.ComponentModel;
using System.Text.Json;

namespace TaskTempest;

/// <summary>
/// One job: the original's <c>[task_id, task_class_name, args...]</c>. The generator emits a sealed
/// subclass per task that carries the arguments as typed fields (no <c>object[]</c>, no boxing) and
/// knows how to create the task, call its <c>Process</c> method and write itself to the wire.
/// </summary>
public abstract class TempestMessage
{
    /// <summary>Creates a message for the task named <paramref name="taskName"/> on the wire.</summary>
    protected TempestMessage(string taskName) => TaskName = taskName;

    /// <summary>The message id: assigned at submit (or when a message without one is first read) and
    /// never changed on redelivery. <see langword="null"/> only before submit.</summary>
    public string? Id { get; internal set; }

    /// <summary>Set by the parser when the text had no id and one was made for it.</summary>
    internal bool IdWasAssigned { get; set; }

    /// <summary>Whether the run that just failed will be retried (<see cref="TempestTask.WillRetry"/>); set before its callbacks.</summary>
    internal bool WillRetry { get; set; }

    /// <summary>The consumer span of the run in progress, while somebody listens (Telemetry/RunTelemetry.cs).</summary>
    internal System.Diagnostics.Activity? Activity
    {
        get => _delivery?.Activity;
        set => Delivery(value is not null)?.Activity = value;
    }

    /// <summary>The task's name on the wire (its class name unless set in <see cref="TempestTaskAttribute"/>).</summary>
    public string TaskName { get; }

    /// <summary>Runs started, this one included: 1 on the first run, 2 on the next (after a failure, an abort
    /// at shutdown or an expired lease). A message fetched and put back unstarted does not count. Queues that
    /// store bytes keep it beside the message (a column, or the envelope's <c>attempt</c>).</summary>
    public int Attempt { get; set; }

    /// <summary>Delivery metadata (the other two counts, run-at, named queue, priority, unique key, last error,
    /// trace context); <see langword="null"/> means every default, which is what a plain submit carries.</summary>
    public Queues.TempestEnvelope? Envelope
    {
        get => _delivery?.Envelope;
        set => Delivery(value is not null)?.Envelope = value;
    }

    /// <summary>The delivery's lease on a <see cref="Queues.ILeasingTempestQueue"/> (owner, token, until); null elsewhere.</summary>
    [EditorBrowsable(EditorBrowsableState.Advanced)]
    public Queues.TempestLease? Lease
    {
        get => _delivery?.Lease;
        set => Delivery(value is not null)?.Lease = value;
    }

    /// <summary>Queue-specific delivery state (a list element, a row id...) that the queue needs to
    /// acknowledge, return or dead-letter this delivery. The engine carries it and never reads it.</summary>
    [EditorBrowsable(EditorBrowsableState.Advanced)]
    public object? Receipt
    {
        get => _delivery?.Receipt;
        set => Delivery(value is not null)?.Receipt = value;
    }

    // The envelope, the lease, the receipt and the run's span share one object, made only when one is set: a plain
    // submit's message is no bigger than before envelopes (measured in bytes per job by the throughput harness).
    private DeliveryState? _delivery;

    private DeliveryState? Delivery(bool create) => create ? _delivery ??= new DeliveryState() : _delivery;

    private sealed class DeliveryState
    {
        public Queues.TempestEnvelope? Envelope;
        public Queues.TempestLease? Lease;
        public object? Receipt;
        public System.Diagnostics.Activity? Activity;
    }

    /// <summary>
    /// Creates the task instance that will process this message (one per job). A task whose constructor
    /// takes services gets them from <paramref name="services"/>, the job's own DI scope.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected internal abstract TempestTask CreateTask(IServiceProvider? services);

    /// <summary>Whether the task's constructor takes services, so the job needs a DI scope.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected internal virtual bool RequiresServices => false;

    /// <summary>Calls the task's <c>Process</c> method with this message's arguments.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected internal abstract ValueTask InvokeAsync(TempestTask task, CancellationToken cancellationToken);

    /// <summary>The task's timeout (<see cref="TempestTaskAttribute.TimeoutSeconds"/>), or <see langword="null"/> for none.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected internal virtual TimeSpan? Timeout => null;

    /// <summary>The task's <see cref="TempestTaskAttribute.Retries"/>: how many times a failed or timed-out job runs again.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected internal virtual int Retries => 0;

    /// <summary>How long to wait before the next attempt, after attempt <paramref name="attempt"/> (1 for the first)
    /// failed with <paramref name="exception"/>: the task's <see cref="RetryBackoffAttribute"/> method, else
    /// <see cref="TempestBackoff.Default"/>.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected internal virtual TimeSpan RetryDelay(int attempt, Exception? exception) => TempestBackoff.Default(attempt);

    /// <summary>
    /// Runs the task's callbacks for <paramref name="status"/> (after-success, after-failure given
    /// <paramref name="exception"/>, after-timeout) in declared order, base class first, then, when a failed or
    /// timed-out job will not run again (<see cref="TempestTask.WillRetry"/> is false), its after-retries-exhausted
    /// callbacks. Each runs on its own: one that throws is handed to <paramref name="onFailure"/> and the next still runs.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected internal virtual void RunCallbacks(TempestTask task, TempestTaskStatus status, Exception? exception, TempestCallbackFailure onFailure)
    {
    }

    /// <summary>Whether the task has callbacks for <see cref="RunCallbacks"/> to run (the generator overrides both).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected internal virtual bool HasCallbacks => false;

    /// <summary>Writes the arguments as the JSON array elements that follow the id and the task name.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected internal abstract void WriteArguments(Utf8JsonWriter writer);

    /// <summary>Whether the task sets any of the submit defaults below (so that a plain submit still sets no envelope otherwise).</summary>
    protected internal virtual bool HasSubmitDefaults => false;

    /// <summary>The task's named queue (<see cref="TempestTaskAttribute.Queue"/>); null: <c>default</c>.</summary>
    protected internal virtual string? DefaultQueue => null;

    /// <summary>The task's priority (<see cref="TempestTaskAttribute.Priority"/>).</summary>
    protected internal virtual int DefaultPriority => 0;

    /// <summary>The task's unique scope (<see cref="TempestTaskAttribute.Unique"/>), for its computed key or one given at submit.</summary>
    protected internal virtual Queues.TempestUniqueScope DefaultUniqueScope => Queues.TempestUniqueScope.None;

    /// <summary>The task's unique period (<see cref="TempestTaskAttribute.UniqueForSeconds"/>).</summary>
    protected internal virtual TimeSpan? DefaultUniqueFor => null;

    /// <summary>Writes the arguments that make the job's unique key, as JSON values, and returns true; false (writing
    /// nothing) for a task without a computed key. The key is the task's wire name, a colon, and this JSON array.</summary>
    protected internal virtual bool WriteUniqueArguments(Utf8JsonWriter writer) => false;

    /// <summary>The message in the wire format, e.g. <c>["k3f9a2c1x7q0m4bd","Adder",2,5]</c>.</summary>
    public string ToJson() => Wire.TempestWire.ToJson(this);

    /// <summary>The message with its attempt and envelope, e.g. <c>{"v":1,"attempt":2,"m":["k3f9a2c1x7q0m4bd","Adder",2,5]}</c>;
    /// the bare array when there is nothing to add.</summary>
    public string ToEnvelopeJson() => Wire.TempestWire.ToEnvelopeJson(this);

    /// <inheritdoc/>
    public override string ToString() => ToJson();
}
