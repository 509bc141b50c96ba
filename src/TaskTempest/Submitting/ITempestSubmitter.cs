using System.ComponentModel;

namespace TaskTempest;

/// <summary>
/// What an engine and its generated submitters have in common, so that a package can add a way to submit that
/// keeps every typed <c>Submit{Task}</c> method: an extension method reads <see cref="SubmitOptions"/> and returns
/// <see cref="WithSubmitOptions"/> with its part added, for example
/// <code>
/// public static TSubmitter InTransaction&lt;TSubmitter&gt;(this ITempestSubmitter&lt;TSubmitter&gt; submitter, NpgsqlTransaction transaction)
///     where TSubmitter : TempestSubmitter =>
///     submitter.WithSubmitOptions(submitter.SubmitOptions with { Target = new TransactionTarget(transaction) });
/// </code>
/// which then works on <c>engine</c>, <c>engine.After(...)</c> and the others alike.
/// </summary>
/// <typeparam name="TSubmitter">The engine's generated submitter type (<c>MathTempest.Submitter</c>).</typeparam>
public interface ITempestSubmitter<out TSubmitter> where TSubmitter : TempestSubmitter
{
    /// <summary>How this one submits (the engine's: the default).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    TempestSubmitOptions SubmitOptions { get; }

    /// <summary>A submitter of the same engine that submits with <paramref name="options"/>.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    TSubmitter WithSubmitOptions(TempestSubmitOptions options);
}
