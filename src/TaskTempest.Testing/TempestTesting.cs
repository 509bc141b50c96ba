namespace TaskTempest.Testing;

/// <summary>
/// The two test modes, for any test framework (this package references none). Each call makes a new engine with
/// state of its own, so tests that run in parallel never share a job, a queue or a log.
/// <list type="bullet">
/// <item><see cref="Inline{TEngine}"/>: every submit runs its job at once, in the caller, and its exception surfaces there.</item>
/// <item><see cref="Manual{TEngine}"/>: submits are captured and inspected typed; a drain runs what is due through the
/// real engine, and a fake clock moved by the test makes delayed jobs and retries due.</item>
/// </list>
/// </summary>
public static class TempestTesting
{
    /// <summary>
    /// An engine in inline mode: each <c>engine.Submit…(…)</c> (and <c>await engine.Submit…Async(…)</c>, a delayed
    /// submit, a batch's flush) runs the job at once in the caller and throws what its <c>Process</c> or a callback
    /// threw. Its queue is a <see cref="TempestInlineQueue"/> (see there for what it supports).
    /// </summary>
    /// <param name="configure">Sets the engine's options before it is made (<see cref="TempestOptions.Services"/> for tasks
    /// that take services, <see cref="TempestOptions.TaskLoggerFactory"/> to see what tasks log, a clock for unique periods).</param>
    /// <typeparam name="TEngine">A <c>[Tempest]</c> engine (the generator makes it an <see cref="ITempestEngine{TSelf}"/>).</typeparam>
    /// <exception cref="ArgumentException"><paramref name="configure"/> set <see cref="TempestOptions.Queue"/>: the mode brings its own.</exception>
    public static TEngine Inline<TEngine>(Action<TempestOptions>? configure = null)
        where TEngine : TempestEngine, ITempestEngine<TEngine>
    {
        var options = Configured(configure, "Inline");
        var engine = TEngine.Create(options);
        var queue = new TempestInlineQueue(engine);
        engine.Options.Queue = queue; // after the engine's own Configure, which may name a production queue
        FixQueue(engine, queue);
        return engine;
    }

    /// <summary>
    /// An engine in manual mode, on <paramref name="time"/> (a <c>FakeTimeProvider</c>, usually): submits are captured
    /// (<see cref="TempestManualHarness{TEngine}.Submitted()"/>) and run only by
    /// <see cref="TempestManualHarness{TEngine}.DrainAsync(CancellationToken)"/>, through the real engine, so retries, backoff,
    /// callbacks, timeouts and dead letters behave as in production.
    /// </summary>
    /// <param name="time">The clock of the engine and its queue: delayed jobs and retries become due when it moves.</param>
    /// <param name="configure">Sets the engine's options before it is made (services, loggers of your own, named queues).
    /// The harness then sets the queue, the clock, the loggers (recording, and passing lines on to yours) and
    /// <see cref="TempestOptions.HandleSignals"/> (off).</param>
    /// <param name="options">The drains' bound and failure handling, and the queue's lease settings; the defaults when null.</param>
    /// <typeparam name="TEngine">A <c>[Tempest]</c> engine (the generator makes it an <see cref="ITempestEngine{TSelf}"/>).</typeparam>
    /// <exception cref="ArgumentException"><paramref name="configure"/> set <see cref="TempestOptions.Queue"/>: the mode brings its own.</exception>
    public static TempestManualHarness<TEngine> Manual<TEngine>(TimeProvider time, Action<TempestOptions>? configure = null, TempestManualOptions? options = null)
        where TEngine : TempestEngine, ITempestEngine<TEngine>
    {
        ArgumentNullException.ThrowIfNull(time);
        return new TempestManualHarness<TEngine>(time, Configured(configure, "Manual"), options ?? new TempestManualOptions());
    }

    private static TempestOptions Configured(Action<TempestOptions>? configure, string mode)
    {
        var options = new TempestOptions();
        configure?.Invoke(options);
        if (options.Queue is not null)
            throw new ArgumentException($"{mode} mode runs the engine on a queue of its own: leave TempestOptions.Queue unset.", nameof(configure));
        return options;
    }

    /// <summary>Fixes the engine's queue now (its first submit would), so that nothing can swap it later.</summary>
    internal static void FixQueue(TempestEngine engine, object queue)
    {
        if (!ReferenceEquals(engine.Queue, queue))
            throw new InvalidOperationException($"The engine {engine.Name} did not take the test mode's queue.");
    }
}
