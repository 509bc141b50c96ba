namespace TaskTempest.Queues;

/// <summary>A message that could not run, with why.</summary>
/// <param name="Message">The message as it was dequeued (a <see cref="RawTempestMessage"/> if it never parsed).</param>
/// <param name="Reason">Why it was dead-lettered, e.g. <c>task class not found: Adderr</c>.</param>
/// <param name="DeadLetteredAt">When.</param>
public sealed record TempestDeadLetter(TempestMessage Message, string Reason, DateTimeOffset DeadLetteredAt);
