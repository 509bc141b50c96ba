using System.Text.Json;
using TaskTempest.Wire;

namespace TaskTempest.Testing.Conformance;

/// <summary>
/// The one message the conformance kit puts through a queue: the task <c>ConformanceJob</c> with an
/// <see cref="int"/> and a <see cref="string"/> argument, on the wire <c>["id","ConformanceJob",7,"x"]</c>.
/// Written by hand (this package runs no source generator, so it adds no task to its users' engines);
/// the kit only moves it through queues and never runs it.
/// </summary>
public sealed class ConformanceJob : TempestMessage
{
    /// <summary>The task's name on the wire.</summary>
    public const string WireName = "ConformanceJob";

    /// <summary>Creates the message; its id is assigned when it is parsed from the wire or submitted.</summary>
    /// <param name="number">The first argument.</param>
    /// <param name="text">The second argument.</param>
    public ConformanceJob(int number, string? text) : base(WireName)
    {
        Number = number;
        Text = text;
    }

    /// <summary>The first argument.</summary>
    public int Number { get; }

    /// <summary>The second argument.</summary>
    public string? Text { get; }

    /// <summary>Not supported: the kit never runs a task.</summary>
    protected override TempestTask CreateTask(IServiceProvider? services) =>
        throw new NotSupportedException("The conformance kit moves ConformanceJob messages through queues and never runs them.");

    /// <summary>Not supported: the kit never runs a task.</summary>
    protected override ValueTask InvokeAsync(TempestTask task, CancellationToken cancellationToken) =>
        throw new NotSupportedException("The conformance kit moves ConformanceJob messages through queues and never runs them.");

    /// <inheritdoc/>
    protected override void WriteArguments(Utf8JsonWriter writer)
    {
        TempestWire.Write(writer, Number);
        TempestWire.Write(writer, Text);
    }

    /// <summary>Reads the arguments that follow the id and the task name.</summary>
    internal static ConformanceJob Read(ref Utf8JsonReader reader)
    {
        int number = TempestWire.ReadInt32(ref reader);
        string? text = TempestWire.ReadString(ref reader);
        TempestWire.ReadEnd(ref reader, 2);
        return new ConformanceJob(number, text);
    }
}
