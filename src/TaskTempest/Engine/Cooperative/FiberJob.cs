using Microsoft.Extensions.DependencyInjection;

namespace TaskTempest.Engine.Cooperative;

/// <summary>One fiber's job, reused from job to job, so the loop allocates no bookkeeping per job.</summary>
internal sealed class FiberJob
{
    public const int Idle = 0, Running = 1, Ended = 2, Aborted = 3;

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
