using System.Collections.Concurrent;
using System.Threading.Channels;

namespace TaskTempest.Queues;

/// <summary>
/// The embedded default queue: thread-safe, in process, holding typed messages as objects (nothing is
/// serialized). Implements the whole contract; dead letters stay inspectable in <see cref="DeadLetters"/>.
/// Messages live only as long as the process.
/// </summary>
public sealed class TempestMemoryQueue : IAcknowledgingTempestQueue, ICountingTempestQueue
{
    private readonly Channel<TempestMessage> _channel = Channel.CreateUnbounded<TempestMessage>(
        new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private readonly ConcurrentQueue<TempestDeadLetter> _deadLetters = new();
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates an empty queue.</summary>
    public TempestMemoryQueue(TimeProvider? timeProvider = null) => _timeProvider = timeProvider ?? TimeProvider.System;

    /// <summary>How many messages wait to be dequeued.</summary>
    public int Count => _channel.Reader.Count;

    /// <inheritdoc/>
    public ValueTask<long> CountAsync(CancellationToken cancellationToken = default) => new(Count);

    /// <summary>The messages that could not run, oldest first, with the reason.</summary>
    public IReadOnlyCollection<TempestDeadLetter> DeadLetters => _deadLetters;

    /// <summary>Adds wire-format text as another program would (e.g. <c>[null,"Adder",2,5]</c>).</summary>
    public void EnqueueRaw(string json) => Write(new RawTempestMessage(json));

    /// <inheritdoc/>
    public ValueTask EnqueueAsync(TempestMessage message, CancellationToken cancellationToken = default)
    {
        Write(message);
        return default;
    }

    /// <inheritdoc/>
    public ValueTask<TempestMessage?> DequeueAsync(CancellationToken cancellationToken)
    {
        if (_channel.Reader.TryRead(out var message))
        {
            message.Attempts++;
            return new(message);
        }
        return WaitAndDequeueAsync(cancellationToken);
    }

    private async ValueTask<TempestMessage?> WaitAndDequeueAsync(CancellationToken cancellationToken)
    {
        while (await _channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (_channel.Reader.TryRead(out var message))
            {
                message.Attempts++;
                return message;
            }
        }
        return null; // never: the writer is never completed
    }

    /// <inheritdoc/>
    public ValueTask AcknowledgeAsync(TempestMessage message, CancellationToken cancellationToken = default) => default;

    /// <inheritdoc/>
    public ValueTask ReturnAsync(TempestMessage message, CancellationToken cancellationToken = default)
    {
        Write(message);
        return default;
    }

    /// <inheritdoc/>
    public ValueTask DeadLetterAsync(TempestMessage message, string reason, CancellationToken cancellationToken = default)
    {
        _deadLetters.Enqueue(new TempestDeadLetter(message, reason, _timeProvider.GetUtcNow()));
        return default;
    }

    private void Write(TempestMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        bool written = _channel.Writer.TryWrite(message);
        System.Diagnostics.Debug.Assert(written, "an unbounded channel that is never completed accepts every write");
    }
}
