using System.Globalization;
using System.Linq;
using GenNets.Generators.Model;

namespace GenNets.Generators;

/// <summary>How generated code spells things: the runtime's names, numbers, shapes and the user's text.</summary>
internal static class Text
{
    // The generator's own version, so that a generated file says which GenNets wrote it.
    public static readonly string Generated = $"[global::System.CodeDom.Compiler.GeneratedCode(\"GenNets.Generators\", {Microsoft.CodeAnalysis.CSharp.SymbolDisplay.FormatLiteral(RuntimeContract.GeneratorVersion, quote: true)})]";
    public const string Kernels = "global::GenNets.Kernels.";
    public const string Pool = "global::GenNets.Threading.";
    public const string RoSpan = "global::System.ReadOnlySpan<float>";
    public const string ReadOnlyIntSpan = "global::System.ReadOnlySpan<int>";
    public const string Span = "global::System.Span<float>";

    // A layer's Name is the user's text: in a string literal it is escaped, in a comment its markup and line breaks are.
    public static string Literal(string text) => Microsoft.CodeAnalysis.CSharp.SymbolDisplay.FormatLiteral(text, quote: true);

    public static string Doc(string text)
    {
        var escaped = new System.Text.StringBuilder(text.Length);
        foreach (char c in text)
            escaped.Append(c switch { '&' => "&amp;", '<' => "&lt;", '>' => "&gt;", _ when char.IsControl(c) || c is '\u2028' or '\u2029' or '\u0085' => " ", _ => c.ToString() });
        return escaped.ToString();
    }

    public static string Join(EquatableArray<int> shape) => string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));

    public static string Shape(EquatableArray<int> shape) => "[" + Join(shape) + "]";

    public static string Shape(params int[] shape) => "[" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";

    public static string Float(float value) => value.ToString("R", CultureInfo.InvariantCulture) + "f";

    public static string Bool(bool value) => value ? "true" : "false";

    public static string Bytes(long bytes)
    {
        if (bytes < 1024) return bytes.ToString(CultureInfo.InvariantCulture) + " B";
        if (bytes < 1024 * 1024) return (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB";
        return (bytes / (1024.0 * 1024.0)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB";
    }
}
