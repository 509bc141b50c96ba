using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using TaskTempest.Generators.Model;

namespace TaskTempest.Generators.Parsing;

/// <summary>
/// Finds the tasks of referenced projects: each project that uses TaskTempest carries one
/// [assembly: TempestTaskManifest(typeof(Message), typeof(Task))] per public task. The message
/// class's constructor mirrors the task's Process parameters, so the engine's Submit methods can be
/// written from metadata alone.
/// </summary>
internal static class ReferencedTaskReader
{
    public static EquatableArray<TaskModel> Read(Compilation compilation, CancellationToken cancellationToken)
    {
        var tasks = new List<TaskModel>();
        foreach (var assembly in compilation.SourceModule.ReferencedAssemblySymbols)
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var attribute in assembly.GetAttributes())
            {
                if (attribute.AttributeClass?.ToDisplayString() != KnownNames.TempestTaskManifestAttribute) continue;
                if (attribute.ConstructorArguments.Length != 2
                    || attribute.ConstructorArguments[0].Value is not INamedTypeSymbol message
                    || attribute.ConstructorArguments[1].Value is not INamedTypeSymbol task) continue;
                var constructor = message.InstanceConstructors.FirstOrDefault(c => c.DeclaredAccessibility == Accessibility.Public);
                var wireName = message.GetMembers("WireName").OfType<IFieldSymbol>().FirstOrDefault()?.ConstantValue as string;
                if (constructor is null || wireName is null) continue;

                var parameters = constructor.Parameters.Select(p => new ParameterModel(
                    TaskParser.Escape(p.Name), WireTypes.Fq(p.Type), IsCancellationToken: false, p.IsParams,
                    p.HasExplicitDefaultValue ? TaskParser.DefaultLiteral(p) : null, ReadExpression: "", WriteStatement: "")).ToEquatableArray();
                string messageNamespace = message.ContainingNamespace.ToDisplayString();
                tasks.Add(new TaskModel(
                    WireName: wireName,
                    ClassName: task.Name,
                    FullyQualifiedName: WireTypes.Fq(task),
                    MessageNamespace: messageNamespace,
                    MessageClassName: message.Name,
                    IsPublic: true,
                    SubmitIsPublic: true,
                    ProcessMethodName: "",
                    Return: ProcessReturn.Task, // not used for a referenced task: its message class is already compiled
                    Parameters: parameters,
                    TimeoutTicks: 0,
                    Retries: 0,
                    BackoffCall: null,
                    Callbacks: EquatableArray<CallbackModel>.Empty,
                    ConstructorArguments: EquatableArray<string>.Empty,
                    RequiresServices: false,
                    Location: null));
            }
        }
        return tasks.ToEquatableArray();
    }
}
