using System.Diagnostics.Metrics;

namespace TaskTempest.Throughput.Postgres;

/// <summary>
/// Round trips of Npgsql data sources, counted from Npgsql's own metrics: one <c>db.client.operation.duration</c>
/// measurement (meter "Npgsql") per command or batch executed, tagged with the data source's name.
/// </summary>
internal sealed class RoundTrips : IDisposable
{
    private const string Instrument = "db.client.operation.duration";
    private readonly MeterListener _listener = new();
    private readonly string[] _dataSources;
    private long _count;

    public RoundTrips(params string[] dataSourceNames)
    {
        _dataSources = dataSourceNames;
        _listener.InstrumentPublished = static (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Npgsql" && instrument.Name == Instrument) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<double>(OnMeasurement);
        _listener.Start();
    }

    public long Count => Interlocked.Read(ref _count);

    private void OnMeasurement(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        foreach (var tag in tags)
        {
            if (tag.Value is string name && _dataSources.Contains(name))
            {
                Interlocked.Increment(ref _count);
                return;
            }
        }
    }

    public void Dispose() => _listener.Dispose();
}
