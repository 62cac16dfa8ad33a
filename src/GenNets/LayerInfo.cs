using System;
using System.Globalization;

namespace GenNets;

/// <summary>The kinds of layer a network can hold.</summary>
public enum LayerKind
{
    /// <summary>Fully connected, on the last axis.</summary>
    Dense = 0,
    /// <summary>Inverted dropout.</summary>
    Dropout = 1,
}

/// <summary>
/// A generated network's description of one of its layers, as constants: what the reference
/// implementation, the summary table and the weight files read.
/// </summary>
/// <param name="Index">Position in the layer list, from 0 (the input is not a layer).</param>
/// <param name="Kind">What the layer computes.</param>
/// <param name="InputShape">Shape of one sample entering the layer.</param>
/// <param name="OutputShape">Shape of one sample leaving it.</param>
/// <param name="Activation">For a dense layer, its activation.</param>
/// <param name="Probability">For dropout, the drop probability.</param>
/// <param name="Weight">For a dense layer, its weight tensor [out, in].</param>
/// <param name="Bias">For a dense layer, its bias tensor [out].</param>
public sealed record LayerInfo(
    int Index,
    LayerKind Kind,
    int[] InputShape,
    int[] OutputShape,
    Activation Activation = Activation.Identity,
    float Probability = 0f,
    ParameterTensor? Weight = null,
    ParameterTensor? Bias = null)
{
    /// <summary>Elements of one sample entering the layer.</summary>
    public int InputLength => Product(InputShape);

    /// <summary>Elements of one sample leaving the layer.</summary>
    public int OutputLength => Product(OutputShape);

    /// <summary>A short description such as <c>Dense 784→256 ReLU</c>.</summary>
    public string Description => Kind switch
    {
        LayerKind.Dense => $"Dense {InputShape[^1]}→{OutputShape[^1]}" + (Activation == Activation.Identity ? "" : " " + Activation),
        LayerKind.Dropout => "Dropout p=" + Probability.ToString("0.###", CultureInfo.InvariantCulture),
        _ => Kind.ToString(),
    };

    private static int Product(int[] shape)
    {
        int p = 1;
        foreach (int d in shape) p *= d;
        return p;
    }
}
