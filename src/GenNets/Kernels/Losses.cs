using System;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GenNets.Kernels;

/// <summary>
/// Loss functions over a batch, each returning the mean loss and, when a gradient span is given,
/// writing the gradient of that mean with respect to the network's output. The reductions follow
/// PyTorch's defaults so losses and gradients compare one to one.
/// </summary>
public static class Losses
{
    /// <summary>
    /// Softmax cross-entropy with integer labels, fused and stable: per row, log Σ e^(z − max) − (z_label − max).
    /// The gradient is (softmax(z) − onehot(label)) / rows.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> or <paramref name="cols"/> is less than 1 (a mean over nothing), or the outputs would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is outside the classes (named with its sample).</exception>
    /// <exception cref="ArgumentException">The logits or a non-empty gradient is shorter than the outputs, or the labels than the rows.</exception>
    public static float SoftmaxCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, Span<float> gradient, int rows, int cols)
    {
        Outputs(logits.Length, nameof(logits), gradient.Length, rows, cols);
        Sizes.Need(labels.Length, rows, nameof(labels), "{0} rows", rows);
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            int label = labels[r];
            if ((uint)label >= (uint)cols)
                throw new ArgumentOutOfRangeException(nameof(labels), label, $"Label {label} of sample {r} is outside the {cols} classes 0..{cols - 1}.");
            var z = logits.Slice(r * cols, cols);
            float max = TensorPrimitives.Max(z);
            double sumExp = 0;
            for (int c = 0; c < cols; c++) sumExp += Math.Exp(z[c] - max);
            double logSum = Math.Log(sumExp);
            total += logSum - (z[label] - max);
            if (!gradient.IsEmpty)
            {
                var g = gradient.Slice(r * cols, cols);
                float scale = 1f / rows;
                for (int c = 0; c < cols; c++) g[c] = (float)Math.Exp(z[c] - max - logSum) * scale;
                g[label] -= scale;
            }
        }
        return (float)(total / rows);
    }

    /// <summary>
    /// Softmax cross-entropy with a target distribution per row (one-hot or soft labels):
    /// −Σ t·log softmax(z), mean over rows. The gradient is (softmax(z)·Σt − t) / rows, which is (softmax(z) − t) / rows when the targets sum to one.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> or <paramref name="cols"/> is less than 1 (a mean over nothing), or the outputs would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">The logits, the targets or a non-empty gradient is shorter than the outputs.</exception>
    public static float SoftmaxCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, Span<float> gradient, int rows, int cols)
    {
        long count = Outputs(logits.Length, nameof(logits), gradient.Length, rows, cols);
        Sizes.Need(targets.Length, count, nameof(targets), "{0} rows of {1}", rows, cols);
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            var z = logits.Slice(r * cols, cols);
            var t = targets.Slice(r * cols, cols);
            float max = TensorPrimitives.Max(z);
            double sumExp = 0;
            for (int c = 0; c < cols; c++) sumExp += Math.Exp(z[c] - max);
            double logSum = Math.Log(sumExp);
            double tSum = 0;
            for (int c = 0; c < cols; c++)
            {
                total -= t[c] * (z[c] - max - logSum);
                tSum += t[c];
            }
            if (!gradient.IsEmpty)
            {
                var g = gradient.Slice(r * cols, cols);
                for (int c = 0; c < cols; c++) g[c] = (float)((Math.Exp(z[c] - max - logSum) * tSum - t[c]) / rows);
            }
        }
        return (float)(total / rows);
    }

    /// <summary>Mean squared error over every element; gradient 2(y − t) / count.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> or <paramref name="cols"/> is less than 1 (a mean over nothing), or the outputs would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">The outputs, the targets or a non-empty gradient is shorter than rows × cols.</exception>
    public static float MeanSquaredError(ReadOnlySpan<float> outputs, ReadOnlySpan<float> targets, Span<float> gradient, int rows, int cols)
    {
        int count = (int)Outputs(outputs.Length, nameof(outputs), gradient.Length, rows, cols);
        Sizes.Need(targets.Length, count, nameof(targets), "{0} rows of {1}", rows, cols);
        var o = outputs.Slice(0, count);
        var g = gradient.IsEmpty ? gradient : gradient.Slice(0, count);
        double total = Vector512.IsHardwareAccelerated ? SquaredErrors<Width512, Vector512<float>>(o, targets, g)
            : Vector256.IsHardwareAccelerated ? SquaredErrors<Width256, Vector256<float>>(o, targets, g)
            : SquaredErrors<Width128, Vector128<float>>(o, targets, g);
        return (float)(total / count);
    }

    /// <summary>
    /// Σ (o − t)² over the outputs' length at one width, in double precision from the float differences (each square is
    /// exact); writes 2(o − t) / count to a non-empty gradient of the outputs' length. Unchecked.
    /// </summary>
    internal static double SquaredErrors<TWidth, TVector>(ReadOnlySpan<float> outputs, ReadOnlySpan<float> targets, Span<float> gradient)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int n = outputs.Length, i = 0;
        bool withGradient = !gradient.IsEmpty;
        float scale = 2f / n;
        ref float ro = ref MemoryMarshal.GetReference(outputs);
        ref float rt = ref MemoryMarshal.GetReference(targets);
        ref float rg = ref MemoryMarshal.GetReference(gradient);
        double total = 0;
        for (; i + TWidth.Count <= n; i += TWidth.Count)
            total += SquaredErrorBlock<TWidth, TVector>(ref ro, ref rt, ref rg, (nuint)i, scale, withGradient);
        if (i == n) return total;
        const int L = Activations.WidestLanes;
        Span<float> t = stackalloc float[3 * L]; // zero past the end: a difference of 0 adds nothing
        outputs.Slice(i).CopyTo(t);
        targets.Slice(i, n - i).CopyTo(t.Slice(L));
        total += SquaredErrorBlock<TWidth, TVector>(ref t[0], ref t[L], ref t[2 * L], 0, scale, withGradient);
        if (withGradient) t.Slice(2 * L, n - i).CopyTo(gradient.Slice(i));
        return total;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double SquaredErrorBlock<TWidth, TVector>(ref float outputs, ref float targets, ref float gradient, nuint i, float scale, bool withGradient)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        var d = TWidth.Subtract(TWidth.Load(ref outputs, i), TWidth.Load(ref targets, i));
        if (withGradient) TWidth.Store(TWidth.Multiply(TWidth.Broadcast(scale), d), ref gradient, i);
        return TWidth.DotAsDouble(d, d);
    }

    /// <summary>
    /// Binary cross-entropy on logits, stable: max(z, 0) − z·t + log(1 + e^(−|z|)), mean over every element;
    /// gradient (σ(z) − t) / count.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> or <paramref name="cols"/> is less than 1 (a mean over nothing), or the outputs would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">The logits, the targets or a non-empty gradient is shorter than rows × cols.</exception>
    public static float BinaryCrossEntropyWithLogits(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, Span<float> gradient, int rows, int cols)
    {
        int count = (int)Outputs(logits.Length, nameof(logits), gradient.Length, rows, cols);
        Sizes.Need(targets.Length, count, nameof(targets), "{0} rows of {1}", rows, cols);
        double total = 0;
        for (int i = 0; i < count; i++)
        {
            double z = logits[i], t = targets[i];
            total += Math.Max(z, 0) - z * t + Math.Log(1 + Math.Exp(-Math.Abs(z)));
            if (!gradient.IsEmpty) gradient[i] = (float)((1.0 / (1.0 + Math.Exp(-z)) - t) / count);
        }
        return (float)(total / count);
    }

    /// <summary>
    /// Checks <paramref name="targets"/> for <see cref="Compute"/> over <paramref name="rows"/> rows of <paramref name="cols"/>
    /// outputs without computing anything: their kind and count, and every label's range. A training step calls this before it
    /// changes any state, so that a bad target rejects the call with nothing moved.
    /// </summary>
    /// <exception cref="ArgumentException">The targets are of the wrong kind or count for the loss.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is outside the classes (named with its sample), or <paramref name="rows"/> or
    /// <paramref name="cols"/> is less than 1 or their product more than <see cref="int.MaxValue"/>, as <see cref="Compute"/> would refuse them.</exception>
    public static void CheckTargets(LossKind loss, Targets targets, int rows, int cols)
    {
        Sizes.Positive(rows, nameof(rows));
        Sizes.Positive(cols, nameof(cols));
        Sizes.Product(rows, nameof(rows), cols, nameof(cols));
        CheckCount(loss, targets, rows, cols);
        if (targets.HasLabels) CheckLabels(targets.Labels, 0, rows, steps: 1, loss == LossKind.BinaryCrossEntropyWithLogits ? 2 : cols);
    }

    /// <summary>
    /// <see cref="CheckTargets"/> for <see cref="ComputeSequences"/>: targets for every step of <paramref name="batch"/>
    /// sequences of <paramref name="steps"/> steps, of which only the labels of the true steps (<paramref name="lengths"/>) are
    /// read and so checked.
    /// </summary>
    /// <exception cref="ArgumentException">The targets are of the wrong kind or count for the loss, or the lengths do not give one length a sequence.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label of a true step is outside the classes (named with its sample and step), a length is
    /// outside 0 to the steps, a size is negative (or <paramref name="cols"/> less than 1), or the outputs would hold more than <see cref="int.MaxValue"/> floats.</exception>
    public static void CheckSequenceTargets(LossKind loss, Targets targets, int batch, int steps, int cols, ReadOnlySpan<int> lengths)
    {
        int rows = (int)Sizes.Product(batch, nameof(batch), steps, nameof(steps));
        Sizes.Positive(cols, nameof(cols));
        Sizes.Product(batch, nameof(batch), steps, nameof(steps), cols, nameof(cols));
        if (!lengths.IsEmpty) Guard.Lengths(lengths, batch, steps);
        CheckCount(loss, targets, rows, cols);
        if (!targets.HasLabels) return;
        for (int b = 0; b < batch; b++)
            CheckLabels(targets.Labels, b * steps, lengths.IsEmpty ? steps : lengths[b], steps, loss == LossKind.BinaryCrossEntropyWithLogits ? 2 : cols);
    }

    // The kind and number of targets for a loss over rows × cols outputs.
    private static void CheckCount(LossKind loss, Targets targets, int rows, int cols)
    {
        if (targets.HasLabels)
        {
            if (targets.Labels.Length != rows)
                throw new ArgumentException($"A batch of {rows} rows needs {rows} labels, but {targets.Labels.Length} were given.", nameof(targets));
            if (loss == LossKind.BinaryCrossEntropyWithLogits && cols != 1)
                throw new ArgumentException($"Binary cross-entropy with class labels needs one output per sample, but the network has {cols}: give float targets instead.", nameof(targets));
            if (loss == LossKind.MeanSquaredError)
                throw new ArgumentException($"{loss} needs float targets ({cols} per sample), but class labels were given.", nameof(targets));
            return;
        }
        long needed = (long)rows * cols;
        if (targets.Values.Length != needed)
            throw new ArgumentException($"A batch of {rows} rows of {cols} outputs needs {needed} target values, but {targets.Values.Length} were given.", nameof(targets));
    }

    // Labels [start, start + count) must lie in 0..classes-1; steps > 1 names the sequence and step of a bad one.
    private static void CheckLabels(ReadOnlySpan<int> labels, int start, int count, int steps, int classes)
    {
        for (int i = start; i < start + count; i++)
            if ((uint)labels[i] >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(labels), labels[i], steps > 1
                    ? $"Label {labels[i]} of sample {i / steps}, step {i % steps}, is outside the {classes} classes 0..{classes - 1}."
                    : $"Label {labels[i]} of sample {i} is outside the {classes} classes 0..{classes - 1}.");
    }

    /// <summary>
    /// The loss a generated network trains with, over <paramref name="rows"/> rows of <paramref name="cols"/> outputs, with
    /// its targets checked: labels for softmax cross-entropy (or binary cross-entropy on one output), values otherwise.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> or <paramref name="cols"/> is less than 1 (a mean over nothing), or the outputs would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is outside the classes.</exception>
    /// <exception cref="ArgumentException">The targets are of the wrong kind or count for the loss, or the outputs or a non-empty gradient is shorter than rows × cols.</exception>
    public static float Compute(LossKind loss, ReadOnlySpan<float> outputs, Targets targets, Span<float> gradient, int rows, int cols)
    {
        long count = Outputs(outputs.Length, nameof(outputs), gradient.Length, rows, cols);
        if (targets.HasLabels)
        {
            if (targets.Labels.Length != rows)
                throw new ArgumentException($"A batch of {rows} samples needs {rows} labels, but {targets.Labels.Length} were given.", nameof(targets));
            switch (loss)
            {
                case LossKind.SoftmaxCrossEntropy:
                    return SoftmaxCrossEntropy(outputs, targets.Labels, gradient, rows, cols);
                case LossKind.BinaryCrossEntropyWithLogits when cols == 1:
                    return BinaryCrossEntropyWithLabels(outputs, targets.Labels, gradient, rows);
                case LossKind.BinaryCrossEntropyWithLogits:
                    throw new ArgumentException($"Binary cross-entropy with class labels needs one output per sample, but the network has {cols}: give float targets instead.", nameof(targets));
                default:
                    throw new ArgumentException($"{loss} needs float targets ({cols} per sample), but class labels were given.", nameof(targets));
            }
        }
        if (targets.Values.Length != count)
            throw new ArgumentException($"A batch of {rows} samples of {cols} outputs needs {count} target values, but {targets.Values.Length} were given.", nameof(targets));
        return loss switch
        {
            LossKind.SoftmaxCrossEntropy => SoftmaxCrossEntropy(outputs, targets.Values, gradient, rows, cols),
            LossKind.MeanSquaredError => MeanSquaredError(outputs, targets.Values, gradient, rows, cols),
            LossKind.BinaryCrossEntropyWithLogits => BinaryCrossEntropyWithLogits(outputs, targets.Values, gradient, rows, cols),
            _ => throw new ArgumentOutOfRangeException(nameof(loss), loss, "Unknown loss."),
        };
    }

    /// <summary>
    /// <see cref="Compute"/> for outputs that are sequences of <paramref name="steps"/> rows per sample, of which only the
    /// first <paramref name="lengths"/>[s] of sample s count: the loss is the mean over the true steps alone, and the
    /// padding steps' gradient is zero. Targets cover every step (those of padding steps are never read). With no true
    /// step at all (or no sequences) the loss is 0 and the gradient zero.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative (or <paramref name="cols"/> less than 1), the outputs would hold more than
    /// <see cref="int.MaxValue"/> floats, a length is outside 0 to the steps, or a label is outside the classes.</exception>
    /// <exception cref="ArgumentException">The lengths do not give one length a sequence, the targets are of the wrong kind or count, or the outputs
    /// or a non-empty gradient is shorter than the sequences' outputs.</exception>
    public static float ComputeSequences(LossKind loss, ReadOnlySpan<float> outputs, Targets targets, Span<float> gradient, int batch, int steps, int cols, ReadOnlySpan<int> lengths)
    {
        int rows = (int)Sizes.Product(batch, nameof(batch), steps, nameof(steps));
        Sizes.Positive(cols, nameof(cols));
        long count = Sizes.Product(batch, nameof(batch), steps, nameof(steps), cols, nameof(cols));
        if (lengths.Length != batch)
            throw new ArgumentException($"A batch of {batch} sequences needs {batch} lengths, but {lengths.Length} were given.", nameof(lengths));
        Guard.Lengths(lengths, batch, steps);
        Sizes.Need(outputs.Length, count, nameof(outputs), "{0} sequences of {1} steps of {2}", batch, steps, cols);
        if (!gradient.IsEmpty) Sizes.Need(gradient.Length, count, nameof(gradient), "{0} sequences of {1} steps of {2}", batch, steps, cols);
        if (targets.HasLabels ? targets.Labels.Length != rows : targets.Values.Length != count)
            throw new ArgumentException(targets.HasLabels
                ? $"A batch of {batch} sequences of {steps} steps needs {rows} labels (padding steps included), but {targets.Labels.Length} were given."
                : $"A batch of {batch} sequences of {steps} steps of {cols} outputs needs {count} target values (padding steps included), but {targets.Values.Length} were given.", nameof(targets));
        bool withGradient = !gradient.IsEmpty;
        if (withGradient) gradient.Slice(0, rows * cols).Clear();
        long valid = 0;
        for (int b = 0; b < batch; b++) valid += lengths[b];
        if (valid == 0) return 0f;
        double total = 0;
        for (int b = 0; b < batch; b++)
        {
            int length = lengths[b];
            if (length == 0) continue;
            var part = targets.HasLabels
                ? Targets.FromLabels(targets.Labels.Slice(b * steps, length))
                : Targets.FromValues(targets.Values.Slice(b * steps * cols, length * cols));
            var g = withGradient ? gradient.Slice(b * steps * cols, length * cols) : default;
            total += (double)Compute(loss, outputs.Slice(b * steps * cols, length * cols), part, g, length, cols) * length;
            // Compute averaged over this sample's steps; the batch's mean is over all true steps.
            if (withGradient && length != valid) TensorPrimitives.Multiply(g, (float)((double)length / valid), g);
        }
        return (float)(total / valid);
    }

    // The sizes of a mean over rows × cols outputs, the outputs and a non-empty gradient: returns rows × cols.
    private static long Outputs(int outputs, string outputsName, int gradient, int rows, int cols)
    {
        Sizes.Positive(rows, nameof(rows));
        Sizes.Positive(cols, nameof(cols));
        long count = Sizes.Product(rows, nameof(rows), cols, nameof(cols));
        Sizes.Need(outputs, count, outputsName, "{0} rows of {1}", rows, cols);
        if (gradient != 0) Sizes.Need(gradient, count, nameof(gradient), "{0} rows of {1}", rows, cols);
        return count;
    }

    private static float BinaryCrossEntropyWithLabels(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, Span<float> gradient, int rows)
    {
        double total = 0;
        for (int i = 0; i < rows; i++)
        {
            int label = labels[i];
            if ((uint)label > 1) throw new ArgumentOutOfRangeException(nameof(labels), label, $"Label {label} of sample {i} is not 0 or 1.");
            double z = logits[i];
            total += Math.Max(z, 0) - z * label + Math.Log(1 + Math.Exp(-Math.Abs(z)));
            if (!gradient.IsEmpty) gradient[i] = (float)((1.0 / (1.0 + Math.Exp(-z)) - label) / rows);
        }
        return (float)(total / rows);
    }
}
