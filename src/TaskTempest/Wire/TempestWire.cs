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

    /// <summary>The unique key the task computes from its arguments (<c>{task}:[...]</c>, its chosen arguments as a JSON
    /// array), or null for a task without one.</summary>
    public static string? UniqueKeyOf(TempestMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var json = t_json ??= new JsonScratch();
        json.Buffer.ResetWrittenCount();
        json.Writer.Reset(json.Buffer);
        try
        {
            var writer = json.Writer;
            writer.WriteStartArray();
            if (!message.WriteUniqueArguments(writer)) return null;
            writer.WriteEndArray();
            writer.Flush();
            return TempestUniqueKeys.Compose(message.TaskName, System.Text.Encoding.UTF8.GetString(json.Buffer.WrittenSpan));
        }
        finally
        {
            if (json.Buffer.Capacity > MaxKeptBuffer) t_json = null;
        }
    }

    [ThreadStatic] private static JsonScratch? t_json;

    private sealed class JsonScratch
    {
        public ArrayBufferWriter<byte> Buffer { get; } = new(256);
        public Utf8JsonWriter Writer { get; }

        public JsonScratch() => Writer = new Utf8JsonWriter(Buffer);
    }

    /// <summary>The envelope format's version this engine writes and reads.</summary>
    public const int EnvelopeVersion = 1;

    /// <summary>
    /// Writes <paramref name="message"/> with its attempt and envelope as one versioned JSON object,
    /// <c>{"v":1,"attempt":2,"max":6,"runAt":"...","queue":"mail","prio":1,"unique":"...","fails":1,"expiries":0,
    /// "err":{"type":"...","msg":"..."},"tp":"00-...","m":["id","Adder",2,5]}</c>, leaving out every field at its
    /// default; a message with nothing to add is written as the bare array (<see cref="ToJson"/>).
    /// </summary>
    public static string ToEnvelopeJson(TempestMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var envelope = message.Envelope;
        if (message.Attempt <= 0 && (envelope is null || envelope.IsDefault)) return ToJson(message);
        var json = t_json ??= new JsonScratch();
        json.Buffer.ResetWrittenCount();
        json.Writer.Reset(json.Buffer);
        try
        {
            var w = json.Writer;
            w.WriteStartObject();
            w.WriteNumber("v", EnvelopeVersion);
            if (message.Attempt > 0) w.WriteNumber("attempt", message.Attempt);
            if (envelope is not null)
            {
                if (envelope.MaxAttempts is { } max) w.WriteNumber("max", max);
                if (envelope.RunAt is { } runAt) w.WriteString("runAt", runAt);
                if (envelope.Queue is { } queue) w.WriteString("queue", queue);
                if (envelope.Priority != 0) w.WriteNumber("prio", envelope.Priority);
                if (envelope.UniqueKey is { } unique) w.WriteString("unique", unique);
                if (envelope.UniqueScope != Queues.TempestUniqueScope.None) w.WriteNumber("uscope", (int)envelope.UniqueScope);
                if (envelope.UniqueFor is { } uniqueFor) w.WriteNumber("ufor", (long)uniqueFor.TotalMilliseconds);
                if (envelope.Failures != 0) w.WriteNumber("fails", envelope.Failures);
                if (envelope.LeaseExpiries != 0) w.WriteNumber("expiries", envelope.LeaseExpiries);
                if (envelope.LastError is { } error)
                {
                    w.WriteStartObject("err");
                    w.WriteString("type", error.Type);
                    w.WriteString("msg", error.Message);
                    w.WriteEndObject();
                }
                if (envelope.TraceParent is { } traceParent) w.WriteString("tp", traceParent);
            }
            w.WritePropertyName("m");
            w.WriteStartArray();
            if (message.Id is null) w.WriteNullValue(); else w.WriteStringValue(message.Id);
            w.WriteStringValue(message.TaskName);
            message.WriteArguments(w);
            w.WriteEndArray();
            w.WriteEndObject();
            w.Flush();
            return System.Text.Encoding.UTF8.GetString(json.Buffer.WrittenSpan);
        }
        finally
        {
            if (json.Buffer.Capacity > MaxKeptBuffer) t_json = null;
        }
    }

    /// <summary>
    /// Reads what a queue needs to store another program's text: its id (a new one when it has none), task name,
    /// attempt and envelope, without reading the arguments or knowing the task. The returned message only carries
    /// those; it cannot run.
    /// </summary>
    /// <exception cref="TempestWireException">The text is not a message at all (the engine dead-letters such text when it takes it).</exception>
    public static TempestMessage ParseHeader(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Parse(System.Text.Encoding.UTF8.GetBytes(json), s_readHeader);
    }

    /// <summary>
    /// What a queue stores for another program's text (<see cref="RawTempestMessage"/>): the id (the raw's, else the
    /// text's, else a new one), the task name (<see cref="RawTempestMessage.RawTaskName"/> when the text cannot be
    /// read: it is stored as it is, and the engine dead-letters it when it takes it), the attempt and the envelope,
    /// where what the raw keeps beside the text wins, as in <see cref="TempestEngine.ParseMessage(RawTempestMessage)"/>.
    /// Never throws for bad text.
    /// </summary>
    public static (string Id, string TaskName, int Attempt, Queues.TempestEnvelope? Envelope) ReadStoredHeader(RawTempestMessage raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        string? id = raw.Id;
        string taskName = RawTempestMessage.RawTaskName;
        int attempt = 0;
        Queues.TempestEnvelope? envelope = null;
        try
        {
            var header = ParseHeader(raw.Json);
            id ??= header.Id;
            taskName = header.TaskName;
            attempt = header.Attempt;
            envelope = header.Envelope;
        }
        catch (TempestWireException)
        {
        }
        if (raw.Attempt > 0) attempt = raw.Attempt;
        if (raw.Envelope is { } kept) envelope = kept;
        return (id ?? TempestId.New(), taskName, attempt, envelope);
    }

    // Skips the arguments: any task name is taken, and the header stands in for the typed message.
    private static readonly ArgumentsReader s_readHeader = static (string taskName, ref Utf8JsonReader reader) =>
    {
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray) reader.Skip();
        return new MessageHeader(taskName);
    };

    private sealed class MessageHeader(string taskName) : TempestMessage(taskName)
    {
        protected internal override TempestTask CreateTask(IServiceProvider? services) => throw new NotSupportedException("A message header cannot run.");
        protected internal override ValueTask InvokeAsync(TempestTask task, CancellationToken cancellationToken) => throw new NotSupportedException("A message header cannot run.");
        protected internal override void WriteArguments(Utf8JsonWriter writer) => throw new NotSupportedException("A message header has no arguments.");
    }

    /// <summary>
    /// Parses either form: a versioned envelope object (<see cref="ToEnvelopeJson"/>), or a bare message array,
    /// as another program writes it, which gets the defaults. Unknown envelope fields are skipped (a newer writer
    /// may add some); an unknown version is refused; an invalid <c>tp</c> is dropped, since a trace header is not
    /// worth a job.
    /// </summary>
    /// <exception cref="TempestWireException">The text is not a message this engine can run.</exception>
    public static TempestMessage Parse(ReadOnlySpan<byte> utf8Json, ArgumentsReader readArguments)
    {
        int start = 0;
        while (start < utf8Json.Length && utf8Json[start] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') start++;
        return start < utf8Json.Length && utf8Json[start] == (byte)'{'
            ? ParseEnvelope(utf8Json, readArguments)
            : ParseBare(utf8Json, readArguments);
    }

    private static TempestMessage ParseEnvelope(ReadOnlySpan<byte> utf8Json, ArgumentsReader readArguments)
    {
        int? version = null, attempt = null;
        var envelope = new Queues.TempestEnvelope();
        TempestMessage? message = null;
        try
        {
            var reader = new Utf8JsonReader(utf8Json);
            reader.Read(); // the StartObject, found by Parse
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string name = reader.GetString()!;
                if (!reader.Read()) break;
                switch (name)
                {
                    case "v": version = reader.GetInt32(); break;
                    case "attempt": attempt = NonNegative(reader.GetInt32(), "attempt"); break;
                    case "max": envelope.MaxAttempts = NonNegative(reader.GetInt32(), "max"); break;
                    case "runAt": envelope.RunAt = reader.GetDateTimeOffset(); break;
                    case "queue": envelope.Queue = ReadName(ref reader, "queue"); break;
                    case "prio": envelope.Priority = reader.GetInt32(); break;
                    case "unique": envelope.UniqueKey = reader.GetString(); break;
                    case "uscope": envelope.UniqueScope = ReadUniqueScope(reader.GetInt32()); break;
                    case "ufor": envelope.UniqueFor = TimeSpan.FromMilliseconds(NonNegative(reader.GetInt64(), "ufor")); break;
                    case "fails": envelope.Failures = NonNegative(reader.GetInt32(), "fails"); break;
                    case "expiries": envelope.LeaseExpiries = NonNegative(reader.GetInt32(), "expiries"); break;
                    case "err": envelope.LastError = ReadError(ref reader); break;
                    case "tp": envelope.TraceParent = reader.GetString() is { } tp && IsTraceParent(tp) ? tp : null; break;
                    case "m":
                        if (reader.TokenType != JsonTokenType.StartArray)
                            throw new TempestWireException($"the envelope's \"m\" must be the message array, not {Describe(reader.TokenType)}");
                        int from = (int)reader.TokenStartIndex;
                        reader.Skip();
                        message = ParseBare(utf8Json[from..(int)reader.BytesConsumed], readArguments);
                        break;
                    default: reader.Skip(); break;
                }
            }
            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
                throw new TempestWireException("malformed envelope: expected one JSON object");
        }
        catch (JsonException e)
        {
            throw new TempestWireException($"malformed JSON: {e.Message}", e);
        }
        catch (Exception e) when (e is not TempestWireException)
        {
            throw new TempestWireException($"an envelope field does not fit: {e.Message}", e);
        }
        if (version != EnvelopeVersion)
            throw new TempestWireException(version is null
                ? "a message must be a JSON array: [id, task name, arguments...], or an envelope object {\"v\":1,...,\"m\":[...]}; this object has no \"v\""
                : $"envelope version {version} is not known (this engine reads {EnvelopeVersion})");
        if (message is null) throw new TempestWireException("the envelope has no message (\"m\")");
        if (attempt is { } a) message.Attempt = a;
        if (!envelope.IsDefault) message.Envelope = envelope;
        return message;
    }

    private static int NonNegative(int value, string field) =>
        value >= 0 ? value : throw new TempestWireException($"the envelope's \"{field}\" cannot be negative");

    private static long NonNegative(long value, string field) =>
        value >= 0 ? value : throw new TempestWireException($"the envelope's \"{field}\" cannot be negative");

    private static Queues.TempestUniqueScope ReadUniqueScope(int value) =>
        value is >= 0 and <= (int)Queues.TempestUniqueScope.Period ? (Queues.TempestUniqueScope)value
            : throw new TempestWireException("the envelope's \"uscope\" must be 0 to 3");

    private static string ReadName(ref Utf8JsonReader reader, string field)
    {
        string value = reader.GetString()!;
        return TempestId.IsAcceptable(value) ? value
            : throw new TempestWireException($"the envelope's \"{field}\" must be 1 to {TempestId.MaxAcceptedLength} letters, digits, '-', '_', '.' or ':'");
    }

    private static Queues.TempestError? ReadError(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.StartObject) throw new TempestWireException($"the envelope's \"err\" must be an object, not {Describe(reader.TokenType)}");
        string type = "", text = "";
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string name = reader.GetString()!;
            reader.Read();
            switch (name)
            {
                case "type": type = reader.GetString() ?? ""; break;
                case "msg": text = reader.GetString() ?? ""; break;
                default: reader.Skip(); break;
            }
        }
        // Another program's text: made log-safe here, once, like every error a queue keeps.
        return new Queues.TempestError(LogText.Escape(type, LogText.MaxQuotedLength), LogText.Escape(text, Queues.TempestError.MaxMessageLength));
    }

    /// <summary>A W3C traceparent: <c>version-traceid-parentid-flags</c> in lowercase hex (55 characters for version 00).</summary>
    private static bool IsTraceParent(string value)
    {
        if (value.Length != 55 || value[2] != '-' || value[35] != '-' || value[52] != '-') return false;
        for (int i = 0; i < value.Length; i++)
        {
            if (i is 2 or 35 or 52) continue;
            if (!char.IsAsciiHexDigitLower(value[i]) && !char.IsAsciiDigit(value[i])) return false;
        }
        return true;
    }

    /// <summary>
    /// Parses a wire-format message: reads the id and task name, then hands the reader to
    /// <paramref name="readArguments"/> (an engine's generated dispatch table), which returns the
    /// typed message or <see langword="null"/> when it knows no task of that name.
    /// </summary>
    private static TempestMessage ParseBare(ReadOnlySpan<byte> utf8Json, ArgumentsReader readArguments)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8Json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
                throw new TempestWireException("a message must be a JSON array: [id, task name, arguments...], or an envelope object {\"v\":1,...,\"m\":[...]}");
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
            if (string.IsNullOrEmpty(id))
            {
                message.Id = TempestId.New();
                message.IdWasAssigned = true;
            }
            else
            {
                message.Id = id;
            }
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
