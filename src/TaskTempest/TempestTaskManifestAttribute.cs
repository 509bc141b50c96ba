namespace TaskTempest;

/// <summary>
/// Emitted by the generator, once per public task, into the assembly that declares the task: the manifest
/// through which an engine in another project finds the task and its generated message class at compile
/// time (no reflection at run time).
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true, Inherited = false)]
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public sealed class TempestTaskManifestAttribute(Type message, Type task) : Attribute
{
    /// <summary>The generated message class.</summary>
    public Type Message { get; } = message;

    /// <summary>The task class.</summary>
    public Type Task { get; } = task;
}
