using Microsoft.Extensions.Logging;
using TaskTempest.Logging;

namespace TaskTempest;

/// <summary>
/// Base class of every task. A task class is marked <see cref="TempestTaskAttribute"/> and declares
/// one public <c>Process</c> method; the engine creates one instance per job, so fields are per job.
/// </summary>
public abstract class TempestTask
{
    private TempestMessage? _message;
    private ILogger? _taskLog;
    private ILogger? _taskLogger;

    /// <summary>The id of the job this instance runs (the original's task id).</summary>
    public string TaskId => Message.Id!;

    /// <summary>Runs of this job started, this one included (1 on the first run). The id stays the same on
    /// every run, so a task made idempotent by its <see cref="TaskId"/> can tell a second run.</summary>
    public int Attempt => Message.Attempt;

    /// <summary>
    /// Whether this run, which failed or timed out, will run again: decided before the after-failure and after-timeout
    /// callbacks run, so that they can tell a retried attempt from the last one (then the after-retries-exhausted
    /// callbacks run too). False while <c>Process</c> runs and after a success.
    /// </summary>
    public bool WillRetry => Message.WillRetry; // kept on the message, in its padding: a task instance per job stays as small

    /// <summary>The task's name on the wire.</summary>
    public string TaskName => Message.TaskName;

    /// <summary>
    /// The task log (the original's <c>task_logger</c>): every line is prefixed <c>{id} &lt;Task&gt;</c>,
    /// so that <c>grep id</c> finds a job's whole story.
    /// </summary>
    public ILogger TaskLogger => _taskLogger ??= new TaskLogPrefixLogger(
        CustomLogger ?? _taskLog ?? throw NotRunning(), TaskLogPrefixLogger.FormatPrefix(TaskId, TaskName));

    /// <summary>
    /// Override to send this task's lines to a logger of its own instead of the task log (the original's
    /// <c>logger</c> option), for example one injected through the constructor. The <c>{id} &lt;Task&gt;</c>
    /// prefix is kept; a failed task's exception still goes to the task log.
    /// </summary>
    protected virtual ILogger? CustomLogger => null;

    private TempestMessage Message => _message ?? throw NotRunning();

    /// <summary>Called by the worker before <c>Process</c>; kept to two field writes, it runs once per job.</summary>
    internal void Attach(TempestMessage message, ILogger taskLog)
    {
        _message = message;
        _taskLog = taskLog;
    }

    private static InvalidOperationException NotRunning() =>
        new("This task is not running under a TaskTempest engine: its id and task logger exist only inside Process.");
}
