using System.Diagnostics;
using System.Threading.Channels;
using TaskTempest.Engine.Threads;
using TaskTempest.Logging;
using TaskTempest.Queues;
using ZLogger;

namespace TaskTempest.Engine.Inbox;

/// <summary>
/// Any <see cref="ITempestQueue"/>. One fetcher per engine asks the queue for a message whenever a slot is
/// free (a credit per slot: nothing is taken that no worker or fiber could start) and hands it on through a
/// channel; one flusher hands the jobs' outcomes to the queue in order. Both run on the thread pool, never
/// on a worker thread or on the event loop, so tasks that hold the CPU cannot starve them, and workers and
/// fibers never call the queue themselves.
/// </summary>
/// <remarks>
/// Today the fetcher asks for one message at a time, since <see cref="ITempestQueue"/> hands out one; a
/// queue that hands out batches will be asked for as many as there are free credits.
/// </remarks>
internal sealed class QueueInbox : IInbox
{
    /// <summary>How long shutdown waits for the fetcher to leave a queue call that ignores its token (real time).</summary>
    private static readonly TimeSpan FetcherGrace = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between dequeue attempts on a failing queue (unless the poll interval is longer).</summary>
    private static readonly TimeSpan MaxDequeueBackoff = TimeSpan.FromSeconds(30);

    private readonly RunContext _run;
    private readonly ITempestQueue _queue;
    private readonly IAcknowledgingTempestQueue? _acknowledging;
    private readonly MessageIntake _intake;
    private readonly SemaphoreSlim _freeSlots;
    private readonly Channel<TempestMessage> _ready = Channel.CreateUnbounded<TempestMessage>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly Channel<Outcome> _outcomes = Channel.CreateUnbounded<Outcome>(new UnboundedChannelOptions { SingleReader = true });
    private Task _fetcher = Task.CompletedTask;
    private Task _flusher = Task.CompletedTask;
    private int _lostSlots; // slots orphaned at the cap whose credits the fetcher has yet to swallow
    private int _pendingOutcomes; // posted and not yet answered by the queue
    private readonly CancellationTokenSource _flushCancel = new(); // cancelled when shutdown stops waiting for the queue

    public QueueInbox(RunContext run, MessageIntake intake)
    {
        _run = run;
        _queue = run.Settings.Queue;
        _acknowledging = _queue as IAcknowledgingTempestQueue;
        _intake = intake;
        _freeSlots = new SemaphoreSlim(run.Settings.Slots);
    }

    private enum OutcomeKind { Acknowledge, Return, DeadLetter }

    private readonly record struct Outcome(OutcomeKind Kind, TempestMessage Message, string? Reason);

    public void Start()
    {
        _fetcher = Task.Run(FetchAsync);
        _flusher = Task.Run(FlushAsync);
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
                await _freeSlots.WaitAsync(stopping).ConfigureAwait(false);
                if (TryRepayLostSlot()) continue; // that credit belonged to a slot that is gone for now
                TempestMessage? message;
                try
                {
                    message = await _queue.DequeueAsync(stopping).ConfigureAwait(false);
                    failures = 0;
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception e) when (!_run.Ended)
                {
                    // A failing queue must not end the fetcher, nor make it spin: log, back off, try again.
                    _freeSlots.Release();
                    failures++;
                    var poll = _run.Settings.QueuePollInterval;
                    var backoff = TimeSpan.FromTicks(Math.Min(poll.Ticks << Math.Min(failures - 1, 16), Math.Max(MaxDequeueBackoff.Ticks, poll.Ticks)));
                    _run.Logs.Main.ZLogError(e, $"dequeue failed ({failures} in a row): {LogText.Escape(e.Message)}; retrying in {backoff.TotalSeconds:0.###} s");
                    await DelayAsync(backoff, stopping).ConfigureAwait(false);
                    continue;
                }
                if (message is null)
                {
                    // A queue that cannot wait said it is empty: ask again after the poll interval.
                    _freeSlots.Release();
                    await DelayAsync(_run.Settings.QueuePollInterval, stopping).ConfigureAwait(false);
                    continue;
                }
                if (message is RawTempestMessage raw)
                {
                    var parsed = _intake.Accept(raw, this); // dead-lettered inside when it cannot become a job
                    if (parsed is null)
                    {
                        _freeSlots.Release();
                        continue;
                    }
                    message = parsed;
                }
                if (stopping.IsCancellationRequested)
                {
                    ReturnUnstarted(message);
                    break;
                }
                _ready.Writer.TryWrite(message);
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
    /// The slot's credit comes back once the queue has the acknowledgement, not before: so at most
    /// <c>Slots</c> messages are taken and not yet acknowledged, and a slow queue slows the intake instead of
    /// growing a backlog of outcomes (whose messages a visibility timeout could hand out again).
    /// </summary>
    public void Acknowledge(TempestMessage message)
    {
        if (_acknowledging is null) ReleaseSlot();
        else Post(new Outcome(OutcomeKind.Acknowledge, message, null));
    }

    public void Return(TempestMessage message) => PutBack(message, "it was aborted");

    public void ReturnUnstarted(TempestMessage message)
    {
        ReleaseSlot();
        PutBack(message, "it was dequeued while stopping");
    }

    private void ReleaseSlot()
    {
        int before = _freeSlots.Release();
        // Each credit comes back once per message the fetcher took: by the job's one report, or by its return.
        Debug.Assert(before < _run.Settings.Slots, "a slot's credit came back twice");
    }

    private void PutBack(TempestMessage message, string why)
    {
        if (_acknowledging is null)
        {
            if (!_run.Ended) _run.Logs.Main.ZLogWarning($"{{{message.Id}}} <{message.TaskName}> lost: {why} and the queue cannot take messages back");
            return;
        }
        Post(new Outcome(OutcomeKind.Return, message, why));
    }

    public void DeadLetter(RawTempestMessage message, string reason)
    {
        if (_acknowledging is null)
        {
            if (!_run.Ended) _run.Logs.Main.ZLogWarning($"{{{message.Id}}} dropped: the queue keeps no dead letters");
            return;
        }
        Post(new Outcome(OutcomeKind.DeadLetter, message, reason));
    }

    private void Post(Outcome outcome)
    {
        // Closed once the run has handed its outcomes over; a late one (a job still in its callbacks past the
        // shutdown's bound, a message the fetcher got from a queue call that ignored its token) goes to the
        // queue directly, unwaited.
        Interlocked.Increment(ref _pendingOutcomes);
        if (!_outcomes.Writer.TryWrite(outcome)) _ = HandOverAsync(outcome, CancellationToken.None);
    }

    /// <summary>
    /// The one flusher: takes every outcome waiting (up to one per slot) and hands them to the queue together,
    /// so that acknowledgements keep pace with as many jobs as run at once.
    /// </summary>
    private async Task FlushAsync()
    {
        if (_acknowledging is null) return;
        var reader = _outcomes.Reader;
        var handing = new List<Task>(_run.Settings.Slots);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (handing.Count < _run.Settings.Slots && reader.TryRead(out var outcome))
                handing.Add(HandOverAsync(outcome, _flushCancel.Token));
            await Task.WhenAll(handing).ConfigureAwait(false);
            handing.Clear();
        }
    }

    private async Task HandOverAsync(Outcome outcome, CancellationToken cancellationToken)
    {
        var queue = _acknowledging!;
        var message = outcome.Message;
        try
        {
            switch (outcome.Kind)
            {
                case OutcomeKind.Acknowledge: await queue.AcknowledgeAsync(message, cancellationToken).ConfigureAwait(false); break;
                case OutcomeKind.Return: await queue.ReturnAsync(message, cancellationToken).ConfigureAwait(false); break;
                default: await queue.DeadLetterAsync(message, outcome.Reason!, cancellationToken).ConfigureAwait(false); break;
            }
        }
        catch (Exception e) when (!_run.Ended)
        {
            // The job's outcome stands; the queue may deliver it again, which at-least-once allows.
            string what = outcome.Kind switch
            {
                OutcomeKind.Acknowledge => "acknowledged",
                OutcomeKind.Return => "returned to the queue",
                _ => "dead-lettered",
            };
            _run.Logs.Main.ZLogError(e, $"{{{message.Id}}} <{message.TaskName}> could not be {what}: {LogText.Escape(e.Message)}");
        }
        catch (Exception) when (_run.Ended)
        {
        }
        finally
        {
            Interlocked.Decrement(ref _pendingOutcomes);
            if (outcome.Kind == OutcomeKind.Acknowledge) ReleaseSlot();
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
    }
}
