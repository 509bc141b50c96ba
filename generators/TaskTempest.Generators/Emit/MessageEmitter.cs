using System.Linq;
using TaskTempest.Generators.Model;

namespace TaskTempest.Generators.Emit;

/// <summary>Emits a task's message class: typed argument fields, task creation, the Process call and the wire reader/writer.</summary>
internal static class MessageEmitter
{
    public static string HintName(TaskModel task) => $"{task.MessageNamespace}.{task.MessageClassName}.g.cs";

    public static string Emit(TaskModel task)
    {
        var arguments = task.Parameters.Where(p => !p.IsCancellationToken).ToList();
        // The constructor mirrors Process (params, defaults): an engine in another project reads it from metadata.
        string constructorParameters = string.Join(", ", arguments.Select(p =>
            (p.IsParams ? "params " : "") + $"{p.Type} {p.Name}" + (p.DefaultValue is { } d ? " = " + d : "")));
        string processArguments = string.Join(", ", task.Parameters.Select(p => p.IsCancellationToken ? "cancellationToken" : "this." + p.Name));
        string call = $"(({task.FullyQualifiedName})task).{task.ProcessMethodName}({processArguments})";

        var w = new SourceWriter().FileHeader().Line();
        w.Block($"namespace {task.MessageNamespace}", () =>
        {
            w.Lines($"""
                /// <summary>A queued <see cref="{task.FullyQualifiedName}"/> job with its typed arguments (generated).</summary>
                {SourceWriter.GeneratedCodeAttribute}
                [global::System.ComponentModel.EditorBrowsable(global::System.ComponentModel.EditorBrowsableState.Never)]
                """);
            w.Block($"{(task.IsPublic ? "public" : "internal")} sealed class {task.MessageClassName} : global::TaskTempest.TempestMessage, global::TaskTempest.ITempestMessage<{task.FullyQualifiedName}>", () =>
            {
                w.Line("/// <summary>The task's name on the wire.</summary>");
                w.Line($"public const string WireName = {Literal(task.WireName)};");
                foreach (var p in arguments)
                {
                    w.Line($"/// <summary>The <c>{p.Name.TrimStart('@')}</c> argument.</summary>");
                    w.Line($"public readonly {p.Type} {p.Name};");
                }
                w.Line();
                w.Line("/// <summary>Creates the message; the engine assigns its id at submit.</summary>");
                w.Block($"public {task.MessageClassName}({constructorParameters}) : base(WireName)", () =>
                {
                    foreach (var p in arguments) w.Line($"this.{p.Name} = {p.Name};");
                });
                w.Line();
                w.Line("/// <inheritdoc/>");
                w.Line($"protected override global::TaskTempest.TempestTask CreateTask(global::System.IServiceProvider? services) => new {task.FullyQualifiedName}({string.Join(", ", task.ConstructorArguments)});");
                if (task.RequiresServices)
                {
                    w.Line();
                    w.Line("/// <inheritdoc/>");
                    w.Line("protected override bool RequiresServices => true;");
                }
                w.Line();
                w.Line("/// <inheritdoc/>");
                w.Block("protected override global::System.Threading.Tasks.ValueTask InvokeAsync(global::TaskTempest.TempestTask task, global::System.Threading.CancellationToken cancellationToken)", () =>
                {
                    switch (task.Return)
                    {
                        case ProcessReturn.Void:
                            w.Line(call + ";");
                            w.Line("return default;");
                            break;
                        case ProcessReturn.Task:
                            w.Line($"return new global::System.Threading.Tasks.ValueTask({call});");
                            break;
                        default:
                            w.Line($"return {call};");
                            break;
                    }
                });
                if (task.TimeoutTicks > 0)
                {
                    w.Line();
                    w.Line("/// <inheritdoc/>");
                    w.Line($"protected override global::System.TimeSpan? Timeout => global::System.TimeSpan.FromTicks({task.TimeoutTicks});");
                }
                if (task.Retries > 0)
                {
                    w.Line();
                    w.Line("/// <inheritdoc/>");
                    w.Line($"protected override int Retries => {task.Retries};");
                }
                if (task.BackoffCall is { } backoff)
                {
                    w.Line();
                    w.Line("/// <inheritdoc/>");
                    w.Line($"protected override global::System.TimeSpan RetryDelay(int attempt, global::System.Exception? exception) => {backoff};");
                }
                if (task.Callbacks.Count > 0) EmitCallbacks(w, task);
                if (task.SubmitDefaults is { } defaults) EmitSubmitDefaults(w, defaults);
                w.Line();
                w.Line("/// <inheritdoc/>");
                w.Block("protected override void WriteArguments(global::System.Text.Json.Utf8JsonWriter writer)", () =>
                {
                    foreach (var p in arguments) w.Line(p.WriteStatement + ";");
                });
                w.Line();
                w.Line("/// <summary>Reads the arguments that follow the id and the task name in a wire-format message.</summary>");
                w.Block($"public static {task.MessageClassName} Read(ref global::System.Text.Json.Utf8JsonReader reader)", () =>
                {
                    // Locals get a prefix so that no parameter name (say, "reader") can shadow the reader.
                    foreach (var p in arguments) w.Line($"var {Local(p)} = {p.ReadExpression};");
                    w.Line($"global::TaskTempest.Wire.TempestWire.ReadEnd(ref reader, {arguments.Count});");
                    w.Line($"return new {task.MessageClassName}({string.Join(", ", arguments.Select(Local))});");
                });
            });
        });
        return w.ToString();
    }

    private static void EmitSubmitDefaults(SourceWriter w, SubmitDefaultsModel defaults)
    {
        void Member(string line)
        {
            w.Line();
            w.Line("/// <inheritdoc/>");
            w.Line(line);
        }
        Member("protected override bool HasSubmitDefaults => true;");
        if (defaults.Queue is { } queue) Member($"protected override string? DefaultQueue => {Literal(queue)};");
        if (defaults.Priority != 0) Member($"protected override int DefaultPriority => {defaults.Priority};");
        if (defaults.UniqueScope != 0) Member($"protected override global::TaskTempest.Queues.TempestUniqueScope DefaultUniqueScope => (global::TaskTempest.Queues.TempestUniqueScope){defaults.UniqueScope};");
        if (defaults.UniqueForTicks > 0) Member($"protected override global::System.TimeSpan? DefaultUniqueFor => global::System.TimeSpan.FromTicks({defaults.UniqueForTicks});");
        if (!defaults.HasUniqueKey) return;
        w.Line();
        w.Line("/// <inheritdoc/>");
        w.Block("protected override bool WriteUniqueArguments(global::System.Text.Json.Utf8JsonWriter writer)", () =>
        {
            foreach (var write in defaults.UniqueArguments) w.Line(write + ";");
            w.Line("return true;");
        });
    }

    private static void EmitCallbacks(SourceWriter w, TaskModel task)
    {
        w.Line();
        w.Line("/// <inheritdoc/>");
        w.Line("protected override bool HasCallbacks => true;");
        w.Line();
        w.Line("/// <inheritdoc/>");
        w.Block("protected override void RunCallbacks(global::TaskTempest.TempestTask task, global::TaskTempest.TempestTaskStatus status, global::System.Exception? exception, global::TaskTempest.TempestCallbackFailure onFailure)", () =>
        {
            w.Line($"var self = ({task.FullyQualifiedName})task;");
            var exhausted = task.Callbacks.Where(c => c.Kind == CallbackKind.Exhausted).ToList();
            // Each callback on its own: one that throws is reported and the next still runs.
            void Call(CallbackModel callback, string argument, string indent)
            {
                w.Line($"{indent}try {{ self.{callback.MethodName}({(callback.TakesException ? argument : "")}); }}");
                w.Line($"{indent}catch (global::System.Exception e) {{ onFailure(task, {Literal(callback.MethodName.TrimStart('@'))}, e); }}");
            }
            w.Block("switch (status)", () =>
            {
                foreach (var (kind, status) in new[] { (CallbackKind.Success, "Success"), (CallbackKind.Failure, "Failure"), (CallbackKind.Timeout, "Timeout") })
                {
                    var callbacks = task.Callbacks.Where(c => c.Kind == kind).ToList();
                    bool afterLast = kind != CallbackKind.Success && exhausted.Count > 0;
                    if (callbacks.Count == 0 && !afterLast) continue;
                    w.Line($"case global::TaskTempest.TempestTaskStatus.{status}:");
                    foreach (var callback in callbacks) Call(callback, "exception!", "    ");
                    if (afterLast)
                    {
                        // After the attempt's own callbacks, once: on the run after which the job will not run again.
                        w.Line("    if (!task.WillRetry)");
                        w.Line("    {");
                        foreach (var callback in exhausted) Call(callback, "exception", "        ");
                        w.Line("    }");
                    }
                    w.Line("    break;");
                }
            });
        });
    }

    private static string Local(ParameterModel parameter) => "arg_" + parameter.Name.TrimStart('@');

    public static string Literal(string value) => Microsoft.CodeAnalysis.CSharp.SymbolDisplay.FormatLiteral(value, quote: true);
}
