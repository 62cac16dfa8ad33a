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
            initializer = activation is Activation.ReLU or Activation.LeakyReLU or Activation.GELU ? Initializer.HeUniform : Initializer.GlorotUniform;
        switch (initializer)
        {
            case Initializer.GlorotUniform: Uniform(weights, Math.Sqrt(6.0 / (fanIn + fanOut)), ref random); break;
            case Initializer.GlorotNormal: Normal(weights, Math.Sqrt(2.0 / (fanIn + fanOut)), ref random); break;
            case Initializer.HeUniform: Uniform(weights, Math.Sqrt(6.0 / fanIn), ref random); break;
            case Initializer.HeNormal: Normal(weights, Math.Sqrt(2.0 / fanIn), ref random); break;
            default: throw new ArgumentOutOfRangeException(nameof(initializer), initializer, "Unknown initializer.");
        }
    }

    /// <summary>A recurrent layer's weights, uniform in ±1/√<paramref name="units"/> as PyTorch draws them.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="units"/> is below 1.</exception>
    public static void Recurrent(Span<float> weights, int units, ref SeededRandom random)
    {
        if (units <= 0) throw new ArgumentOutOfRangeException(nameof(units), units, "A recurrent layer has at least one unit.");
        Uniform(weights, 1 / Math.Sqrt(units), ref random);
    }

    private static void Uniform(Span<float> weights, double limit, ref SeededRandom random)
    {
        for (int i = 0; i < weights.Length; i++) weights[i] = (float)((2.0 * random.NextDouble() - 1.0) * limit);
    }

    private static void Normal(Span<float> weights, double std, ref SeededRandom random)
    {
        for (int i = 0; i < weights.Length; i++) weights[i] = (float)(random.NextGaussian() * std);
    }
}
