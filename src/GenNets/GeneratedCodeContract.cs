namespace GenNets;

/// <summary>
/// The contract between this runtime and the GenNets source generator: the kernels, interfaces and types that generated
/// code calls. The generator knows the number it writes code for and compares it with <see cref="Version"/> of the
/// GenNets.dll the project references; on a mismatch it reports GN0040 and generates no network code, instead of code
/// that fails to compile or computes something else.
/// </summary>
public static class GeneratedCodeContract
{
    /// <summary>
    /// Raised by one whenever a runtime member that generated code uses changes its signature or its meaning
    /// (the generator's tests list those members and fail when the list changes without this number).
    /// </summary>
    public const int Version = 9;
}
