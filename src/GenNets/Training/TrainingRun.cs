using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using GenNets.Data;

namespace GenNets.Training;

/// <summary>
/// A training set cut into shuffled mini-batches: the order (shuffled in place once an epoch, so a run's orders follow from
/// its seed alone), and the buffers one batch is copied into, augmented when the run has an augmentation.
/// </summary>
internal sealed class Batches
{
    private readonly INetwork _network;
    private readonly Dataset _data;
    private readonly int[] _order;
    private readonly float[] _x;
    private readonly float[]? _values;
    private readonly Augmentation? _augmentation;
    private readonly int _seed;
    private SeededRandom _shuffle;

    public Batches(INetwork network, Dataset data, int size, int seed, Augmentation? augmentation = null)
    {
        _augmentation = augmentation;
        _seed = seed;
        _network = network;
        _data = data;
        Size = size;
        Count = (data.Count + size - 1) / size;
        _order = new int[data.Count];
        for (int i = 0; i < _order.Length; i++) _order[i] = i;
        PerSample = Math.Max(1, data.LabelsPerSample); // labels per sample: one, or one per step
        _x = new float[size * network.InputSize];
        Labels = data.Labels is null ? null : new int[size * PerSample];
        _values = data.Targets is null ? null : new float[size * data.TargetSize];
        Lengths = data.Lengths is null ? null : new int[size];
        _shuffle = new SeededRandom((ulong)seed);
        network.Reserve(size);
    }

    /// <summary>Samples in a full batch.</summary>
    public int Size { get; }

    /// <summary>Batches in an epoch (the last may be short).</summary>
    public int Count { get; }

    /// <summary>Labels per sample (one, or one per step).</summary>
    public int PerSample { get; }

    /// <summary>The batch's labels, for labelled data.</summary>
    public int[]? Labels { get; }

    /// <summary>The batch's sequence lengths, for data that has them.</summary>
    public int[]? Lengths { get; }

    /// <summary>The next epoch's order.</summary>
    public void Shuffle() => _shuffle.Shuffle(_order);

    /// <summary>
    /// Copies batch <paramref name="b"/> of the current order into the buffers, its features augmented for
    /// <paramref name="epoch"/> (from 0) when there is an augmentation; returns its samples.
    /// </summary>
    public int Fill(int b, int epoch)
    {
        int inSize = _network.InputSize, start = b * Size, n = Math.Min(Size, _data.Count - start);
        for (int s = 0; s < n; s++)
        {
            int idx = _order[start + s];
            if (_augmentation is null) _data.Features.AsSpan(idx * inSize, inSize).CopyTo(_x.AsSpan(s * inSize));
            if (Lengths is not null) Lengths[s] = _data.Lengths![idx];
            if (Labels is not null) _data.Labels.AsSpan(idx * PerSample, PerSample).CopyTo(Labels.AsSpan(s * PerSample));
            else _data.Targets.AsSpan(idx * _data.TargetSize, _data.TargetSize).CopyTo(_values.AsSpan(s * _data.TargetSize));
        }
        // Each sample by its own generator of (seed, epoch, index in the set): the batch's size and order change nothing.
        _augmentation?.Apply(_data, _order.AsSpan(start, n), _x.AsSpan(0, n * inSize), _seed, epoch);
        return n;
    }

    /// <summary>The inputs of the batch in the buffers, of <paramref name="n"/> samples.</summary>
    public ReadOnlySpan<float> Inputs(int n) => _x.AsSpan(0, n * _network.InputSize);

    /// <summary>One training step on the batch in the buffers, of <paramref name="n"/> samples.</summary>
    public float Step(int n, Optimizer optimizer)
    {
        Targets targets = Labels is not null ? Targets.FromLabels(Labels.AsSpan(0, n * PerSample)) : Targets.FromValues(_values.AsSpan(0, n * _data.TargetSize));
        return Lengths is not null
            ? ((ISequenceNetwork)_network).TrainStep(Inputs(n), targets, n, Lengths.AsSpan(0, n), optimizer)
            : _network.TrainStep(Inputs(n), targets, n, optimizer);
    }
}

/// <summary>
/// What a run carries from epoch to epoch besides the network and the optimizer: the epochs done and their results, and
/// early stopping's best value, epoch, weights and patience used. A checkpoint saves it in its metadata.
/// </summary>
internal sealed class RunState(int seed, int batchSize, int trainCount)
{
    private const string Prefix = "trainer.";
    private const string BestWeightsTensor = "trainer.best_weights";

    public int Seed { get; } = seed;
    public int BatchSize { get; } = batchSize;
    public int TrainCount { get; } = trainCount;
    public int EpochsDone { get; set; }
    public List<EpochResult> History { get; } = [];
    public float? Best { get; set; }
    public int? BestEpoch { get; set; }
    public int Wait { get; set; }
    public bool Stopped { get; set; }
    public float[]? BestWeights { get; set; }

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Writes the network, the optimizer and this state to <paramref name="path"/>.</summary>
    public void Save(string path, INetwork network, Optimizer optimizer)
    {
        var meta = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [Prefix + "seed"] = Seed.ToString(Inv),
            [Prefix + "batch_size"] = BatchSize.ToString(Inv),
            [Prefix + "train_count"] = TrainCount.ToString(Inv),
            [Prefix + "epochs_done"] = EpochsDone.ToString(Inv),
            [Prefix + "wait"] = Wait.ToString(Inv),
            [Prefix + "stopped"] = Stopped ? "true" : "false",
            [Prefix + "history"] = string.Join("\n", History.Select(Line)),
        };
        if (Best is float best) meta[Prefix + "best"] = best.ToString("R", Inv);
        if (BestEpoch is int epoch) meta[Prefix + "best_epoch"] = epoch.ToString(Inv);
        Checkpoint.Save(path, network, optimizer, meta, BestWeights is null ? [] : [(BestWeightsTensor, BestWeights)]);
    }

    /// <summary>The state a checkpoint holds; throws <see cref="InvalidDataException"/> naming the file when it holds none or a broken one.</summary>
    public static RunState Parse(string path, IReadOnlyDictionary<string, string> meta, IReadOnlyDictionary<string, float[]> extra, int parameterCount)
    {
        string Need(string key) => meta.TryGetValue(Prefix + key, out var v) ? v
            : throw new InvalidDataException($"checkpoint '{path}' cannot be resumed; nothing was changed: its metadata has no '{Prefix + key}' (was it written by a Trainer?).");
        int Int(string key) => int.TryParse(Need(key), NumberStyles.AllowLeadingSign, Inv, out int v) ? v
            : throw new InvalidDataException($"checkpoint '{path}' cannot be resumed; nothing was changed: '{Prefix + key}' is '{meta[Prefix + key]}', not a whole number.");
        var state = new RunState(Int("seed"), Int("batch_size"), Int("train_count"))
        {
            EpochsDone = Int("epochs_done"),
            Wait = Int("wait"),
            Stopped = Need("stopped") == "true",
        };
        if (meta.TryGetValue(Prefix + "best", out var best)) state.Best = Float(path, best);
        if (meta.ContainsKey(Prefix + "best_epoch")) state.BestEpoch = Int("best_epoch");
        string history = Need("history");
        if (history.Length > 0)
            foreach (var line in history.Split('\n')) state.History.Add(ParseLine(path, line));
        if (state.History.Count != state.EpochsDone)
            throw new InvalidDataException($"checkpoint '{path}' cannot be resumed; nothing was changed: it records {state.EpochsDone} epochs done but the results of {state.History.Count}.");
        if (extra.TryGetValue(BestWeightsTensor, out var weights))
        {
            if (weights.Length != parameterCount)
                throw new InvalidDataException($"checkpoint '{path}' cannot be resumed; nothing was changed: its best weights hold {weights.Length} values, the network {parameterCount}.");
            state.BestWeights = weights;
        }
        return state;
    }

    // One epoch's results as one line of invariant numbers (an empty field for a missing value).
    private static string Line(EpochResult e)
    {
        static string F(float? v) => v is float f ? f.ToString("R", Inv) : "";
        var v = e.Validation;
        return string.Join(";", e.Epoch.ToString(Inv), F(e.TrainLoss), F(e.TrainAccuracy), F(e.ValidationLoss), F(e.ValidationAccuracy),
            F(v?.MeanAbsoluteError), F(v?.R2), v?.Count.ToString(Inv) ?? "", F(e.LearningRate), e.Elapsed.Ticks.ToString(Inv));
    }

    private static EpochResult ParseLine(string path, string line)
    {
        var f = line.Split(';');
        if (f.Length != 10) throw new InvalidDataException($"checkpoint '{path}' cannot be resumed; nothing was changed: its history line '{line}' has {f.Length} fields, not 10.");
        float? Opt(string t) => t.Length == 0 ? null : Float(path, t);
        Evaluation? validation = f[7].Length == 0 ? null
            : new Evaluation(Opt(f[3]) ?? 0f, Opt(f[4]), (int)Whole(path, f[7], int.MaxValue), null, Opt(f[5]), Opt(f[6]));
        return new EpochResult((int)Whole(path, f[0], int.MaxValue), Float(path, f[1]), Opt(f[2]), Opt(f[3]), Opt(f[4]), Float(path, f[8]),
            TimeSpan.FromTicks(Whole(path, f[9], TimeSpan.MaxValue.Ticks)), validation);
    }

    private static long Whole(string path, string text, long max)
        => long.TryParse(text, NumberStyles.None, Inv, out long v) && v <= max ? v
            : throw new InvalidDataException($"checkpoint '{path}' cannot be resumed; nothing was changed: '{text}' is not a whole number.");

    private static float Float(string path, string text)
        => float.TryParse(text, NumberStyles.Float, Inv, out float v) ? v
            : throw new InvalidDataException($"checkpoint '{path}' cannot be resumed; nothing was changed: '{text}' is not a number.");
}
