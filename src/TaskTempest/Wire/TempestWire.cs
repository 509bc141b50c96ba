using System.Buffers;
using System.ComponentModel;
using System.Text.Json;
using TaskTempest.Logging;

namespace TaskTempest.Wire;

/// <summary>
/// The wire format, the original's message array as JSON: <c>["k3f9a2c1x7q0m4bd","Adder",2,5]</c>.
/// Generated message classes call the <c>Write</c> overloads and <c>Read*</c> methods here with
/// typed values; nothing is boxed and no reflection is used.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Advanced)]
public static class TempestWire
{
    /// <summary>Writes <paramref name="message"/> as one JSON array.</summary>
    public static string ToJson(TempestMessage message)
    {
        // One buffer and writer per thread, reused: a message then costs only its string (688 bytes before).
        // Nothing re-enters here while it is in use: WriteArguments writes values and runs no user code.
        var json = t_json ??= new JsonScratch();
        json.Buffer.ResetWrittenCount();
        json.Writer.Reset(json.Buffer);
        try
        {
            var writer = json.Writer;
            writer.WriteStartArray();
            if (message.Id is null) writer.WriteNullValue(); else writer.WriteStringValue(message.Id);
            writer.WriteStringValue(message.TaskName);
            message.WriteArguments(writer);
            writer.WriteEndArray();
            writer.Flush();
            return System.Text.Encoding.UTF8.GetString(json.Buffer.WrittenSpan);
        }
        finally
        {
            if (json.Buffer.Capacity > MaxKeptBuffer) t_json = null; // a huge message does not pin its buffer
        }
    }

    private const int MaxKeptBuffer = 64 * 1024;

    [ThreadStatic] private static JsonScratch? t_json;

    private sealed class JsonScratch
    {
        public ArrayBufferWriter<byte> Buffer { get; } = new(256);
        public Utf8JsonWriter Writer { get; }

        public JsonScratch() => Writer = new Utf8JsonWriter(Buffer);
    }

    /// <summary>
    /// Parses a wire-format message: reads the id and task name, then hands the reader to
    /// <paramref name="readArguments"/> (an engine's generated dispatch table), which returns the
    /// typed message or <see langword="null"/> when it knows no task of that name.
    /// </summary>
    /// <exception cref="TempestWireException">The text is not a message this engine can run.</exception>
    public static TempestMessage Parse(ReadOnlySpan<byte> utf8Json, ArgumentsReader readArguments)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8Json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
                throw new TempestWireException("a message must be a JSON array: [id, task name, arguments...]");
            Next(ref reader, "the id");
            string? id = reader.TokenType switch
            {
                JsonTokenType.Null => null,
                JsonTokenType.String => reader.GetString(),
                _ => throw new TempestWireException($"the id must be a string or null, not {Describe(reader.TokenType)}"),
            };
            if (!string.IsNullOrEmpty(id) && !TempestId.IsAcceptable(id))
                throw new TempestWireException($"the id must be 1 to {TempestId.MaxAcceptedLength} letters, digits, '-', '_', '.' or ':'");
            Next(ref reader, "the task name");
            if (reader.TokenType != JsonTokenType.String)
                throw new TempestWireException($"the task name must be a string, not {Describe(reader.TokenType)}");
            string taskName = reader.GetString()!;
            var message = readArguments(taskName, ref reader)
                ?? throw new TempestWireException($"task class not found: {LogText.Escape(taskName, LogText.MaxQuotedLength)}");
            if (reader.Read()) throw new TempestWireException("unexpected data after the message's closing bracket");
            message.Id = string.IsNullOrEmpty(id) ? TempestId.New() : id;
            return message;
        }
        catch (JsonException e)
        {
            throw new TempestWireException($"malformed JSON: {e.Message}", e);
        }
        catch (Exception e) when (e is not TempestWireException)
        {
            // The readers throw InvalidOperationException, FormatException or OverflowException for a
            // token of the wrong kind or range; whatever it is, it is bad input, not an engine failure.
            throw new TempestWireException($"an argument does not fit: {e.Message}", e);
        }
    }

    /// <summary>An engine's generated dispatch table: the typed message for <paramref name="taskName"/>,
    /// read from the arguments that follow, or <see langword="null"/> for an unknown task.</summary>
    public delegate TempestMessage? ArgumentsReader(string taskName, ref Utf8JsonReader reader);

    // ---- Reading: each Read* moves to the next element and reads it. ----

    /// <summary>Whether another argument follows (for optional and <c>params</c> parameters).</summary>
    public static bool HasMore(ref Utf8JsonReader reader)
    {
        var copy = reader;
        return copy.Read() && copy.TokenType != JsonTokenType.EndArray;
    }

    /// <summary>Checks that no argument is left over.</summary>
    public static void ReadEnd(ref Utf8JsonReader reader, int expected)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.EndArray)
            throw new TempestWireException($"too many arguments: the task takes {expected}");
    }

    private static void Next(ref Utf8JsonReader reader, string what)
    {
        if (!reader.Read() || reader.TokenType == JsonTokenType.EndArray)
            throw new TempestWireException($"missing {what}");
    }

    private static void NextArgument(ref Utf8JsonReader reader, JsonTokenType expected, string typeName)
    {
        Next(ref reader, "an argument (too few arguments)");
        if (reader.TokenType != expected && !(expected == JsonTokenType.True && reader.TokenType == JsonTokenType.False))
            throw new TempestWireException($"expected {typeName}, found {Describe(reader.TokenType)}");
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.StartObject => "an object",
        _ => token.ToString(),
    };

#pragma warning disable CS1591 // one line each, named after the type they read
    public static int ReadInt32(ref Utf8JsonReader r) { NextArgument(ref r, JsonTokenType.Number, "an int"); return r.GetInt32(); }
    public static long ReadInt64(ref Utf8JsonReader r) { NextArgument(ref r, JsonTokenType.Number, "a long"); return r.GetInt64(); }
    public static short ReadInt16(ref Utf8JsonReader r) { NextArgument(ref r, JsonTokenType.Number, "a short"); return r.GetInt16(); }
    public static sbyte ReadSByte(ref Utf8JsonReader r) { NextArgument(ref r, JsonTokenType.Number, "an sbyte"); return r.GetSByte(); }
    public static byte ReadByte(ref Utf8JsonReader r) { NextArgument(ref r, JsonTokenType.Number, "a byte"); return r.GetByte(); }
    public static uint ReadUInt32(ref Utf8JsonReader r) { NextArgument(ref r, JsonTokenType.Number, "a uint"); return r.GetUInt32(); }
    public static ulong ReadUInt64(ref Utf8JsonReader r) { NextArgument(ref r, JsonTokenType.Number, "a ulong"); return r.GetUInt64(); }
    public static ushort ReadUInt16(ref Utf8JsonReader r) { NextArgument(ref r, JsonTokenType.Number, "a ushort"); return r.GetUInt16(); }
    public static float ReadSingle(ref Utf8JsonReader r) { NextArgument(ref r, JsonTokenType.Number, "a float"); return Finite(r.GetSingle()); }
    public static double ReadDouble(ref Utf8JsonReader r) { NextArgument(ref r, JsonTokenType.Number, "a double"); return Finite(r.GetDouble()); }
    public static decimal ReadDecimal(ref Utf8JsonReader r) { NextArgument(ref r, JsonTokenType.Number, "a decimal"); return r.GetDecimal(); }
    public static bool ReadBoolean(ref Utf8JsonReader r) { NextArgument(ref r, JsonTokenType.True, "a boolean"); return r.GetBoolean(); }
    public static Guid ReadGuid(ref Utf8JsonReader r) { NextArgument(ref r, JsonTokenType.String, "a Guid string"); return r.GetGuid(); }
    public static DateTime ReadDateTime(ref Utf8JsonReader r) { NextArgument(ref r, JsonTokenType.String, "an ISO 8601 date string"); return r.GetDateTime(); }
    public static DateTimeOffset ReadDateTimeOffset(ref Utf8JsonReader r) { NextArgument(ref r, JsonTokenType.String, "an ISO 8601 date string"); return r.GetDateTimeOffset(); }
    public static TimeSpan ReadTimeSpan(ref Utf8JsonReader r) { NextArgument(ref r, JsonTokenType.String, "a TimeSpan string"); return TimeSpan.Parse(r.GetString()!, System.Globalization.CultureInfo.InvariantCulture); }

    private static T Finite<T>(T value) where T : System.Numerics.IFloatingPointIeee754<T> =>
        T.IsFinite(value) ? value : throw new TempestWireException("a number is out of range (it would be infinite)");

    public static char ReadChar(ref Utf8JsonReader r)
    {
        NextArgument(ref r, JsonTokenType.String, "a one-character string");
        string s = r.GetString()!;
        return s.Length == 1 ? s[0] : throw new TempestWireException($"expected a one-character string, found \"{LogText.Escape(s, LogText.MaxQuotedLength)}\"");
    }

    public static string? ReadString(ref Utf8JsonReader r)
    {
        Next(ref r, "an argument (too few arguments)");
        return r.TokenType switch
        {
            JsonTokenType.String => r.GetString(),
            JsonTokenType.Null => null,
            _ => throw new TempestWireException($"expected a string, found {Describe(r.TokenType)}"),
        };
    }

    public static string ReadRequiredString(ref Utf8JsonReader r) =>
        ReadString(ref r) ?? throw new TempestWireException("expected a string, found null (the parameter is not nullable)");

    /// <summary>Rejects a null argument for a parameter that is not nullable.</summary>
    public static T NotNull<T>(T? value) where T : class =>
        value ?? throw new TempestWireException("expected a value, found null (the parameter is not nullable)");

    /// <summary>Reads a nullable value: <c>null</c>, or what <paramref name="read"/> reads.</summary>
    public static T? ReadNullable<T>(ref Utf8JsonReader r, WireElementReader<T> read) where T : struct
    {
        var peek = r;
        if (peek.Read() && peek.TokenType == JsonTokenType.Null) { r = peek; return null; }
        return read(ref r);
    }

    /// <summary>Reads a JSON array argument.</summary>
    public static T[]? ReadArray<T>(ref Utf8JsonReader r, WireElementReader<T> read)
    {
        Next(ref r, "an argument (too few arguments)");
        if (r.TokenType == JsonTokenType.Null) return null;
        if (r.TokenType != JsonTokenType.StartArray) throw new TempestWireException($"expected an array, found {Describe(r.TokenType)}");
        return ReadRest(ref r, read);
    }

    /// <summary>Reads a JSON array argument as a list.</summary>
    public static List<T>? ReadList<T>(ref Utf8JsonReader r, WireElementReader<T> read) =>
        ReadArray(ref r, read) is { } items ? [.. items] : null;

    /// <summary>Reads every element up to the closing bracket and consumes it (a <c>params</c> parameter
    /// reads the message's remaining arguments this way).</summary>
    public static T[] ReadRest<T>(ref Utf8JsonReader r, WireElementReader<T> read)
    {
        var items = new List<T>();
        while (HasMore(ref r)) items.Add(read(ref r));
        r.Read(); // the EndArray
        return [.. items];
    }

    /// <summary>Reads a <c>params</c> parameter: the rest of the message's arguments, leaving the closing bracket.</summary>
    public static T[] ReadParams<T>(ref Utf8JsonReader r, WireElementReader<T> read)
    {
        var items = new List<T>();
        while (HasMore(ref r)) items.Add(read(ref r));
        return [.. items];
    }

    // ---- Writing: one overload per carriable type. ----

    public static void Write(Utf8JsonWriter w, int value) => w.WriteNumberValue(value);
    public static void Write(Utf8JsonWriter w, long value) => w.WriteNumberValue(value);
    public static void Write(Utf8JsonWriter w, short value) => w.WriteNumberValue(value);
    public static void Write(Utf8JsonWriter w, sbyte value) => w.WriteNumberValue(value);
    public static void Write(Utf8JsonWriter w, byte value) => w.WriteNumberValue(value);
    public static void Write(Utf8JsonWriter w, uint value) => w.WriteNumberValue(value);
    public static void Write(Utf8JsonWriter w, ulong value) => w.WriteNumberValue(value);
    public static void Write(Utf8JsonWriter w, ushort value) => w.WriteNumberValue(value);
    public static void Write(Utf8JsonWriter w, float value) => w.WriteNumberValue(value);
    public static void Write(Utf8JsonWriter w, double value) => w.WriteNumberValue(value);
    public static void Write(Utf8JsonWriter w, decimal value) => w.WriteNumberValue(value);
    public static void Write(Utf8JsonWriter w, bool value) => w.WriteBooleanValue(value);
    public static void Write(Utf8JsonWriter w, char value) => w.WriteStringValue([value]);
    public static void Write(Utf8JsonWriter w, string? value) { if (value is null) w.WriteNullValue(); else w.WriteStringValue(value); }
    public static void Write(Utf8JsonWriter w, Guid value) => w.WriteStringValue(value);
    public static void Write(Utf8JsonWriter w, DateTime value) => w.WriteStringValue(value);
    public static void Write(Utf8JsonWriter w, DateTimeOffset value) => w.WriteStringValue(value);
    public static void Write(Utf8JsonWriter w, TimeSpan value) => w.WriteStringValue(value.ToString("c", System.Globalization.CultureInfo.InvariantCulture));
#pragma warning restore CS1591

    /// <summary>Writes a nullable value.</summary>
    public static void WriteNullable<T>(Utf8JsonWriter w, T? value, Action<Utf8JsonWriter, T> write) where T : struct
    {
        if (value is { } v) write(w, v); else w.WriteNullValue();
    }

    /// <summary>Writes a sequence as a JSON array.</summary>
    public static void WriteArray<T>(Utf8JsonWriter w, IReadOnlyList<T>? values, Action<Utf8JsonWriter, T> write)
    {
        if (values is null) { w.WriteNullValue(); return; }
        w.WriteStartArray();
        WriteParams(w, values, write);
        w.WriteEndArray();
    }

    /// <summary>Writes a <c>params</c> parameter as the message's remaining arguments.</summary>
    public static void WriteParams<T>(Utf8JsonWriter w, IReadOnlyList<T>? values, Action<Utf8JsonWriter, T> write)
    {
        if (values is null) return;
        for (int i = 0; i < values.Count; i++) write(w, values[i]);
    }
}
