using System.Text.Json.Serialization;

namespace TaskTempest.Dashboard;

// The JSON the page reads. Written only through the source-generated context below: no reflection-based serialization.

internal sealed record CountsDto(long? Ready, long? Scheduled, long? Retrying, long? Running, long? Dead, long? Completed);

internal sealed record SampleDto(long T, int Succeeded, int Failed, long? Waiting, long? Running);

internal sealed record WorkerDto(string Id, string Engine, string Host, int Pid, int Slots, DateTimeOffset StartedAt,
    DateTimeOffset LastHeartbeat, double HeartbeatAgeSeconds, int Running);

internal sealed record OverviewDto(string Title, IReadOnlyList<string> Engines, bool ShowPayloads, bool ActionsAllowed,
    DateTimeOffset Now, CountsDto Counts, long Processed, long ProcessedFailed, IReadOnlyList<WorkerDto> Workers,
    IReadOnlyList<SampleDto> Series, string? CountsError);

internal sealed record ErrorDto(string Type, int Length, string? Message);

internal sealed record ArgumentDto(string Kind, int Length, string? Value);

internal sealed record PayloadDto(int Length, string? Message, IReadOnlyList<ArgumentDto> Arguments);

internal sealed record JobDto
{
    public required string Id { get; init; }
    public required string Task { get; init; }
    public required string State { get; init; }
    public int Attempt { get; init; }
    public int Failures { get; init; }
    public int LeaseExpiries { get; init; }
    public int? MaxAttempts { get; init; }
    public DateTimeOffset? RunAt { get; init; }
    public string? Queue { get; init; }
    public int Priority { get; init; }
    public string? Owner { get; init; }
    public string? Worker { get; init; }
    public DateTimeOffset? LeaseUntil { get; init; }
    public DateTimeOffset? RunningSince { get; init; }
    public double? RunningSeconds { get; init; }
    public string? DeadReason { get; init; }
    public DateTimeOffset? DeadAt { get; init; }
    public DateTimeOffset? EnqueuedAt { get; init; }
    public ErrorDto? LastError { get; init; }
    public PayloadDto? Payload { get; init; }
}

internal sealed record JobsPageDto(string State, int Offset, int Limit, IReadOnlyList<JobDto> Items);

internal sealed record FailureDto(string Id, string Task, int Attempt, string Status, DateTimeOffset FailedAt, ErrorDto? Error);

internal sealed record ScheduleDto(string Name, string Cron, string TimeZone, string Misfire, string Task,
    DateTimeOffset? LastTick, DateTimeOffset? NextRun, string? LastJobId);

internal sealed record ActionDto(bool Ok, int Count, string? Message);

internal sealed record AntiforgeryDto(string HeaderName, string? Token);

internal sealed record ProblemDto(int Status, string Error);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(OverviewDto))]
[JsonSerializable(typeof(JobsPageDto))]
[JsonSerializable(typeof(JobDto))]
[JsonSerializable(typeof(IReadOnlyList<FailureDto>))]
[JsonSerializable(typeof(IReadOnlyList<ScheduleDto>))]
[JsonSerializable(typeof(ActionDto))]
[JsonSerializable(typeof(AntiforgeryDto))]
[JsonSerializable(typeof(ProblemDto))]
internal sealed partial class DashboardJsonContext : JsonSerializerContext;
