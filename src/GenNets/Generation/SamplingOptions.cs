using System;

namespace GenNets.Generation;

/// <summary>
/// How <see cref="TokenGenerator"/> picks each next token from the logits at the window's last position.
/// </summary>
/// <remarks>
/// <para><see cref="Temperature"/> 0 is greedy: the id of the largest logit, the first (lowest id) of equals. It draws no
/// random number, and <see cref="TopK"/> and <see cref="Seed"/> change nothing.</para>
/// <para>Otherwise the kept ids are the <see cref="TopK"/> largest logits (all of them for 0, or for a
/// <see cref="TopK"/> at least the vocabulary). Ties at the k-th value are broken by id: of equal logits, the lowest ids are
/// kept first, so that exactly k ids are kept. The draw is from softmax(logit / <see cref="Temperature"/>) over the kept
/// ids, computed in double: one <see cref="SeededRandom.NextDouble"/> of a generator seeded with <see cref="Seed"/> per
/// token, compared against the running sum of the weights in id order.</para>
/// <para>For a network whose last layer ends in a softmax (its outputs are probabilities), the logarithms of the
/// probabilities stand for the logits.</para>
/// </remarks>
/// <param name="Temperature">Divides the logits before the softmax: 0 is greedy, below 1 sharpens, above 1 flattens. Finite, at least 0.</param>
/// <param name="TopK">Keeps only the k largest logits (0: all). At least 0.</param>
/// <param name="Seed">Seeds the draws: one <see cref="Generation.TokenGenerator.Generate"/> call with the same seed, prompt and network gives the same tokens.</param>
public sealed record SamplingOptions(float Temperature = 1f, int TopK = 0, ulong Seed = 0)
{
    private readonly float _temperature = CheckTemperature(Temperature);
    private readonly int _topK = CheckTopK(TopK);

    /// <summary>Divides the logits before the softmax; 0 is greedy.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative, NaN or infinite.</exception>
    public float Temperature { get => _temperature; init => _temperature = CheckTemperature(value); }

    /// <summary>Keeps only the k largest logits (0: all).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int TopK { get => _topK; init => _topK = CheckTopK(value); }

    /// <summary>Greedy decoding: the largest logit at every step.</summary>
    public static SamplingOptions Greedy { get; } = new(0f);

    private static float CheckTemperature(float value)
        => float.IsFinite(value) && value >= 0 ? value
            : throw new ArgumentOutOfRangeException(nameof(Temperature), value, "The temperature must be finite and at least 0 (0: greedy).");

    private static int CheckTopK(int value)
        => value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(TopK), value, "TopK must be at least 0 (0: every token).");
}
