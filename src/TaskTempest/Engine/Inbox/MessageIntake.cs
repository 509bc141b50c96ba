using System.Text;
using System.Text.Json;
using TaskTempest.Logging;
using TaskTempest.Wire;
using ZLogger;

namespace TaskTempest.Engine.Inbox;

/// <summary>
/// Turns another program's text into a typed message with the engine's generated dispatch table. Bad input
/// is logged with the message's id (assigned if it had none) and handed back as a reason for the dead
/// letters, never dropped silently; the reason quotes the input escaped and cut, as the logs do.
/// </summary>
internal sealed class MessageIntake(TempestEngine engine, TempestLogs logs, Telemetry.RunTelemetry telemetry)
{
    /// <summary>The typed message for <paramref name="raw"/>, or null once it has been dead-lettered through <paramref name="outcomes"/>.</summary>
    public TempestMessage? Accept(RawTempestMessage raw, IJobOutcomes outcomes)
    {
        var message = TryParse(raw, out string? rejection);
        if (message is null)
        {
            telemetry.DeadLettered(null, "unreadable");
            outcomes.DeadLetter(raw, rejection!);
        }
        return message;
    }

    /// <summary>The typed message for <paramref name="raw"/>, or null with <paramref name="rejection"/> saying why.</summary>
    private TempestMessage? TryParse(RawTempestMessage raw, out string? rejection)
    {
        try
        {
            var message = engine.ParseMessage(raw);
            rejection = null;
            return message;
        }
        catch (TempestWireException e)
        {
            raw.Id ??= TryReadId(raw.Json) ?? TempestId.New();
            rejection = LogText.Escape(e.Message);
            logs.Main.ZLogError($"{{{raw.Id}}} {rejection}");
            logs.Task.ZLogError($"{{{raw.Id}}} rejected message {LogText.Escape(raw.Json)}: {rejection}");
            return null;
        }
    }

    /// <summary>Moves an envelope object's reader onto its <c>"m"</c> array.</summary>
    private static bool SeekMessageArray(ref Utf8JsonReader reader)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool isMessage = reader.ValueTextEquals("m"u8);
            if (!reader.Read()) return false;
            if (isMessage) return true;
            reader.Skip();
        }
        return false;
    }

    /// <summary>The id of a message that failed to parse, if it has a usable one, so its log lines and dead letter carry it.</summary>
    private static string? TryReadId(string json)
    {
        try
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
            if (!reader.Read()) return null;
            if (reader.TokenType == JsonTokenType.StartObject && !SeekMessageArray(ref reader)) return null;
            return reader.TokenType == JsonTokenType.StartArray && reader.Read() && reader.TokenType == JsonTokenType.String
                   && reader.GetString() is { } id && TempestId.IsAcceptable(id) ? id : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null;
        }
    }
}
