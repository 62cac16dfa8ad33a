using System;
using System.Collections.Generic;
using System.Globalization;
using System.Numerics.Tensors;
using System.Text;
using GenNets.IO;

namespace GenNets;

/// <summary>Operations every generated network shares: prediction, weight files, a summary table.</summary>
public static class NetworkExtensions
{
    /// <summary>The index of the largest output for one sample (the predicted class). Allocates nothing beyond what <see cref="INetwork.Forward(ReadOnlySpan{float}, Span{float})"/> does.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="input"/> is not one sample long.</exception>
    public static int Predict(this INetwork network, ReadOnlySpan<float> input)
    {
        ArgumentNullException.ThrowIfNull(network);
        int n = network.OutputSize;
        Span<float> output = n <= 1024 ? stackalloc float[n] : new float[n];
        network.Forward(input, output);
        return TensorPrimitives.IndexOfMax(output);
    }

    /// <summary>The predicted class of each of <paramref name="batchSize"/> samples; <paramref name="scratch"/> (batch × outputs) may be passed to avoid allocating.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="inputs"/> do not hold <paramref name="batchSize"/> samples, or <paramref name="classes"/> has fewer slots.</exception>
    public static void Predict(this INetwork network, ReadOnlySpan<float> inputs, Span<int> classes, int batchSize, Span<float> scratch = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        int n = network.OutputSize;
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be positive.");
        if (inputs.Length != (long)batchSize * network.InputSize)
            throw new ArgumentException($"The inputs hold {inputs.Length} values; {batchSize} samples of {network.InputSize} inputs need {(long)batchSize * network.InputSize}.", nameof(inputs));
        if (classes.Length < batchSize) throw new ArgumentException($"{batchSize} samples need {batchSize} class slots; {classes.Length} were given.", nameof(classes));
        if (scratch.Length < (long)batchSize * n) scratch = new float[batchSize * n]; // fits: the inputs hold batchSize samples already
        network.Forward(inputs, scratch, batchSize);
        for (int s = 0; s < batchSize; s++) classes[s] = TensorPrimitives.IndexOfMax(scratch.Slice(s * n, n));
    }

    /// <summary>
    /// Saves the parameters as safetensors with PyTorch's names and layouts. The file is written to a short
    /// temporary name in the same directory and renamed, so a failed save leaves any earlier file intact. A
    /// symbolic link is followed (it stays a link), an existing file keeps its Unix mode, and anything that is
    /// not a regular file (a directory, a device, a pipe) is refused.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or not a valid path.</exception>
    /// <exception cref="System.IO.IOException"><paramref name="path"/> names something other than a regular file, or writing
    /// failed (including <see cref="System.IO.DirectoryNotFoundException"/> and <see cref="System.IO.PathTooLongException"/>);
    /// the message names <paramref name="path"/>, and any earlier file there is unchanged.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory does not allow creating a file in it or renaming one over the target.</exception>
    public static void Save(this INetwork network, string path, IReadOnlyDictionary<string, string>? metadata = null)
        => Weights.Save(path, network.Parameters, network.ParameterTensors, metadata);

    /// <summary>
    /// Loads parameters from a safetensors file. The whole file is validated first (its structure strictly, as
    /// the format specifies, and every tensor's name, shape and dtype against the network), then the data is
    /// read into a staging copy, and only then copied: on any error the network's weights are unchanged. Not
    /// safe while other threads run <see cref="INetwork.Forward(ReadOnlySpan{float}, Span{float})"/> or train the same network.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or not a valid path.</exception>
    /// <exception cref="System.IO.FileNotFoundException">Nothing exists at <paramref name="path"/>.</exception>
    /// <exception cref="System.IO.IOException"><paramref name="path"/> is not a regular file (a directory, a device, a pipe), or reading it failed.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    /// <exception cref="System.IO.InvalidDataException">The file is not valid safetensors, or does not fit this network; the message names the file, the tensors and the numbers.</exception>
    public static void Load(this INetwork network, string path)
        => Weights.Load(path, network.Parameters, network.ParameterTensors);

    /// <summary>A table of the layers, their output shapes and parameter counts, like Keras's <c>summary()</c>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> is null.</exception>
    public static string Summary(this INetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"{"#",-3} {"layer",-28} {"output",-14} {"parameters",12}");
        int total = 0;
        foreach (var layer in network.Layers)
        {
            int count = (layer.Weight?.Length ?? 0) + (layer.Bias?.Length ?? 0) + (layer.HiddenWeight?.Length ?? 0) + (layer.HiddenBias?.Length ?? 0);
            total += count;
            sb.AppendLine(CultureInfo.InvariantCulture, $"{layer.Index,-3} {layer.Description,-28} {ParameterTensor.FormatShape(layer.OutputShape),-14} {count,12:N0}");
        }
        sb.Append(CultureInfo.InvariantCulture, $"{"",-3} {"total",-28} {"",-14} {total,12:N0}");
        return sb.ToString();
    }
}
