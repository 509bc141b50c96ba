namespace TaskTempest;

/// <summary>Marks a task method (no parameters, returns void) to run after <c>Process</c> succeeded. Several run in declared order, base class first.</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false, AllowMultiple = false)]
public sealed class AfterSuccessAttribute : Attribute;

/// <summary>Marks a task method (an <see cref="Exception"/> parameter or none, returns void) to run after <c>Process</c> threw.</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false, AllowMultiple = false)]
public sealed class AfterFailureAttribute : Attribute;

/// <summary>Marks a task method (no parameters, returns void) to run after the task timed out.</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false, AllowMultiple = false)]
public sealed class AfterTimeoutAttribute : Attribute;

/// <summary>
/// Marks a task method (an <see cref="Exception"/> parameter or none, returns void) to run once, after the job's last
/// failed attempt: when it failed or timed out and will not run again (no retries left, none configured, or the queue
/// cannot delay). It gets what <c>Process</c> threw (null for a timeout whose task threw nothing). It runs after the
/// after-failure or after-timeout callbacks of that attempt.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false, AllowMultiple = false)]
public sealed class AfterRetriesExhaustedAttribute : Attribute;

/// <summary>
/// Marks a static method of a task that says how long to wait before the next retry, instead of
/// <see cref="TempestBackoff.Default"/>: <c>static TimeSpan Backoff(int attempt)</c> or
/// <c>static TimeSpan Backoff(int attempt, Exception? exception)</c>, where <c>attempt</c> is the number of the attempt
/// that just failed (1 for the first) and <c>exception</c> what it threw (null for a timeout that threw nothing).
/// One per task class; a derived task inherits its base's unless it declares its own.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false, AllowMultiple = false)]
public sealed class RetryBackoffAttribute : Attribute;
