namespace TaskTempest;

/// <summary>
/// An engine that generic code can create without reflection: every <c>[Tempest]</c> engine implements it (generated),
/// so that <c>services.AddTempest&lt;MathTempest&gt;()</c> calls <c>MathTempest.Create(options)</c>.
/// </summary>
/// <typeparam name="TSelf">The engine class itself.</typeparam>
public interface ITempestEngine<TSelf> where TSelf : TempestEngine, ITempestEngine<TSelf>
{
    /// <summary>Creates an engine with <paramref name="options"/> (null for defaults), as its constructor does.</summary>
    static abstract TSelf Create(TempestOptions? options);
}

/// <summary>
/// A message whose job runs <typeparamref name="TTask"/>: every generated message implements it, so that code that holds
/// messages (TaskTempest.Testing's captured jobs, say) can pick one task's by type, without reflection.
/// </summary>
/// <typeparam name="TTask">The task class the message's job runs.</typeparam>
#pragma warning disable CA1040 // a marker by design: the type argument is the information
public interface ITempestMessage<TTask> where TTask : TempestTask;
#pragma warning restore CA1040
