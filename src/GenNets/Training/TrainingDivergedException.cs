using System;
using System.Collections.Generic;

namespace GenNets.Training;

/// <summary>
/// Thrown when a training step's loss or a gradient is NaN or infinite. The step was not applied: the parameters, the
/// optimizer's state and step count, and the network's <c>TrainingSteps</c> are as they were before it.
/// </summary>
public sealed class TrainingDivergedException : ArithmeticException
{
    /// <summary>Creates the exception with a message and, when known, the tensor whose gradient is not finite.</summary>
    public TrainingDivergedException(string message, string? tensor = null, Exception? innerException = null)
        : base(message, innerException) => Tensor = tensor;

    /// <summary>The name of the first tensor whose gradient holds a NaN or infinity; null when the loss itself was not finite.</summary>
    public string? Tensor { get; }

    /// <summary>The exception for a step whose mean loss is <paramref name="loss"/> (NaN or infinite).</summary>
    public static TrainingDivergedException ForLoss(float loss)
        => new($"The loss is {loss}; the step was not applied (parameters, optimizer state and step counts are unchanged).");

    /// <summary>The exception for gradients of which some are not finite: names the first such tensor and counts its bad values.</summary>
    public static TrainingDivergedException ForGradients(ReadOnlySpan<float> gradients, IReadOnlyList<ParameterTensor> tensors)
    {
        for (int t = 0; t < tensors.Count; t++)
        {
            var tensor = tensors[t];
            var values = gradients.Slice(tensor.Offset, tensor.Length);
            int bad = 0, first = -1;
            for (int i = 0; i < values.Length; i++)
                if (!float.IsFinite(values[i]) && bad++ == 0) first = i;
            if (bad > 0)
                return new($"The gradient of '{tensor.Name}' of {tensor.Layer} holds {bad} non-finite value(s), the first {values[first]} at index {first}; " +
                    "the step was not applied (parameters, optimizer state and step counts are unchanged).", tensor.Name);
        }
        return new("A gradient outside every tensor is not finite; the step was not applied.");
    }
}
