using System.Collections.Generic;
using TaskTempest.Generators.Model;

namespace TaskTempest.Generators.Emit;

/// <summary>Emits the assembly's task manifest: one attribute per public task, read by engines in other projects.</summary>
internal static class ManifestEmitter
{
    public static string Emit(IReadOnlyList<TaskModel> tasks)
    {
        var w = new SourceWriter().FileHeader().Line();
        foreach (var task in tasks)
            w.Line($"[assembly: global::TaskTempest.TempestTaskManifest(typeof({task.MessageFullName}), typeof({task.FullyQualifiedName}))]");
        return w.ToString();
    }
}
