using System.ComponentModel;

namespace TaskTempest;

/// <summary>
/// The base of an engine's generated <c>Submitter</c>: the same typed <c>Submit{Task}</c> methods as the engine,
/// sent with its <see cref="SubmitOptions"/> (later, to another target, or into a batch). Made by
/// <c>engine.After(...)</c>, <c>engine.At(...)</c>, <c>engine.Batch()</c> and packages' extensions; cheap, immutable,
/// and safe to keep and share between threads (a batch's is not: see <see cref="TempestBatch"/>).
/// </summary>
public abstract class TempestSubmitter
{
    private readonly TempestEngine _engine;

    /// <summary>Called by the generated submitters.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected TempestSubmitter(TempestEngine engine, TempestSubmitOptions options)
    {
        ArgumentNullException.ThrowIfNull(engine);
        _engine = engine;
        SubmitOptions = options;
    }

    /// <summary>The engine it submits through (a package's extension reads its queue: <c>submitter.Engine.Queue</c>).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public TempestEngine Engine => _engine;

    /// <summary>How this submitter sends its jobs.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public TempestSubmitOptions SubmitOptions { get; }

    /// <summary>Assigns the message its id and sends it with <see cref="SubmitOptions"/>. Generated <c>Submit{Task}</c> methods call this.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected TempestSubmitResult Submit(TempestMessage message) => _engine.Submit(message, SubmitOptions);

    /// <summary>Assigns the message its id and sends it without blocking. Generated <c>Submit{Task}Async</c> methods call this.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected ValueTask<TempestSubmitResult> SubmitAsync(TempestMessage message, CancellationToken cancellationToken) =>
        _engine.SubmitAsync(message, SubmitOptions, cancellationToken);
}
