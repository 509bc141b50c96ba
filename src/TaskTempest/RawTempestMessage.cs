using System.Text.Json;

namespace TaskTempest;

/// <summary>
/// A message as another program wrote it: wire-format JSON text, e.g. <c>[null,"Adder",2,5]</c>.
/// The engine parses it with its generated dispatch table when a worker takes it; bad input is
/// logged and dead-lettered there, with this raw text kept.
/// </summary>
public sealed class RawTempestMessage : TempestMessage
{
    /// <summary>Wraps wire-format text.</summary>
    public RawTempestMessage(string json) : base(RawTaskName) => Json = json ?? throw new ArgumentNullException(nameof(json));

    /// <summary>Wraps wire-format text that a queue stores under <paramref name="id"/>: a text without an id of its own
    /// runs under this one, so its id stays the same on every delivery.</summary>
    public RawTempestMessage(string json, string id) : this(json)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        if (!TempestId.IsAcceptable(id)) throw new ArgumentException($"An id must be 1 to {TempestId.MaxAcceptedLength} letters, digits, '-', '_', '.' or ':'.", nameof(id));
        Id = id;
    }

    /// <summary>The task name a raw message reports until it is parsed.</summary>
    public const string RawTaskName = "(raw)";

    /// <summary>The text as it was written.</summary>
    public string Json { get; }

    /// <inheritdoc/>
    protected internal override TempestTask CreateTask(IServiceProvider? services) => throw NotParsed();

    /// <inheritdoc/>
    protected internal override ValueTask InvokeAsync(TempestTask task, CancellationToken cancellationToken) => throw NotParsed();

    /// <inheritdoc/>
    protected internal override void WriteArguments(Utf8JsonWriter writer) => throw NotParsed();

    /// <inheritdoc/>
    public override string ToString() => Json;

    private static InvalidOperationException NotParsed() => new("A raw message runs only after the engine has parsed it.");
}
