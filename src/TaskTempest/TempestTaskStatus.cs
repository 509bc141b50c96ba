namespace TaskTempest;

/// <summary>The final state of a task run, as the main log reports it.</summary>
public enum TempestTaskStatus
{
    /// <summary><c>Process</c> returned.</summary>
    Success,
    /// <summary><c>Process</c> threw; the exception is in the task log.</summary>
    Failure,
    /// <summary>The task ran past its timeout: its token was cancelled at the deadline. Final, like the others.</summary>
    Timeout,
    /// <summary>Still running when shutdown's bound ran out; the message went back to the queue.</summary>
    Aborted,
}
