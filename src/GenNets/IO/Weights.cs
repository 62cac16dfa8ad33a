using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace GenNets.IO;

/// <summary>Saves and loads a network's flat parameter buffer as safetensors, tensor by tensor, under PyTorch's names.</summary>
public static class Weights
{
    /// <summary>Writes every tensor of <paramref name="layout"/> from <paramref name="parameters"/>.</summary>
    public static void Save(string path, ReadOnlySpan<float> parameters, IReadOnlyList<ParameterTensor> layout, IReadOnlyDictionary<string, string>? metadata = null)
    {
        CheckCovers(parameters.Length, layout);
        var copy = parameters.ToArray();
        var tensors = layout.Select(t => (t.Name, t.Shape, (ReadOnlyMemory<float>)copy.AsMemory(t.Offset, t.Length))).ToList();
        SafeTensors.Write(path, tensors, metadata);
    }

    /// <summary>
    /// Reads every tensor of <paramref name="layout"/> into <paramref name="parameters"/>. Everything is checked first (each
    /// tensor present with the expected shape, no unexpected tensor, data decodable), and only then copied: on any error
    /// the parameters are untouched.
    /// </summary>
    public static void Load(string path, Span<float> parameters, IReadOnlyList<ParameterTensor> layout)
    {
        CheckCovers(parameters.Length, layout);
        var file = SafeTensors.Read(path);
        var problems = new List<string>();
        foreach (var t in layout)
        {
            if (!file.TryGet(t.Name, out var found))
                problems.Add($"tensor '{t.Name}' of {t.Layer} is missing (expected shape {t.ShapeText})");
            else if (!found.Shape.AsSpan().SequenceEqual(t.Shape))
                problems.Add($"tensor '{t.Name}' of {t.Layer} has shape {ParameterTensor.FormatShape(found.Shape)}, expected {t.ShapeText}");
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
            if (t.Offset < 0 || t.Offset + t.Length > length)
                throw new ArgumentException($"Tensor '{t.Name}' at [{t.Offset}, {t.Offset + t.Length}) lies outside the {length} parameters given.");
    }
}
