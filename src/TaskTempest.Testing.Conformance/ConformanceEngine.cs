using System.Text.Json;

namespace TaskTempest.Testing.Conformance;

/// <summary>
/// The kit's parsing engine, written as the generator would write one with a single task: it turns the text a
/// queue hands out (a bare array or a versioned envelope) into <see cref="ConformanceJob"/>. It never runs.
/// </summary>
internal sealed class ConformanceEngine : TempestEngine
{
    private static readonly TempestEngineConfiguration s_configuration = new() { Name = "ConformanceTempest", Threads = 1 };

    public ConformanceEngine() : base(s_configuration, null) { }

    protected override TempestMessage? ReadMessage(string taskName, ref Utf8JsonReader reader) => taskName switch
    {
        ConformanceJob.WireName => ConformanceJob.Read(ref reader),
        _ => null,
    };
}
