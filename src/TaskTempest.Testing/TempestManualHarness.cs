using System.Globalization;
using TaskTempest.Queues;

namespace TaskTempest.Testing;

/// <summary>
/// An engine in manual mode (<see cref="TempestTesting.Manual{TEngine}"/>): what its submits queue is captured and
/// inspected typed (<see cref="Submitted()"/>, <see cref="Submitted{TTask}"/>), and runs only when the test drains
/// (<see cref="DrainAsync(CancellationToken)"/>), through the real engine on a <see cref="TempestLeasingMemoryQueue"/>
/// on the harness's clock: so retries and their backoff, callbacks, timeouts, unique keys and dead letters behave as in
/// production, and a delayed job or a retry waits until the test moves the clock (a <c>FakeTimeProvider</c>'s
/// <c>Advance</c>) and drains again.
/// </summary>
/// <remarks>
/// <para>
/// A drain starts the engine (<c>RunAsync</c>, signals off), lets it run every job that is due and every job those jobs
/// submit that is due, and stops it the moment the queue has nothing due and nothing running: the queue says so in the
/// same step as the claim or the outcome that makes it so, so nothing is polled and no one sleeps. It is bounded in real
/// time (<see cref="TempestManualOptions.DrainTimeout"/>, 30 s by default) and fails then with a
/// <see cref="TimeoutException"/> that names the jobs still running. A task's timeout counts on the harness's clock,
/// as everything of the engine's does: a test that wants one to pass moves the clock while the job runs.
/// </para>
/// <para>
/// By default a drain in which a run failed or timed out throws <see cref="TempestJobFailedException"/> (its inner
/// exception is the task's), so no failure goes unseen; <see cref="TempestDrainOptions.AllowFailures"/> returns the
/// result instead, for tests of failures and retries.
/// </para>
/// <para>
/// It keeps no static state: harnesses side by side (tests run in parallel) share nothing. Drains of one harness run
/// one at a time. Recurring schedules are not driven: a drain stops when the queue is idle, whether or not a schedule's
/// tick is due, so test a schedule's job by submitting it. A job that an engine's <c>[AfterTaskFinished]</c> hook submits
/// may be left for the next drain (the hook runs after the job's outcome is recorded).
/// </para>
/// </remarks>
/// <typeparam name="TEngine">The engine class.</typeparam>
public sealed class TempestManualHarness<TEngine> : IAsyncDisposable where TEngine : TempestEngine, ITempestEngine<TEngine>
{
    private readonly TempestManualOptions _options;
    private readonly RecordingLoggerFactory _mainLog;
    private readonly RecordingLoggerFactory _taskLog;

    // Lock order: the queue's lock, then this one (the observer runs under the queue's); never the other way.
    private readonly Lock _gate = new();
    private readonly List<TempestCapturedJob> _jobs = [];
    private readonly Dictionary<string, TempestCapturedJob> _byId = new(StringComparer.Ordinal);
    private List<TempestJobRun>? _drainRuns; // the runs of the drain in progress
    private bool _draining;
    private Task<TempestRunResult>? _stopping; // the run a timed-out drain asked to stop

    internal TempestManualHarness(TimeProvider time, TempestOptions engineOptions, TempestManualOptions options)
    {
        if (options.DrainTimeout <= TimeSpan.Zero || options.DrainTimeout.TotalMilliseconds > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(options), options.DrainTimeout, "TempestManualOptions.DrainTimeout must be more than 0 and at most 24 days: a drain never waits forever.");
        _options = options;
        Time = time;
        Queue = new TempestLeasingMemoryQueue(time, options.Queue) { Observer = new QueueObserver(this) };
        Engine = TEngine.Create(engineOptions);

        // After the engine's own Configure, which may have named a production queue or loggers: the harness's win, and
        // the user's loggers still get every line.
        var engineSettings = Engine.Options;
        engineSettings.Queue = Queue;
        engineSettings.TimeProvider = time;
        engineSettings.HandleSignals = false;
        engineSettings.MainLoggerFactory = _mainLog = new RecordingLoggerFactory(engineSettings.MainLoggerFactory);
        engineSettings.TaskLoggerFactory = _taskLog = new RecordingLoggerFactory(engineSettings.TaskLoggerFactory);
        TempestTesting.FixQueue(Engine, Queue);
    }

    /// <summary>The engine: submit through it as production code does (<c>jobs.Engine.SubmitAdder(2, 5)</c>).</summary>
    public TEngine Engine { get; }

    /// <summary>The engine's queue, on <see cref="Time"/>: its inspector shows what waits, runs and died.</summary>
    public TempestLeasingMemoryQueue Queue { get; }

    /// <summary>The clock of the engine and its queue, as given.</summary>
    public TimeProvider Time { get; }

    /// <summary>Every job submitted so far (also by jobs, during drains), in submit order; a duplicate of a held unique
    /// key queued nothing and is not here.</summary>
    public IReadOnlyList<TempestCapturedJob> Submitted()
    {
        lock (_gate) return [.. _jobs];
    }

    /// <summary>The jobs submitted so far that run <typeparamref name="TTask"/>, in submit order.</summary>
    /// <typeparam name="TTask">The task class (its generated message is an <see cref="ITempestMessage{TTask}"/>).</typeparam>
    public IReadOnlyList<TempestCapturedJob> Submitted<TTask>() where TTask : TempestTask
    {
        lock (_gate) return [.. _jobs.Where(job => job.Message is ITempestMessage<TTask>)];
    }

    /// <summary>The job with the id a submit returned, or null.</summary>
    public TempestCapturedJob? Find(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        lock (_gate) return _byId.GetValueOrDefault(id);
    }

    /// <summary>The main log so far: the engine's lines (<c>{id} &lt;Adder&gt; started</c>, <c>... success 0.0001</c>...).</summary>
    public IReadOnlyList<TempestLogEntry> MainLog => _mainLog.From(0);

    /// <summary>The task log so far: what tasks wrote through <c>TaskLogger</c> (prefixed <c>{id} &lt;Task&gt;</c>), and each
    /// failed run's exception.</summary>
    public IReadOnlyList<TempestLogEntry> TaskLog => _taskLog.From(0);

    /// <summary>
    /// Runs every job that is due now, and every due job those submit, through the engine, until nothing is due and
    /// nothing runs; returns what ran. Throws <see cref="TempestJobFailedException"/> when a run failed or timed out,
    /// unless <see cref="TempestManualOptions.ThrowOnFailure"/> is off.
    /// </summary>
    /// <exception cref="TimeoutException">It did not finish within <see cref="TempestManualOptions.DrainTimeout"/> (real time).</exception>
    public Task<TempestDrainResult> DrainAsync(CancellationToken cancellationToken = default) => DrainAsync(null, cancellationToken);

    /// <summary>
    /// <see cref="DrainAsync(CancellationToken)"/> with this drain's settings:
    /// <c>await jobs.DrainAsync(TempestDrainOptions.AllowFailures)</c> returns failed runs instead of throwing.
    /// </summary>
    /// <exception cref="TempestJobFailedException">A run failed or timed out, and failures throw.</exception>
    /// <exception cref="TimeoutException">It did not finish within its bound (real time): the message names the jobs still
    /// running. The engine was asked to stop; until it has, the harness cannot drain again.</exception>
    /// <exception cref="InvalidOperationException">Another drain of this harness is in progress, or the engine of a drain
    /// that timed out has not stopped yet, or the engine stopped (<c>Stop</c>) before the drain was done.</exception>
    public async Task<TempestDrainResult> DrainAsync(TempestDrainOptions? options, CancellationToken cancellationToken = default)
    {
        var timeout = options?.Timeout ?? _options.DrainTimeout;
        if (timeout <= TimeSpan.Zero || timeout.TotalMilliseconds > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(options), timeout, "A drain's timeout must be more than 0 and at most 24 days: a drain never waits forever.");
        bool throwOnFailure = options?.ThrowOnFailure ?? _options.ThrowOnFailure;

        var runs = new List<TempestJobRun>();
        lock (_gate)
        {
            if (_draining) throw new InvalidOperationException("A drain of this harness is in progress: drains run one at a time.");
            if (_stopping is { IsCompleted: false })
                throw new InvalidOperationException("The engine has not stopped since a drain timed out (a job it ran has not ended): this harness cannot drain again until it has.");
            _stopping = null;
            _draining = true;
            _drainRuns = runs;
        }
        try
        {
            int taskLogStart = _taskLog.Count;
            var idle = Queue.WhenIdleAsync(ConsumedQueues());
            TempestRunResult? engineResult = idle.IsCompleted ? null : await RunUntilIdleAsync(idle, timeout, cancellationToken).ConfigureAwait(false);
            lock (_gate) _drainRuns = null; // from here the list is this method's alone
            AttachExceptions(runs, _taskLog.From(taskLogStart));
            var result = new TempestDrainResult(runs, engineResult);
            if (throwOnFailure && result.Failures.Count > 0) throw new TempestJobFailedException(result);
            return result;
        }
        finally
        {
            lock (_gate)
            {
                _draining = false;
                _drainRuns = null;
            }
        }
    }

    /// <summary>Runs the engine until the queue is idle, then stops it and returns its result once <c>Run</c> has returned
    /// (so every final line, and every failed run's exception, is in the logs).</summary>
    private async Task<TempestRunResult> RunUntilIdleAsync(Task idle, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(timeout); // real time: the harness's clock may be a fake one that never moves by itself
        var stop = new CancellationTokenSource(); // not disposed: a run that outlives a timed-out drain still holds it
        var run = Engine.RunAsync(stop.Token);
        try
        {
            if (await Task.WhenAny(idle, run).WaitAsync(bound.Token).ConfigureAwait(false) == run)
            {
                var ended = await run.ConfigureAwait(false); // a Run that threw throws here
                throw new InvalidOperationException($"The engine stopped before the drain was done ({ended}): a drain stops it itself.");
            }
            await stop.CancelAsync().ConfigureAwait(false);
            return await run.WaitAsync(bound.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (bound.IsCancellationRequested)
        {
            Queue.ForgetIdleWaiter(idle);
            string unfinished = await DescribeUnfinishedAsync().ConfigureAwait(false); // before the stop changes it
            await stop.CancelAsync().ConfigureAwait(false);
            if (!run.IsCompleted)
            {
                lock (_gate) _stopping = run;
                _ = run.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException(
                $"The drain did not finish within {Describe(timeout)}: {unfinished}. The engine was asked to stop: it returns once "
                + "those jobs end, or its shutdown timeout has passed on the harness's clock; until then this harness cannot drain "
                + "again. A job that is only slow needs a longer bound (TempestDrainOptions.Timeout, TempestManualOptions.DrainTimeout).");
        }
    }

    private async Task<string> DescribeUnfinishedAsync()
    {
        var running = await Queue.ListAsync(TempestJobState.Running, 0, 20).ConfigureAwait(false);
        var counts = await Queue.GetCountsAsync().ConfigureAwait(false);
        string jobs = running.Count == 0 ? "no job running"
            : $"{Jobs(counts.Running ?? running.Count)} still running: "
              + string.Join(", ", running.Select(job => $"{{{job.Id}}} <{job.TaskName}> (attempt {job.Attempt})"))
              + (counts.Running > running.Count ? ", ..." : "");
        return $"{jobs}; {Jobs(counts.Ready ?? 0)} due and not started";

        static string Jobs(long count) => count == 1 ? "1 job" : $"{count} jobs";
    }

    private static string Describe(TimeSpan timeout) => timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";

    /// <summary>The named queues the engine takes from: the drain is over when none of them has a due job.</summary>
    private string[] ConsumedQueues() =>
        Engine.Options.Queues.Count == 0 ? [TempestQueueNames.Default] : [.. Engine.Options.Queues.Select(queue => queue.Name)];

    /// <summary>
    /// Gives each failed run the exception the task log got with its <c>{id} &lt;Task&gt; failure</c> line (for a timeout,
    /// its <c>timeout; then Process threw</c> line), pairing a job's lines with its runs in order. The line is the one
    /// place the exception object goes (the queue keeps only its type and message); it is written after the outcome, so
    /// this runs once <c>Run</c> has returned. A job's lines follow the order of its runs, except in one race: a retry due
    /// at once (a zero backoff) that another worker runs and fails before the first worker has written its line.
    /// </summary>
    private static void AttachExceptions(List<TempestJobRun> runs, TempestLogEntry[] taskLog)
    {
        Dictionary<(string Id, bool Timeout), Queue<Exception>>? logged = null;
        foreach (var entry in taskLog)
        {
            if (entry.Exception is null || !TryReadJobLine(entry.Message, out string? id, out string? rest)) continue;
            bool? timeout = rest == "failure" ? false : rest == "timeout; then Process threw" ? true : null;
            if (timeout is null) continue; // a callback's or a hook's failure: the run's status stands, as in production
            logged ??= [];
            if (!logged.TryGetValue((id!, timeout.Value), out var exceptions)) logged[(id!, timeout.Value)] = exceptions = new();
            exceptions.Enqueue(entry.Exception);
        }
        if (logged is null) return;
        foreach (var run in runs)
        {
            if (run.Failed && logged.TryGetValue((run.Id, run.Status == TempestTaskStatus.Timeout), out var exceptions) && exceptions.Count > 0)
                run.Exception = exceptions.Dequeue();
        }
    }

    /// <summary>Reads an engine line's <c>{id} &lt;Task&gt; rest</c>.</summary>
    private static bool TryReadJobLine(string message, out string? id, out string? rest)
    {
        id = rest = null;
        int idEnd = message.IndexOf("} <", StringComparison.Ordinal);
        if (!message.StartsWith('{') || idEnd < 0) return false;
        int nameEnd = message.IndexOf("> ", idEnd, StringComparison.Ordinal);
        if (nameEnd < 0) return false;
        id = message[1..idEnd];
        rest = message[(nameEnd + 2)..];
        return true;
    }

    /// <summary>Asks a running engine to stop (a drain's, or one a timed-out drain left stopping); waits for nothing.</summary>
    public ValueTask DisposeAsync()
    {
        Engine.Stop();
        return default;
    }

    /// <summary>What the queue tells the harness, under its lock: quick, and never calling the queue back.</summary>
    private sealed class QueueObserver(TempestManualHarness<TEngine> harness) : ILeasingQueueObserver
    {
        public void Added(TempestMessage message)
        {
            if (message is RawTempestMessage) return; // text from another program: run by drains, not listed
            var job = new TempestCapturedJob(message, harness.Queue, harness.Time.GetUtcNow());
            lock (harness._gate)
            {
                harness._jobs.Add(job);
                harness._byId[job.Id] = job;
            }
        }

        public void Recorded(in TempestOutcome outcome)
        {
            // Not a run: a message taken while the engine stopped, or text that never became a job.
            if (outcome.Kind == TempestOutcomeKind.ReturnedUnstarted || outcome.Message is RawTempestMessage) return;
            TempestJobRun run;
            lock (harness._gate)
            {
                var job = harness._byId.GetValueOrDefault(outcome.Message.Id!);
                run = new TempestJobRun(job, outcome);
                harness._drainRuns?.Add(run);
            }
            run.Job?.Add(run);
        }
    }
}
