using System.Diagnostics;
using System.Threading.Channels;
using TaskTempest.Engine.Threads;
using TaskTempest.Logging;
using TaskTempest.Queues;
using ZLogger;

namespace TaskTempest.Engine.Inbox;

/// <summary>
/// Any <see cref="ITempestQueue"/>. One fetcher per engine asks the queue for as many messages as there are
/// free slots (a credit per slot: nothing is taken that no worker or fiber could start) and hands them on
/// through a channel; one flusher hands the jobs' outcomes to the queue in batches; on a leasing queue one
/// heartbeat extends the leases of everything taken and not yet recorded, cancels the token of a job whose
/// lease was lost, and rescues expired leases. All three run on the thread pool, never on a worker thread or
/// on the event loop, so tasks that hold the CPU cannot starve them, and workers and fibers never call the
/// queue themselves.
/// </summary>
internal sealed class QueueInbox : IInbox
{
    /// <summary>How long shutdown waits for the fetcher to leave a queue call that ignores its token (real time).</summary>
    private static readonly TimeSpan FetcherGrace = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between dequeue attempts on a failing queue (unless the poll interval is longer).</summary>
    private static readonly TimeSpan MaxDequeueBackoff = TimeSpan.FromSeconds(30);

    private readonly RunContext _run;
    private readonly ITempestQueue _queue;
    private readonly IAcknowledgingTempestQueue? _acknowledging;
    private readonly ILeasingTempestQueue? _leasing;
    private readonly TempestWorkerInfo _worker;
    private readonly MessageIntake _intake;
    private readonly SemaphoreSlim _freeSlots;
    private readonly Channel<TempestMessage> _ready = Channel.CreateUnbounded<TempestMessage>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly Channel<TempestOutcome> _outcomes = Channel.CreateUnbounded<TempestOutcome>(new UnboundedChannelOptions { SingleReader = true });
    private Task _fetcher = Task.CompletedTask;
    private Task _flusher = Task.CompletedTask;
    private Task _heartbeat = Task.CompletedTask;
    private readonly CancellationTokenSource _heartbeatStop = new(); // cancelled once the last outcomes are handed over
    // Leased deliveries taken and not yet recorded by the queue: the heartbeat extends exactly these.
    private readonly Lock _leasedGate = new();
    private readonly HashSet<TempestMessage> _leased = new(ReferenceEqualityComparer.Instance);
    private int _lostSlots; // slots orphaned at the cap whose credits the fetcher has yet to swallow
    private int _pendingOutcomes; // posted and not yet answered by the queue
    private readonly CancellationTokenSource _flushCancel = new(); // cancelled when shutdown stops waiting for the queue
    private readonly QueueLanes? _lanes; // the named queues and their limits; null: the default queue alone, no limit

    public QueueInbox(RunContext run, MessageIntake intake)
    {
        _run = run;
        _queue = run.Settings.Queue;
        _acknowledging = _queue as IAcknowledgingTempestQueue;
        _leasing = _queue as ILeasingTempestQueue;
        _worker = new TempestWorkerInfo(TempestId.New(), run.Settings.EngineName, Environment.MachineName,
            Environment.ProcessId, run.Settings.Slots, run.Time.GetUtcNow());
        _intake = intake;
        _freeSlots = new SemaphoreSlim(run.Settings.Slots);
        if (!run.Settings.ConsumesDefaultQueueOnly)
            _lanes = new QueueLanes(run.Settings.NamedQueues, run.Settings.QueueOrder, run.Settings.Slots);
        // A retry is a recorded outcome with a run-at: it needs a queue that takes outcomes and honours run-ats.
        RetryRefusal = _acknowledging is null ? "retry not possible: the queue cannot take a job back"
            : (_queue.Features & TempestQueueFeatures.Delays) == 0 ? "retry not possible: the queue cannot delay"
            : null;
    }

    /// <summary>This run as the queue's registry of workers knows it (the owner of its leases).</summary>
    public TempestWorkerInfo Worker => _worker;

    public void Start()
    {
        _fetcher = Task.Run(FetchAsync);
        _flusher = Task.Run(FlushAsync);
        if (_leasing is not null) _heartbeat = Task.Run(HeartbeatAsync);
    }

    // ---------------------------------------------------------------- the fetcher

    private async Task FetchAsync()
    {
        var stopping = _run.Stopping;
        int failures = 0;
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                int credits = await TakeCreditsAsync(stopping).ConfigureAwait(false);
                if (credits == 0) continue;
                IReadOnlyList<TempestMessage> batch;
                List<TempestQueueTake>? takes = null;
                bool leftOut = false;
                if (_lanes is not null)
                {
                    takes = _lanes.Plan(credits, out leftOut);
                    if (takes.Count == 0)
                    {
                        // Every queue is at its limit: the credits wait for a job of one of them to end.
                        _freeSlots.Release(credits);
                        await _lanes.WaitForRoomAsync(stopping).ConfigureAwait(false);
                        continue;
                    }
                }
                // A claim that left a queue out for its limit waits only until that queue has room again.
                using var room = leftOut ? _lanes!.RoomOrStop(stopping) : null;
                try
                {
                    var token = room?.Token ?? stopping;
                    batch = (_leasing, takes) switch
                    {
                        (not null, null) => await _leasing.ClaimAsync(_worker, credits, token).ConfigureAwait(false),
                        (not null, _) => await _leasing.ClaimAsync(_worker, takes, credits, token).ConfigureAwait(false),
                        (null, null) => await _queue.DequeueBatchAsync(credits, token).ConfigureAwait(false),
                        (null, _) => await _queue.DequeueBatchAsync(takes, credits, token).ConfigureAwait(false),
                    };
                    failures = 0;
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    _freeSlots.Release(credits);
                    break;
                }
                catch (OperationCanceledException) when (room is { RoomFreed: true })
                {
                    _freeSlots.Release(credits); // a queue left out has room: plan again
                    continue;
                }
                catch (Exception e) when (!_run.Ended)
                {
                    // A failing queue must not end the fetcher, nor make it spin: log, back off, try again.
                    _freeSlots.Release(credits);
                    failures++;
                    var poll = _run.Settings.QueuePollInterval;
                    var backoff = TimeSpan.FromTicks(Math.Min(poll.Ticks << Math.Min(failures - 1, 16), Math.Max(MaxDequeueBackoff.Ticks, poll.Ticks)));
                    _run.Logs.Main.ZLogError(e, $"dequeue failed ({failures} in a row): {LogText.Escape(e.Message)}; retrying in {backoff.TotalSeconds:0.###} s");
                    await DelayAsync(backoff, stopping).ConfigureAwait(false);
                    continue;
                }
                int taken = Math.Min(batch.Count, credits);
                if (taken < credits) _freeSlots.Release(credits - taken);
                if (batch.Count == 0)
                {
                    // A queue that cannot wait said it is empty: ask again after the poll interval.
                    await DelayAsync(_run.Settings.QueuePollInterval, stopping).ConfigureAwait(false);
                    continue;
                }
                for (int i = 0; i < batch.Count; i++)
                {
                    if (i >= credits)
                    {
                        // The queue broke the contract (more than asked for): nothing could start these, so back they go.
                        _run.Logs.Main.ZLogError($"the queue handed out {batch.Count} messages when {credits} were asked for; the rest go back");
                        for (int j = i; j < batch.Count; j++) PutBack(batch[j], TempestOutcomeKind.ReturnedUnstarted, "the queue handed out more than asked for");
                        break;
                    }
                    Hand(batch[i], stopping);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception e) when (!_run.Ended)
        {
            _run.Logs.Main.ZLogCritical(e, $"the fetcher died: {LogText.Escape(e.Message)}; no more messages will be taken");
        }
        catch (Exception) when (_run.Ended)
        {
            // A queue call that ignored its token and failed after the run ended: nothing left to tell.
        }
        finally
        {
            _ready.Writer.TryComplete();
        }
    }

    /// <summary>Waits for one free slot's credit, then takes every other credit free now: the batch to ask for. Credits of slots lost at the cap are swallowed.</summary>
    private async ValueTask<int> TakeCreditsAsync(CancellationToken stopping)
    {
        await _freeSlots.WaitAsync(stopping).ConfigureAwait(false);
        int credits = 1;
        while (_freeSlots.Wait(0)) credits++;
        while (credits > 0 && TryRepayLostSlot()) credits--; // those credits belonged to slots that are gone for now
        return credits;
    }

    /// <summary>One delivery from the queue: parsed (or dead-lettered), its lease registered for the heartbeat, and handed to a worker or fiber.</summary>
    private void Hand(TempestMessage delivery, CancellationToken stopping)
    {
        var message = delivery;
        if (delivery is RawTempestMessage raw)
        {
            message = _intake.Accept(raw, this)!; // dead-lettered inside when it cannot become a job
            if (message is null)
            {
                _freeSlots.Release();
                return;
            }
        }
        _lanes?.Started(message);
        if (message.Lease is { } lease)
        {
            lease.JobCancellation = CancellationTokenSource.CreateLinkedTokenSource(_run.Aborting.Token);
            lock (_leasedGate) _leased.Add(message);
        }
        if (stopping.IsCancellationRequested) ReturnUnstarted(message);
        else _ready.Writer.TryWrite(message);
    }

    private async Task DelayAsync(TimeSpan delay, CancellationToken stopping)
    {
        try { await Task.Delay(delay, _run.Time, stopping).ConfigureAwait(false); }
        catch (OperationCanceledException) { }
    }

    // ---------------------------------------------------------------- worker threads and the event loop

    public TempestMessage? Take(Worker worker, CancellationToken stopping, out bool immediate)
    {
        if (_ready.Reader.TryRead(out var message))
        {
            immediate = true;
            return message;
        }
        immediate = false;
        try
        {
            var next = _ready.Reader.ReadAsync(stopping);
            return next.IsCompletedSuccessfully ? next.Result : next.AsTask().GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return null;
        }
        catch (ChannelClosedException)
        {
            // The fetcher is gone (it logged why): wait for the stop rather than spin.
            stopping.WaitHandle.WaitOne();
            return null;
        }
    }

    public void HandBack(Worker worker)
    {
    }

    // A slot orphaned at the cap gave its credit back with its job's report; the next credit the fetcher gets
    // is swallowed instead, until the slot is back.
    public void SlotLost() => Interlocked.Increment(ref _lostSlots);

    public void SlotRegained()
    {
        if (!TryRepayLostSlot()) _freeSlots.Release(); // its credit was swallowed already: give one back
    }

    private bool TryRepayLostSlot()
    {
        int lost = Volatile.Read(ref _lostSlots);
        while (lost > 0)
        {
            int seen = Interlocked.CompareExchange(ref _lostSlots, lost - 1, lost);
            if (seen == lost) return true;
            lost = seen;
        }
        return false;
    }

    public bool TryTake(out TempestMessage? message) => _ready.Reader.TryRead(out message);

    public async ValueTask<TempestMessage?> TakeAsync(CancellationToken stopping)
    {
        try
        {
            return await _ready.Reader.ReadAsync(stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return null;
        }
        catch (ChannelClosedException)
        {
            try { await Task.Delay(Timeout.Infinite, stopping); }
            catch (OperationCanceledException) { }
            return null;
        }
    }

    // ---------------------------------------------------------------- outcomes, through the flusher

    /// <summary>Every job's end frees its slot's credit, whether or not the queue takes acknowledgements.</summary>
    public bool AcknowledgesEachJob => true;

    /// <summary>
    /// The slot's credit comes back once the queue has the outcome, not before: so at most <c>Slots</c> messages
    /// are taken and not yet recorded, and a slow queue slows the intake instead of growing a backlog of outcomes
    /// (whose leases would have to be kept alive).
    /// </summary>
    public void Acknowledge(TempestMessage message, TempestTaskStatus status, TempestError? error)
    {
        if (_acknowledging is null)
        {
            ReleaseSlot(message);
            return;
        }
        Post(new TempestOutcome(TempestOutcomeKind.Completed, message) { Status = status, Error = error });
    }

    public string? RetryRefusal { get; }

    public bool KeepsDeadLetters => _acknowledging is not null;

    public void Retry(TempestMessage message, TempestTaskStatus status, TempestError error, DateTimeOffset runAt) =>
        Post(new TempestOutcome(TempestOutcomeKind.Retry, message) { Status = status, Error = error, RunAt = runAt });

    public void DeadLetterFailed(TempestMessage message, TempestTaskStatus status, TempestError error, string reason) =>
        Post(new TempestOutcome(TempestOutcomeKind.DeadLettered, message) { Status = status, Error = error, Reason = reason });

    public void Return(TempestMessage message) => PutBack(message, TempestOutcomeKind.Returned, "it was aborted");

    public void ReturnUnstarted(TempestMessage message)
    {
        ReleaseSlot(message);
        PutBack(message, TempestOutcomeKind.ReturnedUnstarted, "it was dequeued while stopping");
    }

    private void ReleaseSlot(TempestMessage message)
    {
        _lanes?.Ended(message); // before the credit: the fetcher that wakes for it plans with the queue's room
        int before = _freeSlots.Release();
        // Each credit comes back once per message the fetcher took: by the job's one report, or by its return.
        Debug.Assert(before < _run.Settings.Slots, "a slot's credit came back twice");
    }

    private void PutBack(TempestMessage message, TempestOutcomeKind kind, string why)
    {
        if (_acknowledging is null)
        {
            if (!_run.Ended) _run.Logs.Main.ZLogWarning($"{{{message.Id}}} <{message.TaskName}> lost: {why} and the queue cannot take messages back");
            return;
        }
        Post(new TempestOutcome(kind, message));
    }

    public void DeadLetter(RawTempestMessage message, string reason)
    {
        if (_acknowledging is null)
        {
            if (!_run.Ended) _run.Logs.Main.ZLogWarning($"{{{message.Id}}} dropped: the queue keeps no dead letters");
            return;
        }
        Post(new TempestOutcome(TempestOutcomeKind.DeadLettered, message) { Reason = reason });
    }

    private void Post(TempestOutcome outcome)
    {
        // Closed once the run has handed its outcomes over; a late one (a job still in its callbacks past the
        // shutdown's bound, a message the fetcher got from a queue call that ignored its token) goes to the
        // queue directly, unwaited.
        Interlocked.Increment(ref _pendingOutcomes);
        // From here the queue's conditional record decides: an acknowledgement that lands before the next heartbeat
        // makes the lease look lost to it, which is no loss.
        if (outcome.Kind != TempestOutcomeKind.Returned && outcome.Message.Lease is { } lease) lease.OutcomePosted = true;
        if (!_outcomes.Writer.TryWrite(outcome)) _ = HandOverAsync([outcome], CancellationToken.None);
    }

    /// <summary>
    /// The one flusher: takes every outcome waiting (up to one per slot) and hands them to the queue in one call,
    /// so that outcomes keep pace with as many jobs as run at once, in one round trip where the queue can.
    /// </summary>
    private async Task FlushAsync()
    {
        if (_acknowledging is null) return;
        var reader = _outcomes.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var batch = new List<TempestOutcome>(Math.Min(_run.Settings.Slots, 64));
            while (batch.Count < _run.Settings.Slots && reader.TryRead(out var outcome)) batch.Add(outcome);
            await HandOverAsync(batch, _flushCancel.Token).ConfigureAwait(false);
        }
    }

    private async Task HandOverAsync(List<TempestOutcome> batch, CancellationToken cancellationToken)
    {
        try
        {
            var refused = await _acknowledging!.RecordAsync(batch, cancellationToken).ConfigureAwait(false);
            _run.Telemetry.LeasesLost(refused.Count);
            if (!_run.Ended)
            {
                for (int i = 0; i < refused.Count; i++)
                    _run.Logs.Main.ZLogWarning($"{{{refused[i].Id}}} <{refused[i].TaskName}> outcome not recorded: lease lost; it may run again");
            }
        }
        catch (Exception e) when (!_run.Ended)
        {
            // The jobs' outcomes stand; the queue may deliver them again, which at-least-once allows.
            foreach (var outcome in batch)
            {
                string what = outcome.Kind switch
                {
                    TempestOutcomeKind.Completed => "acknowledged",
                    TempestOutcomeKind.Retry => "retried",
                    TempestOutcomeKind.DeadLettered => "dead-lettered",
                    _ => "returned to the queue",
                };
                _run.Logs.Main.ZLogError(e, $"{{{outcome.Message.Id}}} <{outcome.Message.TaskName}> could not be {what}: {LogText.Escape(e.Message)}");
            }
        }
        catch (Exception) when (_run.Ended)
        {
        }
        finally
        {
            foreach (var outcome in batch)
            {
                Interlocked.Decrement(ref _pendingOutcomes);
                // An aborted job may still hold its token (shutdown gave up on it): that one is left to the collector.
                ForgetLease(outcome.Message, dispose: outcome.Kind != TempestOutcomeKind.Returned);
                if (TookSlot(outcome)) ReleaseSlot(outcome.Message);
            }
        }
    }

    /// <summary>Whether the outcome ends a job that held a slot until now: a dead letter does only for a job that ran (its
    /// message parsed); raw text that could not become a job gave its credit back when it was rejected.</summary>
    private static bool TookSlot(in TempestOutcome outcome) =>
        outcome.Kind is TempestOutcomeKind.Completed or TempestOutcomeKind.Retry
        || (outcome.Kind == TempestOutcomeKind.DeadLettered && outcome.Message is not RawTempestMessage);

    /// <summary>The queue has the outcome: the heartbeat no longer extends the lease, and the job's lease token is done with.</summary>
    private void ForgetLease(TempestMessage message, bool dispose)
    {
        if (message.Lease is not { } lease) return;
        lock (_leasedGate) _leased.Remove(message);
        if (dispose) lease.JobCancellation?.Dispose();
    }

    // ---------------------------------------------------------------- the heartbeat (leasing queues)

    /// <summary>
    /// About every third of the lease: tells the queue this worker is alive and extends the leases of every
    /// delivery taken and not yet recorded (one call for all), cancels the token of each job whose lease the
    /// queue says is lost (expired and claimed again, or cancelled by an operator), and rescues expired leases
    /// (the queue runs one rescue at a time across workers). It runs until the last outcomes are handed over.
    /// </summary>
    private async Task HeartbeatAsync()
    {
        var queue = _leasing!;
        var interval = queue.LeaseDuration / 3;
        var stop = _heartbeatStop.Token;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await BeatAsync(queue, stop).ConfigureAwait(false);
                await Task.Delay(interval, _run.Time, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception e) when (!_run.Ended)
        {
            _run.Logs.Main.ZLogCritical(e, $"the heartbeat died: {LogText.Escape(e.Message)}; leases will expire and their jobs may run again");
        }
        catch (Exception) when (_run.Ended)
        {
        }
    }

    private async Task BeatAsync(ILeasingTempestQueue queue, CancellationToken stop)
    {
        TempestMessage[] running;
        lock (_leasedGate) running = [.. _leased];
        try
        {
            var lost = await queue.HeartbeatAsync(_worker, running, stop).ConfigureAwait(false);
            for (int i = 0; i < lost.Count; i++)
            {
                var message = lost[i];
                if (message.Lease is not { OutcomePosted: false, JobCancellation: { IsCancellationRequested: false } cancellation }) continue;
                _run.Logs.Main.ZLogWarning($"{{{message.Id}}} <{message.TaskName}> lease lost: its token is cancelled; it may run again");
                _run.Telemetry.LeasesLost(1);
                _run.CancelOffThread(cancellation, $"{{{message.Id}}}'s lost lease");
            }
            var rescue = await queue.RescueExpiredAsync(stop).ConfigureAwait(false);
            _run.Telemetry.DeadLettered(null, "lease_expired", rescue.DeadLettered);
            if (rescue.Returned + rescue.DeadLettered > 0 && !_run.Ended)
                _run.Logs.Main.ZLogWarning($"expired leases rescued: {rescue.Returned} returned to the queue, {rescue.DeadLettered} dead-lettered (their leases expired too often)");
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (!_run.Ended)
        {
            // The leases run on until they expire; the next beat tries again.
            _run.Logs.Main.ZLogError(e, $"heartbeat failed: {LogText.Escape(e.Message)}; {running.Length} leases were not extended");
        }
    }

    /// <summary>
    /// Waits for the fetcher to leave the queue, puts back what it took and no one started, and hands every
    /// outcome over, within the shutdown timeout once more (a queue call that hangs must not hold Run forever).
    /// </summary>
    public async Task StopAsync()
    {
        try
        {
            await _fetcher.WaitAsync(FetcherGrace).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _run.Logs.Main.ZLogWarning($"the fetcher did not leave the queue within {FetcherGrace.TotalSeconds} s");
        }
        while (_ready.Reader.TryRead(out var unstarted)) ReturnUnstarted(unstarted);
        _outcomes.Writer.TryComplete();
        try
        {
            await _flusher.WaitAsync(_run.Settings.ShutdownTimeout, _run.Time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _run.Logs.Main.ZLogWarning($"the queue did not take the last outcomes within the shutdown timeout; {Volatile.Read(ref _pendingOutcomes)} were not handed over (their messages may be delivered again)");
            await _flushCancel.CancelAsync().ConfigureAwait(false);
        }
        if (_leasing is null) return;
        await _heartbeatStop.CancelAsync().ConfigureAwait(false);
        await _heartbeat.ConfigureAwait(false);
        try
        {
            using var bounded = new CancellationTokenSource(FetcherGrace);
            await _leasing.WorkerStoppedAsync(_worker, bounded.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _run.Logs.Main.ZLogWarning($"the queue did not take this worker out of its registry: {LogText.Escape(e.Message)}");
        }
    }
}
