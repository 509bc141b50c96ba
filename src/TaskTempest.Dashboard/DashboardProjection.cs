using System.Text.Json;
using TaskTempest.Queues;

namespace TaskTempest.Dashboard;

/// <summary>
/// Turns the inspector's records into what the page shows. Payloads (the message, its arguments, exception messages, which
/// may hold personal data) become their type and length unless <see cref="TempestDashboardOptions.ShowPayloads"/> is on.
/// </summary>
internal static class DashboardProjection
{
    public static ErrorDto? Error(TempestError? error, bool showPayloads) =>
        error is null ? null : new ErrorDto(error.Type, error.Message.Length, showPayloads ? error.Message : null);

    public static JobDto Job(TempestJobInfo job, bool showPayloads, DashboardSampler sampler, IReadOnlyDictionary<string, TempestWorkerStatus>? workers, DateTimeOffset now)
    {
        var envelope = job.Envelope;
        DateTimeOffset? since = job.State == TempestJobState.Running ? sampler.FirstSeenRunning(job) : null;
        string? worker = null;
        if (job.Lease is { } lease && workers is not null && workers.TryGetValue(lease.Owner, out var status))
            worker = $"{status.Worker.EngineName} on {status.Worker.Host} (pid {status.Worker.ProcessId})";
        return new JobDto
        {
            Id = job.Id,
            Task = job.TaskName,
            State = job.State.ToString(),
            Attempt = job.Attempt,
            Failures = envelope?.Failures ?? 0,
            LeaseExpiries = envelope?.LeaseExpiries ?? 0,
            MaxAttempts = envelope?.MaxAttempts,
            RunAt = envelope?.RunAt,
            Queue = envelope?.Queue,
            Priority = envelope?.Priority ?? 0,
            Owner = job.Lease?.Owner,
            Worker = worker,
            LeaseUntil = job.Lease?.Until,
            RunningSince = since,
            RunningSeconds = since is { } s ? Math.Max(0, (now - s).TotalSeconds) : null,
            DeadReason = Reason(job.DeadReason, envelope?.LastError, showPayloads),
            DeadAt = job.DeadAt,
            EnqueuedAt = job.EnqueuedAt,
            LastError = Error(envelope?.LastError, showPayloads),
            Payload = job.Message is { } message ? Payload(message, showPayloads) : null,
        };
    }

    /// <summary>A dead letter's reason quotes the last exception's message ("... last error Type: message"): that part is
    /// hidden like the message itself.</summary>
    public static string? Reason(string? reason, TempestError? lastError, bool showPayloads)
    {
        if (reason is null || showPayloads || lastError is null || lastError.Message.Length == 0) return reason;
        return reason.Replace(lastError.Message, $"[{lastError.Message.Length} characters hidden]", StringComparison.Ordinal);
    }

    /// <summary>The wire message (a bare array, <c>["id","Task",args...]</c>, or the envelope object around it under
    /// <c>m</c>): its arguments' JSON kinds and lengths, and their values only when payloads are shown.</summary>
    public static PayloadDto Payload(string message, bool showPayloads)
    {
        var arguments = new List<ArgumentDto>();
        try
        {
            using var document = JsonDocument.Parse(message);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object) root = MessageArrayOf(root);
            if (root.ValueKind == JsonValueKind.Array)
            {
                int index = 0;
                foreach (var element in root.EnumerateArray())
                {
                    if (index++ < 2) continue; // the id and the task's name
                    string raw = element.GetRawText();
                    bool isString = element.ValueKind == JsonValueKind.String;
                    string? value = !showPayloads ? null : isString ? element.GetString() : raw;
                    arguments.Add(new ArgumentDto(Kind(element.ValueKind), isString ? element.GetString()!.Length : raw.Length, value));
                }
            }
        }
        catch (JsonException)
        {
            arguments.Add(new ArgumentDto("unreadable", message.Length, null));
        }
        return new PayloadDto(message.Length, showPayloads ? message : null, arguments);
    }

    /// <summary>An envelope object's message array, its <c>m</c> field (the object itself when it has none).</summary>
    private static JsonElement MessageArrayOf(JsonElement envelope)
    {
        foreach (var field in envelope.EnumerateObject())
        {
            if (field.NameEquals("m")) return field.Value;
        }
        return envelope;
    }

    private static string Kind(JsonValueKind kind) => kind switch
    {
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "array",
        JsonValueKind.Object => "object",
        _ => "unknown",
    };

    public static WorkerDto Worker(TempestWorkerStatus status, DateTimeOffset now) => new(
        status.Worker.Id, status.Worker.EngineName, status.Worker.Host, status.Worker.ProcessId, status.Worker.Slots,
        status.Worker.StartedAt, status.LastHeartbeat, Math.Round(Math.Max(0, (now - status.LastHeartbeat).TotalSeconds), 1), status.Running);

    public static FailureDto Failure(TempestFailureRecord failure, bool showPayloads) => new(
        failure.Id, failure.TaskName, failure.Attempt, failure.Status.ToString(), failure.FailedAt, Error(failure.Error, showPayloads));

    public static ScheduleDto Schedule(TempestScheduleInfo schedule) => new(
        schedule.Name, schedule.Cron, schedule.TimeZone, schedule.Misfire.ToString(), schedule.TaskName, schedule.LastTick,
        schedule.NextRun, schedule.LastJobId);
}
