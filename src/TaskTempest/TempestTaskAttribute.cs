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

    /// <summary>The named queue this task's jobs go to (a submit may name another: <c>engine.ToQueue("x")</c>); null:
    /// <c>default</c>. An engine consumes the queues of <c>TempestOptions.Queues</c>. 1 to 100 letters, digits,
    /// '-', '_', '.' or ':'.</summary>
    public string? Queue { get; set; }

    /// <summary>The priority of this task's jobs within their queue (higher runs first); 0 by default.</summary>
    public int Priority { get; set; }

    /// <summary>
    /// The <c>Process</c> parameters whose values make the job's unique key (<c>UniqueBy = ["customerId", "day"]</c>), so
    /// that while a job with those values holds the key (within <see cref="Unique"/>), a second submit queues nothing and
    /// returns the first one's id. <see cref="UniqueKeyAttribute"/> on the parameters says the same.
    /// </summary>
    public string[]? UniqueBy { get; set; }

    /// <summary>How long a job's unique key keeps duplicates out. Set alone (without <see cref="UniqueBy"/> or
    /// <see cref="UniqueKeyAttribute"/>), every argument makes the key. Default: <see cref="Queues.TempestUniqueScope.QueuedOrRunning"/>
    /// once a key is chosen, none otherwise.</summary>
    public Queues.TempestUniqueScope Unique { get; set; }

    /// <summary>For <see cref="Queues.TempestUniqueScope.Period"/>: how many seconds from the submit the key holds.</summary>
    public double UniqueForSeconds { get; set; }
}

/// <summary>Makes a <c>Process</c> parameter part of the job's unique key (as <see cref="TempestTaskAttribute.UniqueBy"/> does).</summary>
[AttributeUsage(AttributeTargets.Parameter, Inherited = false, AllowMultiple = false)]
public sealed class UniqueKeyAttribute : Attribute
{
}
