using System;

namespace GenNets;

/// <summary>
/// One named tensor inside a network's flat parameter buffer: where it starts, its shape in
/// PyTorch's layout, and whether weight decay applies to it (weights yes, biases no).
/// </summary>
/// <param name="Name">The tensor's name in a safetensors file, as PyTorch's <c>state_dict</c> would name it (for example <c>0.weight</c>).</param>
/// <param name="Layer">A readable description of the layer that owns it, for error messages (for example <c>layer 0 (Dense 784→256)</c>).</param>
/// <param name="Offset">Index of the tensor's first element in the flat parameter buffer.</param>
/// <param name="Shape">The tensor's shape, outermost axis first.</param>
/// <param name="Decays">Whether L2 weight decay applies to this tensor.</param>
/// <param name="Trainable">
/// False for state that is saved and loaded with the parameters but never optimised: batch normalisation's running
/// statistics (PyTorch's buffers <c>running_mean</c>, <c>running_var</c>, <c>num_batches_tracked</c>). Its gradient is zero.
/// </param>
public sealed record ParameterTensor(string Name, string Layer, int Offset, int[] Shape, bool Decays, bool Trainable = true)
{
    /// <summary>Number of elements: the product of <see cref="Shape"/>.</summary>
    public int Length
    {
        get
        {
            int length = 1;
            foreach (int d in Shape) length *= d;
            return length;
        }
    }

    /// <summary>The shape written as <c>[256, 784]</c>.</summary>
    public string ShapeText => FormatShape(Shape);

    /// <summary>Formats a shape as <c>[a, b, c]</c>.</summary>
    public static string FormatShape(ReadOnlySpan<int> shape)
    {
        var parts = new string[shape.Length];
        for (int i = 0; i < shape.Length; i++) parts[i] = shape[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
        return "[" + string.Join(", ", parts) + "]";
    }
}
