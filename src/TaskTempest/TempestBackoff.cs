namespace TaskTempest;

/// <summary>How long a failed job waits before its next attempt, unless its task declares a <see cref="RetryBackoffAttribute"/> method.</summary>
public static class TempestBackoff
{
    /// <summary>The longest wait <see cref="Default"/> gives (the formula passes it after about 40 attempts).</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromDays(30);

    /// <summary>
    /// Sidekiq's exponential backoff with jitter: <c>attempt^4 + 15</c> seconds plus a random part of up to
    /// <c>10 × attempt</c> seconds, so that jobs that failed together do not all come back together. For the attempt that
    /// just failed: 1 waits 16-26 s, 2 waits 31-51 s, 3 about 1.6 min, 5 about 11 min, 10 about 2.8 h, 25 about 4.5 days;
    /// never more than <see cref="MaxDelay"/>.
    /// </summary>
    /// <param name="attempt">The attempt that just failed, 1 for the first.</param>
    public static TimeSpan Default(int attempt) => Exponential(attempt, Random.Shared.NextDouble());

    /// <summary><see cref="Default"/> with the random part given: <paramref name="jitter"/> from 0 (none) to 1 (all of it).</summary>
    public static TimeSpan Exponential(int attempt, double jitter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        if (!(jitter >= 0 && jitter <= 1)) throw new ArgumentOutOfRangeException(nameof(jitter), jitter, "The jitter is a fraction from 0 to 1.");
        double n = attempt;
        double seconds = n * n * n * n + 15 + jitter * 10 * n;
        return seconds >= MaxDelay.TotalSeconds ? MaxDelay : TimeSpan.FromSeconds(seconds);
    }
}
