using System.Text;
using System.Text.Json;
using TaskTempest.Queues;
using TaskTempest.Wire;

namespace TaskTempest.Testing;

/// <summary>
/// A leasing queue in process, on a <see cref="TimeProvider"/>: the reference implementation of the whole queue
/// contract (<see cref="ILeasingTempestQueue"/>, <see cref="ICountingTempestQueue"/>, <see cref="ITempestQueueInspector"/>),
/// with the semantics the server queues (PostgreSQL, Redis) have, and no server.
/// </summary>
/// <remarks>
/// <para>
/// It is for tests: of engines, and of the heartbeat, stale-token and recovery logic, driven by a
/// <c>FakeTimeProvider</c>. Run-at and lease-until are compared with the given clock, so advancing a fake clock past
/// a run-at wakes a waiting claim, and past a lease's end lets <see cref="RescueExpiredAsync"/> take the job back.
/// It keeps what a server keeps, one job per id: the message text (written once at enqueue, as a server stores it),
/// the three counts, the state, the lease, the dead letters, the recent failures and the registry of workers.
/// Every delivery is a new <see cref="RawTempestMessage"/> of that text, with its attempt, envelope and lease set
/// beside it, as a server queue hands out a row; the engine parses it.
/// </para>
/// <para>
/// Process-local: the jobs live as long as the queue object. Thread-safe (one lock guards everything); every call
/// completes synchronously except a claim that waits. The calls do not look at their cancellation token, except a
/// claim, which throws <see cref="OperationCanceledException"/> when it is cancelled before or while it waits.
/// </para>
/// </remarks>
public sealed class TempestLeasingMemoryQueue : ILeasingTempestQueue, ICountingTempestQueue, ITempestQueueInspector, ITempestScheduleStore
{
    /// <summary>The lease owner of deliveries taken through <see cref="DequeueAsync"/> and <see cref="DequeueBatchAsync(int, CancellationToken)"/>.</summary>
    public const string AnonymousOwner = "(dequeue)";

    // Timers: at least this long, since the system timer cuts a due time to whole milliseconds and would fire
    // early again and again; at most this long, since it refuses about 49 days (firing early is harmless).
    private static readonly TimeSpan MinTimerDue = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan MaxTimerDue = TimeSpan.FromDays(1);

    private readonly TimeProvider _time;
    private readonly TimeSpan _leaseDuration;
    private readonly int _maxLeaseExpiries;
    private readonly int _recentFailureLimit;
    private readonly TimeSpan _recentFailureMaxAge;
    private readonly int _deadLetterLimit;

    // One lock for everything: a job moves between the structures below in one step, as a server moves a row
    // in one transaction. The time provider is never called under it except for the time, because a fake
    // clock runs other timers' callbacks (engine code) on the thread that arms a timer.
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Job> _jobs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedSet<Job>> _ready = new(StringComparer.Ordinal); // by named queue
    private int _readyCount;
    private readonly Dictionary<string, UniqueHold> _unique = new(StringComparer.Ordinal); // held unique keys
    private readonly SortedDictionary<string, TempestScheduleInfo> _schedules = new(StringComparer.Ordinal);
    private readonly SortedSet<Job> _delayed = new(DelayedOrder.Instance); // scheduled and retrying, by run-at
    private readonly HashSet<Job> _running = [];
    private readonly SortedSet<Job> _dead = new(DeadOrder.Instance);
    private readonly Queue<TempestFailureRecord> _failures = new(); // oldest first
    private readonly Dictionary<string, TempestWorkerStatus> _workers = new(StringComparer.Ordinal);
    private int _scheduledCount, _retryingCount;
    private long _lastSequence, _lastToken, _lastDeadSequence;

    // Waiting claims wait on this; it is completed (and replaced) when a job becomes ready, and only if a claim took it.
    private TaskCompletionSource _signal = NewSignal();
    private bool _signalTaken;
    private bool _timerStale; // the earliest run-at may have changed: the caller refreshes the timer after the lock

    // TaskTempest.Testing's manual mode: told of every job added and outcome recorded, and waiting for the queue to be idle.
    private ILeasingQueueObserver? _observer;
    private List<(IReadOnlyCollection<string> Queues, TaskCompletionSource Idle)>? _idleWaiters;

    // One timer, at the earliest run-at of the delayed jobs; armed outside _lock, under _timerLock.
    private readonly Lock _timerLock = new();
    private readonly ITimer _timer;
    private DateTimeOffset? _timerTarget;

    /// <summary>Creates an empty queue.</summary>
    /// <param name="timeProvider">The queue's clock (the server's clock, for a server queue); the system clock by default.</param>
    /// <param name="options">The lease duration, the poison threshold and the caps; the defaults by default.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is not positive.</exception>
    public TempestLeasingMemoryQueue(TimeProvider? timeProvider = null, TempestLeasingMemoryQueueOptions? options = null)
    {
        options ??= new TempestLeasingMemoryQueueOptions();
        if (options.LeaseDuration <= TimeSpan.Zero) throw NotPositive(nameof(options.LeaseDuration));
        if (options.MaxLeaseExpiries < 1) throw NotPositive(nameof(options.MaxLeaseExpiries));
        if (options.RecentFailureLimit < 1) throw NotPositive(nameof(options.RecentFailureLimit));
        if (options.RecentFailureMaxAge <= TimeSpan.Zero) throw NotPositive(nameof(options.RecentFailureMaxAge));
        if (options.DeadLetterLimit < 1) throw NotPositive(nameof(options.DeadLetterLimit));
        _time = timeProvider ?? TimeProvider.System;
        _leaseDuration = options.LeaseDuration;
        _maxLeaseExpiries = options.MaxLeaseExpiries;
        _recentFailureLimit = options.RecentFailureLimit;
        _recentFailureMaxAge = options.RecentFailureMaxAge;
        _deadLetterLimit = options.DeadLetterLimit;
        _timer = _time.CreateTimer(static state => ((TempestLeasingMemoryQueue)state!).RefreshTimer(fired: true), this,
            Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        static ArgumentOutOfRangeException NotPositive(string name) =>
            new(nameof(options), $"{nameof(TempestLeasingMemoryQueueOptions)}.{name} must be positive.");
    }

    /// <inheritdoc/>
    public TimeSpan LeaseDuration => _leaseDuration;

    /// <inheritdoc/>
    public TempestQueueFeatures Features =>
        TempestQueueFeatures.Acknowledgements | TempestQueueFeatures.Leases | TempestQueueFeatures.Delays
        | TempestQueueFeatures.Batches | TempestQueueFeatures.FifoForOneConsumer | TempestQueueFeatures.Counting
        | TempestQueueFeatures.Inspection | TempestQueueFeatures.UniqueKeys | TempestQueueFeatures.NamedQueues
        | TempestQueueFeatures.Schedules;

    // ------------------------------------------------------------------ enqueue

    /// <summary>
    /// Adds a message: scheduled if its envelope's run-at is later than now, else ready. A typed message is stored as
    /// <see cref="TempestMessage.ToEnvelopeJson"/>; a <see cref="RawTempestMessage"/> as its text, untouched.
    /// </summary>
    /// <exception cref="ArgumentException">A typed message has no id (the engine assigns it before it enqueues).</exception>
    /// <exception cref="InvalidOperationException">The queue already holds a job with this id (dead letters included).</exception>
    public ValueTask EnqueueAsync(TempestMessage message, CancellationToken cancellationToken = default)
    {
        var job = Prepare(message);
        InStep(now =>
        {
            if (_jobs.ContainsKey(job.Id)) throw Duplicate(job.Id);
            Add(job, now, message);
        });
        return default;
    }

    /// <summary>Adds a message with a unique key unless a job holds the key: then nothing is added and the holder's id comes back.</summary>
    /// <inheritdoc cref="EnqueueAsync"/>
    public ValueTask<string?> EnqueueUniqueAsync(TempestMessage message, CancellationToken cancellationToken = default)
    {
        var job = Prepare(message);
        string? holder = null;
        InStep(now =>
        {
            if (_jobs.ContainsKey(job.Id)) throw Duplicate(job.Id);
            holder = Add(job, now, message);
        });
        return new(holder);
    }

    /// <summary>Adds every message in one step: if one has no id or a taken id, none is added.</summary>
    /// <inheritdoc cref="EnqueueAsync"/>
    public ValueTask EnqueueBatchAsync(IReadOnlyList<TempestMessage> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var jobs = new Job[messages.Count];
        for (int i = 0; i < jobs.Length; i++) jobs[i] = Prepare(messages[i]); // serialized outside the lock
        InStep(now =>
        {
            var ids = new HashSet<string>(StringComparer.Ordinal);
            foreach (var job in jobs)
            {
                if (_jobs.ContainsKey(job.Id) || !ids.Add(job.Id)) throw Duplicate(job.Id);
            }
            for (int i = 0; i < jobs.Length; i++) Add(jobs[i], now, messages[i]);
        });
        return default;
    }

    /// <summary>
    /// Adds wire-format text as another program would: a bare array (<c>[null,"Adder",2,5]</c>) or an envelope
    /// (<c>{"v":1,"runAt":"...","m":[...]}</c>). Returns the id the queue knows the job by: the text's, or a new one
    /// when the text has none or cannot be read (the text is kept as it is; the engine dead-letters what it cannot run).
    /// </summary>
    /// <exception cref="InvalidOperationException">The queue already holds a job with the text's id.</exception>
    public string EnqueueRaw(string json)
    {
        var message = new RawTempestMessage(json);
        var job = Prepare(message);
        InStep(now =>
        {
            if (_jobs.ContainsKey(job.Id)) throw Duplicate(job.Id);
            Add(job, now, message);
        });
        return job.Id;
    }

    private static InvalidOperationException Duplicate(string id) => new($"The queue already holds a job with the id {id}.");

    /// <summary>The job for <paramref name="message"/>, not yet added (serializing and parsing need no lock).</summary>
    private static Job Prepare(TempestMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message is RawTempestMessage raw) return PrepareRaw(raw);
        string id = message.Id ?? throw new ArgumentException("The message has no id: the engine assigns one before it enqueues.", nameof(message));
        string text = message.ToEnvelopeJson();
        return new Job(id, text, IsEnvelopeText(text), message.TaskName, Math.Max(0, message.Attempt), message.Envelope?.Clone() ?? new TempestEnvelope());
    }

    /// <summary>
    /// Reads what a server would read from another program's text to store it: the id, the task name and the envelope
    /// (a run-at makes it scheduled). The arguments are not checked: that is the engine's, when it parses the delivery.
    /// </summary>
    private static Job PrepareRaw(RawTempestMessage raw)
    {
        var (id, taskName, attempt, envelope) = TempestWire.ReadStoredHeader(raw);
        return new Job(id, raw.Json, IsEnvelopeText(raw.Json), taskName, attempt, envelope?.Clone() ?? new TempestEnvelope());
    }

    private static bool IsEnvelopeText(string text) => text.AsSpan().TrimStart(" \t\r\n").StartsWith('{');

    /// <summary>Adds the job unless its unique key is held; returns the holder's id then (and adds nothing). The observer
    /// learns of <paramref name="message"/>, the message the job was made from, once it is added.</summary>
    private string? Add(Job job, DateTimeOffset now, TempestMessage? message)
    {
        string? holder = Add(job, now);
        if (holder is null && message is not null) _observer?.Added(message);
        return holder;
    }

    private string? Add(Job job, DateTimeOffset now)
    {
        if (job.Envelope.UniqueKey is { } key)
        {
            if (HolderOf(key, now) is { } holder) return holder;
            var scope = job.Envelope.EffectiveUniqueScope;
            _unique[key] = new UniqueHold(job.Id, scope == TempestUniqueScope.Period ? now + (job.Envelope.UniqueFor ?? TimeSpan.Zero) : null);
        }
        job.Sequence = ++_lastSequence;
        job.EnqueuedAt = now;
        _jobs.Add(job.Id, job);
        Schedule(job, TempestJobState.Scheduled, now);
        return null;
    }

    // ------------------------------------------------------------------ unique keys (under _lock)

    /// <summary>Who holds a unique key: the job it names (a period's until not yet passed), or nobody.</summary>
    private string? HolderOf(string key, DateTimeOffset now)
    {
        if (!_unique.TryGetValue(key, out var hold)) return null;
        if (hold.Until is { } until ? until > now : _jobs.ContainsKey(hold.JobId)) return hold.JobId;
        _unique.Remove(key); // a period that ended, or a job gone: free
        return null;
    }

    /// <summary>Frees the job's key if the job holds it and its scope is <paramref name="scope"/> (a period's key outlives its job).</summary>
    private void ReleaseKey(Job job, TempestUniqueScope scope)
    {
        if (job.Envelope.UniqueKey is { } key && job.Envelope.EffectiveUniqueScope == scope
            && _unique.TryGetValue(key, out var hold) && hold.JobId == job.Id && hold.Until is null)
            _unique.Remove(key);
    }

    /// <summary>A held key: the job's id, and for a period the end of it.</summary>
    private readonly record struct UniqueHold(string JobId, DateTimeOffset? Until);

    // ------------------------------------------------------------------ claim

    /// <summary>
    /// Claims one message for an anonymous owner (<see cref="AnonymousOwner"/>): used through the two-method contract,
    /// this queue still leases, so the delivery comes back unless it is recorded, heartbeated or rescued as any other.
    /// Waits until a message is due, or <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public ValueTask<TempestMessage?> DequeueAsync(CancellationToken cancellationToken)
    {
        var claim = Claim(AnonymousOwner, 1, cancellationToken);
        return claim.IsCompletedSuccessfully ? new(claim.Result[0]) : AwaitFirst(claim);

        static async ValueTask<TempestMessage?> AwaitFirst(ValueTask<IReadOnlyList<TempestMessage>> claim) =>
            (await claim.ConfigureAwait(false))[0];
    }

    /// <summary>Claims up to <paramref name="maxCount"/> messages for the anonymous owner, as <see cref="DequeueAsync"/> does.</summary>
    public ValueTask<IReadOnlyList<TempestMessage>> DequeueBatchAsync(int maxCount, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        return Claim(AnonymousOwner, maxCount, cancellationToken);
    }

    /// <summary>Claims for the anonymous owner from the named queues of <paramref name="takes"/>, in their order.</summary>
    public ValueTask<IReadOnlyList<TempestMessage>> DequeueBatchAsync(IReadOnlyList<TempestQueueTake> takes, int maxCount, CancellationToken cancellationToken)
    {
        TempestQueueTakes.Validate(takes, maxCount);
        return Claim(AnonymousOwner, takes, maxCount, cancellationToken);
    }

    /// <summary>Claims as <see cref="ClaimAsync(TempestWorkerInfo, int, CancellationToken)"/> does, from the named queues of
    /// <paramref name="takes"/>: from the first up to its count, then the next, never more than <paramref name="maxCount"/>.</summary>
    public ValueTask<IReadOnlyList<TempestMessage>> ClaimAsync(TempestWorkerInfo worker, IReadOnlyList<TempestQueueTake> takes, int maxCount, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        TempestQueueTakes.Validate(takes, maxCount);
        return Claim(worker.Id, takes, maxCount, cancellationToken);
    }



    /// <summary>
    /// Claims up to <paramref name="maxCount"/> due messages, higher priority first and then in enqueue order, each with
    /// its attempt counted and a new lease (a token no other delivery had, until now plus <see cref="LeaseDuration"/>).
    /// When none is due it waits, without polling, until one may be (an enqueue, a return, a requeue, a rescue, or the
    /// clock reaching the earliest run-at) or <paramref name="cancellationToken"/> is cancelled
    /// (<see cref="OperationCanceledException"/>, also when it is cancelled before the call). Never returns an empty list.
    /// </summary>
    public ValueTask<IReadOnlyList<TempestMessage>> ClaimAsync(TempestWorkerInfo worker, int maxCount, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        return Claim(worker.Id, maxCount, cancellationToken);
    }

    private ValueTask<IReadOnlyList<TempestMessage>> Claim(string owner, int maxCount, CancellationToken cancellationToken) =>
        Claim(owner, [new TempestQueueTake(TempestQueueNames.Default, maxCount)], maxCount, cancellationToken);

    private ValueTask<IReadOnlyList<TempestMessage>> Claim(string owner, IReadOnlyList<TempestQueueTake> takes, int maxCount, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled<IReadOnlyList<TempestMessage>>(cancellationToken);
        return TryClaim(owner, takes, maxCount, out var signal) is { } claimed ? new(claimed) : WaitAndClaimAsync(owner, takes, maxCount, signal!, cancellationToken);
    }

    private async ValueTask<IReadOnlyList<TempestMessage>> WaitAndClaimAsync(string owner, IReadOnlyList<TempestQueueTake> takes, int maxCount, Task signal, CancellationToken cancellationToken)
    {
        while (true)
        {
            await signal.WaitAsync(cancellationToken).ConfigureAwait(false);
            // Another claim may have been quicker, or the job went to a queue this claim does not take: then wait again.
            if (TryClaim(owner, takes, maxCount, out var next) is { } claimed) return claimed;
            signal = next!;
        }
    }

    /// <summary>The claimed messages, or null with the signal to wait on.</summary>
    private List<TempestMessage>? TryClaim(string owner, IReadOnlyList<TempestQueueTake> takes, int maxCount, out Task? signal)
    {
        List<TempestMessage>? claimed = null;
        Task? waitOn = null;
        InStep(now =>
        {
            for (int t = 0; t < takes.Count && (claimed?.Count ?? 0) < maxCount; t++)
            {
                if (!_ready.TryGetValue(takes[t].Queue, out var ready)) continue;
                int count = Math.Min(Math.Min(takes[t].MaxCount, maxCount - (claimed?.Count ?? 0)), ready.Count);
                for (int i = 0; i < count; i++)
                {
                    var job = ready.Min!;
                    Detach(job);
                    job.Attempt++;
                    job.Owner = owner;
                    job.Token = ++_lastToken;
                    job.LeaseUntil = now + _leaseDuration;
                    ReleaseKey(job, TempestUniqueScope.Queued); // queued no more
                    Attach(job, TempestJobState.Running, now);
                    (claimed ??= []).Add(Deliver(job));
                }
            }
            if (claimed is null)
            {
                _signalTaken = true;
                waitOn = _signal.Task;
            }
        });
        signal = waitOn;
        return claimed;
    }

    /// <summary>A new delivery of <paramref name="job"/>: nothing of the queue's own is handed out but the receipt, which only names the job.</summary>
    private static RawTempestMessage Deliver(Job job) => new(job.Text, job.Id) // an id-less text runs under the job's id on every delivery
    {
        Attempt = job.Attempt,
        Envelope = HandOutEnvelope(job),
        Lease = new TempestLease(job.Owner!, job.Token, job.LeaseUntil),
        Receipt = job.Receipt,
    };

    /// <summary>
    /// The envelope a delivery carries: a copy, since the engine's parse takes it over the text's. Null only when it is
    /// all defaults and the text is a bare array (then the text has no envelope that could disagree).
    /// </summary>
    private static TempestEnvelope? HandOutEnvelope(Job job) =>
        job.Envelope.IsDefault && !job.TextIsEnvelope ? null : job.Envelope.Clone();

    // ------------------------------------------------------------------ outcomes

    /// <summary>
    /// Records outcomes, each only while the delivery's lease token is still the job's (the job exists, is running, and
    /// its last claim is this delivery); the others are refused and returned, and change nothing. Completed deletes the
    /// job (a failure or timeout goes to the recent failures first); Retry counts a failure, keeps the error and waits
    /// for the run-at (ready at once when it has passed); Returned puts it back as it is; ReturnedUnstarted puts it back
    /// with the claim's attempt undone; DeadLettered keeps it aside with the reason (<c>dead-lettered</c> when none), and
    /// counts a failed or timed-out run as a failure first (recent failures and <see cref="TempestEnvelope.Failures"/>).
    /// </summary>
    /// <exception cref="ArgumentException">An outcome has no message or an unknown kind; then nothing is recorded.</exception>
    public ValueTask<IReadOnlyList<TempestMessage>> RecordAsync(IReadOnlyList<TempestOutcome> outcomes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        return new(RecordAll(outcomes));
    }

    private IReadOnlyList<TempestMessage> RecordAll(IReadOnlyList<TempestOutcome> outcomes)
    {
        for (int i = 0; i < outcomes.Count; i++)
        {
            if (outcomes[i].Message is null) throw new ArgumentException($"Outcome {i} has no message.", nameof(outcomes));
            if (outcomes[i].Kind is < TempestOutcomeKind.Completed or > TempestOutcomeKind.DeadLettered)
                throw new ArgumentException($"Outcome {i} has an unknown kind: {outcomes[i].Kind}.", nameof(outcomes));
        }
        List<TempestMessage>? refused = null;
        InStep(now =>
        {
            for (int i = 0; i < outcomes.Count; i++)
            {
                if (!Record(outcomes[i], now)) (refused ??= []).Add(outcomes[i].Message);
                else _observer?.Recorded(outcomes[i]);
            }
        });
        return refused is null ? [] : refused;
    }

    private bool Record(in TempestOutcome outcome, DateTimeOffset now)
    {
        var message = outcome.Message;
        if (FindLeased(message) is not { } job) return false;
        if (message.TaskName != RawTempestMessage.RawTaskName) job.TaskName = message.TaskName; // the engine parsed it
        switch (outcome.Kind)
        {
            case TempestOutcomeKind.Completed:
                if (outcome.Status is TempestTaskStatus.Failure or TempestTaskStatus.Timeout) AddFailure(job, outcome.Status, outcome.Error, now);
                Remove(job);
                break;
            case TempestOutcomeKind.Retry:
                // A retry is a failed run (the status says whether it timed out; anything else counts as a failure).
                AddFailure(job, outcome.Status == TempestTaskStatus.Timeout ? TempestTaskStatus.Timeout : TempestTaskStatus.Failure, outcome.Error, now);
                Detach(job);
                job.Envelope.Failures++;
                job.Envelope.LastError = outcome.Error;
                job.Envelope.RunAt = outcome.RunAt;
                Schedule(job, TempestJobState.Retrying, now);
                break;
            case TempestOutcomeKind.Returned:
                Detach(job);
                Attach(job, TempestJobState.Ready, now);
                break;
            case TempestOutcomeKind.ReturnedUnstarted:
                Detach(job);
                job.Attempt = Math.Max(0, job.Attempt - 1);
                Attach(job, TempestJobState.Ready, now);
                break;
            case TempestOutcomeKind.DeadLettered:
                // A started run that failed for the last time (a raw message that never parsed has Status Success).
                if (outcome.Status is TempestTaskStatus.Failure or TempestTaskStatus.Timeout)
                {
                    AddFailure(job, outcome.Status, outcome.Error, now);
                    job.Envelope.Failures++;
                }
                Detach(job);
                if (outcome.Error is { } error) job.Envelope.LastError = error;
                MarkDead(job, outcome.Reason ?? "dead-lettered", now);
                break;
        }
        return true;
    }

    /// <summary>The job whose current lease <paramref name="message"/> holds, or null when the lease is not (or no longer) its.</summary>
    private Job? FindLeased(TempestMessage message)
    {
        // The receipt names the job even when the engine gave an id-less raw text a new id at its parse.
        string? id = message.Receipt is JobReceipt receipt ? receipt.Id : message.Id;
        return id is not null && _jobs.TryGetValue(id, out var job) && job.State == TempestJobState.Running
               && message.Lease is { } lease && lease.Token == job.Token
            ? job : null;
    }

    /// <summary>Records a success (<see cref="TempestOutcomeKind.Completed"/>); a refusal cannot be reported here, so it is ignored.</summary>
    public ValueTask AcknowledgeAsync(TempestMessage message, CancellationToken cancellationToken = default) =>
        RecordOne(new TempestOutcome(TempestOutcomeKind.Completed, message) { Status = TempestTaskStatus.Success });

    /// <summary>Records a <see cref="TempestOutcomeKind.Returned"/>; a refusal cannot be reported here, so it is ignored.</summary>
    public ValueTask ReturnAsync(TempestMessage message, CancellationToken cancellationToken = default) =>
        RecordOne(new TempestOutcome(TempestOutcomeKind.Returned, message));

    /// <summary>Records a <see cref="TempestOutcomeKind.DeadLettered"/> with <paramref name="reason"/>; a refusal cannot be reported here, so it is ignored.</summary>
    public ValueTask DeadLetterAsync(TempestMessage message, string reason, CancellationToken cancellationToken = default) =>
        RecordOne(new TempestOutcome(TempestOutcomeKind.DeadLettered, message) { Reason = reason });

    private ValueTask RecordOne(TempestOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome.Message, "message");
        RecordAll([outcome]);
        return default;
    }

    // ------------------------------------------------------------------ leases

    /// <summary>
    /// Records the worker in the registry (its last heartbeat is now) and extends every lease in <paramref name="running"/>
    /// that is still the job's, to now plus <see cref="LeaseDuration"/>, writing the new end to the message's
    /// <see cref="TempestMessage.Lease"/> too. Returns the others (expired and rescued, claimed again, cancelled or
    /// finished), whose leases are lost.
    /// </summary>
    public ValueTask<IReadOnlyList<TempestMessage>> HeartbeatAsync(TempestWorkerInfo worker, IReadOnlyList<TempestMessage> running, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentNullException.ThrowIfNull(running);
        for (int i = 0; i < running.Count; i++) ArgumentNullException.ThrowIfNull(running[i], nameof(running));
        List<TempestMessage>? lost = null;
        InStep(now =>
        {
            _workers[worker.Id] = new TempestWorkerStatus(worker, now, running.Count);
            foreach (var message in running)
            {
                if (FindLeased(message) is { } job)
                {
                    job.LeaseUntil = now + _leaseDuration;
                    message.Lease!.Until = job.LeaseUntil;
                }
                else
                {
                    (lost ??= []).Add(message);
                }
            }
        });
        return new(lost is null ? [] : lost);
    }

    /// <summary>
    /// Takes back every running job whose lease ended (its until is now or earlier), counting one lease expiry each: a
    /// job that reaches <see cref="TempestLeasingMemoryQueueOptions.MaxLeaseExpiries"/> goes to the dead letters with the
    /// reason <c>lease expired N times</c>, the others are ready again with their attempt kept (the run did start).
    /// </summary>
    public ValueTask<TempestRescue> RescueExpiredAsync(CancellationToken cancellationToken)
    {
        int returned = 0, deadLettered = 0;
        InStep(now =>
        {
            List<Job>? expired = null;
            foreach (var job in _running)
            {
                if (job.LeaseUntil <= now) (expired ??= []).Add(job);
            }
            if (expired is not null)
            {
                expired.Sort(RunningOrder.Instance); // oldest lease first, so the outcome does not hang on a hash order
                foreach (var job in expired)
                {
                    Detach(job);
                    int expiries = ++job.Envelope.LeaseExpiries;
                    if (expiries >= _maxLeaseExpiries)
                    {
                        MarkDead(job, $"lease expired {expiries} times", now);
                        deadLettered++;
                    }
                    else
                    {
                        Attach(job, TempestJobState.Ready, now);
                        returned++;
                    }
                }
            }
        });
        return new(new TempestRescue(returned, deadLettered));
    }

    /// <summary>Removes the worker from the registry. Its leases are left as they are: they run out unless recorded.</summary>
    public ValueTask WorkerStoppedAsync(TempestWorkerInfo worker, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        lock (_lock) _workers.Remove(worker.Id);
        return default;
    }

    // ------------------------------------------------------------------ counting and inspection

    /// <summary>How many jobs wait to be claimed and are due (ready); scheduled, retrying, running and dead ones are not counted.</summary>
    public ValueTask<long> CountAsync(CancellationToken cancellationToken = default)
    {
        long count = 0;
        InStep(now =>
        {
            count = _readyCount;
        });
        return new(count);
    }

    /// <summary>The dead letters, oldest first: each a <see cref="RawTempestMessage"/> of the stored text with its attempt and envelope.</summary>
    public IReadOnlyList<TempestDeadLetter> DeadLetters
    {
        get
        {
            lock (_lock)
            {
                var letters = new TempestDeadLetter[_dead.Count];
                int i = 0;
                foreach (var job in _dead)
                {
                    var message = new RawTempestMessage(job.Text, job.Id) { Attempt = job.Attempt, Envelope = HandOutEnvelope(job) };
                    letters[i++] = new TempestDeadLetter(message, job.DeadReason!, job.DeadAt!.Value);
                }
                return letters;
            }
        }
    }

    /// <summary>How many jobs are in each state; this queue knows all five.</summary>
    public ValueTask<TempestQueueCounts> GetCountsAsync(CancellationToken cancellationToken = default)
    {
        TempestQueueCounts counts = null!;
        InStep(now =>
        {
            counts = new TempestQueueCounts(_readyCount, _scheduledCount, _retryingCount, _running.Count, _dead.Count);
        });
        return new(counts);
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<TempestJobInfo>> ListAsync(TempestJobState state, int offset, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var page = new List<TempestJobInfo>();
        InStep(now =>
        {
            IEnumerable<Job> jobs = state switch
            {
                TempestJobState.Ready => _ready.Values.SelectMany(ready => ready).Order(ReadyOrder.Instance),
                TempestJobState.Scheduled or TempestJobState.Retrying => _delayed.Where(job => job.State == state),
                TempestJobState.Running => _running.Order(RunningOrder.Instance),
                TempestJobState.Dead => _dead.Reverse(),
                TempestJobState.Completed => [], // a finished job is forgotten at once
                _ => throw new ArgumentOutOfRangeException(nameof(state), state, "Not a job state."),
            };
            foreach (var job in jobs.Skip(offset).Take(limit)) page.Add(Describe(job));
        });
        return new(page);
    }

    /// <inheritdoc/>
    public ValueTask<TempestJobInfo?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        TempestJobInfo? info = null;
        InStep(now =>
        {
            info = _jobs.TryGetValue(id, out var job) ? Describe(job) : null;
        });
        return new(info);
    }

    private static TempestJobInfo Describe(Job job) => new()
    {
        Id = job.Id,
        TaskName = job.TaskName,
        State = job.State,
        Attempt = job.Attempt,
        Envelope = job.Envelope.IsDefault ? null : job.Envelope.Clone(),
        Lease = job.State == TempestJobState.Running ? new TempestLease(job.Owner!, job.Token, job.LeaseUntil) : null,
        DeadReason = job.DeadReason,
        DeadAt = job.DeadAt,
        EnqueuedAt = job.EnqueuedAt,
        Message = job.Text,
    };

    /// <summary>The most recent failed runs (failures and timeouts, final or retried), newest first.</summary>
    public ValueTask<IReadOnlyList<TempestFailureRecord>> GetRecentFailuresAsync(int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        lock (_lock)
        {
            TrimFailures(_time.GetUtcNow());
            var all = _failures.ToArray();
            int count = Math.Min(limit, all.Length);
            var newest = new TempestFailureRecord[count];
            for (int i = 0; i < count; i++) newest[i] = all[all.Length - 1 - i];
            return new(newest);
        }
    }

    /// <summary>The workers that heartbeat to this queue and have not stopped, by their start, with their last heartbeat.</summary>
    public ValueTask<IReadOnlyList<TempestWorkerStatus>> GetWorkersAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            TempestWorkerStatus[] workers = [.. _workers.Values
                .OrderBy(status => status.Worker.StartedAt)
                .ThenBy(status => status.Worker.Id, StringComparer.Ordinal)];
            return new(workers);
        }
    }

    /// <summary>
    /// Deletes a job that is waiting (ready, scheduled or retrying) or running; a running job's lease is then lost: its
    /// worker's next heartbeat reports it and its outcome is refused. False for a dead letter or an unknown id.
    /// </summary>
    public ValueTask<bool> CancelAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        bool cancelled = false;
        InStep(now =>
        {
            cancelled = _jobs.TryGetValue(id, out var job) && job.State != TempestJobState.Dead;
            if (cancelled) Remove(job!);
        });
        return new(cancelled);
    }

    /// <summary>Puts a dead letter back, ready, with the same id, its place in the enqueue order, and fresh counts
    /// (attempt, failures and lease expiries 0, no last error, no run-at). False when it is not a dead letter.</summary>
    public ValueTask<bool> RequeueDeadAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        bool requeued = false;
        InStep(now =>
        {
            requeued = _jobs.TryGetValue(id, out var job) && job.State == TempestJobState.Dead;
            if (requeued) Requeue(job!, now);
        });
        return new(requeued);
    }

    /// <summary>Puts every dead letter back, as <see cref="RequeueDeadAsync"/> does; returns how many.</summary>
    public ValueTask<int> RequeueAllDeadAsync(CancellationToken cancellationToken = default)
    {
        int count = 0;
        InStep(now =>
        {
            var dead = _dead.ToArray();
            foreach (var job in dead) Requeue(job, now);
            count = dead.Length;
        });
        return new(count);
    }

    private void Requeue(Job job, DateTimeOffset now)
    {
        Detach(job);
        job.Attempt = 0;
        job.Envelope.Failures = 0;
        job.Envelope.LeaseExpiries = 0;
        job.Envelope.LastError = null;
        job.Envelope.RunAt = null;
        job.DeadReason = null;
        job.DeadAt = null;
        // It takes its key again when the key is free; else it runs without it (a requeue never fails on a key).
        if (job.Envelope.UniqueKey is { } key && job.Envelope.EffectiveUniqueScope != TempestUniqueScope.Period)
        {
            if (HolderOf(key, now) is null) _unique[key] = new UniqueHold(job.Id, null);
            else if (_unique[key].JobId != job.Id) job.Envelope.UniqueKey = null;
        }
        Attach(job, TempestJobState.Ready, now);
    }

    /// <summary>Deletes a job that is not running (ready, scheduled, retrying or dead). False when it is running or unknown.</summary>
    public ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        bool deleted = false;
        InStep(now =>
        {
            deleted = _jobs.TryGetValue(id, out var job) && job.State != TempestJobState.Running;
            if (deleted) Remove(job!);
        });
        return new(deleted);
    }

    /// <summary>Deletes every dead letter; returns how many.</summary>
    public ValueTask<int> DeleteAllDeadAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var dead = _dead.ToArray();
            foreach (var job in dead) Remove(job);
            return new(dead.Length);
        }
    }

    // ------------------------------------------------------------------ schedules

    /// <inheritdoc/>
    public ValueTask<DateTimeOffset> RegisterScheduleAsync(TempestScheduleInfo schedule, DateTimeOffset firstTick, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        DateTimeOffset lastTick = default;
        InStep(now =>
        {
            var known = _schedules.GetValueOrDefault(schedule.Name);
            lastTick = known?.LastTick ?? firstTick;
            _schedules[schedule.Name] = schedule with { LastTick = lastTick, LastJobId = known?.LastJobId };
        });
        return new(lastTick);
    }

    /// <inheritdoc/>
    public ValueTask<bool> TryTakeTickAsync(string scheduleName, DateTimeOffset tick, DateTimeOffset? nextRun, TempestMessage? job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scheduleName);
        var prepared = job is null ? null : Prepare(job);
        bool taken = false;
        InStep(now =>
        {
            var known = _schedules.GetValueOrDefault(scheduleName);
            if (known?.LastTick is { } last && last >= tick) return;
            if (prepared is not null && _jobs.ContainsKey(prepared.Id)) throw Duplicate(prepared.Id);
            taken = true;
            var holder = prepared is null ? null : Add(prepared, now, job);
            var info = known ?? new TempestScheduleInfo(scheduleName, "", "UTC", TempestMisfire.RunOnce, prepared?.TaskName ?? "");
            _schedules[scheduleName] = info with { LastTick = tick, NextRun = nextRun, LastJobId = prepared is null ? null : holder ?? prepared.Id };
        });
        return new(taken);
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<TempestScheduleInfo>> GetSchedulesAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock) return new([.. _schedules.Values]);
    }

    // ------------------------------------------------------------------ states (all under _lock)

    /// <summary>Makes the delayed jobs whose run-at has come ready: "due" is always judged by the queue's clock, at each call.</summary>
    private void Promote(DateTimeOffset now)
    {
        while (_delayed.Count > 0 && _delayed.Min!.DueAt <= now)
        {
            var job = _delayed.Min;
            Detach(job);
            Attach(job, TempestJobState.Ready, now);
        }
    }

    /// <summary>Waits for the envelope's run-at as <paramref name="delayedState"/> if it is later than now, else ready.</summary>
    private void Schedule(Job job, TempestJobState delayedState, DateTimeOffset now)
    {
        if (job.Envelope.RunAt is { } runAt && runAt > now)
        {
            job.DueAt = runAt;
            Attach(job, delayedState, now);
        }
        else
        {
            Attach(job, TempestJobState.Ready, now);
        }
    }

    private void MarkDead(Job job, string reason, DateTimeOffset now)
    {
        ReleaseKey(job, TempestUniqueScope.QueuedOrRunning);
        job.DeadReason = reason;
        job.DeadAt = now;
        Attach(job, TempestJobState.Dead, now);
    }

    /// <summary>Puts a detached job in <paramref name="state"/>'s structure.</summary>
    private void Attach(Job job, TempestJobState state, DateTimeOffset now)
    {
        job.State = state;
        switch (state)
        {
            case TempestJobState.Ready:
                if (!_ready.TryGetValue(job.QueueName, out var ready)) _ready.Add(job.QueueName, ready = new SortedSet<Job>(ReadyOrder.Instance));
                ready.Add(job);
                _readyCount++;
                Wake();
                break;
            case TempestJobState.Scheduled or TempestJobState.Retrying:
                _delayed.Add(job);
                if (state == TempestJobState.Scheduled) _scheduledCount++; else _retryingCount++;
                _timerStale = true;
                break;
            case TempestJobState.Running:
                _running.Add(job);
                break;
            case TempestJobState.Dead:
                job.DeadSequence = ++_lastDeadSequence;
                _dead.Add(job);
                while (_dead.Count > _deadLetterLimit) Remove(_dead.Min!); // the oldest goes
                break;
        }
    }

    /// <summary>Takes a job out of its state's structure (it stays in <see cref="_jobs"/>); a running job loses its lease.</summary>
    private void Detach(Job job)
    {
        switch (job.State)
        {
            case TempestJobState.Ready:
                _ready[job.QueueName].Remove(job);
                _readyCount--;
                break;
            case TempestJobState.Scheduled or TempestJobState.Retrying:
                _delayed.Remove(job);
                if (job.State == TempestJobState.Scheduled) _scheduledCount--; else _retryingCount--;
                _timerStale = true;
                break;
            case TempestJobState.Running:
                _running.Remove(job);
                job.Owner = null;
                job.Token = 0;
                break;
            case TempestJobState.Dead:
                _dead.Remove(job);
                break;
        }
    }

    private void Remove(Job job)
    {
        ReleaseKey(job, TempestUniqueScope.QueuedOrRunning);
        Detach(job);
        _jobs.Remove(job.Id);
    }

    private void AddFailure(Job job, TempestTaskStatus status, TempestError? error, DateTimeOffset now)
    {
        _failures.Enqueue(new TempestFailureRecord(job.Id, job.TaskName, job.Attempt, status, error, now));
        TrimFailures(now);
    }

    private void TrimFailures(DateTimeOffset now)
    {
        while (_failures.Count > _recentFailureLimit || (_failures.Count > 0 && now - _failures.Peek().FailedAt > _recentFailureMaxAge))
            _failures.Dequeue();
    }

    /// <summary>Wakes the waiting claims. Their continuations run asynchronously, so this is safe under the lock.</summary>
    private void Wake()
    {
        if (!_signalTaken) return; // nobody waits on this one: keep it
        var signal = _signal;
        _signal = NewSignal();
        _signalTaken = false;
        signal.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// One step of the queue: under the lock, with the delayed jobs that are due promoted first; then, outside the lock,
    /// the timer re-armed if the step moved the earliest run-at (a fake clock runs due callbacks on the arming thread).
    /// </summary>
    private void InStep(Action<DateTimeOffset> step)
    {
        bool refresh;
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            Promote(now);
            step(now);
            if (_idleWaiters is { Count: > 0 }) ReleaseIdleWaiters();
            refresh = TakeTimerStale();
        }
        if (refresh) RefreshTimer();
    }

    private bool TakeTimerStale()
    {
        bool stale = _timerStale;
        _timerStale = false;
        return stale;
    }

    // ------------------------------------------------------------------ manual mode (TaskTempest.Testing)

    /// <summary>
    /// Told, under the queue's lock and so in the queue's order, of every message added (not a duplicate of a held key)
    /// and every outcome recorded (not refused). Set once, before the queue is used; the manual mode's harness is its one user.
    /// </summary>
    internal ILeasingQueueObserver? Observer
    {
        get => _observer;
        init => _observer = value;
    }

    /// <summary>
    /// Completes once no job is running (claimed and its outcome not recorded) and none is ready in
    /// <paramref name="queues"/> (named queues), "ready" judged by the queue's clock: the moment a drain of an engine that
    /// consumes those queues is over. Decided in the same step as the claim or the outcome that makes it so, so a job
    /// submitted by a running job (before that job's outcome) keeps it from completing.
    /// </summary>
    internal Task WhenIdleAsync(IReadOnlyCollection<string> queues)
    {
        ArgumentNullException.ThrowIfNull(queues);
        var idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously); // never run under the lock
        InStep(now =>
        {
            if (IsIdle(queues)) idle.TrySetResult();
            else (_idleWaiters ??= []).Add((queues, idle));
        });
        return idle.Task;
    }

    /// <summary>Forgets an idle waiter that gave up (its drain timed out), so it is not kept to the queue's end.</summary>
    internal void ForgetIdleWaiter(Task idle)
    {
        lock (_lock) _idleWaiters?.RemoveAll(waiter => waiter.Idle.Task == idle);
    }

    private bool IsIdle(IReadOnlyCollection<string> queues)
    {
        if (_running.Count > 0) return false;
        foreach (string queue in queues)
        {
            if (_ready.TryGetValue(queue, out var ready) && ready.Count > 0) return false;
        }
        return true;
    }

    private void ReleaseIdleWaiters()
    {
        var waiters = _idleWaiters!;
        for (int i = waiters.Count - 1; i >= 0; i--)
        {
            if (!IsIdle(waiters[i].Queues)) continue;
            waiters[i].Idle.TrySetResult();
            waiters.RemoveAt(i);
        }
    }

    // ------------------------------------------------------------------ the timer

    /// <summary>
    /// Arms the one timer at the earliest run-at of the delayed jobs (or disarms it), promoting what is due first; the
    /// timer's callback comes here too (<paramref name="fired"/>), and that promotion is what wakes a waiting claim.
    /// Called after <see cref="_lock"/> is released: a fake clock runs due callbacks on the thread that arms a timer.
    /// </summary>
    private void RefreshTimer(bool fired = false)
    {
        lock (_timerLock)
        {
            bool force = fired;
            while (true)
            {
                DateTimeOffset now;
                DateTimeOffset? target;
                lock (_lock)
                {
                    now = _time.GetUtcNow();
                    Promote(now);
                    _timerStale = false; // what follows reads the current state
                    target = _delayed.Count > 0 ? _delayed.Min!.DueAt : null;
                }
                if (!force && target == _timerTarget) return;
                _timerTarget = target;
                if (target is not { } at)
                {
                    _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                    return;
                }
                var due = at - now; // positive: everything due at now was promoted
                _timer.Change(due < MinTimerDue ? MinTimerDue : due > MaxTimerDue ? MaxTimerDue : due, Timeout.InfiniteTimeSpan);
                // A due time counts from the clock as it is when the timer is armed: if another thread moved the clock
                // on meanwhile (a test advancing a fake clock), the timer would fire late, so arm it again.
                if (_time.GetUtcNow() - now < MinTimerDue) return;
                force = true;
            }
        }
    }

    // ------------------------------------------------------------------ the pieces

    /// <summary>One job, as a server keeps a row. Mutated only under the queue's lock.</summary>
    private sealed class Job(string id, string text, bool textIsEnvelope, string taskName, int attempt, TempestEnvelope envelope)
    {
        public string Id { get; } = id;
        public string Text { get; } = text; // the one serialized form; the counts below win over any in it
        public bool TextIsEnvelope { get; } = textIsEnvelope;
        public string TaskName { get; set; } = taskName;
        public int Attempt { get; set; } = attempt;
        public TempestEnvelope Envelope { get; } = envelope; // the queue's own copy: Failures, LeaseExpiries, RunAt...
        public int Priority { get; } = envelope.Priority; // fixed while the job is in _ready
        public string QueueName { get; } = TempestQueueNames.Of(envelope); // its named queue, fixed
        public JobReceipt Receipt { get; } = new(id);
        public TempestJobState State { get; set; }
        public long Sequence { get; set; }
        public DateTimeOffset EnqueuedAt { get; set; }
        public DateTimeOffset DueAt { get; set; } // while delayed: the run-at, fixed while the job is in _delayed
        public string? Owner { get; set; }
        public long Token { get; set; }
        public DateTimeOffset LeaseUntil { get; set; }
        public string? DeadReason { get; set; }
        public DateTimeOffset? DeadAt { get; set; }
        public long DeadSequence { get; set; }
    }

    /// <summary>A delivery's receipt: the id the queue knows the job by, immutable, so it can be handed out.</summary>
    private sealed record JobReceipt(string Id);

    /// <summary>Stands in for the typed message while a raw text's header is read; never handed out.</summary>
    private sealed class ReadyOrder : IComparer<Job>
    {
        public static readonly ReadyOrder Instance = new();
        public int Compare(Job? x, Job? y)
        {
            int byPriority = y!.Priority.CompareTo(x!.Priority); // higher first
            return byPriority != 0 ? byPriority : x.Sequence.CompareTo(y.Sequence);
        }
    }

    private sealed class DelayedOrder : IComparer<Job>
    {
        public static readonly DelayedOrder Instance = new();
        public int Compare(Job? x, Job? y)
        {
            int byDue = x!.DueAt.CompareTo(y!.DueAt);
            return byDue != 0 ? byDue : x.Sequence.CompareTo(y.Sequence);
        }
    }

    private sealed class RunningOrder : IComparer<Job>
    {
        public static readonly RunningOrder Instance = new();
        public int Compare(Job? x, Job? y)
        {
            int byUntil = x!.LeaseUntil.CompareTo(y!.LeaseUntil);
            return byUntil != 0 ? byUntil : x.Token.CompareTo(y.Token);
        }
    }

    private sealed class DeadOrder : IComparer<Job>
    {
        public static readonly DeadOrder Instance = new();
        public int Compare(Job? x, Job? y) => x!.DeadSequence.CompareTo(y!.DeadSequence);
    }
}
