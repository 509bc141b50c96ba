using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using TaskTempest.Queues;
using TaskTempest.Tests.Support;

namespace TaskTempest.Tests;

/// <summary>The embedded queue on its own: order, delivery counts, waiting readers being woken (never lost), and
/// delays and retries on one timer (on a fake clock: time moves only when a test advances it).</summary>
public class MemoryQueueTests
{
    private sealed class Note(int number) : TempestMessage("Note")
    {
        public int Number { get; } = number;
        protected override TempestTask CreateTask(IServiceProvider? services) => throw new NotSupportedException();
        protected override ValueTask InvokeAsync(TempestTask task, CancellationToken cancellationToken) => default;
        protected override void WriteArguments(Utf8JsonWriter writer) => writer.WriteNumberValue(Number);
    }

    [Fact]
    public async Task Messages_come_out_in_order_and_count_their_deliveries()
    {
        var queue = new TempestMemoryQueue();
        await queue.EnqueueAsync(new Note(1));
        await queue.EnqueueAsync(new Note(2));

        var first = (Note)(await queue.DequeueAsync(CancellationToken.None))!;
        Assert.Equal((1, 1), (first.Number, first.Attempt));
        await queue.ReturnAsync(first); // e.g. aborted at shutdown

        var second = (Note)(await queue.DequeueAsync(CancellationToken.None))!;
        var again = (Note)(await queue.DequeueAsync(CancellationToken.None))!;
        Assert.Equal((2, 1), (second.Number, second.Attempt));
        Assert.Equal((1, 2), (again.Number, again.Attempt));
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public async Task A_waiting_reader_is_woken_by_the_next_write()
    {
        var queue = new TempestMemoryQueue();
        var waiting = queue.DequeueAsync(CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);

        await queue.EnqueueAsync(new Note(7));

        Assert.Equal(7, ((Note)(await waiting)!).Number);
    }

    [Fact]
    public async Task A_reader_that_gave_up_does_not_swallow_the_wake_meant_for_another()
    {
        var queue = new TempestMemoryQueue();
        using var giveUp = new CancellationTokenSource();
        var cancelled = queue.DequeueAsync(giveUp.Token).AsTask();
        var patient = queue.DequeueAsync(CancellationToken.None).AsTask();

        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        await queue.EnqueueAsync(new Note(3));

        Assert.Equal(3, ((Note)(await patient)!).Number);
    }

    [Fact]
    public async Task Many_writers_and_readers_lose_no_message()
    {
        var queue = new TempestMemoryQueue();
        const int writers = 4, perWriter = 20_000;
        var readers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            var seen = new List<int>();
            while (await queue.DequeueAsync(CancellationToken.None) is Note note && note.Number >= 0) seen.Add(note.Number);
            return seen;
        })).ToArray();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (int i = 0; i < perWriter; i++) await queue.EnqueueAsync(new Note(w * perWriter + i));
        })));
        foreach (var _ in readers) await queue.EnqueueAsync(new Note(-1)); // one end marker per reader

        var all = (await Task.WhenAll(readers)).SelectMany(s => s).Order().ToList();
        Assert.Equal(Enumerable.Range(0, writers * perWriter), all);
    }

    // ---------------------------------------------------------------- delays and retries

    private static readonly TimeSpan NoDue = Timeout.InfiniteTimeSpan; // the queue creates its timer disarmed
    private static readonly TempestError Boom = new("System.InvalidOperationException", "boom");

    private static Note Delayed(int number, DateTimeOffset runAt) => new(number) { Envelope = new TempestEnvelope { RunAt = runAt } };

    private static async Task<List<int>> TakeAll(TempestMemoryQueue queue)
    {
        var numbers = new List<int>();
        for (int count = queue.Count; count > 0; count--) numbers.Add(((Note)(await queue.DequeueAsync(CancellationToken.None))!).Number);
        return numbers;
    }

    [Fact]
    public void The_queue_states_delays()
    {
        Assert.True(new TempestMemoryQueue().Features.HasFlag(TempestQueueFeatures.Delays));
    }

    [Fact]
    public async Task A_delayed_message_is_not_dequeued_before_its_run_at_and_is_after()
    {
        var time = new FakeTimeProvider();
        var queue = new TempestMemoryQueue(time);
        await queue.EnqueueAsync(Delayed(1, time.GetUtcNow() + TimeSpan.FromMinutes(1)));
        Assert.Equal((0, 1), (queue.Count, queue.DelayedCount));

        time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal((0, 1), (queue.Count, queue.DelayedCount));

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal((1, 0), (queue.Count, queue.DelayedCount));
        var note = (Note)(await queue.DequeueAsync(CancellationToken.None))!;
        Assert.Equal((1, 1), (note.Number, note.Attempt)); // a delivery is counted when it becomes ready, not when held
    }

    [Fact]
    public async Task A_run_at_that_has_passed_is_ready_at_once_without_a_timer()
    {
        var time = new CountingFakeTime();
        var queue = new TempestMemoryQueue(time);
        await queue.EnqueueAsync(Delayed(1, time.GetUtcNow() - TimeSpan.FromSeconds(1)));
        await queue.EnqueueAsync(Delayed(2, time.GetUtcNow())); // due exactly now: due
        await queue.EnqueueAsync(new Note(3));

        Assert.Equal((3, 0), (queue.Count, queue.DelayedCount));
        Assert.Equal([1, 2, 3], await TakeAll(queue));
        Assert.False(time.TimersCreated(NoDue, 1).IsCompleted);
    }

    [Fact]
    public async Task Many_delayed_messages_share_one_timer()
    {
        var time = new CountingFakeTime();
        var queue = new TempestMemoryQueue(time);
        var start = time.GetUtcNow();
        var delays = Enumerable.Range(1, 100).Select(i => i * 37 % 100 + 1).ToList(); // 1..100 seconds, shuffled
        foreach (int seconds in delays) await queue.EnqueueAsync(Delayed(seconds, start + TimeSpan.FromSeconds(seconds)));
        Assert.Equal(100, queue.DelayedCount);

        for (int second = 1; second <= 100; second++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal([second], await TakeAll(queue)); // the timer was armed again for the next, each time
        }

        await time.TimersCreated(NoDue, 1);
        Assert.False(time.TimersCreated(NoDue, 2).IsCompleted);
        Assert.Equal(0, queue.DelayedCount);
    }

    [Fact]
    public async Task Due_messages_come_out_in_due_order_and_ties_in_enqueue_order()
    {
        var time = new FakeTimeProvider();
        var queue = new TempestMemoryQueue(time);
        var start = time.GetUtcNow();
        await queue.EnqueueAsync(Delayed(1, start + TimeSpan.FromSeconds(3)));
        await queue.EnqueueAsync(Delayed(2, start + TimeSpan.FromSeconds(1)));
        await queue.EnqueueAsync(Delayed(3, start + TimeSpan.FromSeconds(2)));
        await queue.EnqueueAsync(Delayed(4, start + TimeSpan.FromSeconds(1)));
        await queue.EnqueueAsync(Delayed(5, start + TimeSpan.FromSeconds(3)));

        time.Advance(TimeSpan.FromSeconds(5)); // all due in one step

        Assert.Equal([2, 4, 3, 1, 5], await TakeAll(queue));
    }

    [Fact]
    public async Task An_earlier_message_re_arms_the_timer()
    {
        var time = new FakeTimeProvider();
        var queue = new TempestMemoryQueue(time);
        var start = time.GetUtcNow();
        await queue.EnqueueAsync(Delayed(1, start + TimeSpan.FromMinutes(10)));
        await queue.EnqueueAsync(Delayed(2, start + TimeSpan.FromMinutes(1)));

        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal([2], await TakeAll(queue));
        Assert.Equal(1, queue.DelayedCount);

        time.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal([1], await TakeAll(queue));
    }

    [Fact]
    public async Task A_waiting_reader_is_woken_when_a_delayed_message_becomes_due()
    {
        var time = new FakeTimeProvider();
        var queue = new TempestMemoryQueue(time);
        var waiting = queue.DequeueAsync(CancellationToken.None).AsTask();
        await queue.EnqueueAsync(Delayed(7, time.GetUtcNow() + TimeSpan.FromMinutes(1)));

        time.Advance(TimeSpan.FromSeconds(30));
        Assert.False(waiting.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(7, ((Note)(await waiting.WaitAsync(TimeSpan.FromSeconds(60)))!).Number);
    }

    [Fact]
    public async Task A_batch_writes_what_is_due_at_once_and_holds_the_rest()
    {
        var time = new FakeTimeProvider();
        var queue = new TempestMemoryQueue(time);
        var now = time.GetUtcNow();
        await queue.EnqueueBatchAsync(
        [
            new Note(1),
            Delayed(2, now + TimeSpan.FromMinutes(2)),
            Delayed(3, now - TimeSpan.FromSeconds(1)),
            Delayed(4, now + TimeSpan.FromMinutes(1)),
        ]);

        Assert.Equal((2, 2), (queue.Count, queue.DelayedCount));
        Assert.Equal([1, 3], await TakeAll(queue));

        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal([4, 2], await TakeAll(queue));
    }

    // Retry and DeadLetterFailed are internal (for the engine's MemoryInbox) and this assembly cannot see them:
    // the Retry and failed-DeadLettered outcomes go through the same two methods.

    [Fact]
    public async Task A_retry_counts_the_failure_keeps_the_error_and_comes_back_after_its_run_at_as_attempt_2()
    {
        var time = new FakeTimeProvider();
        var queue = new TempestMemoryQueue(time);
        await queue.EnqueueAsync(new Note(1));
        var first = (await queue.DequeueAsync(CancellationToken.None))!;
        var runAt = time.GetUtcNow() + TimeSpan.FromMinutes(1);

        await queue.RecordAsync([new TempestOutcome(TempestOutcomeKind.Retry, first) { Status = TempestTaskStatus.Failure, Error = Boom, RunAt = runAt }]);

        Assert.Equal((0, 1), (queue.Count, queue.DelayedCount));
        Assert.Equal((1, Boom, runAt), (first.Envelope!.Failures, first.Envelope.LastError, first.Envelope.RunAt));
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(0, queue.Count);

        time.Advance(TimeSpan.FromSeconds(1));
        var second = (await queue.DequeueAsync(CancellationToken.None))!;
        Assert.Same(first, second);
        Assert.Equal((2, 1), (second.Attempt, second.Envelope!.Failures));
    }

    [Fact]
    public async Task A_retry_without_a_run_at_is_ready_at_once()
    {
        var queue = new TempestMemoryQueue(new FakeTimeProvider());
        await queue.EnqueueAsync(new Note(1));
        var first = (await queue.DequeueAsync(CancellationToken.None))!;

        await queue.RecordAsync([new TempestOutcome(TempestOutcomeKind.Retry, first) { Status = TempestTaskStatus.Failure, Error = Boom }]);

        Assert.Equal((1, 0), (queue.Count, queue.DelayedCount));
        var second = (await queue.DequeueAsync(CancellationToken.None))!;
        Assert.Equal((2, 1, Boom), (second.Attempt, second.Envelope!.Failures, second.Envelope.LastError));
    }

    [Fact]
    public async Task A_dead_letter_of_a_failed_run_counts_the_failure_and_keeps_the_error()
    {
        var queue = new TempestMemoryQueue(new FakeTimeProvider());
        await queue.EnqueueAsync(new Note(1));
        var failed = (await queue.DequeueAsync(CancellationToken.None))!;

        await queue.RecordAsync([new TempestOutcome(TempestOutcomeKind.DeadLettered, failed) { Status = TempestTaskStatus.Failure, Error = Boom, Reason = "out of attempts" }]);

        var dead = Assert.Single(queue.DeadLetters);
        Assert.Same(failed, dead.Message);
        Assert.Equal("out of attempts", dead.Reason);
        Assert.Equal((1, Boom), (failed.Envelope!.Failures, failed.Envelope.LastError));
        Assert.Equal((0, 0), (queue.Count, queue.DelayedCount));
    }

    [Fact]
    public async Task A_dead_letter_of_a_message_that_never_ran_counts_no_failure()
    {
        var queue = new TempestMemoryQueue(new FakeTimeProvider());
        await queue.EnqueueAsync(new Note(1));
        var unknown = (await queue.DequeueAsync(CancellationToken.None))!;

        await queue.RecordAsync([new TempestOutcome(TempestOutcomeKind.DeadLettered, unknown) { Reason = "task class not found: Note" }]);

        Assert.Equal("task class not found: Note", Assert.Single(queue.DeadLetters).Reason);
        Assert.Null(unknown.Envelope);
    }
}
