namespace TaskTempest;

/// <summary>
/// What a submit did: the job's id, and whether it was a duplicate of a job that holds its unique key (then nothing was
/// queued and <see cref="Id"/> is the holder's). Converts to the id, so <c>string id = engine.SubmitAdder(2, 5);</c> reads as before.
/// </summary>
/// <param name="Id">The job's id (for a duplicate: the id of the job that holds the key).</param>
/// <param name="Duplicate">True when a job already held the unique key, so this submit queued nothing.</param>
public readonly record struct TempestSubmitResult(string Id, bool Duplicate)
{
    /// <summary>The id.</summary>
    public static implicit operator string(TempestSubmitResult result) => result.Id;

    /// <summary>The id.</summary>
    public override string ToString() => Id;
}
