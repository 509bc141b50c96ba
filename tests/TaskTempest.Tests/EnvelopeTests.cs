using TaskTempest.Queues;
using TaskTempest.Wire;

namespace TaskTempest.Tests;

/// <summary>The envelope's one serialized form: every field round-trips, a bare array gets the defaults, and bad envelopes are clear errors.</summary>
public class EnvelopeTests
{
    private static readonly TestTempest Engine = new(new TempestOptions { HandleSignals = false });
    private const string TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    [Fact]
    public void A_plain_message_is_written_as_the_bare_array_and_has_no_envelope()
    {
        var message = Engine.ParseMessage("""["k3f9a2c1x7q0m4bd","Sum",2,5]""");
        Assert.Null(message.Envelope);
        Assert.Equal(0, message.Attempt);
        Assert.Equal("""["k3f9a2c1x7q0m4bd","Sum",2,5]""", message.ToEnvelopeJson());
    }

    [Fact]
    public void Every_field_round_trips_through_the_versioned_object()
    {
        var message = Engine.ParseMessage("""["k3f9a2c1x7q0m4bd","Sum",2,5]""");
        message.Attempt = 2;
        message.Envelope = new TempestEnvelope
        {
            Failures = 1, LeaseExpiries = 2, MaxAttempts = 6, RunAt = new DateTimeOffset(2026, 12, 1, 10, 30, 0, TimeSpan.Zero),
            Queue = "mail", Priority = -3, UniqueKey = "user:7 \"x\"", LastError = new TempestError("System.InvalidOperationException", "no \\u000a here"),
            TraceParent = TraceParent,
        };

        string json = message.ToEnvelopeJson();
        Assert.StartsWith("""{"v":1,"attempt":2,"max":6,"runAt":"2026-12-01T10:30:00+00:00","queue":"mail","prio":-3,""", json, StringComparison.Ordinal);
        Assert.EndsWith(""","m":["k3f9a2c1x7q0m4bd","Sum",2,5]}""", json, StringComparison.Ordinal);

        var back = Engine.ParseMessage(json);
        Assert.Equal((message.Id, 2), (back.Id, back.Attempt));
        var e = back.Envelope!;
        Assert.Equal((1, 2, 6, message.Envelope.RunAt, "mail", -3, "user:7 \"x\"", TraceParent),
            (e.Failures, e.LeaseExpiries, e.MaxAttempts, e.RunAt, e.Queue, e.Priority, e.UniqueKey, e.TraceParent));
        Assert.Equal(message.Envelope.LastError, e.LastError);
        Assert.Equal("""["k3f9a2c1x7q0m4bd","Sum",2,5]""", back.ToJson());
    }

    [Fact]
    public void Unknown_fields_are_skipped_and_fields_come_in_any_order()
    {
        var back = Engine.ParseMessage("""{"m":[null,"Sum",1],"later":{"a":[1,2]},"v":1,"fails":3}""");
        Assert.True(TempestId.IsWellFormed(back.Id)); // no id: one is assigned, as for a bare message
        Assert.Equal(3, back.Envelope!.Failures);
    }

    [Fact]
    public void A_hostile_error_message_from_outside_is_made_log_safe_and_an_invalid_traceparent_dropped()
    {
        var back = Engine.ParseMessage("""{"v":1,"err":{"type":"X","msg":"boom\n2026-12-01 k3f9 <Sum> success"},"tp":"00-not-a-trace","m":["a1","Sum",1]}""");
        Assert.Equal("boom\\n2026-12-01 k3f9 <Sum> success", back.Envelope!.LastError!.Message);
        Assert.Null(back.Envelope.TraceParent);
    }

    [Theory]
    [InlineData("""{"v":2,"m":["a1","Sum",1]}""", "envelope version 2 is not known (this engine reads 1)")]
    [InlineData("""{"m":["a1","Sum",1]}""", "this object has no \"v\"")]
    [InlineData("""{"v":1}""", "the envelope has no message (\"m\")")]
    [InlineData("""{"v":1,"m":{"x":1}}""", "the envelope's \"m\" must be the message array, not an object")]
    [InlineData("""{"v":1,"attempt":-1,"m":["a1","Sum",1]}""", "the envelope's \"attempt\" cannot be negative")]
    [InlineData("""{"v":1,"queue":"a b","m":["a1","Sum",1]}""", "the envelope's \"queue\" must be 1 to 100 letters")]
    [InlineData("""{"v":1,"m":["a1","Nope",1]}""", "task class not found: Nope")]
    [InlineData("""{"v":1,"m":["a1","Sum",1]} x""", "malformed JSON")]
    public void A_bad_envelope_is_a_clear_error(string json, string expected)
    {
        var error = Assert.Throws<TempestWireException>(() => Engine.ParseMessage(json));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_queue_that_keeps_the_counts_beside_the_text_wins_over_the_text()
    {
        var raw = new RawTempestMessage("""{"v":1,"attempt":1,"fails":1,"m":["a1","Sum",1]}""")
        {
            Attempt = 3,
            Envelope = new TempestEnvelope { Failures = 2 },
            Lease = new TempestLease("worker-1", 42, DateTimeOffset.UnixEpoch),
            Receipt = "row 7",
        };
        var message = Engine.ParseMessage(raw);
        Assert.Equal((3, 2, 42L, "row 7"), (message.Attempt, message.Envelope!.Failures, message.Lease!.Token, message.Receipt));
    }

    [Fact]
    public void A_text_without_an_id_runs_under_the_id_its_queue_stores_it_by_on_every_delivery()
    {
        Assert.Equal("stored-1", Engine.ParseMessage(new RawTempestMessage("""[null,"Sum",1]""", "stored-1")).Id);
        Assert.Equal("stored-1", Engine.ParseMessage(new RawTempestMessage("""{"v":1,"m":[null,"Sum",1]}""", "stored-1")).Id);
        Assert.Equal("own-id", Engine.ParseMessage(new RawTempestMessage("""["own-id","Sum",1]""", "stored-1")).Id);
        Assert.Throws<ArgumentException>(() => new RawTempestMessage("[]", "bad id\n"));
    }

    [Fact]
    public async Task A_rejected_envelope_is_dead_lettered_under_the_id_inside_it()
    {
        await using var harness = new Support.Harness<TestTempest>(o => new TestTempest(o), (e, n) => e.SubmitSum(n));
        harness.Queue.EnqueueRaw("""{"v":1,"fails":1,"m":["ext-7","Nope",1]}""");
        string id = harness.Start().SubmitSum(1);
        await harness.FinishedAsync(id);
        await harness.StopAsync();
        var dead = Assert.Single(harness.Queue.DeadLetters);
        Assert.Equal(("ext-7", "task class not found: Nope"), (dead.Message.Id, dead.Reason));
    }
}
