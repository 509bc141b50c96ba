using System.Text.Json;

namespace TaskTempest.Wire;

/// <summary>A wire-format message that cannot become a job: malformed JSON, an unknown task, or
/// arguments that do not fit the task's <c>Process</c> parameters.</summary>
public sealed class TempestWireException(string message, Exception? inner = null) : Exception(message, inner);
