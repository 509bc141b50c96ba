namespace TaskTempest.Testing;

/// <summary>How a <see cref="TempestManualHarness{TEngine}"/> drains, and its queue's settings.</summary>
public sealed record TempestManualOptions
{
    /// <summary>The most a drain may take, in real time, before it fails with a <see cref="TimeoutException"/> that names
    /// the jobs still running; 30 seconds by default. A drain never hangs.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Whether a drain in which a run failed or timed out throws <see cref="TempestJobFailedException"/> (with the
    /// drain's result and the first failure as its inner exception) instead of returning; true by default, so that a
    /// failure is never silent. A test of failures and retries turns it off, here or per drain
    /// (<see cref="TempestDrainOptions.ThrowOnFailure"/>), and reads the result.</summary>
    public bool ThrowOnFailure { get; init; } = true;

    /// <summary>The leasing queue's settings (lease duration, poison threshold, caps); its defaults when null.</summary>
    public TempestLeasingMemoryQueueOptions? Queue { get; init; }
}

/// <summary>One drain's settings over the harness's (<see cref="TempestManualOptions"/>); null keeps the harness's.</summary>
public sealed record TempestDrainOptions
{
    /// <summary>Keeps failures from throwing: <c>await jobs.DrainAsync(TempestDrainOptions.AllowFailures)</c>.</summary>
    public static TempestDrainOptions AllowFailures { get; } = new() { ThrowOnFailure = false };

    /// <summary>Overrides <see cref="TempestManualOptions.ThrowOnFailure"/>.</summary>
    public bool? ThrowOnFailure { get; init; }

    /// <summary>Overrides <see cref="TempestManualOptions.DrainTimeout"/>.</summary>
    public TimeSpan? Timeout { get; init; }
}
