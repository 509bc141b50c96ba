using System.Text.Json;
using TaskTempest.Queues;

namespace TaskTempest.Tests;

/// <summary>The embedded queue on its own: order, delivery counts, and waiting readers being woken (never lost).</summary>
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
}
