using System.Threading.Channels;
using TaskTempest.Logging;
using ZLogger;

namespace TaskTempest.Engine.Cooperative;

/// <summary>
/// The event loop's thread and its SynchronizationContext: posts run, in order, on that one thread, and
/// nothing else runs there. <see cref="BusySince"/> tells the watchdog since when the current post runs.
/// </summary>
internal sealed class LoopContext(RunContext run) : SynchronizationContext
{
    private readonly Channel<(SendOrPostCallback Callback, object? State)> _work =
        Channel.CreateUnbounded<(SendOrPostCallback, object?)>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>When the post that runs now started (a timestamp), or 0 when the loop is idle.</summary>
    public long BusySince;

    public override void Post(SendOrPostCallback d, object? state) => _work.Writer.TryWrite((d, state)); // dropped once closed

    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("The TaskTempest event loop does not run work synchronously for other threads.");

    public override SynchronizationContext CreateCopy() => this;

    public void Complete() => _work.Writer.TryComplete();

    /// <summary>The loop thread's body: runs posts until <see cref="Complete"/>.</summary>
    public void RunLoop()
    {
        SetSynchronizationContext(this);
        var reader = _work.Reader;
        var time = run.Time;
        while (true)
        {
            while (reader.TryRead(out var item))
            {
                Volatile.Write(ref BusySince, Math.Max(1, time.GetTimestamp()));
                try
                {
                    item.Callback(item.State);
                }
                catch (Exception e) when (!run.Ended)
                {
                    // An async void method of task code threw: the loop logs it and goes on.
                    run.Logs.Main.ZLogError(e, $"event loop: unhandled exception in task code: {LogText.Escape(e.Message)}");
                }
                catch (Exception) when (run.Ended)
                {
                }
                Volatile.Write(ref BusySince, 0);
            }
            var more = reader.WaitToReadAsync();
            if (!(more.IsCompletedSuccessfully ? more.Result : more.AsTask().GetAwaiter().GetResult())) return;
        }
    }
}
