namespace TaskTempest.Queues;

/// <summary>
/// A message's delivery metadata beside its arguments: what a durable queue stores with it. In process a
/// message carries one only when something is set (<see cref="TempestMessage.Envelope"/> is null for a
/// plain submit, which means all defaults), so a plain submit costs what it did before envelopes.
/// Queues on a server map these fields to columns or hash fields; the one serialized form is
/// <see cref="Wire.TempestWire.ToEnvelopeJson"/>, a versioned JSON object around the bare message.
/// </summary>
/// <remarks>
/// The three counts are kept apart on purpose: <see cref="TempestMessage.Attempt"/> (runs started),
/// <see cref="Failures"/> (runs that failed or timed out, counted against a task's retries) and
/// <see cref="LeaseExpiries"/> (leases that ran out, counted against the queue's poison threshold).
/// A return at shutdown and a fetched message that never started count against neither.
/// </remarks>
public sealed class TempestEnvelope
{
    /// <summary>Runs that ended in failure or timeout so far.</summary>
    public int Failures { get; set; }

    /// <summary>Leases that expired while this message was running (its worker died or stalled) so far.</summary>
    public int LeaseExpiries { get; set; }

    /// <summary>The most runs this message may have (retries included); null: the task's own setting.</summary>
    public int? MaxAttempts { get; set; }

    /// <summary>Not before this time (delayed and retried jobs); null: at once. Server queues compare it with the server's clock.</summary>
    public DateTimeOffset? RunAt { get; set; }

    /// <summary>The named queue; null: <c>default</c>.</summary>
    public string? Queue { get; set; }

    /// <summary>Priority within the named queue; 0 is the default, higher runs first where the queue orders by it.</summary>
    public int Priority { get; set; }

    /// <summary>A key that at most one job in the queue may hold at a time (within <see cref="UniqueScope"/>); null: none.
    /// Generated and submitted keys start with the task's wire name and a colon, so two tasks never share one.</summary>
    public string? UniqueKey { get; set; }

    /// <summary>How long <see cref="UniqueKey"/> keeps a second job out; <see cref="TempestUniqueScope.None"/> with a key set
    /// means <see cref="TempestUniqueScope.QueuedOrRunning"/>.</summary>
    public TempestUniqueScope UniqueScope { get; set; }

    /// <summary>For <see cref="TempestUniqueScope.Period"/>: how long from the submit the key holds.</summary>
    public TimeSpan? UniqueFor { get; set; }

    /// <summary>The scope the queue enforces: <see cref="UniqueScope"/>, with <see cref="TempestUniqueScope.QueuedOrRunning"/>
    /// for a key without one, and <see cref="TempestUniqueScope.None"/> without a key.</summary>
    public TempestUniqueScope EffectiveUniqueScope =>
        UniqueKey is null ? TempestUniqueScope.None
        : UniqueScope == TempestUniqueScope.None ? TempestUniqueScope.QueuedOrRunning
        : UniqueScope;

    /// <summary>The last failure's exception type and cut message; null when no run failed.</summary>
    public TempestError? LastError { get; set; }

    /// <summary>The W3C <c>traceparent</c> of the submit, so the job's span links to it; null: none.</summary>
    public string? TraceParent { get; set; }

    /// <summary>Whether every field has its default (then a message needs no envelope at all).</summary>
    public bool IsDefault =>
        Failures == 0 && LeaseExpiries == 0 && MaxAttempts is null && RunAt is null && Queue is null && Priority == 0
        && UniqueKey is null && UniqueScope == TempestUniqueScope.None && UniqueFor is null && LastError is null && TraceParent is null;

    /// <summary>A copy (queues that hand out what they store keep their own).</summary>
    public TempestEnvelope Clone() => new()
    {
        Failures = Failures, LeaseExpiries = LeaseExpiries, MaxAttempts = MaxAttempts, RunAt = RunAt, Queue = Queue,
        Priority = Priority, UniqueKey = UniqueKey, UniqueScope = UniqueScope, UniqueFor = UniqueFor, LastError = LastError,
        TraceParent = TraceParent,
    };
}

/// <summary>A failure as a queue keeps it: the exception's type name and its message, escaped and cut so that it is safe to log.</summary>
/// <param name="Type">The exception's full type name, e.g. <c>System.InvalidOperationException</c>.</param>
/// <param name="Message">The exception's message, escaped and cut at <see cref="MaxMessageLength"/> characters.</param>
public sealed record TempestError(string Type, string Message)
{
    /// <summary>The longest message kept.</summary>
    public const int MaxMessageLength = 500;

    /// <summary>The error for <paramref name="exception"/>.</summary>
    public static TempestError From(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        string message;
        try { message = exception.Message; }
        catch (Exception) { message = "(the exception's Message threw)"; }
        return new TempestError(exception.GetType().FullName ?? exception.GetType().Name, Logging.LogText.Escape(message, MaxMessageLength));
    }
}
