using System.Reflection;
using Microsoft.CodeAnalysis;

namespace GenNets.Generators.Model;

/// <summary>
/// What ties the generator to the runtime its code calls. Generated code calls the runtime's kernels
/// (GenNets.Kernels), implements its interfaces and uses its types; a generator of one version writing code against
/// a GenNets.dll of another would give a wall of compiler errors, or code that compiles and computes something else.
/// So the runtime carries a number, GenNets.GeneratedCodeContract.Version, raised whenever anything generated code
/// uses changes, and the generator knows the number it writes code for (<see cref="Expected"/>). A number, not the
/// assembly versions: a runtime release that changes nothing the generated code uses keeps working with the generator
/// it shipped beside, and a development build whose versions are all 1.0.0 still cannot pair mismatched halves.
/// </summary>
internal static class RuntimeContract
{
    /// <summary>The GenNets.GeneratedCodeContract.Version the generated code is written for; raise it with the runtime's.</summary>
    public const int Expected = 9;

    /// <summary>The runtime's type that holds its contract number, as a constant named <c>Version</c>.</summary>
    public const string ContractTypeName = "GenNets.GeneratedCodeContract";

    private const string Category = "GenNets.Build";

    /// <summary>
    /// This assembly's version as NuGet prints it: the informational version without the "+commit" suffix, else the
    /// assembly version. The generator and the analyzers are built from one version, so either gives the same text.
    /// </summary>
    public static readonly string GeneratorVersion = VersionOf(typeof(RuntimeContract).Assembly);

    /// <summary>The version of <paramref name="assembly"/>, as <see cref="GeneratorVersion"/> reads it.</summary>
    public static string VersionOf(Assembly assembly)
        => Trim(assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion)
           ?? assembly.GetName().Version?.ToString()
           ?? "unknown";

    /// <summary>An informational version without its "+commit" suffix; null for none.</summary>
    public static string? Trim(string? informationalVersion)
    {
        if (string.IsNullOrWhiteSpace(informationalVersion)) return null;
        int plus = informationalVersion!.IndexOf('+');
        return plus > 0 ? informationalVersion.Substring(0, plus) : informationalVersion;
    }

    // Release tracking for these IDs is in the analyzers' AnalyzerReleases files: the analyzer project compiles this file too.
#pragma warning disable RS2008
    /// <summary>GN0040: the referenced runtime's contract is not the one the generator writes code for.</summary>
    public static readonly DiagnosticDescriptor Mismatch = new(DiagnosticIds.RuntimeMismatch,
        "GenNets generator and runtime do not match",
        "No code is generated for network '{0}': the GenNets generator {1} writes code for generated-code contract {2}, but the referenced runtime GenNets.dll {3} has contract {4}; reference the generator and the runtime of one GenNets version (both come in the GenNets package)",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: DiagnosticIds.HelpLink(DiagnosticIds.RuntimeMismatch));

    /// <summary>GN0041: the generator runs, but the compilation does not reference the runtime at all.</summary>
    public static readonly DiagnosticDescriptor Missing = new(DiagnosticIds.RuntimeMissing,
        "GenNets runtime not referenced",
        "No code is generated for network '{0}': the GenNets generator {1} runs in this project, but the project does not reference the runtime GenNets.dll, which holds the attributes and kernels; reference the GenNets package, not only its generator",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: DiagnosticIds.HelpLink(DiagnosticIds.RuntimeMissing));
#pragma warning restore RS2008
}
