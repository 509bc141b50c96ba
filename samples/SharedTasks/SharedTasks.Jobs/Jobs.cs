using Microsoft.Extensions.Logging;
using TaskTempest;
using ZLogger;

namespace SharedTasks.Jobs;

/// <summary>Sends a welcome mail (here: logs it). Named explicitly on the wire, so the class can move or be renamed.</summary>
[TempestTask("welcome-mail")]
public sealed class WelcomeMail : TempestTask
{
    /// <summary>Processes one job.</summary>
    public async Task Process(string address, string? name = null, CancellationToken cancellationToken = default)
    {
        await Task.Delay(10, cancellationToken).ConfigureAwait(true);
        TaskLogger.ZLogInformation($"welcome mail sent to {name ?? "a new user"} <{address}>");
    }
}

/// <summary>Adds up numbers: the gem's Averager's sibling, with a params parameter.</summary>
[TempestTask("sum")]
public sealed class SumNumbers : TempestTask
{
    /// <summary>Processes one job.</summary>
    public void Process(params int[] numbers)
    {
        ArgumentNullException.ThrowIfNull(numbers);
        TaskLogger.ZLogInformation($"sum of {numbers.Length} numbers: {numbers.Sum()}");
    }
}
