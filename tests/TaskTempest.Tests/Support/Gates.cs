using System.Collections.Concurrent;

namespace TaskTempest.Tests.Support;

/// <summary>
/// Named gates that let a test hold a task inside Process and know when it got there: the task
/// signals Started, then waits until the test calls Release (or its token is cancelled).
/// </summary>
public static class Gates
{
    private static readonly ConcurrentDictionary<string, Gate> s_gates = new();

    public static Gate Get(string name) => s_gates.GetOrAdd(name, _ => new Gate());

    /// <summary>A fresh, unique gate name for one test.</summary>
    public static string NewName() => "gate-" + Guid.NewGuid().ToString("N");

    public sealed class Gate
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Finished { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public void Release() => Released.TrySetResult();
    }
}

/// <summary>What tasks saw, by task id, for assertions on typed dispatch.</summary>
public static class Recorder
{
    private static readonly ConcurrentDictionary<string, string> s_calls = new();

    public static void Record(string taskId, string what) => s_calls[taskId] = what;

    public static string? Get(string taskId) => s_calls.TryGetValue(taskId, out var what) ? what : null;

    private static readonly ConcurrentDictionary<string, ConcurrentQueue<string>> s_trails = new();

    /// <summary>Appends a step to the task's trail (callbacks record their order here).</summary>
    public static void Step(string taskId, string step) => s_trails.GetOrAdd(taskId, _ => new()).Enqueue(step);

    public static string Trail(string taskId) => s_trails.TryGetValue(taskId, out var steps) ? string.Join(",", steps) : "";
}
