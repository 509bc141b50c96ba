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
