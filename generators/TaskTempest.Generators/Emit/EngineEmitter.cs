using System.Collections.Generic;
using System.Linq;
using TaskTempest.Generators.Model;

namespace TaskTempest.Generators.Emit;

/// <summary>Emits an engine's generated part: configuration, constructors, Default, typed Submit methods and the dispatch table.</summary>
internal static class EngineEmitter
{
    public static string HintName(EngineModel engine) =>
        (engine.Namespace.Length == 0 ? "" : engine.Namespace + ".") + string.Join(".", engine.ContainingTypes.Select(Simple).Concat([engine.ClassName])) + ".Tempest.g.cs";

    private static string Simple(string declaration) => declaration.Split(' ').Last().Split('<')[0];

    public static string Emit(EngineModel engine, EquatableArray<TaskModel> tasks)
    {
        var w = new SourceWriter().FileHeader().Line();
        if (engine.Namespace.Length > 0)
        {
            w.Line($"namespace {engine.Namespace};");
            w.Line();
        }
        OpenContainingTypes(w, engine.ContainingTypes, 0, () => EmitEngineClass(w, engine, tasks));
        return w.ToString();
    }

    private static void OpenContainingTypes(SourceWriter w, EquatableArray<string> containing, int index, System.Action body)
    {
        if (index == containing.Count) { body(); return; }
        w.Block(containing[index], () => OpenContainingTypes(w, containing, index + 1, body));
    }

    private static void EmitEngineClass(SourceWriter w, EngineModel engine, EquatableArray<TaskModel> tasks)
    {
        string self = engine.FullyQualifiedName;
        // A derived engine inherits its base engine's submitter; a first engine gets one (and says so for packages).
        string submitterInterface = $"global::TaskTempest.ITempestSubmitter<{self}.Submitter>";
        // Every engine can be made from a generic context (the host's AddTempest<TEngine>) without reflection.
        string factoryInterface = $"global::TaskTempest.ITempestEngine<{self}>";
        string baseList = engine.DerivesFromEngine ? " : " + factoryInterface
            : engine.DeclaresBaseType ? " : " + submitterInterface + ", " + factoryInterface
            : " : global::TaskTempest.TempestEngine, " + submitterInterface + ", " + factoryInterface;
        w.Line(SourceWriter.GeneratedCodeAttribute);
        w.Block($"partial class {engine.ClassName}{baseList}", () =>
        {
            string settings = string.Join(",\n", new[] { $"Name = {MessageEmitter.Literal(engine.Name)}" }.Concat(engine.Settings).Select(x => "    " + x));
            // A sealed engine has no derived engines to pass their configuration through it.
            string configuredAccess = engine.IsSealed ? "private" : "protected";
            w.Lines($$"""
                private static readonly global::TaskTempest.TempestEngineConfiguration s_tempestConfiguration = new()
                {
                {{settings}},
                };

                private static {{self}}? s_default;

                /// <summary>
                /// The process-wide engine for the original's class-level style (<c>{{engine.ClassName}}.Default.Submit...</c>,
                /// <c>{{engine.ClassName}}.Default.Run()</c>), made at first use; <c>Configure</c> sets its run-time options.
                /// </summary>
                public static {{(engine.DerivesFromEngine ? "new " : "")}}{{self}} Default =>
                    global::System.Threading.Volatile.Read(ref s_default) ?? CreateDefault();

                private static {{self}} CreateDefault()
                {
                    var engine = new {{self}}();
                    return global::System.Threading.Interlocked.CompareExchange(ref s_default, engine, null) ?? engine;
                }

                /// <summary>Creates an engine with default options, then lets <c>Configure</c> change them.</summary>
                public {{engine.ClassName}}() : this(s_tempestConfiguration, null) { }

                /// <summary>Creates an engine with <paramref name="options"/> (null for defaults), then lets <c>Configure</c> change them.</summary>
                public {{engine.ClassName}}(global::TaskTempest.TempestOptions? options) : this(s_tempestConfiguration, options) { }

                /// <summary>Used by this engine's constructors and by derived engines, which pass their own configuration.</summary>
                {{configuredAccess}} {{engine.ClassName}}(global::TaskTempest.TempestEngineConfiguration configuration, global::TaskTempest.TempestOptions? options)
                    : base(configuration, options)
                {
                    Configure(Options);
                }

                /// <summary>Implement this partial method to set run-time options (queue, root, loggers) for every instance, <c>Default</c> included.</summary>
                partial void Configure(global::TaskTempest.TempestOptions options);

                /// <summary>Creates an engine with <paramref name="options"/>: the constructor, for generic code such as the host's <c>AddTempest</c>.</summary>
                public static {{(engine.DerivesFromEngine ? "new " : "")}}{{self}} Create(global::TaskTempest.TempestOptions? options) => new {{self}}(options);
                """);
            EmitHooks(w, engine.Hooks);

            // A derived engine dispatches the same tasks: it inherits its base engine's Submit methods and table.
            if (engine.DerivesFromEngine) return;
            foreach (var task in tasks) EmitSubmit(w, task, "");
            EmitSubmitters(w, engine, tasks);
            EmitSchedules(w, tasks);

            w.Line();
            w.Line("/// <inheritdoc/>");
            w.Block("protected override global::TaskTempest.TempestMessage? ReadMessage(string taskName, ref global::System.Text.Json.Utf8JsonReader reader)", () =>
            {
                w.Block("switch (taskName)", () =>
                {
                    foreach (var task in tasks)
                        w.Line($"case {task.MessageFullName}.WireName: return {task.MessageFullName}.Read(ref reader);");
                    w.Line("default: return null;");
                });
            });
        });
    }

    /// <summary>The tasks' [Recurring] schedules, added when the engine runs (a derived engine inherits them).</summary>
    private static void EmitSchedules(SourceWriter w, EquatableArray<TaskModel> tasks)
    {
        var scheduled = tasks.Where(t => t.Schedules.Count > 0).ToList();
        if (scheduled.Count == 0) return;
        w.Line();
        w.Line("/// <inheritdoc/>");
        w.Block("protected override void AddRecurringTasks()", () =>
        {
            foreach (var task in scheduled)
            {
                foreach (var schedule in task.Schedules)
                    w.Line($"global::TaskTempest.TempestRecurring.AddGeneratedRecurring<Submitter>(this, {MessageEmitter.Literal(schedule.Name)}, {MessageEmitter.Literal(schedule.Cron)}, " +
                        $"static s => s.Submit{task.ClassName}({string.Join(", ", schedule.Arguments)}), {MessageEmitter.Literal(schedule.TimeZone)}, (global::TaskTempest.Queues.TempestMisfire){schedule.Misfire});");
            }
        });
    }

    private static void EmitHooks(SourceWriter w, EquatableArray<HookModel> hooks)
    {
        void Override(HookKind kind, string signature, string baseCall, string argument)
        {
            var own = hooks.Where(h => h.Kind == kind).ToList();
            if (own.Count == 0) return;
            w.Line();
            w.Line("/// <inheritdoc/>");
            w.Block($"protected override void {signature}", () =>
            {
                w.Line(baseCall + ";"); // a base engine's hooks first
                foreach (var hook in own) w.Line($"{hook.MethodName}({(hook.TakesArgument ? argument : "")});");
            });
        }

        Override(HookKind.BeforeInitialize, "OnBeforeInitialize()", "base.OnBeforeInitialize()", "");
        Override(HookKind.AfterInitialize, "OnAfterInitialize(global::Microsoft.Extensions.Logging.ILogger mainLogger)", "base.OnAfterInitialize(mainLogger)", "mainLogger");
        Override(HookKind.AfterTaskStarted, "OnTaskStarted(global::TaskTempest.TempestTaskEvent taskEvent)", "base.OnTaskStarted(taskEvent)", "taskEvent");
        Override(HookKind.AfterTaskFinished, "OnTaskFinished(global::TaskTempest.TempestTaskEvent taskEvent)", "base.OnTaskFinished(taskEvent)", "taskEvent");
        if (hooks.Any(h => h.Kind is HookKind.AfterTaskStarted or HookKind.AfterTaskFinished))
        {
            w.Line();
            w.Line("/// <inheritdoc/>");
            w.Line("protected override bool HasTaskHooks => true;");
        }
    }

    /// <summary>
    /// <c>After</c>, <c>At</c> and <c>Batch</c> on the engine, and the two submitter types they return: the engine's own
    /// <c>Submit{Task}</c> methods again, sent with the submitter's options (one seam: <c>TempestSubmitter.Submit</c>).
    /// </summary>
    private static void EmitSubmitters(SourceWriter w, EngineModel engine, EquatableArray<TaskModel> tasks)
    {
        string self = engine.FullyQualifiedName;
        const string Options = "global::TaskTempest.TempestSubmitOptions";
        w.Line();
        w.Lines($$"""
            /// <summary>A submitter whose jobs run no sooner than <paramref name="delay"/> after each submit: the queue holds them until then, and no worker waits.</summary>
            public Submitter After(global::System.TimeSpan delay) => new(this, default({{Options}}).After(delay));

            /// <summary>A submitter whose jobs run no sooner than <paramref name="runAt"/>: the queue holds them until then, and no worker waits.</summary>
            public Submitter At(global::System.DateTimeOffset runAt) => new(this, default({{Options}}).At(runAt));

            /// <summary>Collects submits and sends them to the queue in one call at <c>FlushAsync</c> (or when disposed): <c>await using var batch = engine.Batch();</c></summary>
            public BatchSubmitter Batch() => new(this, default);

            {{Options}} global::TaskTempest.ITempestSubmitter<Submitter>.SubmitOptions => default;

            Submitter global::TaskTempest.ITempestSubmitter<Submitter>.WithSubmitOptions({{Options}} options) => new(this, options);
            """);
        w.Line();
        w.Line("/// <summary>This engine's <c>Submit{Task}</c> methods with options: a delay, a run-at, a batch, or a package's target.</summary>");
        w.Block("public class Submitter : global::TaskTempest.TempestSubmitter, global::TaskTempest.ITempestSubmitter<Submitter>", () =>
        {
            w.Lines($$"""
                private readonly {{self}} _engine;

                internal Submitter({{self}} engine, {{Options}} options) : base(engine, options) => _engine = engine;

                /// <summary>This submitter's jobs, to run no sooner than <paramref name="delay"/> after each submit.</summary>
                public Submitter After(global::System.TimeSpan delay) => new(_engine, SubmitOptions.After(delay));

                /// <summary>This submitter's jobs, to run no sooner than <paramref name="runAt"/>.</summary>
                public Submitter At(global::System.DateTimeOffset runAt) => new(_engine, SubmitOptions.At(runAt));

                /// <summary>A batch of this submitter's jobs, sent in one call at <c>FlushAsync</c> (or when disposed).</summary>
                public BatchSubmitter Batch() => new(_engine, SubmitOptions);

                Submitter global::TaskTempest.ITempestSubmitter<Submitter>.WithSubmitOptions({{Options}} options) => new(_engine, options);
                """);
            foreach (var task in tasks) EmitSubmit(w, task, " with this submitter's options");
        });
        w.Line();
        w.Lines("""
            /// <summary>
            /// Submits collected here, each with its id at once, and sent together in one call to the queue by
            /// <see cref="FlushAsync"/>, <see cref="Flush"/> or disposal (which sends whatever was not flushed yet).
            /// </summary>
            """);
        w.Block("public sealed class BatchSubmitter : Submitter, global::System.IDisposable, global::System.IAsyncDisposable", () =>
        {
            w.Lines($$"""
                internal BatchSubmitter({{self}} engine, {{Options}} options) : base(engine, options.WithNewBatch(engine)) { }

                /// <summary>Jobs submitted and not yet flushed.</summary>
                public int Count => SubmitOptions.Batch!.Count;

                /// <summary>Sends every job submitted since the last flush in one call; a failed flush keeps them for the next.</summary>
                public global::System.Threading.Tasks.ValueTask FlushAsync(global::System.Threading.CancellationToken cancellationToken = default) =>
                    SubmitOptions.Batch!.FlushAsync(cancellationToken);

                /// <summary>Sends every job submitted since the last flush, blocking until the queue has them.</summary>
                public void Flush() => SubmitOptions.Batch!.Flush();

                /// <summary>Sends what was not flushed yet.</summary>
                public void Dispose() => Flush();

                /// <summary>Sends what was not flushed yet.</summary>
                public global::System.Threading.Tasks.ValueTask DisposeAsync() => FlushAsync();
                """);
        });
    }

    private static void EmitSubmit(SourceWriter w, TaskModel task, string how)
    {
        var arguments = task.Parameters.Where(p => !p.IsCancellationToken).ToList();
        // The async variant ends with a CancellationToken, so a params array there becomes an optional array (null: none).
        string Parameters(bool allowParams) => string.Join(", ", arguments.Select(p =>
            p.IsParams && !allowParams ? $"{p.Type}? {p.Name} = null"
            : (p.IsParams ? "params " : "") + $"{p.Type} {p.Name}" + (p.DefaultValue is { } d ? " = " + d : "")));
        string MessageOf(bool allowParams) =>
            $"new {task.MessageFullName}({string.Join(", ", arguments.Select(p => p.IsParams && !allowParams ? $"{p.Name} ?? []" : p.Name))})";
        string newMessage = MessageOf(allowParams: true);
        string parametersDoc = arguments.Count == 0 ? "" : $"({string.Join(", ", arguments.Select(p => p.Name.TrimStart('@')))})";
        var asyncParameters = new List<string>();
        if (arguments.Count > 0) asyncParameters.Add(Parameters(allowParams: false));
        asyncParameters.Add("global::System.Threading.CancellationToken cancellationToken = default");

        // A task that is not public, or takes a type that is not, gets internal Submit methods on a public engine.
        string access = task.SubmitIsPublic ? "public" : "internal";
        w.Line();
        w.Lines($"""
            /// <summary>Queues a <see cref="{task.FullyQualifiedName}"/> job{how}; a worker will call its <c>Process{parametersDoc}</c>.</summary>
            /// <returns>The job's id, as the main log and the task log print it (and whether it was a duplicate of a unique job).</returns>
            {access} global::TaskTempest.TempestSubmitResult Submit{task.ClassName}({Parameters(allowParams: true)}) =>
                Submit({newMessage});

            /// <summary>Queues a <see cref="{task.FullyQualifiedName}"/> job{how} without blocking on the queue.</summary>
            /// <returns>The job's id (and whether it was a duplicate of a unique job).</returns>
            {access} global::System.Threading.Tasks.ValueTask<global::TaskTempest.TempestSubmitResult> Submit{task.ClassName}Async({string.Join(", ", asyncParameters)}) =>
                SubmitAsync({MessageOf(allowParams: false)}, cancellationToken);
            """);
    }
}
