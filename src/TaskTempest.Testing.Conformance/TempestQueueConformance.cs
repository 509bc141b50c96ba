using System.Buffers;
using System.Text.Json;
using TaskTempest.Queues;
using Xunit;
using Xunit.Sdk;

namespace TaskTempest.Testing.Conformance;

/// <summary>
/// The queue conformance suite. A queue runs it by deriving one class in an xunit test project and giving a
/// factory and a clock:
/// <code>
/// public class MyQueueConformance : TempestQueueConformance
/// {
///     private readonly FakeConformanceClock _clock = new();
///     protected override TempestConformanceClock Clock => _clock;
///     protected override ValueTask&lt;ITempestQueue&gt; CreateQueueAsync(TempestConformanceSettings settings) =>
///         new(new MyQueue(_clock.TimeProvider, settings.LeaseDuration, settings.MaxLeaseExpiries));
/// }
/// </code>
/// Every case is an xunit <c>[Fact]</c> that creates its own queue or queues (xunit makes one instance of the class
/// per case, so a clock kept in a field is the case's own), and disposes them when the case ends. Cases act on
/// <see cref="ITempestQueue.Features"/>: a case about a feature the queue does not state checks its documented absence
/// instead (a queue without <see cref="TempestQueueFeatures.Delays"/> refuses a run-at), so no case passes empty and
/// none is skipped. Time passes only in <see cref="TempestConformanceClock.AdvanceAsync"/>; a delivery that does not
/// come fails the case after <see cref="DeliveryTimeout"/> instead of hanging it.
/// </summary>
public abstract partial class TempestQueueConformance : IAsyncLifetime
{
    private readonly ConformanceEngine _engine = new();
    private readonly List<ITempestQueue> _queues = [];
    private int _workers;

    /// <summary>Creates an empty queue for one case, as <paramref name="settings"/> ask (a queue without leases ignores the lease settings).</summary>
    protected abstract ValueTask<ITempestQueue> CreateQueueAsync(TempestConformanceSettings settings);

    /// <summary>The clock the queue compares times with: a <see cref="FakeConformanceClock"/> given to the queue's
    /// <see cref="TimeProvider"/>, or a <see cref="RealConformanceClock"/> for a queue on a server's clock. Keep it in a
    /// field, so that each case has its own.</summary>
    protected abstract TempestConformanceClock Clock { get; }

    /// <summary>The lease the lease cases claim with (<see cref="TempestConformanceClock.ShortLease"/> by default).</summary>
    protected virtual TimeSpan ShortLease => Clock.ShortLease;

    /// <summary>How far ahead the delay and retry cases schedule (<see cref="TempestConformanceClock.ShortDelay"/> by default).</summary>
    protected virtual TimeSpan ShortDelay => Clock.ShortDelay;

    /// <summary>The lease of every case that does not let one expire (5 minutes; the concurrent case needs at least 30 s,
    /// so that a loaded machine cannot make a lease run out and a job run twice).</summary>
    protected virtual TimeSpan LongLease => TimeSpan.FromMinutes(5);

    /// <summary>How long, in real time, the kit waits for a delivery it expects before it fails the case (10 s).</summary>
    protected virtual TimeSpan DeliveryTimeout => TimeSpan.FromSeconds(10);

    /// <summary>How long, in real time, a "nothing is ready" check lets a waiting queue wait (200 ms).</summary>
    protected virtual TimeSpan NothingReadyWait => TimeSpan.FromMilliseconds(200);

    /// <summary>How long, in real time, the concurrent case may take before it fails (60 s).</summary>
    protected virtual TimeSpan ConcurrentTimeout => TimeSpan.FromSeconds(60);

    /// <summary>Disposes a queue at the end of its case: <see cref="IAsyncDisposable"/> or <see cref="IDisposable"/> if it is one.</summary>
    protected virtual async ValueTask DisposeQueueAsync(ITempestQueue queue)
    {
        switch (queue)
        {
            case IAsyncDisposable asyncDisposable: await asyncDisposable.DisposeAsync(); break;
            case IDisposable disposable: disposable.Dispose(); break;
        }
    }

    /// <summary>Called by xunit before each case; nothing to do by default.</summary>
    public virtual Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Called by xunit after each case: disposes the queues the case created (<see cref="DisposeQueueAsync"/>).</summary>
    public virtual async Task DisposeAsync()
    {
        List<Exception>? errors = null;
        foreach (var queue in _queues)
        {
            try { await DisposeQueueAsync(queue); }
            catch (Exception e) { (errors ??= []).Add(e); }
        }
        _queues.Clear();
        if (errors is not null) throw new AggregateException("disposing the case's queues failed", errors);
    }

    // ------------------------------------------------------------------ queues, jobs, workers

    /// <summary>Creates a queue for the running case through <see cref="CreateQueueAsync"/>; it is disposed when the case ends.</summary>
    /// <param name="leaseDuration">The lease; <see cref="LongLease"/> when null.</param>
    /// <param name="maxLeaseExpiries">The poison threshold.</param>
    protected async Task<ITempestQueue> NewQueueAsync(TimeSpan? leaseDuration = null, int maxLeaseExpiries = 3)
    {
        var settings = new TempestConformanceSettings
        {
            LeaseDuration = leaseDuration ?? LongLease,
            MaxLeaseExpiries = maxLeaseExpiries,
            Name = "conformance-" + TempestId.New(),
        };
        var queue = await CreateQueueAsync(settings);
        Assert.NotNull(queue);
        _queues.Add(queue);
        return queue;
    }

    /// <summary>A new <see cref="ConformanceJob"/> with a fresh id (<c>cj-</c> and a <see cref="TempestId"/>), as a
    /// submit makes it: attempt 0, and <paramref name="envelope"/> (null: every default).</summary>
    protected ConformanceJob NewJob(int number, string? text = null, TempestEnvelope? envelope = null)
    {
        var job = ParseJob(Bare("cj-" + TempestId.New(), number, text ?? $"text {number}"));
        job.Envelope = envelope;
        return job;
    }

    /// <summary>A message in the wire format, <c>["id","ConformanceJob",number,"text"]</c>, written with a JSON writer (so any text is escaped).</summary>
    protected static string Bare(string? id, int number, string? text)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            if (id is null) writer.WriteNullValue(); else writer.WriteStringValue(id);
            writer.WriteStringValue(ConformanceJob.WireName);
            writer.WriteNumberValue(number);
            if (text is null) writer.WriteNullValue(); else writer.WriteStringValue(text);
            writer.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Parses the wire format (a bare array or an envelope) into a <see cref="ConformanceJob"/>.</summary>
    protected ConformanceJob ParseJob(string json)
    {
        var message = _engine.ParseMessage(json);
        return Assert.IsType<ConformanceJob>(message);
    }

    /// <summary>
    /// A delivery as the kit compares it: the typed object a queue that keeps objects hands back, or the
    /// <see cref="RawTempestMessage"/> of a queue that keeps text, parsed as an engine parses it (keeping the attempt,
    /// envelope, lease and receipt the queue put beside the text). Outcomes are recorded with what this returns,
    /// as the engine records them with the message it ran.
    /// </summary>
    protected ConformanceJob Read(TempestMessage delivery)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        if (delivery is RawTempestMessage raw)
        {
            try { return Assert.IsType<ConformanceJob>(_engine.ParseMessage(raw)); }
            catch (Wire.TempestWireException e) { throw Fail($"the queue handed out text that does not parse ({e.Message}): {raw.Json}"); }
        }
        if (delivery is ConformanceJob job) return job;
        throw Fail($"the queue handed out a {delivery.GetType().FullName}, neither the ConformanceJob it was given nor a RawTempestMessage: {delivery}");
    }

    /// <summary>A worker run with a fresh id, as an engine registers itself on a leasing queue.</summary>
    protected TempestWorkerInfo NewWorker(int slots = 4)
    {
        int n = Interlocked.Increment(ref _workers);
        return new TempestWorkerInfo($"conformance-worker-{n}-{TempestId.New()}", "ConformanceTempest", Environment.MachineName,
            Environment.ProcessId, slots, Clock.Now);
    }

    private TempestWorkerInfo? _defaultWorker;

    /// <summary>The worker that claims when a case names none.</summary>
    protected TempestWorkerInfo DefaultWorker => _defaultWorker ??= NewWorker();

    // ------------------------------------------------------------------ features

    /// <summary>Whether <paramref name="queue"/> states <paramref name="feature"/>.</summary>
    protected static bool Has(ITempestQueue queue, TempestQueueFeatures feature) => (queue.Features & feature) == feature;

    /// <summary>Checks that a queue without acknowledgements says so everywhere.</summary>
    protected static void AssertNoAcknowledgements(ITempestQueue queue)
    {
        Assert.False(queue is IAcknowledgingTempestQueue, "a queue without the Acknowledgements feature implements IAcknowledgingTempestQueue");
        Assert.False(Has(queue, TempestQueueFeatures.Acknowledgements), "Features has Acknowledgements, but the queue is no IAcknowledgingTempestQueue");
    }

    /// <summary>Checks that a queue without leases says so everywhere.</summary>
    protected static void AssertNoLeases(ITempestQueue queue)
    {
        Assert.False(queue is ILeasingTempestQueue, "a queue without the Leases feature implements ILeasingTempestQueue");
        Assert.False(Has(queue, TempestQueueFeatures.Leases), "Features has Leases, but the queue is no ILeasingTempestQueue");
    }

    /// <summary>Checks that a queue without inspection says so everywhere.</summary>
    protected static void AssertNoInspection(ITempestQueue queue)
    {
        Assert.False(queue is ITempestQueueInspector, "a queue without the Inspection feature implements ITempestQueueInspector");
        Assert.False(Has(queue, TempestQueueFeatures.Inspection), "Features has Inspection, but the queue is no ITempestQueueInspector");
    }

    // ------------------------------------------------------------------ taking

    /// <summary>
    /// Takes up to <paramref name="maxCount"/> messages as an engine does: <see cref="ILeasingTempestQueue.ClaimAsync(TempestWorkerInfo, int, CancellationToken)"/>
    /// for <paramref name="worker"/> (<see cref="DefaultWorker"/> when null) on a leasing queue,
    /// <see cref="ITempestQueue.DequeueBatchAsync(int, CancellationToken)"/> elsewhere. Fails the case when nothing comes within
    /// <see cref="DeliveryTimeout"/>, and when more than <paramref name="maxCount"/> come. A queue that cannot wait is
    /// asked again every 10 ms, as the engine's poll interval would.
    /// </summary>
    protected Task<IReadOnlyList<ConformanceJob>> TakeAsync(ITempestQueue queue, int maxCount, TempestWorkerInfo? worker = null) =>
        TakeFromAsync(queue, null, maxCount, worker);

    /// <summary>Takes as <see cref="TakeAsync"/> does, from the named queues of <paramref name="takes"/> in their order (null: a plain claim).</summary>
    protected async Task<IReadOnlyList<ConformanceJob>> TakeFromAsync(ITempestQueue queue, IReadOnlyList<TempestQueueTake>? takes, int maxCount, TempestWorkerInfo? worker = null)
    {
        using var timeout = new CancellationTokenSource(DeliveryTimeout);
        try
        {
            while (true)
            {
                var batch = await DeliverAsync(queue, takes, maxCount, worker, timeout.Token);
                if (batch.Count > 0) return ReadBatch(batch, maxCount);
                await Task.Delay(PollInterval, timeout.Token);
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw Fail($"the queue handed out nothing within {DeliveryTimeout.TotalSeconds} s, though a message was ready");
        }
    }

    /// <summary>Takes exactly one message (<see cref="TakeAsync"/> with a limit of 1).</summary>
    protected async Task<ConformanceJob> TakeOneAsync(ITempestQueue queue, TempestWorkerInfo? worker = null) =>
        Assert.Single(await TakeAsync(queue, 1, worker));

    /// <summary>Takes messages until <paramref name="count"/> have come, in batches of up to <paramref name="batchSize"/>,
    /// recording each batch's outcome as Completed on an acknowledging queue; returns them in the order they came.</summary>
    protected async Task<List<ConformanceJob>> DrainAsync(ITempestQueue queue, int count, int batchSize, TempestWorkerInfo? worker = null)
    {
        var taken = new List<ConformanceJob>(count);
        while (taken.Count < count)
        {
            var batch = await TakeAsync(queue, Math.Min(batchSize, count - taken.Count), worker);
            taken.AddRange(batch);
            if (queue is IAcknowledgingTempestQueue) await RecordAcceptedAsync(queue, [.. batch.Select(Completed)]);
        }
        return taken;
    }

    /// <summary>
    /// Checks that nothing is ready, without hanging: a queue that waits is asked with a token cancelled after
    /// <see cref="NothingReadyWait"/> and must throw <see cref="OperationCanceledException"/> or hand out nothing.
    /// </summary>
    protected Task AssertNothingReadyAsync(ITempestQueue queue, string because, TempestWorkerInfo? worker = null) =>
        AssertNothingReadyFromAsync(queue, null, because, worker);

    /// <summary>Checks as <see cref="AssertNothingReadyAsync"/> does, in the named queues of <paramref name="takes"/> (null: a plain claim).</summary>
    protected async Task AssertNothingReadyFromAsync(ITempestQueue queue, IReadOnlyList<TempestQueueTake>? takes, string because, TempestWorkerInfo? worker = null)
    {
        using var wait = new CancellationTokenSource(NothingReadyWait);
        IReadOnlyList<TempestMessage> got;
        try
        {
            got = await DeliverAsync(queue, takes, 100, worker, wait.Token);
        }
        catch (OperationCanceledException) when (wait.IsCancellationRequested)
        {
            return;
        }
        if (got.Count > 0)
            throw Fail($"{because}, yet the queue handed out {got.Count}: {string.Join(", ", got.Select(Describe))}");
    }

    /// <summary>One message by <see cref="ITempestQueue.DequeueAsync"/> (a queue that cannot wait is asked again every
    /// 10 ms); fails the case when none comes within <see cref="DeliveryTimeout"/>.</summary>
    protected async Task<ConformanceJob> DequeueOneAsync(ITempestQueue queue)
    {
        using var timeout = new CancellationTokenSource(DeliveryTimeout);
        try
        {
            while (true)
            {
                if (await queue.DequeueAsync(timeout.Token) is { } message) return Read(message);
                await Task.Delay(PollInterval, timeout.Token);
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw Fail($"DequeueAsync handed out nothing within {DeliveryTimeout.TotalSeconds} s, though a message was ready");
        }
    }

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    private async ValueTask<IReadOnlyList<TempestMessage>> DeliverAsync(ITempestQueue queue, IReadOnlyList<TempestQueueTake>? takes, int maxCount,
        TempestWorkerInfo? worker, CancellationToken cancellationToken)
    {
        var batch = (queue, takes) switch
        {
            (ILeasingTempestQueue leasing, null) => await leasing.ClaimAsync(worker ?? DefaultWorker, maxCount, cancellationToken),
            (ILeasingTempestQueue leasing, _) => await leasing.ClaimAsync(worker ?? DefaultWorker, takes, maxCount, cancellationToken),
            (_, null) => await queue.DequeueBatchAsync(maxCount, cancellationToken),
            _ => await queue.DequeueBatchAsync(takes, maxCount, cancellationToken),
        };
        Assert.NotNull(batch);
        return batch;
    }

    private List<ConformanceJob> ReadBatch(IReadOnlyList<TempestMessage> batch, int maxCount)
    {
        if (batch.Count > maxCount)
            throw Fail($"asked for at most {maxCount}, the queue handed out {batch.Count}: {string.Join(", ", batch.Select(Describe))}");
        var jobs = new List<ConformanceJob>(batch.Count);
        foreach (var delivery in batch)
        {
            Assert.NotNull(delivery);
            jobs.Add(Read(delivery));
        }
        return jobs;
    }

    private static string Describe(TempestMessage message) => message is RawTempestMessage raw ? raw.Json : $"{message.Id} {message}";

    // ------------------------------------------------------------------ outcomes

    /// <summary>Hands <paramref name="outcomes"/> to the queue's <see cref="IAcknowledgingTempestQueue.RecordAsync"/>; returns the refused messages.</summary>
    protected static async Task<IReadOnlyList<TempestMessage>> RecordAsync(ITempestQueue queue, params TempestOutcome[] outcomes)
    {
        var acknowledging = Assert.IsAssignableFrom<IAcknowledgingTempestQueue>(queue);
        var refused = await acknowledging.RecordAsync(outcomes);
        Assert.NotNull(refused);
        return refused;
    }

    /// <summary>Records <paramref name="outcomes"/> and checks that the queue refused none.</summary>
    protected static async Task RecordAcceptedAsync(ITempestQueue queue, params TempestOutcome[] outcomes)
    {
        var refused = await RecordAsync(queue, outcomes);
        if (refused.Count > 0)
            throw Fail($"the queue refused {refused.Count} outcome(s) of deliveries whose leases were still theirs: {string.Join(", ", refused.Select(m => m.Id))}");
    }

    /// <summary>The job ended with success.</summary>
    protected static TempestOutcome Completed(TempestMessage message) =>
        new(TempestOutcomeKind.Completed, message) { Status = TempestTaskStatus.Success };

    /// <summary>The job ended with a final failure (or timeout) and <paramref name="error"/>.</summary>
    protected static TempestOutcome CompletedWithFailure(TempestMessage message, TempestError error, TempestTaskStatus status = TempestTaskStatus.Failure) =>
        new(TempestOutcomeKind.Completed, message) { Status = status, Error = error };

    /// <summary>The run failed and the job runs again at <paramref name="runAt"/>.</summary>
    protected static TempestOutcome Retry(TempestMessage message, DateTimeOffset runAt, TempestError error) =>
        new(TempestOutcomeKind.Retry, message) { RunAt = runAt, Error = error };

    /// <summary>The job was aborted at shutdown.</summary>
    protected static TempestOutcome Returned(TempestMessage message) => new(TempestOutcomeKind.Returned, message);

    /// <summary>The job was fetched and never started.</summary>
    protected static TempestOutcome ReturnedUnstarted(TempestMessage message) => new(TempestOutcomeKind.ReturnedUnstarted, message);

    /// <summary>The job can never run.</summary>
    protected static TempestOutcome DeadLettered(TempestMessage message, string reason) =>
        new(TempestOutcomeKind.DeadLettered, message) { Reason = reason };

    // ------------------------------------------------------------------ checks

    /// <summary>Checks a delivery's id and arguments against what was enqueued.</summary>
    protected static void AssertSameJob(ConformanceJob expected, ConformanceJob actual)
    {
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(ConformanceJob.WireName, actual.TaskName);
        Assert.Equal(expected.Number, actual.Number);
        Assert.Equal(expected.Text, actual.Text);
    }

    /// <summary>Checks the two counts an envelope keeps (a null envelope counts 0 of each).</summary>
    protected static void AssertCounts(ConformanceJob delivery, int attempt, int failures, int leaseExpiries)
    {
        Assert.True(attempt == delivery.Attempt, $"{delivery.Id}: expected Attempt {attempt}, got {delivery.Attempt}");
        int actualFailures = delivery.Envelope?.Failures ?? 0;
        Assert.True(failures == actualFailures, $"{delivery.Id}: expected Failures {failures}, got {actualFailures}");
        int actualExpiries = delivery.Envelope?.LeaseExpiries ?? 0;
        Assert.True(leaseExpiries == actualExpiries, $"{delivery.Id}: expected LeaseExpiries {leaseExpiries}, got {actualExpiries}");
    }

    /// <summary>Checks that two times agree within the clock's <see cref="TempestConformanceClock.Tolerance"/>.</summary>
    protected void AssertCloseTo(DateTimeOffset expected, DateTimeOffset actual, string what)
    {
        var difference = (actual - expected).Duration();
        Assert.True(difference <= Clock.Tolerance, $"{what}: expected {expected:O}, got {actual:O} ({difference.TotalMilliseconds} ms off, tolerance {Clock.Tolerance.TotalMilliseconds} ms)");
    }

    /// <summary>A failure of the case with <paramref name="message"/>.</summary>
    protected static XunitException Fail(string message) => new(message);
}
