using System.ComponentModel;
using TaskTempest;

/// <summary>
/// Turns the first error of a project whose engines were never generated into plain words. Without
/// TaskTempest's source generator, <c>MathTempest.Default</c> would fail with only "CS0117: 'MathTempest'
/// does not contain a definition for 'Default'"; this static extension, in the global namespace so that
/// no <c>using</c> is needed, makes it TT0020 saying what is missing. When the generator runs, the
/// engine's generated <c>Default</c> hides it (a type's own member always wins over an extension).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
#pragma warning disable CA1050 // the global namespace on purpose: it is in scope in every file of every project
public static class TaskTempestGeneratorCheck
#pragma warning restore CA1050
{
    /// <summary>The text of TT0020.</summary>
    public const string GeneratorMissing =
        "TaskTempest's source generator writes Default for [Tempest] partial classes, and this type has none: " +
        "either it is not a [Tempest] engine, or the generator is not running in this project. " +
        "A PackageReference to TaskTempest brings the generator; with a ProjectReference to src/TaskTempest/TaskTempest.csproj, " +
        "also reference generators/TaskTempest.Generators/TaskTempest.Generators.csproj with OutputItemType=\"Analyzer\" " +
        "ReferenceOutputAssembly=\"false\" (README: Use it in your project)";

    extension(object)
    {
        /// <summary>Not an engine's <c>Default</c>: reached only where the generator did not write one.</summary>
        [EditorBrowsable(EditorBrowsableState.Never)]
        [Obsolete(GeneratorMissing, error: true, DiagnosticId = "TT0020", UrlFormat = "docs/diagnostics.md#tt0020")]
        public static TempestEngine Default => throw new InvalidOperationException(GeneratorMissing);
    }
}
