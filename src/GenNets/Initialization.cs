using System;

namespace GenNets;

/// <summary>Draws initial weights. Generated constructors call it once per weight tensor.</summary>
public static class Initialization
{
    /// <summary>
    /// Fills <paramref name="weights"/> for a layer with the given fan-in and fan-out. <see cref="Initializer.Auto"/>
    /// means He for ReLU-family activations (which halve the variance) and Glorot otherwise.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A fan is below 1, or <paramref name="initializer"/> is not a member of its enum.</exception>
    public static void Fill(Span<float> weights, Initializer initializer, Activation activation, int fanIn, int fanOut, ref SeededRandom random)
    {
        if (fanIn < 1) throw new ArgumentOutOfRangeException(nameof(fanIn), fanIn, "A layer's fan-in is at least 1.");
        if (fanOut < 1) throw new ArgumentOutOfRangeException(nameof(fanOut), fanOut, "A layer's fan-out is at least 1.");
        if (initializer == Initializer.Auto)
            initializer = activation is Activation.ReLU or Activation.LeakyReLU or Activation.GELU or Activation.GELUTanh ? Initializer.HeUniform : Initializer.GlorotUniform;
        switch (initializer)
        {
            case Initializer.GlorotUniform: UniformUnchecked(weights, Math.Sqrt(6.0 / (fanIn + fanOut)), ref random); break;
            case Initializer.GlorotNormal: Normal(weights, Math.Sqrt(2.0 / (fanIn + fanOut)), ref random); break;
            case Initializer.HeUniform: UniformUnchecked(weights, Math.Sqrt(6.0 / fanIn), ref random); break;
            case Initializer.HeNormal: Normal(weights, Math.Sqrt(2.0 / fanIn), ref random); break;
            default: throw new ArgumentOutOfRangeException(nameof(initializer), initializer, "Unknown initializer.");
        }
    }

    /// <summary>A recurrent layer's weights, uniform in ±1/√<paramref name="units"/> as PyTorch draws them.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="units"/> is below 1.</exception>
    public static void Recurrent(Span<float> weights, int units, ref SeededRandom random)
    {
        if (units <= 0) throw new ArgumentOutOfRangeException(nameof(units), units, "A recurrent layer has at least one unit.");
        UniformUnchecked(weights, 1 / Math.Sqrt(units), ref random);
    }

    /// <summary>Draws every weight from N(0, <paramref name="std"/>²): an embedding (std 1, as PyTorch's) or a learned positional table (0.02, as GPT-2's).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="std"/> is negative or not finite.</exception>
    public static void Gaussian(Span<float> weights, double std, ref SeededRandom random)
    {
        if (!(std >= 0 && double.IsFinite(std))) throw new ArgumentOutOfRangeException(nameof(std), std, "A standard deviation is finite and at least 0.");
        Normal(weights, std, ref random);
    }

    /// <summary>Draws every weight from U(−<paramref name="limit"/>, <paramref name="limit"/>): attention's out_proj takes ±1/√features, as PyTorch's nn.Linear.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is negative or not finite.</exception>
    public static void Uniform(Span<float> weights, double limit, ref SeededRandom random)
    {
        if (!(limit >= 0 && double.IsFinite(limit))) throw new ArgumentOutOfRangeException(nameof(limit), limit, "A limit is finite and at least 0.");
        UniformUnchecked(weights, limit, ref random);
    }

    private static void UniformUnchecked(Span<float> weights, double limit, ref SeededRandom random)
    {
        for (int i = 0; i < weights.Length; i++) weights[i] = (float)((2.0 * random.NextDouble() - 1.0) * limit);
    }

    private static void Normal(Span<float> weights, double std, ref SeededRandom random)
    {
        for (int i = 0; i < weights.Length; i++) weights[i] = (float)(random.NextGaussian() * std);
    }
}
