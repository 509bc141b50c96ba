using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
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
        private const int Running = 0, Ended = 1, Aborted = 2;

        private readonly EngineRun _run;
        private readonly int _fibers;
        private readonly LoopContext _context;
        private readonly Thread _thread;
        private readonly ConcurrentDictionary<FiberJob, bool> _inFlight = new(); // read by shutdown's abort from another thread
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
            foreach (var job in _inFlight.Keys)
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
            try
            {
                while (!stopping.IsCancellationRequested)
                {
                    if (_active >= _fibers)
                    {
                        _slotFreed = new TaskCompletionSource();
                        await _slotFreed.Task;
                        continue;
                    }
                    var message = await DequeueAsync(stopping);
                    if (message is null) continue;
                    if (stopping.IsCancellationRequested)
                    {
                        await _run.ReturnToQueueAsync(message, "it was dequeued while stopping");
                        break;
                    }
                    var job = new FiberJob(message);
                    _inFlight[job] = true;
                    _active++;
                    Started++;
                    _ = RunJobAsync(job); // runs until its first await, then the loop goes on
                }
            }
            catch (Exception e) when (!_run._ended)
            {
                _run._logs.Main.ZLogCritical(e, $"event loop dispatcher died: {e.Message}");
            }
            finally
            {
                _dispatching = false;
                CheckDrained();
            }
        }

        private async ValueTask<TempestMessage?> DequeueAsync(CancellationToken stopping)
        {
            TempestMessage? message;
            try
            {
                message = await _run._queue.DequeueAsync(stopping);
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
                _run._logs.Main.ZLogError(e, $"event loop: dequeue failed ({failures} in a row): {e.Message}; retrying in {backoff.TotalSeconds:0.###} s");
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

        private async Task RunJobAsync(FiberJob job)
        {
            var message = job.Message;
            long started = _run._time.GetTimestamp();
            _run._logs.Main.ZLogInformation($"{{{message.Id}}} <{message.TaskName}> started");
            if (_run._taskEvents) _run.RaiseTaskEvent(message, null, TimeSpan.Zero);

            TempestTask? task = null;
            Exception? error = null;
            bool expired = false;
            IServiceScope? scope = null;
            CancellationTokenSource? deadlineSource = null;
            ITimer? deadline = null;
            TaskCompletionSource? deadlinePassed = null;
            try
            {
                var token = _run._aborting.Token;
                if (message.Timeout is { } timeout)
                {
                    // At the deadline the token is cancelled and the job stops waiting for the task: its slot
                    // frees as soon as the loop gets control back, at the task's next await.
                    deadlineSource = CancellationTokenSource.CreateLinkedTokenSource(token);
                    deadlinePassed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    deadline = _run._time.CreateTimer(static s =>
                    {
                        var (run, source, passed) = ((EngineRun, CancellationTokenSource, TaskCompletionSource))s!;
                        passed.TrySetResult();
                        run.CancelOffThread(source, "a timeout");
                    }, (_run, deadlineSource, deadlinePassed), timeout, Timeout.InfiniteTimeSpan);
                    token = deadlineSource.Token;
                }
                if (message.RequiresServices) scope = _run.CreateScope(message);
                task = message.CreateTask(scope?.ServiceProvider);
                task.Attach(message, _run._logs.Task);

                _stepOf = job;
                var processed = message.InvokeAsync(task, token);
                _stepOf = null;
                if (!processed.IsCompletedSuccessfully)
                {
                    var processing = processed.AsTask();
                    if (deadlinePassed is null)
                    {
                        await processing;
                    }
                    else if (await Task.WhenAny(processing, deadlinePassed.Task) == processing)
                    {
                        await processing;
                    }
                    else
                    {
                        expired = true;
                        ObserveLateEnd(job, processing, started);
                    }
                }
            }
            catch (Exception e)
            {
                error = e;
            }
            finally
            {
                _stepOf = null;
                deadline?.Dispose();
            }
            expired |= deadlinePassed?.Task.IsCompleted == true;

            try
            {
                if (Interlocked.CompareExchange(ref job.State, Ended, Running) != Running) return; // shutdown reported it aborted
                double seconds = _run._time.GetElapsedTime(started).TotalSeconds;
                var status = expired ? TempestTaskStatus.Timeout : error is null ? TempestTaskStatus.Success : TempestTaskStatus.Failure;
                switch (status)
                {
                    case TempestTaskStatus.Success: Succeeded++; break;
                    case TempestTaskStatus.Failure: Failed++; break;
                    default: TimedOut++; break;
                }
                _run.Report(message, task, status, error, seconds);
                if (_run._acknowledging is not null)
                {
                    try { await _run._acknowledging.AcknowledgeAsync(message); }
                    catch (Exception e) when (!_run._ended) { _run.AcknowledgeFailed(message, e); }
                }
            }
            catch (Exception e) when (!_run._ended)
            {
                _run._logs.Main.ZLogError(e, $"{{{message.Id}}} <{message.TaskName}> could not be reported: {e.Message}");
            }
            finally
            {
                scope?.Dispose();
                if (!expired) deadlineSource?.Dispose(); // a task still running past its deadline may hold the token
                _inFlight.TryRemove(job, out _);
                _active--;
                _slotFreed?.TrySetResult();
                CheckDrained();
            }
        }

        /// <summary>A task that ran past its deadline still finishes some time later, on the loop: log it, and observe its exception.</summary>
        private void ObserveLateEnd(FiberJob job, Task processing, long started) =>
            processing.ContinueWith(static (t, s) =>
            {
                var (loop, job, started) = ((CooperativeLoop, FiberJob, long))s!;
                if (loop._run._ended) return;
                double seconds = loop._run._time.GetElapsedTime(started).TotalSeconds;
                loop._run._logs.Main.ZLogWarning($"{{{job.Message.Id}}} <{job.Message.TaskName}> returned after {seconds:0.0000} s; it had already timed out");
                _ = t.Exception; // observed
            }, (this, job, started), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.FromCurrentSynchronizationContext());

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
            if (_stepOf is { } job)
            {
                _run._logs.Main.ZLogWarning($"{{{job.Message.Id}}} <{job.Message.TaskName}> has blocked the event loop for {blocked.TotalSeconds:0.000} s: cooperative task code must await, not block");
            }
            else
            {
                string inFlight = string.Join(", ", _inFlight.Keys.Select(j => $"{{{j.Message.Id}}} <{j.Message.TaskName}>"));
                _run._logs.Main.ZLogWarning($"the event loop has been blocked for {blocked.TotalSeconds:0.000} s by a continuation of one of: {inFlight}");
            }
        }

        // ------------------------------------------------------------ the loop thread and its context

        private sealed class FiberJob(TempestMessage message)
        {
            public TempestMessage Message { get; } = message;
            public int State; // Running, Ended or Aborted: whoever moves it from Running reports the job
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
                            loop._run._logs.Main.ZLogError(e, $"event loop: unhandled exception in task code: {e.Message}");
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
