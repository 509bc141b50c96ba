namespace TaskTempest;

/// <summary>
/// Message ids: 80 random bits written as 16 lowercase Crockford base-32 characters
/// (e.g. <c>k3f9a2c1x7q0m4bd</c>): short enough to grep, long enough never to collide at scale
/// (the original's 5 hex characters collide within hours at a million jobs a day).
/// </summary>
public static class TempestId
{
    /// <summary>The length of an id in characters.</summary>
    public const int Length = 16;

    // Crockford's alphabet: no i, l, o, u, so ids read back unambiguously.
    private const string Alphabet = "0123456789abcdefghjkmnpqrstvwxyz";

    /// <summary>Creates a new id.</summary>
    public static string New()
    {
        // Random.Shared is thread-local xoshiro: no lock, no shared hot spot across submitting threads.
        ulong high = (ulong)Random.Shared.NextInt64() & 0xFF_FFFF_FFFFUL;  // 40 bits
        ulong low = (ulong)Random.Shared.NextInt64() & 0xFF_FFFF_FFFFUL;   // 40 bits
        return string.Create(Length, (high, low), static (chars, bits) =>
        {
            for (int i = 7; i >= 0; i--)
            {
                chars[i] = Alphabet[(int)(bits.high & 31)];
                bits.high >>= 5;
                chars[i + 8] = Alphabet[(int)(bits.low & 31)];
                bits.low >>= 5;
            }
        });
    }

    /// <summary>The longest id accepted from another program.</summary>
    public const int MaxAcceptedLength = 100;

    /// <summary>
    /// Whether an id written by another program can be used as it is: 1 to 100 letters, digits,
    /// '-', '_', '.' or ':'. Anything else (spaces, braces, line breaks) could forge log lines.
    /// </summary>
    public static bool IsAcceptable(ReadOnlySpan<char> id)
    {
        if (id.Length is 0 or > MaxAcceptedLength) return false;
        foreach (char c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':')) return false;
        }
        return true;
    }

    /// <summary>Whether <paramref name="id"/> has the shape of an id this class makes.</summary>
    public static bool IsWellFormed(ReadOnlySpan<char> id)
    {
        if (id.Length != Length) return false;
        foreach (char c in id)
        {
            if (!Alphabet.Contains(c)) return false;
        }
        return true;
    }
}
