using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace TaskTempest.Tests.Shared;

/// <summary>
/// OpenTelemetry's SDK with its in-memory exporters, listening to TaskTempest's source and meter, as a user's
/// <c>AddOpenTelemetry()</c> would. Spans are sampled only inside the trace of <see cref="Root"/>, a span the test starts
/// itself, so that other tests' engines, running at the same time in the same process, add nothing to this capture (and
/// their jobs carry no trace context). Dispose it to stop listening.
/// </summary>
internal sealed class TelemetryCapture : IDisposable
{
    private readonly TracerProvider _tracing;
    private readonly MeterProvider _metrics;
    private readonly List<Activity> _spans = [];
    private readonly List<Metric> _exported = [];

    public TelemetryCapture()
    {
        Root = new Activity("test").SetIdFormat(ActivityIdFormat.W3C);
        Root.ActivityTraceFlags = ActivityTraceFlags.Recorded;
        Root.Start();
        Activity.Current = null; // current only inside Enter (a stopped activity cannot be made current: it stops at Dispose)
        _tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(TempestTelemetry.Name)
            .SetSampler(new InTraceSampler(Root.TraceId))
            .AddInMemoryExporter(_spans)
            .Build();
        _metrics = Sdk.CreateMeterProviderBuilder()
            .AddMeter(TempestTelemetry.Name)
            .AddInMemoryExporter(_exported)
            .Build();
    }

    /// <summary>The test's own span: make it current (<see cref="Enter"/>) around a submit to trace it.</summary>
    public Activity Root { get; }

    /// <summary>Makes <see cref="Root"/> current until disposed.</summary>
    public IDisposable Enter()
    {
        var previous = Activity.Current;
        Activity.Current = Root;
        return new Restore(previous);
    }

    /// <summary>The spans ended so far in the test's trace (exported as each ends).</summary>
    public IReadOnlyList<Activity> Spans
    {
        get
        {
            lock (_spans) return [.. _spans];
        }
    }

    /// <summary>Collects the metrics now and returns the points of <paramref name="name"/> whose tags include all of
    /// <paramref name="tags"/>.</summary>
    public IReadOnlyList<MetricPoint> Points(string name, params (string Key, object Value)[] tags)
    {
        lock (_exported)
        {
            _exported.Clear();
            _metrics.ForceFlush();
            var points = new List<MetricPoint>();
            foreach (var metric in _exported.Where(m => m.Name == name))
            {
                foreach (ref readonly var point in metric.GetMetricPoints())
                {
                    var have = new Dictionary<string, object?>();
                    foreach (var tag in point.Tags) have[tag.Key] = tag.Value;
                    if (tags.All(t => have.TryGetValue(t.Key, out var v) && Equals(v, t.Value))) points.Add(point);
                }
            }
            return points;
        }
    }

    /// <summary>The sum of a counter's points that have <paramref name="tags"/>.</summary>
    public long Sum(string name, params (string Key, object Value)[] tags) => Points(name, tags).Sum(p => p.GetSumLong());

    public void Dispose()
    {
        Root.Stop();
        _tracing.Dispose();
        _metrics.Dispose();
    }

    private sealed class Restore(Activity? previous) : IDisposable
    {
        public void Dispose() => Activity.Current = previous;
    }

    private sealed class InTraceSampler(ActivityTraceId trace) : Sampler
    {
        public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
            new(samplingParameters.TraceId == trace ? SamplingDecision.RecordAndSample : SamplingDecision.Drop);
    }
}
