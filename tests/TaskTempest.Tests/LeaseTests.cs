using TaskTempest.Queues;
using TaskTempest.Testing;
using TaskTempest.Tests.Support;

namespace TaskTempest.Tests;

/// <summary>
/// The engine on a leasing queue, with fake time and no server: the heartbeat keeps a long job's lease, a lost
/// lease cancels the job's token and its outcome is refused, and a crashed worker's job comes back with its counts.
/// </summary>
public class LeaseTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Beat = Lease / 3;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private sealed class Setup
    {
        public CountingFakeTime Time { get; } = new();
        public TempestLeasingMemoryQueue Queue { get; }
        public RecordingLoggerFactory Main { get; } = new();
        public TestTempest Engine { get; }
        /// <summary>The same queue and clock in cooperative mode.</summary>
        public FiberTestTempest Fibers { get; }

        public Setup()
        {
            Queue = new TempestLeasingMemoryQueue(Time, new TempestLeasingMemoryQueueOptions { LeaseDuration = Lease });
            Engine = new TestTempest(Options());
            Fibers = new FiberTestTempest(Options());
        }

        private TempestOptions Options() => new()
        {
            Queue = Queue, TimeProvider = Time, MainLoggerFactory = Main, TaskLoggerFactory = new RecordingLoggerFactory(),
            HandleSignals = false, ShutdownTimeout = TimeSpan.FromSeconds(5),
        };

        /// <summary>Moves time one heartbeat on and waits until the heartbeat after it is waiting (so beat N+1 has run).</summary>
        public async Task NextBeatAsync(int beatsSoFar)
        {
            Time.Advance(Beat);
            await Time.TimersCreated(Beat, beatsSoFar + 1);
        }
    }

    [Fact]
    public async Task The_heartbeat_keeps_a_long_jobs_lease_so_no_second_worker_gets_it()
    {
        var setup = new Setup();
        var gate = Gates.NewName();
        string id = setup.Engine.SubmitGateTask(gate);
        var run = setup.Engine.RunAsync();
        await Gates.Get(gate).Started.Task.WaitAsync(Bound);
        await setup.Time.TimersCreated(Beat, 1); // the first beat ran at the start

        for (int beat = 1; beat <= 4; beat++) await setup.NextBeatAsync(beat); // 40 s: past the first lease's end

        var running = Assert.Single(await setup.Queue.ListAsync(TempestJobState.Running, 0, 10));
        Assert.Equal((id, 1), (running.Id, running.Attempt));
        Assert.True(running.Lease!.Until >= setup.Time.GetUtcNow() + Lease - Beat, $"lease until {running.Lease.Until}, now {setup.Time.GetUtcNow()}");
        Assert.Equal(0, (await setup.Queue.RescueExpiredAsync(default)).Returned);
        var worker = Assert.Single(await setup.Queue.GetWorkersAsync());
        Assert.Equal((setup.Time.GetUtcNow(), 1), (worker.LastHeartbeat, worker.Running));

        Gates.Get(gate).Release();
        await setup.Main.WaitForAsync(l => l.Any(x => x.Message.StartsWith($"{{{id}}} <GateTask> success", StringComparison.Ordinal)), "the job to succeed");
        setup.Engine.Stop();
        var result = await run.WaitAsync(Bound);

        Assert.Equal(1, result.TasksSucceeded);
        Assert.Equal(new TempestQueueCounts(0, 0, 0, 0, 0), await setup.Queue.GetCountsAsync());
        Assert.Empty(await setup.Queue.GetWorkersAsync()); // the run left the registry
        Assert.DoesNotContain(setup.Main.Messages, m => m.Contains("lease", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_lost_lease_cancels_the_jobs_token_and_its_outcome_is_refused(bool fibers)
    {
        var setup = new Setup();
        var gate = Gates.NewName();
        TempestEngine engine = fibers ? setup.Fibers : setup.Engine;
        string id = fibers ? setup.Fibers.SubmitGateTask(gate) : setup.Engine.SubmitGateTask(gate);
        var run = engine.RunAsync();
        await Gates.Get(gate).Started.Task.WaitAsync(Bound);
        await setup.Time.TimersCreated(Beat, 1);

        Assert.True(await setup.Queue.CancelAsync(id)); // an operator cancels the running job: its lease is gone
        await setup.NextBeatAsync(1);

        await Gates.Get(gate).Cancelled.Task.WaitAsync(Bound); // the heartbeat cancelled the job's token
        await setup.Main.WaitForAsync(l => l.Any(x => x.Message == $"{{{id}}} <GateTask> outcome not recorded: lease lost; it may run again"), "the refused outcome");
        Assert.Contains($"{{{id}}} <GateTask> lease lost: its token is cancelled; it may run again", setup.Main.Messages);
        engine.Stop();
        await run.WaitAsync(Bound);
        Assert.Null(await setup.Queue.GetAsync(id));
    }

    [Fact]
    public async Task A_crashed_workers_job_comes_back_when_its_lease_expires_as_its_second_attempt()
    {
        var setup = new Setup();
        string id = setup.Engine.SubmitAttemptTask();
        // Another process claims the job and dies: no heartbeat, no outcome.
        var crashed = new TempestWorkerInfo("crashed", "Other", "elsewhere", 1, 1, setup.Time.GetUtcNow());
        Assert.Single(await setup.Queue.ClaimAsync(crashed, 1, default));
        setup.Time.Advance(Lease + TimeSpan.FromSeconds(1));

        var run = setup.Engine.RunAsync(); // its first heartbeat rescues the expired lease
        await setup.Main.WaitForAsync(l => l.Any(x => x.Message.StartsWith($"{{{id}}} <AttemptTask> success", StringComparison.Ordinal)), "the job to run again");
        setup.Engine.Stop();
        await run.WaitAsync(Bound);

        Assert.Equal("attempt 2", Recorder.Get(id));
        Assert.Contains("expired leases rescued: 1 returned to the queue, 0 dead-lettered (their leases expired too often)", setup.Main.Messages);
        Assert.Null(await setup.Queue.GetAsync(id)); // completed, so removed
    }

    [Fact]
    public async Task A_job_whose_lease_expired_too_often_is_dead_lettered_as_poison_and_never_runs()
    {
        var setup = new Setup();
        string id = setup.Engine.SubmitAttemptTask();
        var crashed = new TempestWorkerInfo("crashed", "Other", "elsewhere", 1, 1, setup.Time.GetUtcNow());
        for (int i = 0; i < 3; i++)
        {
            Assert.Single(await setup.Queue.ClaimAsync(crashed, 1, default));
            setup.Time.Advance(Lease + TimeSpan.FromSeconds(1));
            await setup.Queue.RescueExpiredAsync(default);
        }

        var dead = Assert.Single(await setup.Queue.ListAsync(TempestJobState.Dead, 0, 10));
        Assert.Equal((id, "lease expired 3 times", 3), (dead.Id, dead.DeadReason, dead.Envelope!.LeaseExpiries));
        Assert.Equal(0, dead.Envelope.Failures); // crashes are not failures: the task's retries stay untouched
        Assert.Null(Recorder.Get(id));
    }
}
