using System.ComponentModel;

namespace TaskTempest;

/// <summary>Told about a task callback that threw: the task, the callback's method name and the exception.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public delegate void TempestCallbackFailure(TempestTask task, string callback, Exception exception);
