using System.Diagnostics;
using System.Threading.Tasks.Dataflow;

namespace TaskTempest.Throughput.Contenders;

/// <summary>
/// TPL Dataflow's ActionBlock, MaxDegreeOfParallelism 2. An ActionBlock starts processing as soon as it
/// has work, so for pre-filled its processing tasks go to a <see cref="GatedScheduler"/> that holds them
/// until the clock starts: every job is posted into the block's own queue first, then it drains.
/// </summary>
internal sealed class DataflowBlock(int jobs) : Contender("Dataflow ActionBlock, DOP 2", jobs)
{
    public override async Task<TimeSpan> RunAsync(int jobs, bool prefilled)
    {
        var done = Finish.Expect(jobs);
        var gate = prefilled ? new GatedScheduler() : null;
        var block = new ActionBlock<Job>(Job.Work, new ExecutionDataflowBlockOptions
        {
            MaxDegreeOfParallelism = 2,
            TaskScheduler = gate ?? TaskScheduler.Default,
        });
        if (prefilled) Post(block, jobs);
        var clock = Stopwatch.StartNew();
        gate?.Open();
        if (!prefilled) Post(block, jobs);
        await done;
        var elapsed = clock.Elapsed;
        block.Complete();
        await block.Completion;
        return elapsed;
    }

    private static void Post(ActionBlock<Job> block, int jobs)
    {
        for (int i = 0; i < jobs; i++) block.Post(new Job(i, i));
    }

    /// <summary>Runs tasks on the thread pool, as the default scheduler does, but only once opened.</summary>
    private sealed class GatedScheduler : TaskScheduler
    {
        private readonly Lock _lock = new();
        private readonly List<Task> _held = [];
        private bool _open;

        public void Open()
        {
            Task[] held;
            lock (_lock)
            {
                _open = true;
                held = [.. _held];
                _held.Clear();
            }
            foreach (var task in held) Dispatch(task);
        }

        protected override void QueueTask(Task task)
        {
            lock (_lock)
            {
                if (!_open)
                {
                    _held.Add(task);
                    return;
                }
            }
            Dispatch(task);
        }

        protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => Volatile.Read(ref _open) && TryExecuteTask(task);

        protected override IEnumerable<Task> GetScheduledTasks()
        {
            lock (_lock) return [.. _held];
        }

        private void Dispatch(Task task) =>
            ThreadPool.UnsafeQueueUserWorkItem(static s => s.Scheduler.TryExecuteTask(s.Task), (Scheduler: this, Task: task), preferLocal: false);
    }
}
