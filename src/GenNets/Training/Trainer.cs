using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Numerics.Tensors;
using System.Threading;
using GenNets.Data;
using GenNets.Kernels;

namespace GenNets.Training;

/// <summary>
/// Trains a generated network, as Keras's <c>fit</c> or PyTorch Lightning's <c>Trainer</c> would: epochs of seeded, shuffled
/// mini-batches, one all-or-nothing <see cref="INetwork.TrainStep"/> per batch, validation after each epoch, progress through
/// <see cref="IProgress{T}"/> (<see cref="ConsoleProgressBar"/> draws it), a learning-rate schedule and warm-up, early
/// stopping with the best weights restored, and checkpoints from which a stopped run resumes bit for bit.
/// </summary>
/// <example>
/// <code>
/// var trainer = new Trainer&lt;FashionMlp&gt;(model, new Adam(1e-3f))
/// {
///     Schedule = new CosineSchedule(), WarmupSteps = 200,
///     EarlyStopping = new EarlyStopping(patience: 3), CheckpointPath = "run.ckpt",
/// };
/// foreach (var epoch in trainer.Epochs(train, epochs: 20, batchSize: 64, validation: test))   // each epoch as it ends
///     Console.WriteLine($"{epoch.Epoch}: {epoch.ValidationAccuracy:P2}");
/// </code>
/// </example>
public sealed class Trainer<TNetwork> where TNetwork : INetwork
{
    private readonly List<EpochResult> _history = [];
    private RunState? _resumed; // what Resume read, for the next run to go on from
    private int _warmupSteps;

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

    /// <summary>Optional learning-rate schedule: a factor of the base rate for each epoch.</summary>
    public LearningRateSchedule? Schedule { get; init; }

    /// <summary>
    /// Steps over which the learning rate rises linearly from 1/<see cref="WarmupSteps"/> of its scheduled value to all of it:
    /// the optimizer's step n (from 0) uses (n + 1)/<see cref="WarmupSteps"/> of the rate. 0 (the default): no warm-up.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int WarmupSteps
    {
        get => _warmupSteps;
        init => _warmupSteps = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Warm-up steps cannot be negative.");
    }

    /// <summary>Stops training when a validation metric stops improving (needs a validation set); null: train every epoch.</summary>
    public EarlyStopping? EarlyStopping { get; init; }

    /// <summary>
    /// When set, a checkpoint is written here at the end of every epoch (weights, optimizer state, counters, the history and
    /// the early-stopping state; replaced safely). <see cref="Resume"/> reads it back.
    /// </summary>
    public string? CheckpointPath { get; init; }

    /// <summary>
    /// Optional random change of the training samples, such as <see cref="ImageAugmentation"/>'s crops and flips: each
    /// training batch is augmented as it is copied, each sample by its own generator of the run's seed, the epoch and its
    /// index in the training set (<see cref="Data.Augmentation.RandomFor"/>): what a sample becomes in an epoch does not depend
    /// on the batch size, its place in the batch or the number of threads, and the same seed gives the same batches, after
    /// <see cref="Resume"/> too (resume with the same augmentation). Validation and evaluation see the data as it is. Null
    /// (the default): the samples as they are.
    /// </summary>
    public Augmentation? Augmentation { get; init; }

    /// <summary>The epochs of the current (or last) run so far, those before a resume included.</summary>
    public IReadOnlyList<EpochResult> History => _history;

    /// <summary>True when the last run was stopped by <see cref="EarlyStopping"/>.</summary>
    public bool StoppedEarly { get; private set; }

    /// <summary>The epoch whose weights early stopping kept (with <see cref="Training.EarlyStopping.RestoreBestWeights"/>), once a run has one.</summary>
    public int? BestEpoch { get; private set; }

    /// <summary>
    /// Trains for <paramref name="epochs"/> epochs (or until early stopping) and returns every epoch's results. The shuffle
    /// order is fixed by <paramref name="seed"/>: the same seed, data and network seed give bit-identical weights, at any
    /// number of threads. A batch size larger than the data set trains on the whole set as one batch. After
    /// <see cref="Resume"/>, the run goes on from the checkpoint's epoch to <paramref name="epochs"/>.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="train"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epochs"/> or <paramref name="batchSize"/> is below 1, or fewer epochs than a resumed checkpoint has done.</exception>
    /// <exception cref="ArgumentException">A data set does not fit the network (features, targets, labels, lengths), the <see cref="Augmentation"/> does not fit the training set's samples, the training set is empty, early stopping watches a metric the validation set cannot give (or there is none), or a resumed run's seed, batch size or data size differ from the checkpoint's.</exception>
    /// <exception cref="TrainingDivergedException">A loss or gradient became NaN or infinite; the weights are those of the last good step.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; the weights are those of the last step.</exception>
    /// <exception cref="IOException">A checkpoint could not be written (the previous one is intact).</exception>
    /// <exception cref="InvalidOperationException">Early stopping watches R², which a validation set with a column of equal targets does not define.</exception>
    public IReadOnlyList<EpochResult> Fit(Dataset train, int epochs, int batchSize, Dataset? validation = null,
        IProgress<TrainingProgress>? progress = null, int seed = 0, CancellationToken cancellationToken = default)
    {
        foreach (var _ in Epochs(train, epochs, batchSize, validation, progress, seed, cancellationToken)) { }
        return [.. _history];
    }

    /// <summary>
    /// <see cref="Fit"/> one epoch at a time: each epoch is trained when the enumeration asks for it, and its results come out
    /// as soon as it ends, so that <c>foreach (var epoch in trainer.Epochs(…))</c> prints as training goes. Arguments are
    /// checked at once; nothing is trained until the enumeration starts.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="train"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epochs"/> or <paramref name="batchSize"/> is below 1, or fewer epochs than a resumed checkpoint has done.</exception>
    /// <exception cref="ArgumentException">A data set does not fit the network, the <see cref="Augmentation"/> does not fit the training set's samples, the training set is empty, early stopping watches a metric the validation set cannot give (or there is none), or a resumed run's seed, batch size or data size differ from the checkpoint's.</exception>
    public IEnumerable<EpochResult> Epochs(Dataset train, int epochs, int batchSize, Dataset? validation = null,
        IProgress<TrainingProgress>? progress = null, int seed = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (epochs <= 0) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "Train for at least one epoch.");
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be positive.");
        CheckCompatible(train, nameof(train));
        if (validation is not null) CheckCompatible(validation, nameof(validation));
        if (Augmentation is { } augmentation && augmentation.FeatureSize != train.FeatureSize)
            throw new ArgumentException($"The augmentation ({augmentation}) takes samples of {augmentation.FeatureSize} values, but the training set's hold {train.FeatureSize}.", nameof(train));
        if (train.Count == 0) throw new ArgumentException("The training set is empty.", nameof(train));
        if (EarlyStopping is { } stopping) CheckWatchable(stopping, validation);
        batchSize = Math.Min(batchSize, train.Count); // no batch is larger than the set, so the buffers below fit in memory as the set does
        Network.Reserve(batchSize); // a batch too large for the network's buffers is refused here, not when training starts
        if (_resumed is { } r)
        {
            if (r.Seed != seed || r.BatchSize != batchSize || r.TrainCount != train.Count)
                throw new ArgumentException($"The checkpoint was written by a run with seed {r.Seed}, batch size {r.BatchSize} and {r.TrainCount} training samples; " +
                    $"this one has seed {seed}, batch size {batchSize} and {train.Count}. Resume with the same ones to go on where it stopped.", nameof(train));
            if (epochs < r.EpochsDone)
                throw new ArgumentOutOfRangeException(nameof(epochs), epochs, $"The checkpoint has {r.EpochsDone} epochs done already.");
        }
        return Run(train, epochs, batchSize, validation, progress, seed, cancellationToken);
    }

    /// <summary>
    /// Reads a checkpoint that <see cref="CheckpointPath"/> made into the network and the optimizer, with the history and the
    /// early-stopping state: the next <see cref="Fit"/> or <see cref="Epochs"/> with the same data, seed and batch size goes on
    /// from where it stopped and ends with the same weights, bit for bit, as a run that never stopped. Everything is checked
    /// before anything changes. (A restored epoch's <see cref="EpochResult.Validation"/> keeps its loss, accuracy, MAE and R²,
    /// not its confusion matrix.)
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="FileNotFoundException">Nothing exists at <paramref name="path"/>.</exception>
    /// <exception cref="IOException">The path is not a regular file, or reading it failed.</exception>
    /// <exception cref="InvalidDataException">The file is not a trainer's checkpoint of this network and this kind of optimizer.</exception>
    public void Resume(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        RunState? state = null;
        Checkpoint.Load(path, Network, Optimizer, (meta, extra) => state = RunState.Parse(path, meta, extra, Network.ParameterCount));
        _resumed = state;
    }

    // The run itself: a non-iterator caller has checked the arguments, so that they are checked when Epochs is called.
    private IEnumerable<EpochResult> Run(Dataset train, int epochs, int batchSize, Dataset? validation,
        IProgress<TrainingProgress>? progress, int seed, CancellationToken cancellationToken)
    {
        var state = _resumed ?? new RunState(seed, batchSize, train.Count);
        _resumed = null;
        _history.Clear();
        _history.AddRange(state.History);
        StoppedEarly = state.Stopped;
        BestEpoch = EarlyStopping is { RestoreBestWeights: true } ? state.BestEpoch : null;
        var batches = new Batches(Network, train, batchSize, seed, Augmentation);
        for (int e = 0; e < state.EpochsDone; e++) batches.Shuffle(); // the shuffles of the epochs done: the same order from here on
        for (int epoch = state.EpochsDone; epoch < epochs && !state.Stopped; epoch++)
        {
            var result = TrainEpoch(batches, epoch, epochs, validation, progress, cancellationToken);
            _history.Add(result);
            state.EpochsDone = epoch + 1;
            state.History.Add(result);
            if (EarlyStopping is { } stopping) Watch(stopping, result, state, last: epoch + 1 == epochs);
            if (CheckpointPath is not null) state.Save(CheckpointPath, Network, Optimizer);
            progress?.Report(new TrainingProgress(epoch + 1, epochs, batches.Count, batches.Count, result.TrainLoss, result));
            yield return result;
        }
    }

    // One epoch: shuffle, a step per batch, then the validation.
    private EpochResult TrainEpoch(Batches batches, int epoch, int epochs, Dataset? validation, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        var net = Network;
        float factor = Schedule?.Factor(epoch, epochs) ?? 1f;
        if (Schedule is not null || WarmupSteps > 0) SetLearningRate(factor);
        batches.Shuffle();
        var clock = Stopwatch.StartNew();
        double lossSum = 0;
        long correct = 0, counted = 0;
        int outSize = net.OutputSize;
        for (int b = 0; b < batches.Count; b++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = batches.Fill(b, epoch);
            if (WarmupSteps > 0) SetLearningRate(Optimizer.StepCount < WarmupSteps ? factor * (Optimizer.StepCount + 1) / WarmupSteps : factor);
            float loss;
            try
            {
                // The network applies the whole update, or (on a NaN or infinity) none of it.
                loss = batches.Step(n, Optimizer);
            }
            catch (TrainingDivergedException e)
            {
                throw Diverged(e, epoch + 1, b + 1, batches.Inputs(n));
            }
            lossSum += loss;
            if (batches.Labels is { } labels && outSize / batches.PerSample > 1)
                // Accuracy as seen in training (dropout on), like Keras reports it: no extra pass.
                CountCorrect(net.TrainingOutputs, labels.AsSpan(0, n * batches.PerSample), n, batches.PerSample, outSize / batches.PerSample,
                    batches.Lengths is { } l ? l.AsSpan(0, n) : default, ref correct, ref counted);
            progress?.Report(new TrainingProgress(epoch + 1, epochs, b + 1, batches.Count, (float)(lossSum / (b + 1)), null));
        }
        clock.Stop();
        Evaluation? val = validation is null ? null : Evaluate(validation, Math.Max(batches.Size, 256));
        return new EpochResult(epoch + 1, (float)(lossSum / batches.Count),
            counted > 0 ? (float)correct / counted : null,
            val?.Loss, val?.Accuracy, Optimizer.LearningRate, clock.Elapsed, val);
    }

    // The base rate times a factor; a schedule that decays below what a float holds keeps the smallest positive rate.
    private void SetLearningRate(float factor) => Optimizer.LearningRate = Math.Max(Optimizer.BaseLearningRate * factor, float.Epsilon);

    // Early stopping needs a validation set that has the metric it watches.
    private void CheckWatchable(EarlyStopping stopping, Dataset? validation)
    {
        bool labels = validation?.Labels is not null, classes = labels && Network.Layers[^1].OutputShape[^1] > 1;
        string? missing = validation is null ? "a validation set"
            : stopping.Metric == EarlyStoppingMetric.ValidationAccuracy && !classes ? "a validation set of class labels, and more than one output"
            : stopping.Metric is EarlyStoppingMetric.ValidationMeanAbsoluteError or EarlyStoppingMetric.ValidationR2 && labels ? "a validation set of float targets"
            : null;
        if (missing is not null)
            throw new ArgumentException($"Early stopping watches {stopping.Metric}, which needs {missing}.", nameof(validation));
    }

    // Early stopping's bookkeeping after an epoch: the best value and weights, the epochs without improvement, and the stop.
    private void Watch(EarlyStopping stopping, EpochResult result, RunState state, bool last)
    {
        float value = stopping.Value(result);
        if (stopping.Improves(value, state.Best))
        {
            state.Best = value;
            state.BestEpoch = result.Epoch;
            state.Wait = 0;
            if (stopping.RestoreBestWeights) state.BestWeights = Network.Parameters.ToArray();
        }
        else if (++state.Wait >= stopping.Patience)
            state.Stopped = StoppedEarly = true;
        if ((state.Stopped || last) && stopping.RestoreBestWeights && state.BestWeights is { } best && state.BestEpoch != result.Epoch)
            best.CopyTo(Network.Parameters);
        BestEpoch = stopping.RestoreBestWeights ? state.BestEpoch : null;
    }

    /// <summary>The metrics of the network on <paramref name="data"/> in inference mode (see <see cref="Evaluation(INetwork, Dataset, int)"/>).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="data"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1.</exception>
    /// <exception cref="ArgumentException">The data set does not fit the network.</exception>
    public Evaluation Evaluate(Dataset data, int batchSize = 256)
    {
        return Evaluation(Network, data, batchSize);
    }

    /// <summary>
    /// The metrics of <paramref name="network"/> on <paramref name="data"/>, in inference mode: the mean loss; for class labels
    /// the accuracy and the confusion matrix (precision, recall, F1); for float targets the mean absolute error and R².
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> or <paramref name="data"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1.</exception>
    /// <exception cref="ArgumentException">The data set's sizes do not fit the network.</exception>
    public static Evaluation Evaluation(INetwork network, Dataset data, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be positive.");
        CheckCompatible(network, data, nameof(data));
        int inSize = network.InputSize, outSize = network.OutputSize;
        batchSize = Math.Max(1, Math.Min(batchSize, data.Count)); // no batch is larger than the set
        var outputs = new float[batchSize * outSize];
        double lossSum = 0, weightSum = 0;
        int perSample = Math.Max(1, data.LabelsPerSample);
        int cols = network.Layers[^1].OutputShape[^1]; // one loss row per position of the output, as training has it
        int rowsPerSample = outSize / cols;
        var sums = new MetricSums(cols, data.Labels is not null);
        for (int start = 0; start < data.Count; start += batchSize)
        {
            int n = Math.Min(batchSize, data.Count - start);
            var o = outputs.AsSpan(0, n * outSize);
            ReadOnlySpan<int> labels = data.Labels is null ? default : data.Labels.AsSpan(start * perSample, n * perSample);
            ReadOnlySpan<float> values = data.Targets is null ? default : data.Targets.AsSpan(start * outSize, n * outSize);
            ReadOnlySpan<int> lengths = default;
            if (data.Lengths is not null && network is ISequenceNetwork sequences)
            {
                lengths = data.Lengths.AsSpan(start, n);
                sequences.Forward(data.Features.AsSpan(start * inSize, n * inSize), o, n, lengths);
                if (sequences.OutputsSequences)
                {
                    // The mean over the true steps of the whole data set: each batch's mean weighted by its true steps.
                    long valid = 0;
                    foreach (int l in lengths) valid += l;
                    var targets = labels.IsEmpty ? Targets.FromValues(values) : Targets.FromLabels(labels);
                    lossSum += (double)Losses.ComputeSequences(network.Loss, o, targets, default, n, sequences.Steps, outSize / sequences.Steps, lengths) * valid;
                    weightSum += valid;
                    sums.Add(o, labels, values, n, rowsPerSample, lengths);
                    continue;
                }
            }
            else
                network.Forward(data.Features.AsSpan(start * inSize, n * inSize), o, n);
            lossSum += (double)BatchLoss(network.Loss, o, labels, values, n * rowsPerSample, cols) * n;
            weightSum += n;
            sums.Add(o, labels, values, n, rowsPerSample, default);
        }
        float? accuracy = sums.Confusion is { Total: > 0 } c ? (float)c.Accuracy : null;
        return new Evaluation(weightSum > 0 ? (float)(lossSum / weightSum) : 0f, accuracy, data.Count, sums.Confusion, sums.MeanAbsoluteError, sums.R2);
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

    private void CheckCompatible(Dataset data, string name) => CheckCompatible(Network, data, name);

    // A data set fits a network when its features, targets (labels or values, per sample or per step) and lengths do.
    private static void CheckCompatible(INetwork net, Dataset data, string name)
    {
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
