namespace TaskTempest;

/// <summary>
/// Marks a class deriving from <see cref="TempestTask"/> as a task that engines can run. The class
/// declares one public <c>Process</c> method; its parameters become the typed arguments of the
/// engine's generated <c>Submit{Task}</c> method.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false, AllowMultiple = false)]
public sealed class TempestTaskAttribute : Attribute
{
    /// <summary>Names the task on the wire by its class name.</summary>
    public TempestTaskAttribute() { }

    /// <summary>Names the task on the wire explicitly, so renaming or moving the class does not strand
    /// messages already queued.</summary>
    /// <param name="name">The task's wire name, e.g. <c>"adder"</c>.</param>
    public TempestTaskAttribute(string name) => Name = name;

    /// <summary>The task's wire name, or <see langword="null"/> for the class name.</summary>
    public string? Name { get; }

    /// <summary>
    /// Seconds the task may run (the original's <c>timeout</c>); 0, the default, means no limit. At the
    /// deadline the task's CancellationToken is cancelled and the task counts as <c>timeout</c>.
    /// </summary>
    public double TimeoutSeconds { get; set; }

    /// <summary>
    /// How many times a job that failed or timed out runs again (a timeout retries like a failure); 0, the default,
    /// makes a failure final, as in the original. A job out of attempts goes to the dead letters with its last error.
    /// The wait before each retry is durable state on the queue (its run-at), never a sleep that holds a slot:
    /// <see cref="TempestBackoff.Default"/> (<c>attempt^4 + 15 s</c> plus a random part, as Sidekiq), or the task's
    /// own <see cref="RetryBackoffAttribute"/> method. Retries need a queue with delays (the memory queue has them).
    /// </summary>
    public int Retries { get; set; }

    /// <summary>The name of the method that processes a job (the original's <c>process_method</c>). Default: <c>Process</c>.</summary>
    public string? ProcessMethod { get; set; }
}
