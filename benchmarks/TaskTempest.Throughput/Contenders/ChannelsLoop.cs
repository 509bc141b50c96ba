using System.Diagnostics;
using System.Threading.Channels;

namespace TaskTempest.Throughput.Contenders;

/// <summary>The practical limit: an unbounded Channel drained by 2 consumer threads (TryRead loops).</summary>
internal sealed class ChannelsLoop(int jobs) : Contender("Channels loop, 2 threads", jobs)
{
    public override async Task<TimeSpan> RunAsync(int jobs, bool prefilled)
    {
        var channel = Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = true });
        var done = Finish.Expect(jobs);
        if (prefilled) Produce(channel.Writer, jobs);
        var clock = Stopwatch.StartNew();
        var consumers = Enumerable.Range(0, 2).Select(_ => new Thread(() => Consume(channel.Reader)) { IsBackground = true }).ToList();
        consumers.ForEach(t => t.Start());
        if (!prefilled) Produce(channel.Writer, jobs);
        await done;
        var elapsed = clock.Elapsed;
        channel.Writer.Complete();
        consumers.ForEach(t => t.Join());
        return elapsed;
    }

    private static void Produce(ChannelWriter<Job> writer, int jobs)
    {
        for (int i = 0; i < jobs; i++) writer.TryWrite(new Job(i, i));
    }

    private static void Consume(ChannelReader<Job> reader)
    {
        while (true)
        {
            while (reader.TryRead(out var job)) Job.Work(job);
            if (!reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult()) return;
        }
    }
}
