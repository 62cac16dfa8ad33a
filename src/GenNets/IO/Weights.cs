using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace GenNets.IO;

/// <summary>Saves and loads a network's flat parameter buffer as safetensors, tensor by tensor, under PyTorch's names.</summary>
public static class Weights
{
    /// <summary>
    /// Writes every tensor of <paramref name="layout"/> from <paramref name="parameters"/> as F32, through a temporary file
    /// renamed over <paramref name="path"/> (see <see cref="SafeTensors.Write"/> for links, permissions and what is refused).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> or <paramref name="layout"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or not a valid path, or a tensor of
    /// <paramref name="layout"/> lies outside <paramref name="parameters"/> or repeats a name.</exception>
    /// <exception cref="IOException"><paramref name="path"/> names something other than a regular file (a directory, a device,
    /// a pipe), or writing failed (including <see cref="DirectoryNotFoundException"/> and <see cref="PathTooLongException"/>);
    /// any earlier file there is unchanged.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory does not allow creating a file in it or renaming one over the target.</exception>
    public static void Save(string path, ReadOnlySpan<float> parameters, IReadOnlyList<ParameterTensor> layout, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(layout);
        CheckCovers(parameters.Length, layout);
        var copy = parameters.ToArray();
        var tensors = layout.Select(t => (t.Name, t.Shape, (ReadOnlyMemory<float>)copy.AsMemory(t.Offset, t.Length))).ToList();
        SafeTensors.Write(path, tensors, metadata);
    }

    /// <summary>
    /// Reads every tensor of <paramref name="layout"/> into <paramref name="parameters"/>. Everything is checked first (the
    /// file's structure as <see cref="SafeTensors.Read(string)"/> checks it, then each tensor present with the expected shape
    /// and a dtype that converts to float, no unexpected tensor), then the data is read into a staging copy, and only then
    /// copied: on any error the parameters are untouched. Not safe while other threads use the parameters.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> or <paramref name="layout"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or not a valid path, or a tensor of <paramref name="layout"/> lies outside <paramref name="parameters"/>.</exception>
    /// <exception cref="FileNotFoundException">Nothing exists at <paramref name="path"/>.</exception>
    /// <exception cref="IOException"><paramref name="path"/> is not a regular file (a directory, a device, a pipe), or reading it failed.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    /// <exception cref="InvalidDataException">The file is not valid safetensors, or does not fit <paramref name="layout"/>; the message names the file, the tensors and the numbers.</exception>
    public static void Load(string path, Span<float> parameters, IReadOnlyList<ParameterTensor> layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        CheckCovers(parameters.Length, layout);
        using var file = SafeTensors.Read(path);
        var problems = new List<string>();
        foreach (var t in layout)
        {
            if (!file.TryGet(t.Name, out var found))
                problems.Add($"tensor '{t.Name}' of {t.Layer} is missing (expected shape {t.ShapeText})");
            else if (!found.Shape.AsSpan().SequenceEqual(t.Shape))
                problems.Add($"tensor '{t.Name}' of {t.Layer} has shape {ParameterTensor.FormatShape(found.Shape)}, expected {t.ShapeText}");
            else if (!SafeTensorsFile.CanReadAsFloat(found.DType))
                problems.Add($"tensor '{t.Name}' of {t.Layer} has dtype {found.DType}; only F32, F64, F16 and BF16 convert to float");
        }
        var expected = new HashSet<string>(layout.Select(t => t.Name), StringComparer.Ordinal);
        foreach (var extra in file.Tensors.Where(t => !expected.Contains(t.Name)))
            problems.Add($"tensor '{extra.Name}' {ParameterTensor.FormatShape(extra.Shape)} is not part of this network");
        if (problems.Count > 0)
            throw new InvalidDataException($"weights file '{path}' does not fit this network; nothing was loaded: " + string.Join("; ", problems) + ".");

        var staged = new float[parameters.Length];
        parameters.CopyTo(staged);
        foreach (var t in layout)
        {
            file.TryGet(t.Name, out var found);
            file.ReadAsFloat(found, staged.AsSpan(t.Offset, t.Length));
        }
        staged.CopyTo(parameters);
    }

    private static void CheckCovers(int length, IReadOnlyList<ParameterTensor> layout)
    {
        foreach (var t in layout)
            if (t.Offset < 0 || (long)t.Offset + t.Length > length)
                throw new ArgumentException($"Tensor '{t.Name}' at [{t.Offset}, {(long)t.Offset + t.Length}) lies outside the {length} parameters given.", nameof(layout));
    }
}
