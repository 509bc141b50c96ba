namespace TaskTempest.Throughput;

/// <summary>A kind of run: pre-filled, live (the producer flat out), or paced at a rate (latency jobs).</summary>
internal readonly record struct RunMode(string Kind, int Rate)
{
    public static readonly RunMode Prefilled = new("pre-filled", 0), Live = new("live", 0);

    public bool IsLive => Kind != "pre-filled";

    public bool IsPaced => Rate > 0;

    public override string ToString() => IsPaced ? $"paced {Rate:N0}/s" : Kind;
}
