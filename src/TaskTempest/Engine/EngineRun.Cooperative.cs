using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using TaskTempest.Logging;
using TaskTempest.Queues;
using ZLogger;

namespace TaskTempest.Engine;

internal sealed partial class EngineRun
{
    /// <summary>
    /// Cooperative mode (the original's fibers): one event-loop thread with its own
    /// SynchronizationContext, so every continuation of task code, and everything the engine does for a
    /// job, runs on that thread. At most <c>Fibers</c> jobs are in flight; they interleave at their awaits.
    /// Nothing here blocks the loop: queue calls are awaited and the log files never make a logger wait.
    /// </summary>
    private sealed class CooperativeLoop
    {
        private const int Idle = 0, Running = 1, Ended = 2, Aborted = 3;
        private const int YieldEvery = 64;
        private int _sinceYield;

        private readonly EngineRun _run;
        private readonly int _fibers;
        private readonly LoopContext _context;
        private readonly Thread _thread;
        // One reusable job per fiber: no allocation per job for the bookkeeping. The loop owns the free list;
        // shutdown's abort reads the slots from another thread (no job starts once the engine is stopping).
        private readonly FiberJob[] _slots;
        private readonly Stack<FiberJob> _free;
        private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ITimer _watchdog;
        private TaskCompletionSource? _slotFreed;
        private bool _dispatching = true;
        private int _dequeueFailures;

        // Loop-thread counters, read when the run ends.
        public long Started, Succeeded, Failed, TimedOut;

        // What the watchdog sees: since when the loop runs the current work item (0: idle), and for which job if known.
        private long _busySince;
        private volatile FiberJob? _stepOf;
        private int _active; // jobs in flight, counted on the loop thread
        private long _reportedBusySince;

        public CooperativeLoop(EngineRun run, int fibers)
        {
            _run = run;
            _fibers = fibers;
            _slots = [.. Enumerable.Range(0, fibers).Select(_ => new FiberJob())];
            _free = new Stack<FiberJob>(_slots);
            _context = new LoopContext(this);
            _thread = new Thread(_context.RunLoop)
            {
                IsBackground = true, // a loop blocked past shutdown must not keep the process alive
                Name = $"{run.Engine.Name} event loop",
            };
            var check = run.Engine.Options.LoopBlockedThreshold;
            _watchdog = run._time.CreateTimer(static s => ((CooperativeLoop)s!).Watch(), this, check, check);
        }

        /// <summary>Completes when the dispatcher has stopped and no job is in flight.</summary>
        public Task Drained => _drained.Task;

        public void Start()
        {
            _thread.Start();
            _context.Post(static s => _ = ((CooperativeLoop)s!).DispatchAsync(), this);
        }

        /// <summary>Called from Run's thread at shutdown's deadline: reports each job still in flight aborted and returns its message.</summary>
        public async Task AbortRunningAsync(List<string> aborted)
        {
            foreach (var job in _slots)
            {
                if (Interlocked.CompareExchange(ref job.State, Aborted, Running) != Running) continue;
                aborted.Add(job.Message.Id!);
                _run._logs.Main.ZLogWarning($"{{{job.Message.Id}}} <{job.Message.TaskName}> aborted");
                await _run.ReturnToQueueAsync(job.Message, "it was aborted").ConfigureAwait(false);
            }
            _run.CancelOffThread(_run._aborting, "shutdown's abort");
        }

        /// <summary>Ends the loop thread once nothing more should run on it.</summary>
        public void Close()
        {
            _watchdog.Dispose();
            _context.Complete();
        }

        // ------------------------------------------------------------ on the loop

        private async Task DispatchAsync()
        {
            var stopping = _run._stopping.Token;
            var memory = _run._memoryQueue;
            long previousEnd = 0; // when the last job ended, if it ended synchronously and nothing came after it
            try
            {
                while (!stopping.IsCancellationRequested)
                {
                    long chained = previousEnd;
                    previousEnd = 0;
                    if (_active >= _fibers)
                    {
                        _slotFreed = new TaskCompletionSource();
                        await _slotFreed.Task;
                        continue;
                    }
                    // The common case, a typed message ready in the queue, takes no async machinery (and, from
                    // the embedded queue, no interface call).
                    TempestMessage? message, taken = null;
                    bool immediate = true;
                    if (memory is not null && memory.TryDequeue(out taken) && taken is not RawTempestMessage)
                    {
                        message = Dequeued(taken);
                    }
                    else
                    {
                        var ready = taken is not null ? new ValueTask<TempestMessage?>(taken) : _run._queue.DequeueAsync(stopping);
                        if (ready.IsCompletedSuccessfully)
                        {
                            // A ValueTask is consumed once: read its result, and hand on a plain one if there is more to do.
                            var result = ready.Result;
                            immediate = result is not (null or RawTempestMessage);
                            ready = new ValueTask<TempestMessage?>(result);
                        }
                        else
                        {
                            immediate = false;
                        }
                        message = immediate ? Dequeued(ready.Result!) : await DequeueAsync(ready, stopping);
                    }
                    if (message is null) continue;
                    if (stopping.IsCancellationRequested)
                    {
                        await _run.ReturnUnstartedAsync(message, "it was dequeued while stopping");
                        break;
                    }
                    var job = _free.Pop();
                    job.Message = message;
                    Volatile.Write(ref job.State, Running);
                    _active++;
                    Started++;
                    // One clock read per job, as on worker threads: a job taken straight after one that ended
                    // synchronously starts when that one ended.
                    previousEnd = StartJob(job, immediate && chained != 0 ? chained : _run._time.GetTimestamp()); // runs until its first await
                    // Jobs that complete synchronously would otherwise keep the loop to the dispatcher for a
                    // whole burst: every so often let waiting continuations (and the watchdog's view) in.
                    if (++_sinceYield >= YieldEvery)
                    {
                        _sinceYield = 0;
                        previousEnd = 0;
                        await Task.Yield();
                    }
                }
            }
            catch (Exception e) when (!_run._ended)
            {
                _run._logs.Main.ZLogCritical(e, $"event loop dispatcher died: {LogText.Escape(e.Message)}");
            }
            finally
            {
                _dispatching = false;
                CheckDrained();
            }
        }

        private TempestMessage Dequeued(TempestMessage message)
        {
            _dequeueFailures = 0;
            return message;
        }

        private async ValueTask<TempestMessage?> DequeueAsync(ValueTask<TempestMessage?> pending, CancellationToken stopping)
        {
            TempestMessage? message;
            try
            {
                message = await pending;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return null;
            }
            catch (Exception e)
            {
                int failures = ++_dequeueFailures;
                var poll = _run._pollInterval;
                var backoff = TimeSpan.FromTicks(Math.Min(poll.Ticks << Math.Min(failures - 1, 16), Math.Max(MaxDequeueBackoff.Ticks, poll.Ticks)));
                _run._logs.Main.ZLogError(e, $"event loop: dequeue failed ({failures} in a row): {LogText.Escape(e.Message)}; retrying in {backoff.TotalSeconds:0.###} s");
                await DelayAsync(backoff, stopping);
                return null;
            }
            _dequeueFailures = 0;
            if (message is null)
            {
                await DelayAsync(_run._pollInterval, stopping);
                return null;
            }
            if (message is not RawTempestMessage raw) return message;
            var parsed = _run.TryParse(raw, out string? rejection);
            if (parsed is null) await _run.DeadLetterAsync(raw, rejection!);
            return parsed;
        }

        private async Task DelayAsync(TimeSpan delay, CancellationToken stopping)
        {
            try { await Task.Delay(delay, _run._time, stopping); }
            catch (OperationCanceledException) { }
        }

        /// <summary>
        /// Starts a job on the loop. A job that completes synchronously (no timeout, nothing awaited) is
        /// concluded right here, with no async machinery; the rest continue in <see cref="AwaitJobAsync"/>.
        /// </summary>
        /// <returns>When the job ended if it ended here, synchronously; else 0.</returns>
        private long StartJob(FiberJob job, long started)
        {
            var message = job.Message;
            job.Started = started;
            // Ids and wire names go into every line of a job unescaped: they are log-safe by construction
            // (TempestId.IsAcceptable for ids from outside, TT0011 for wire names).
            Debug.Assert(LogText.IsClean(message.Id) && LogText.IsClean(message.TaskName));
            _run._logs.Main.ZLogInformation($"{{{message.Id}}} <{message.TaskName}> started");
            if (_run._taskEvents) _run.RaiseTaskEvent(message, null, TimeSpan.Zero);

            ValueTask processed;
            try
            {
                var token = _run._aborting.Token;
                if (message.Timeout is { } timeout)
                {
                    // At the deadline the token is cancelled and the job stops waiting for the task: its slot
                    // frees as soon as the loop gets control back, at the task's next await.
                    job.DeadlineSource = CancellationTokenSource.CreateLinkedTokenSource(token);
                    job.DeadlinePassed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    job.Deadline = _run._time.CreateTimer(static s =>
                    {
                        var (run, source, passed) = ((EngineRun, CancellationTokenSource, TaskCompletionSource))s!;
                        passed.TrySetResult();
                        run.CancelOffThread(source, "a timeout");
                    }, (_run, job.DeadlineSource, job.DeadlinePassed), timeout, Timeout.InfiniteTimeSpan);
                    token = job.DeadlineSource.Token;
                }
                if (message.RequiresServices) job.Scope = _run.CreateScope(message);
                job.Task = message.CreateTask(job.Scope?.ServiceProvider);
                job.Task.Attach(message, _run._logs.Task);

                _stepOf = job;
                processed = message.InvokeAsync(job.Task, token);
            }
            catch (Exception e)
            {
                _stepOf = null;
                return Conclude(job, e, expired: false);
            }
            _stepOf = null;
            if (processed.IsCompletedSuccessfully && job.Deadline is null) return Conclude(job, null, expired: false);
            _ = AwaitJobAsync(job, processed);
            return 0;
        }

        private async Task AwaitJobAsync(FiberJob job, ValueTask processed)
        {
            Exception? error = null;
            bool expired = false;
            try
            {
                var processing = processed.AsTask();
                if (job.DeadlinePassed is null)
                {
                    await processing;
                }
                else if (await Task.WhenAny(processing, job.DeadlinePassed.Task) == processing)
                {
                    await processing;
                }
                else
                {
                    expired = true;
                    ObserveLateEnd(job.Message, processing, job.Started);
                }
            }
            catch (Exception e)
            {
                error = e;
            }
            Conclude(job, error, expired | job.DeadlinePassed?.Task.IsCompleted == true);
        }

        /// <summary>The job's end on the loop: its status, report and acknowledgement, then its slot is free.</summary>
        /// <returns>When the job ended, if nothing after its end took time (see EndsQuietly); else 0.</returns>
        private long Conclude(FiberJob job, Exception? error, bool expired)
        {
            job.Deadline?.Dispose();
            var message = job.Message;
            long ended = _run._time.GetTimestamp();
            bool quiet = false; // nothing after the end took time: the next job may start at it
            ValueTask acknowledged = default;
            try
            {
                if (Interlocked.CompareExchange(ref job.State, Ended, Running) == Running) // else shutdown reported it aborted
                {
                    double seconds = _run._time.GetElapsedTime(job.Started, ended).TotalSeconds;
                    var status = expired ? TempestTaskStatus.Timeout : error is null ? TempestTaskStatus.Success : TempestTaskStatus.Failure;
                    switch (status)
                    {
                        case TempestTaskStatus.Success: Succeeded++; break;
                        case TempestTaskStatus.Failure: Failed++; break;
                        default: TimedOut++; break;
                    }
                    _run.Report(message, job.Task, status, error, seconds);
                    if (_run._acknowledges) acknowledged = _run._acknowledging!.AcknowledgeAsync(message);
                    quiet = status == TempestTaskStatus.Success && job.Scope is null && job.DeadlineSource is null && _run.EndsQuietly(message);
                }
            }
            catch (Exception e) when (!_run._ended)
            {
                _run._logs.Main.ZLogError(e, $"{{{message.Id}}} <{message.TaskName}> could not be reported: {LogText.Escape(e.Message)}");
            }
            if (acknowledged.IsCompletedSuccessfully) Release(job, expired);
            else _ = ReleaseAfterAcknowledgedAsync(job, acknowledged, expired);
            return quiet ? ended : 0;
        }

        private async Task ReleaseAfterAcknowledgedAsync(FiberJob job, ValueTask acknowledged, bool expired)
        {
            try { await acknowledged; }
            catch (Exception e) when (!_run._ended) { _run.AcknowledgeFailed(job.Message, e); }
            Release(job, expired);
        }

        private void Release(FiberJob job, bool expired)
        {
            job.Scope?.Dispose();
            if (!expired) job.DeadlineSource?.Dispose(); // a task still running past its deadline may hold the token
            job.Reset();
            _free.Push(job);
            _active--;
            _slotFreed?.TrySetResult();
            CheckDrained();
        }

        /// <summary>A task that ran past its deadline still finishes some time later, on the loop: log it, and observe its exception.</summary>
        private void ObserveLateEnd(TempestMessage message, Task processing, long started) =>
            processing.ContinueWith(static (t, s) =>
            {
                var (loop, message, started) = ((CooperativeLoop, TempestMessage, long))s!;
                if (loop._run._ended) return;
                double seconds = loop._run._time.GetElapsedTime(started).TotalSeconds;
                loop._run._logs.Main.ZLogWarning($"{{{message.Id}}} <{message.TaskName}> returned after {seconds:0.0000} s; it had already timed out");
                _ = t.Exception; // observed
            }, (this, message, started), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.FromCurrentSynchronizationContext());

        private void CheckDrained()
        {
            if (!_dispatching && _active == 0) _drained.TrySetResult();
        }

        // ------------------------------------------------------------ the watchdog (a timer thread)

        /// <summary>Logs a warning when one step of task code has held the loop longer than the threshold.</summary>
        private void Watch()
        {
            long busySince = Volatile.Read(ref _busySince);
            if (busySince == 0 || busySince == _reportedBusySince || _run._ended) return;
            var blocked = _run._time.GetElapsedTime(busySince);
            if (blocked < _run.Engine.Options.LoopBlockedThreshold) return;
            _reportedBusySince = busySince;
            if (_stepOf is { Message: { } stepMessage })
            {
                _run._logs.Main.ZLogWarning($"{{{stepMessage.Id}}} <{stepMessage.TaskName}> has blocked the event loop for {blocked.TotalSeconds:0.000} s: cooperative task code must await, not block");
            }
            else
            {
                string inFlight = string.Join(", ", _slots.Select(j => j.Message).OfType<TempestMessage>().Select(m => $"{{{m.Id}}} <{m.TaskName}>"));
                _run._logs.Main.ZLogWarning($"the event loop has been blocked for {blocked.TotalSeconds:0.000} s by a continuation of one of: {inFlight}");
            }
        }

        // ------------------------------------------------------------ the loop thread and its context

        /// <summary>One fiber's job, reused from job to job.</summary>
        private sealed class FiberJob
        {
            public TempestMessage Message = null!;
            public int State; // Idle, Running, Ended or Aborted: whoever moves it from Running reports the job
            public long Started;
            public TempestTask? Task;
            public IServiceScope? Scope;
            public CancellationTokenSource? DeadlineSource;
            public ITimer? Deadline;
            public TaskCompletionSource? DeadlinePassed;

            public void Reset()
            {
                Message = null!;
                Task = null;
                Scope = null;
                DeadlineSource = null;
                Deadline = null;
                DeadlinePassed = null;
                Volatile.Write(ref State, Idle);
            }
        }

        /// <summary>Posts run, in order, on the loop thread; nothing else runs there.</summary>
        private sealed class LoopContext(CooperativeLoop loop) : SynchronizationContext
        {
            private readonly Channel<(SendOrPostCallback Callback, object? State)> _work =
                Channel.CreateUnbounded<(SendOrPostCallback, object?)>(new UnboundedChannelOptions { SingleReader = true });

            public override void Post(SendOrPostCallback d, object? state) => _work.Writer.TryWrite((d, state)); // dropped once closed

            public override void Send(SendOrPostCallback d, object? state) =>
                throw new NotSupportedException("The TaskTempest event loop does not run work synchronously for other threads.");

            public override SynchronizationContext CreateCopy() => this;

            public void Complete() => _work.Writer.TryComplete();

            public void RunLoop()
            {
                SetSynchronizationContext(this);
                var reader = _work.Reader;
                var time = loop._run._time;
                while (true)
                {
                    while (reader.TryRead(out var item))
                    {
                        Volatile.Write(ref loop._busySince, Math.Max(1, time.GetTimestamp()));
                        try
                        {
                            item.Callback(item.State);
                        }
                        catch (Exception e) when (!loop._run._ended)
                        {
                            // An async void method of task code threw: the loop logs it and goes on.
                            loop._run._logs.Main.ZLogError(e, $"event loop: unhandled exception in task code: {LogText.Escape(e.Message)}");
                        }
                        catch (Exception) when (loop._run._ended)
                        {
                        }
                        Volatile.Write(ref loop._busySince, 0);
                    }
                    var more = reader.WaitToReadAsync();
                    if (!(more.IsCompletedSuccessfully ? more.Result : more.AsTask().GetAwaiter().GetResult())) return;
                }
            }
        }
    }
}
