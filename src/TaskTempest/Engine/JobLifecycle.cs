using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TaskTempest.Engine.Inbox;
using TaskTempest.Logging;
using ZLogger;

namespace TaskTempest.Engine;

/// <summary>
/// A job's life, in the order it happens, for both dispatchers: the started line and hook, the task
/// instance (in its own DI scope when it asks for services), then, once the dispatcher has run
/// <c>Process</c> and decided the status, the callbacks, the final line, the task log and the hook, and last
/// the message's fate handed to the queue. The dispatchers own only what differs between them: where the
/// call runs, how a deadline is enforced, and who may report a job (slot hand-overs).
/// </summary>
internal sealed class JobLifecycle
{
    private readonly TempestEngine _engine;
    private readonly RunContext _run;
    private readonly ILogger _main;
    private readonly ILogger _taskLog;
    private readonly IJobOutcomes _outcomes;
    private readonly bool _acknowledges;
    private readonly bool _taskEvents;
    private readonly TempestCallbackFailure _callbackFailed;
    private readonly Telemetry.RunTelemetry _telemetry;

    public JobLifecycle(TempestEngine engine, RunContext run, IJobOutcomes outcomes)
    {
        _engine = engine;
        _run = run;
        _main = run.Logs.Main;
        _taskLog = run.Logs.Task;
        _outcomes = outcomes;
        _acknowledges = outcomes.AcknowledgesEachJob;
        _taskEvents = run.Settings.HasTaskHooks;
        _callbackFailed = OnCallbackFailed;
        _telemetry = run.Telemetry;
    }

    // ---------------------------------------------------------------- the start

    /// <summary>The <c>started</c> line and the after-task-started hook.</summary>
    public void Start(TempestMessage message)
    {
        // Ids and wire names go into every line of a job unescaped: they are log-safe by construction
        // (TempestId.IsAcceptable for ids from outside, TT0011 for wire names).
        Debug.Assert(LogText.IsClean(message.Id) && LogText.IsClean(message.TaskName));
        message.WillRetry = false; // a retried message comes back as the same object on the memory queue
        _main.ZLogInformation($"{{{message.Id}}} <{message.TaskName}> started");
        _telemetry.Started(message);
        if (_taskEvents) RaiseTaskEvent(message, null, TimeSpan.Zero);
    }

    /// <summary>A DI scope for a job whose task takes services (disposed by the dispatcher after the job's end), else null.</summary>
    public IServiceScope? CreateScope(TempestMessage message) => message.RequiresServices ? CreateScopeFor(message) : null;

    // Apart, so that the common case above stays small enough to inline into the dispatchers.
    private IServiceScope CreateScopeFor(TempestMessage message) =>
        (_run.Settings.Services ?? throw new InvalidOperationException(
            $"The task {message.TaskName} takes services in its constructor, but the engine has no TempestOptions.Services."))
        .CreateScope();

    /// <summary>The task instance for this one job.</summary>
    public TempestTask CreateTask(TempestMessage message, IServiceScope? scope)
    {
        var task = message.CreateTask(scope?.ServiceProvider);
        task.Attach(message, _taskLog);
        return task;
    }

    // ---------------------------------------------------------------- the end

    /// <summary>The status, decided once: a deadline that passed counts before how Process ended.</summary>
    public static TempestTaskStatus StatusOf(bool expired, Exception? error) =>
        expired ? TempestTaskStatus.Timeout : error is null ? TempestTaskStatus.Success : TempestTaskStatus.Failure;

    /// <summary>
    /// Everything after the call, for the one who reports the job (its worker or fiber, or the watchdog for
    /// an orphan): what follows a failure first (a retry, or the last attempt), so that the callbacks see
    /// <see cref="TempestTask.WillRetry"/>; then the callbacks and the message's fate (acknowledged, retried at its
    /// run-at, dead-lettered), so that once the final line is in the main log everything about the job is done;
    /// then the task log and the hook.
    /// </summary>
    public void End(TempestMessage message, TempestTask? task, TempestTaskStatus status, Exception? error, double seconds)
    {
        var plan = status == TempestTaskStatus.Success ? default : PlanAfterFailure(message, error);
        message.WillRetry = plan.WillRetry;
        if (task is not null) message.RunCallbacks(task, status, error, _callbackFailed);
        // Before the fate: a retried message on the memory queue is the same object, and may start again at once.
        _telemetry.Ended(message, status, error, seconds);
        Record(message, status, error, plan);
        switch (status)
        {
            case TempestTaskStatus.Success:
                _main.ZLogInformation($"{{{message.Id}}} <{message.TaskName}> success {seconds:0.0000}");
                break;
            case TempestTaskStatus.Failure:
                if (plan.MaxAttempts == 0) _main.ZLogError($"{{{message.Id}}} <{message.TaskName}> failure {seconds:0.0000}");
                else _main.ZLogError($"{{{message.Id}}} <{message.TaskName}> failure {seconds:0.0000} (attempt {plan.Attempt} of {plan.MaxAttempts}, {plan.Next})");
                _taskLog.ZLogError(error, $"{{{message.Id}}} <{message.TaskName}> failure");
                break;
            default:
                if (plan.MaxAttempts == 0) _main.ZLogWarning($"{{{message.Id}}} <{message.TaskName}> timeout {seconds:0.0000}");
                else _main.ZLogWarning($"{{{message.Id}}} <{message.TaskName}> timeout {seconds:0.0000} (attempt {plan.Attempt} of {plan.MaxAttempts}, {plan.Next})");
                if (error is not null and not OperationCanceledException and not ThreadInterruptedException)
                    _taskLog.ZLogWarning(error, $"{{{message.Id}}} <{message.TaskName}> timeout; then Process threw");
                break;
        }
        if (_taskEvents) RaiseTaskEvent(message, status, TimeSpan.FromSeconds(seconds));
    }

    /// <summary>The message's fate, handed to the queue (a retry and a dead letter also where it needs no acknowledgement).</summary>
    private void Record(TempestMessage message, TempestTaskStatus status, Exception? error, in FailurePlan plan)
    {
        if (status == TempestTaskStatus.Success)
        {
            if (_acknowledges || HoldsKey(message)) _outcomes.Acknowledge(message, status, null);
            return;
        }
        var lastError = ErrorOf(message, status, error);
        if (plan.WillRetry)
        {
            _outcomes.Retry(message, status, lastError, plan.RunAt);
            _telemetry.Retried(message);
        }
        else if (plan.DeadLetters)
        {
            _telemetry.DeadLettered(message.TaskName, plan.Why == OutOfAttempts ? "out_of_attempts" : "retry_refused");
            _outcomes.DeadLetterFailed(message, status, lastError, $"{plan.Why} (attempt {plan.Attempt} of {plan.MaxAttempts}); last error {lastError.Type}: {lastError.Message}");
        }
        else if (_acknowledges || HoldsKey(message)) _outcomes.Acknowledge(message, status, lastError);
    }

    /// <summary>
    /// What follows a failed or timed-out run. A task without retries (the default) keeps the original's final failure
    /// and its line; one with retries runs again at a durable run-at until its failures reach its attempts
    /// (<see cref="TempestTaskAttribute.Retries"/> + 1, or the envelope's <see cref="Queues.TempestEnvelope.MaxAttempts"/>),
    /// then goes to the dead letters with its last error; so does one whose queue cannot take the retry. The attempt
    /// counted is the failed one: a run aborted at shutdown or lost with its lease does not use one up.
    /// </summary>
    private FailurePlan PlanAfterFailure(TempestMessage message, Exception? error)
    {
        var envelope = message.Envelope;
        int maxAttempts = envelope?.MaxAttempts is { } max ? Math.Max(max, 1) : message.Retries + 1;
        if (maxAttempts <= 1) return default;
        int attempt = (envelope?.Failures ?? 0) + 1;
        if (attempt >= maxAttempts)
            return new FailurePlan(attempt, maxAttempts, OutOfAttempts, default, WillRetry: false, _outcomes.KeepsDeadLetters);
        if (_outcomes.RetryRefusal is { } refusal)
            return new FailurePlan(attempt, maxAttempts, refusal, default, WillRetry: false, _outcomes.KeepsDeadLetters);
        var delay = RetryDelay(message, attempt, error);
        return new FailurePlan(attempt, maxAttempts, "retry in " + Durations.Describe(delay), _run.Time.GetUtcNow() + delay, WillRetry: true, DeadLetters: false);
    }

    private const string OutOfAttempts = "out of attempts";

    /// <summary>The task's backoff for <paramref name="attempt"/>; the default one when the task's own throws.</summary>
    private TimeSpan RetryDelay(TempestMessage message, int attempt, Exception? error)
    {
        try
        {
            var delay = message.RetryDelay(attempt, error);
            return delay < TimeSpan.Zero ? TimeSpan.Zero : delay;
        }
        catch (Exception e)
        {
            _main.ZLogWarning($"{{{message.Id}}} <{message.TaskName}> failure in its retry backoff method; the default backoff is used");
            _taskLog.ZLogWarning(e, $"{{{message.Id}}} <{message.TaskName}> failure in its retry backoff method");
            return TempestBackoff.Default(attempt);
        }
    }

    /// <summary>What went wrong, as the queue keeps it: the exception, or for a timeout the limit it ran past.</summary>
    private static Queues.TempestError ErrorOf(TempestMessage message, TempestTaskStatus status, Exception? error) =>
        status == TempestTaskStatus.Timeout || error is null
            ? new Queues.TempestError("timeout", $"ran past its timeout of {Durations.Describe(message.Timeout ?? TimeSpan.Zero)}")
            : Queues.TempestError.From(error);

    /// <summary>A failed run's next step. <see cref="MaxAttempts"/> 0 (the default): the task has no retries, the line has no suffix.</summary>
    /// <param name="Attempt">The failed attempt's number (failures so far, this one included).</param>
    /// <param name="MaxAttempts">The most attempts the job may have.</param>
    /// <param name="RunAt">For a retry: when it may run again.</param>
    /// <param name="WillRetry">Whether the job runs again.</param>
    /// <param name="Why">The retry's wait (<c>retry in 31 s</c>), or why there is none (<c>out of attempts</c>).</param>
    /// <param name="DeadLetters">A task with retries that will not run again goes to the dead letters, where the queue keeps them.</param>
    private readonly record struct FailurePlan(int Attempt, int MaxAttempts, string? Why, DateTimeOffset RunAt, bool WillRetry, bool DeadLetters)
    {
        /// <summary>What the final line says comes next.</summary>
        public string? Next => DeadLetters ? Why + ", dead-lettered" : Why;
    }

    /// <summary>
    /// Whether nothing after a successful job's end could take time (callbacks, hooks, its log line, an
    /// acknowledgement), so the next job may start at that end without another clock read.
    /// </summary>
    public bool EndsQuietly(TempestMessage message) =>
        !message.HasCallbacks && !_taskEvents && !_acknowledges && !HoldsKey(message) && !_main.IsEnabled(LogLevel.Information);

    /// <summary>A job with a unique key is acknowledged even on the embedded queue: its end frees the key.</summary>
    private static bool HoldsKey(TempestMessage message) => message.Envelope is { UniqueKey: not null };

    /// <summary>Shutdown gave up on a running job: it is reported <c>aborted</c> and its message goes back to the queue.</summary>
    public void Abort(TempestMessage message, List<string> aborted)
    {
        aborted.Add(message.Id!);
        _main.ZLogWarning($"{{{message.Id}}} <{message.TaskName}> aborted");
        _telemetry.Aborted(message); // before the message goes back (and may be taken again)
        _outcomes.Return(message);
    }

    /// <summary>A message taken while the engine was stopping: not started, so not lost.</summary>
    public void ReturnUnstarted(TempestMessage message) => _outcomes.ReturnUnstarted(message);

    private void RaiseTaskEvent(TempestMessage message, TempestTaskStatus? status, TimeSpan duration)
    {
        var taskEvent = new TempestTaskEvent(message.Id!, message.TaskName, status, duration, _main);
        try
        {
            if (status is null) _engine.RaiseTaskStarted(taskEvent);
            else _engine.RaiseTaskFinished(taskEvent);
        }
        catch (Exception e)
        {
            string hook = status is null ? "after-task-started" : "after-task-finished";
            _main.ZLogWarning($"{{{message.Id}}} <{message.TaskName}> failure in {hook} hook");
            _taskLog.ZLogWarning(e, $"{{{message.Id}}} <{message.TaskName}> failure in {hook} hook");
        }
    }

    private void OnCallbackFailed(TempestTask task, string callback, Exception exception)
    {
        // The task's status stands; the original's words, with the callback's name.
        _main.ZLogWarning($"{{{task.TaskId}}} <{task.TaskName}> failure in callback {callback}");
        _taskLog.ZLogWarning(exception, $"{{{task.TaskId}}} <{task.TaskName}> failure in callback {callback}");
    }
}
