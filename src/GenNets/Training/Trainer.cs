using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Numerics.Tensors;
using System.Threading;
using GenNets.Data;
using GenNets.Kernels;

namespace GenNets.Training;

/// <summary>Where training stands: reported after every batch, and with <see cref="Completed"/> set at the end of each epoch.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="Epochs">Epochs in the run.</param>
/// <param name="Batch">Batches done in this epoch.</param>
/// <param name="Batches">Batches per epoch.</param>
/// <param name="Loss">Mean training loss over this epoch's batches so far.</param>
/// <param name="Completed">The epoch's results, once the epoch (and its validation) is over.</param>
public readonly record struct TrainingProgress(int Epoch, int Epochs, int Batch, int Batches, float Loss, EpochResult? Completed);

/// <summary>What one epoch achieved.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="TrainLoss">Mean training loss over the epoch's batches (dropout on).</param>
/// <param name="TrainAccuracy">Fraction of training samples classified right during the epoch, for labelled data.</param>
/// <param name="ValidationLoss">Mean loss on the validation set, if one was given.</param>
/// <param name="ValidationAccuracy">Accuracy on the validation set, if it is labelled.</param>
/// <param name="LearningRate">The learning rate used in the epoch.</param>
/// <param name="Elapsed">Wall time of the epoch's training (validation excluded).</param>
public sealed record EpochResult(int Epoch, float TrainLoss, float? TrainAccuracy, float? ValidationLoss, float? ValidationAccuracy, float LearningRate, TimeSpan Elapsed);

/// <summary>The loss and, for labelled data, accuracy of a network on a data set.</summary>
public readonly record struct Evaluation(float Loss, float? Accuracy, int Count);

/// <summary>
/// Trains a generated network: epochs of seeded, shuffled mini-batches, an optimizer step per batch,
/// validation after each epoch, progress through <see cref="IProgress{T}"/>, and a guard that stops
/// with a clear message, weights intact, when anything becomes NaN or infinite.
/// </summary>
public sealed class Trainer<TNetwork> where TNetwork : INetwork
{
    /// <summary>Creates a trainer for <paramref name="network"/> with <paramref name="optimizer"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> or <paramref name="optimizer"/> is null.</exception>
    public Trainer(TNetwork network, Optimizer optimizer)
    {
        Network = network ?? throw new ArgumentNullException(nameof(network));
        Optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
    }

    /// <summary>The network being trained.</summary>
    public TNetwork Network { get; }

    /// <summary>The optimizer.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>Optional learning-rate schedule, applied at the start of each epoch.</summary>
    public LearningRateSchedule? Schedule { get; init; }

    /// <summary>
    /// Trains for <paramref name="epochs"/> epochs and returns each epoch's results. The shuffle order is fixed by
    /// <paramref name="seed"/>: the same seed, data and network seed give bit-identical weights, at any number of threads.
    /// A batch size larger than the data set trains on the whole set as one batch.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="train"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epochs"/> or <paramref name="batchSize"/> is below 1.</exception>
    /// <exception cref="ArgumentException">A data set does not fit the network (features, targets, labels, lengths), or the training set is empty.</exception>
    /// <exception cref="TrainingDivergedException">A loss or gradient became NaN or infinite; the weights are those of the last good step.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; the weights are those of the last step.</exception>
    public IReadOnlyList<EpochResult> Fit(Dataset train, int epochs, int batchSize, Dataset? validation = null,
        IProgress<TrainingProgress>? progress = null, int seed = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (epochs <= 0) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "Train for at least one epoch.");
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be positive.");
        CheckCompatible(train, nameof(train));
        if (validation is not null) CheckCompatible(validation, nameof(validation));
        if (train.Count == 0) throw new ArgumentException("The training set is empty.", nameof(train));

        var net = Network;
        int inSize = net.InputSize, outSize = net.OutputSize;
        batchSize = Math.Min(batchSize, train.Count); // no batch is larger than the set, so the buffers below fit in memory as the set does
        int batches = (train.Count + batchSize - 1) / batchSize;
        var order = new int[train.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var x = new float[batchSize * inSize];
        int perSample = Math.Max(1, train.LabelsPerSample); // labels per sample: one, or one per step
        var labels = train.Labels is null ? null : new int[batchSize * perSample];
        var values = train.Targets is null ? null : new float[batchSize * train.TargetSize];
        var lengths = train.Lengths is null ? null : new int[batchSize];
        var sequences = net as ISequenceNetwork;
        var shuffle = new SeededRandom((ulong)seed);
        net.Reserve(batchSize);
        var results = new List<EpochResult>(epochs);

        for (int epoch = 0; epoch < epochs; epoch++)
        {
            if (Schedule is not null) Optimizer.LearningRate = Optimizer.BaseLearningRate * Schedule.Factor(epoch, epochs);
            shuffle.Shuffle(order);
            var clock = Stopwatch.StartNew();
            double lossSum = 0;
            long correct = 0, counted = 0;
            for (int b = 0; b < batches; b++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int start = b * batchSize, n = Math.Min(batchSize, train.Count - start);
                for (int s = 0; s < n; s++)
                {
                    int idx = order[start + s];
                    train.Features.AsSpan(idx * inSize, inSize).CopyTo(x.AsSpan(s * inSize));
                    if (lengths is not null) lengths[s] = train.Lengths![idx];
                    if (labels is not null) train.Labels.AsSpan(idx * perSample, perSample).CopyTo(labels.AsSpan(s * perSample));
                    else train.Targets.AsSpan(idx * train.TargetSize, train.TargetSize).CopyTo(values.AsSpan(s * train.TargetSize));
                }
                Targets targets = labels is not null ? Targets.FromLabels(labels.AsSpan(0, n * perSample)) : Targets.FromValues(values.AsSpan(0, n * train.TargetSize));
                float loss;
                try
                {
                    // The network applies the whole update, or (on a NaN or infinity) none of it.
                    loss = lengths is not null
                        ? sequences!.TrainStep(x.AsSpan(0, n * inSize), targets, n, lengths.AsSpan(0, n), Optimizer)
                        : net.TrainStep(x.AsSpan(0, n * inSize), targets, n, Optimizer);
                }
                catch (TrainingDivergedException e)
                {
                    throw Diverged(e, epoch + 1, b + 1, x.AsSpan(0, n * inSize));
                }
                lossSum += loss;
                if (labels is not null && outSize > 1)
                    // Accuracy as seen in training (dropout on), like Keras reports it: no extra pass.
                    CountCorrect(net.TrainingOutputs, labels.AsSpan(0, n * perSample), n, perSample, outSize / perSample,
                        lengths is null ? default : lengths.AsSpan(0, n), ref correct, ref counted);
                progress?.Report(new TrainingProgress(epoch + 1, epochs, b + 1, batches, (float)(lossSum / (b + 1)), null));
            }
            clock.Stop();
            Evaluation? val = validation is null ? null : Evaluate(validation, Math.Max(batchSize, 256));
            var result = new EpochResult(epoch + 1, (float)(lossSum / batches),
                labels is not null && outSize > 1 && counted > 0 ? (float)correct / counted : null,
                val?.Loss, val?.Accuracy, Optimizer.LearningRate, clock.Elapsed);
            results.Add(result);
            progress?.Report(new TrainingProgress(epoch + 1, epochs, batches, batches, result.TrainLoss, result));
        }
        return results;
    }

    /// <summary>Mean loss and (for labelled data with more than one output) accuracy of the network in inference mode.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="data"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1.</exception>
    /// <exception cref="ArgumentException">The data set does not fit the network.</exception>
    public Evaluation Evaluate(Dataset data, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckCompatible(data, nameof(data));
        return Evaluation(Network, data, batchSize);
    }

    /// <summary>Mean loss and accuracy of <paramref name="network"/> on <paramref name="data"/>, in inference mode.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> or <paramref name="data"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1.</exception>
    /// <exception cref="ArgumentException">The data set's sizes do not fit the network.</exception>
    public static Evaluation Evaluation(INetwork network, Dataset data, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be positive.");
        int inSize = network.InputSize, outSize = network.OutputSize;
        if (data.FeatureSize != inSize)
            throw new ArgumentException($"The network takes {inSize} input values per sample but the data set has {data.FeatureSize}.", nameof(data));
        batchSize = Math.Max(1, Math.Min(batchSize, data.Count)); // no batch is larger than the set
        var outputs = new float[batchSize * outSize];
        double lossSum = 0, weightSum = 0;
        long correct = 0, counted = 0;
        int perSample = Math.Max(1, data.LabelsPerSample);
        int cols = network.Layers[^1].OutputShape[^1]; // one loss row per position of the output, as training has it
        for (int start = 0; start < data.Count; start += batchSize)
        {
            int n = Math.Min(batchSize, data.Count - start);
            var o = outputs.AsSpan(0, n * outSize);
            ReadOnlySpan<int> labels = data.Labels is null ? default : data.Labels.AsSpan(start * perSample, n * perSample);
            ReadOnlySpan<float> values = data.Targets is null ? default : data.Targets.AsSpan(start * outSize, n * outSize);
            if (data.Lengths is not null && network is ISequenceNetwork sequences)
            {
                var lengths = data.Lengths.AsSpan(start, n);
                sequences.Forward(data.Features.AsSpan(start * inSize, n * inSize), o, n, lengths);
                if (sequences.OutputsSequences)
                {
                    // The mean over the true steps of the whole data set: each batch's mean weighted by its true steps.
                    long valid = 0;
                    foreach (int l in lengths) valid += l;
                    var targets = labels.IsEmpty ? Targets.FromValues(values) : Targets.FromLabels(labels);
                    lossSum += (double)Losses.ComputeSequences(network.Loss, o, targets, default, n, sequences.Steps, outSize / sequences.Steps, lengths) * valid;
                    weightSum += valid;
                    if (!labels.IsEmpty && outSize / sequences.Steps > 1)
                        CountCorrect(o, labels, n, perSample, outSize / perSample, lengths, ref correct, ref counted);
                    continue;
                }
            }
            else
                network.Forward(data.Features.AsSpan(start * inSize, n * inSize), o, n);
            lossSum += (double)BatchLoss(network.Loss, o, labels, values, n * (outSize / cols), cols) * n;
            weightSum += n;
            if (!labels.IsEmpty && outSize / perSample > 1)
                CountCorrect(o, labels, n, perSample, outSize / perSample, default, ref correct, ref counted);
        }
        float? accuracy = data.Labels is not null && outSize / perSample > 1 && counted > 0 ? (float)correct / counted : null;
        return new Evaluation(weightSum > 0 ? (float)(lossSum / weightSum) : 0f, accuracy, data.Count);
    }

    // Counts the rows (one per sample, or one per step of a per-step output) whose largest output is the label; the
    // padding steps of a sequence with a length are not counted.
    private static void CountCorrect(ReadOnlySpan<float> outputs, ReadOnlySpan<int> labels, int samples, int rowsPerSample, int cols, ReadOnlySpan<int> lengths,
        ref long correct, ref long counted)
    {
        for (int s = 0; s < samples; s++)
        {
            int rows = lengths.IsEmpty || rowsPerSample == 1 ? rowsPerSample : lengths[s];
            for (int r = 0; r < rows; r++)
            {
                int row = s * rowsPerSample + r;
                if (TensorPrimitives.IndexOfMax(outputs.Slice(row * cols, cols)) == labels[row]) correct++;
                counted++;
            }
        }
    }

    private static float BatchLoss(LossKind loss, ReadOnlySpan<float> outputs, ReadOnlySpan<int> labels, ReadOnlySpan<float> values, int rows, int cols) => loss switch
    {
        LossKind.SoftmaxCrossEntropy when !labels.IsEmpty => Losses.SoftmaxCrossEntropy(outputs, labels, default, rows, cols),
        LossKind.SoftmaxCrossEntropy => Losses.SoftmaxCrossEntropy(outputs, values, default, rows, cols),
        LossKind.MeanSquaredError => Losses.MeanSquaredError(outputs, values, default, rows, cols),
        LossKind.BinaryCrossEntropyWithLogits when !labels.IsEmpty => BinaryFromLabels(outputs, labels, rows),
        LossKind.BinaryCrossEntropyWithLogits => Losses.BinaryCrossEntropyWithLogits(outputs, values, default, rows, cols),
        _ => throw new ArgumentOutOfRangeException(nameof(loss)),
    };

    private static float BinaryFromLabels(ReadOnlySpan<float> outputs, ReadOnlySpan<int> labels, int rows)
    {
        Span<float> t = rows <= 1024 ? stackalloc float[rows] : new float[rows];
        for (int i = 0; i < rows; i++) t[i] = labels[i];
        return Losses.BinaryCrossEntropyWithLogits(outputs, t, default, rows, 1);
    }

    private void CheckCompatible(Dataset data, string name)
    {
        var net = Network;
        if (data.Lengths is not null)
        {
            if (net is not ISequenceNetwork sequences)
                throw new ArgumentException($"The data set has sequence lengths, but {net.GetType().Name} has no recurrent layer to take them.", name);
            for (int i = 0; i < data.Lengths.Length; i++)
                if (data.Lengths[i] > sequences.Steps)
                    throw new ArgumentException($"Sequence {i} has length {data.Lengths[i]}, more than the network's {sequences.Steps} steps.", name);
        }
        if (data.FeatureSize != net.InputSize)
            throw new ArgumentException($"The network takes {net.InputSize} input values per sample but the data set has {data.FeatureSize}.", name);
        int positions = net.OutputSize / net.Layers[^1].OutputShape[^1];
        if (data.Labels is not null && data.LabelsPerSample != positions)
            throw new ArgumentException(positions > 1
                ? $"The network's output has {positions} positions per sample and the data set {data.LabelsPerSample} label(s) per sample: give a label per position (Dataset.WithStepLabels) or float targets."
                : $"The network's output has one position per sample but the data set has {data.LabelsPerSample} labels per sample.", name);
        if (data.Labels is not null)
        {
            if (net.Loss == LossKind.MeanSquaredError)
                throw new ArgumentException("Mean squared error needs float targets, but the data set holds class labels.", name);
            int cols = net.OutputSize / positions;
            int classes = net.Loss == LossKind.BinaryCrossEntropyWithLogits ? 2 : cols;
            if (net.Loss == LossKind.BinaryCrossEntropyWithLogits && cols != 1)
                throw new ArgumentException($"Binary cross-entropy with class labels needs one output, but the network has {cols}: give float targets instead.", name);
            for (int i = 0; i < data.Labels.Length; i++)
            {
                int sample = i / positions, step = i % positions;
                if (data.Lengths is not null && positions > 1 && step >= data.Lengths[sample]) continue; // padding: never read
                if ((uint)data.Labels[i] >= (uint)classes)
                    throw new ArgumentException(positions == 1
                        ? $"Label {data.Labels[i]} of sample {i} is outside the network's {classes} classes 0..{classes - 1}."
                        : $"Label {data.Labels[i]} of sample {sample}, step {step}, is outside the network's {classes} classes 0..{classes - 1}.", name);
            }
        }
        else if (data.TargetSize != net.OutputSize)
            throw new ArgumentException($"The network has {net.OutputSize} outputs but the data set has {data.TargetSize} targets per sample.", name);
    }

    // The network's divergence, with where in the run it happened and what in the batch or the weights may explain it.
    private TrainingDivergedException Diverged(TrainingDivergedException e, int epoch, int batch, ReadOnlySpan<float> inputs)
    {
        var net = Network;
        string cause = "";
        // A non-finite weight is the root cause when there is one; gradients turn non-finite downstream of it.
        foreach (var t in net.ParameterTensors)
        {
            int bad = CountNonFinite(net.Parameters.Slice(t.Offset, t.Length));
            if (bad > 0) { cause = $" Parameter '{t.Name}' of {t.Layer} holds {bad} non-finite values."; break; }
        }
        int badInputs = CountNonFinite(inputs);
        if (badInputs > 0) cause += $" The batch's inputs hold {badInputs} non-finite values.";
        return new TrainingDivergedException($"Training diverged at epoch {epoch}, batch {batch}: {e.Message}{cause} " +
            "Lower the learning rate, set the optimizer's MaxGradientNorm, or check the data.", e.Tensor, e);
    }

    private static int CountNonFinite(ReadOnlySpan<float> values)
    {
        int n = 0;
        foreach (float v in values) if (!float.IsFinite(v)) n++;
        return n;
    }


}

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
        if (norm > maxNorm) TensorPrimitives.Multiply(gradients, maxNorm / norm, gradients);
        return norm;
    }
}
