using System;
using System.Numerics.Tensors;

namespace GenNets.Training;

/// <summary>Gradient-norm clipping, as PyTorch's <c>clip_grad_norm_</c> over all parameters.</summary>
public static class GradientClipping
{
    /// <summary>
    /// Scales <paramref name="gradients"/> so that their Euclidean norm is at most <paramref name="maxNorm"/>; returns the
    /// norm they had. Gradients already within the norm are left as they are.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is not a positive finite number.</exception>
    public static float ClipByNorm(Span<float> gradients, float maxNorm)
    {
        if (!(maxNorm > 0) || !float.IsFinite(maxNorm))
            throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "The maximum norm must be a positive finite number.");
        float norm = TensorPrimitives.Norm(gradients);
        if (norm > maxNorm) Kernels.Elementwise.Scale(gradients, maxNorm / norm);
        return norm;
    }
}
