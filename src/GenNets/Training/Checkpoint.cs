using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using GenNets.IO;

namespace GenNets.Training;

/// <summary>
/// A training checkpoint: the network's parameters, step count and dropout seed and the optimizer's state and step count, in one
/// safetensors file, so that a run stopped and resumed from it goes on exactly as if it had never stopped. Tensors are
/// <c>model.{name}</c> (the network's tensors, PyTorch's names and layouts) and <c>optimizer.{buffer}</c> (PyTorch's names:
/// <c>exp_avg</c>, <c>exp_avg_sq</c>, <c>momentum_buffer</c>, each over the flat parameter buffer); counters and the learning rate
/// are in the metadata. Writing replaces the file safely (<see cref="SafeFile.Replace"/>); reading checks everything before
/// anything changes.
/// </summary>
public static class Checkpoint
{
    private const string Format = "gennets-checkpoint/1";

    /// <summary>Writes <paramref name="network"/> and <paramref name="optimizer"/> to <paramref name="path"/>, with optional metadata of the caller's.</summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">A metadata key starts with <c>gennets.</c> (reserved), or the path is not valid.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="optimizer"/> holds state for a network of another size.</exception>
    /// <exception cref="IOException">The path is not a regular file, or writing failed; an earlier file there is unchanged.</exception>
    /// <exception cref="UnauthorizedAccessException">The folder or file may not be written.</exception>
    public static void Save(string path, INetwork network, Optimizer optimizer, IReadOnlyDictionary<string, string>? metadata = null)
        => Save(path, network, optimizer, metadata, []);

    /// <summary>
    /// Reads a checkpoint written by <see cref="Save(string, INetwork, Optimizer, IReadOnlyDictionary{string, string}?)"/> into
    /// <paramref name="network"/> and <paramref name="optimizer"/> (an optimizer of the same kind) and returns its metadata.
    /// Everything is checked before anything changes: on any error, the network and the optimizer are as they were.
    /// </summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="FileNotFoundException">Nothing exists at <paramref name="path"/>.</exception>
    /// <exception cref="IOException"><paramref name="path"/> is not a regular file, or reading it failed.</exception>
    /// <exception cref="InvalidDataException">The file is not a checkpoint of this network and this kind of optimizer; the message names what differs.</exception>
    public static IReadOnlyDictionary<string, string> Load(string path, INetwork network, Optimizer optimizer)
        => Load(path, network, optimizer, beforeCommit: null);

    internal static void Save(string path, INetwork network, Optimizer optimizer, IReadOnlyDictionary<string, string>? metadata,
        IReadOnlyList<(string Name, float[] Values)> extra)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(optimizer);
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        if (metadata is not null)
            foreach (var (key, value) in metadata)
            {
                if (key.StartsWith("gennets.", StringComparison.Ordinal))
                    throw new ArgumentException($"Metadata key '{key}' is reserved: keys starting with 'gennets.' hold the checkpoint's own counters.", nameof(metadata));
                meta[key] = value;
            }
        int count = network.ParameterCount;
        var state = optimizer.CheckpointState(count);
        meta["gennets.format"] = Format;
        meta["gennets.network"] = network.GetType().Name;
        meta["gennets.parameters"] = Text(count);
        meta["gennets.training_steps"] = Text(network.TrainingSteps);
        meta["gennets.dropout_seed"] = network.DropoutSeed.ToString(CultureInfo.InvariantCulture);
        meta["gennets.optimizer"] = optimizer.GetType().Name;
        meta["gennets.optimizer.step"] = Text(optimizer.StepCount);
        meta["gennets.optimizer.learning_rate"] = optimizer.LearningRate.ToString("R", CultureInfo.InvariantCulture);

        var parameters = network.Parameters.ToArray();
        var tensors = new List<(string Name, int[] Shape, ReadOnlyMemory<float> Data)>();
        foreach (var t in network.ParameterTensors) tensors.Add(("model." + t.Name, t.Shape, parameters.AsMemory(t.Offset, t.Length)));
        foreach (var (name, values) in state) tensors.Add(("optimizer." + name, [values.Length], values.ToArray()));
        foreach (var (name, values) in extra) tensors.Add((name, [values.Length], values));
        SafeTensors.Write(path, tensors, meta);
    }

    // beforeCommit sees the metadata and the file's other tensors once everything is read and checked, before anything
    // changes; it may throw to refuse the file.
    internal static IReadOnlyDictionary<string, string> Load(string path, INetwork network, Optimizer optimizer,
        Action<IReadOnlyDictionary<string, string>, IReadOnlyDictionary<string, float[]>>? beforeCommit)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(optimizer);
        using var file = SafeTensors.Read(path);
        var meta = file.Metadata;
        string Need(string key) => meta.TryGetValue(key, out var v) ? v : throw Bad(path, $"its metadata has no '{key}'");
        if (Need("gennets.format") != Format) throw Bad(path, $"it is a '{meta["gennets.format"]}', not a '{Format}'");
        int count = network.ParameterCount;
        if (Need("gennets.parameters") != Text(count))
            throw Bad(path, $"it holds {Need("gennets.parameters")} parameters of a {Need("gennets.network")}, and this {network.GetType().Name} has {count}");
        if (Need("gennets.optimizer") != optimizer.GetType().Name)
            throw Bad(path, $"it holds the state of {Need("gennets.optimizer")}, not of {optimizer.GetType().Name}");
        long trainingSteps = Long(path, Need("gennets.training_steps"), "gennets.training_steps");
        long optimizerSteps = Long(path, Need("gennets.optimizer.step"), "gennets.optimizer.step");
        if (!ulong.TryParse(Need("gennets.dropout_seed"), NumberStyles.None, CultureInfo.InvariantCulture, out ulong dropoutSeed))
            throw Bad(path, $"its 'gennets.dropout_seed' is '{meta["gennets.dropout_seed"]}', not a whole number");
        if (!float.TryParse(Need("gennets.optimizer.learning_rate"), NumberStyles.Float, CultureInfo.InvariantCulture, out float learningRate) || !(learningRate > 0) || !float.IsFinite(learningRate))
            throw Bad(path, $"its learning rate '{meta["gennets.optimizer.learning_rate"]}' is not a positive finite number");

        // Everything is read into copies first; only then does anything change.
        var parameters = network.Parameters.ToArray();
        var problems = new List<string>();
        foreach (var t in network.ParameterTensors)
            if (!file.TryGet("model." + t.Name, out var found)) problems.Add($"tensor 'model.{t.Name}' is missing");
            else if (!found.Shape.AsSpan().SequenceEqual(t.Shape)) problems.Add($"tensor 'model.{t.Name}' has shape {ParameterTensor.FormatShape(found.Shape)}, expected {t.ShapeText}");
            else file.ReadAsFloat(found, parameters.AsSpan(t.Offset, t.Length));
        var state = optimizer.CheckpointState(count);
        var staged = new List<(float[] Into, float[] Values)>();
        foreach (var (name, values) in state)
            if (!file.TryGet("optimizer." + name, out var found)) problems.Add($"tensor 'optimizer.{name}' is missing");
            else if (found.Shape is not [var n] || n != values.Length) problems.Add($"tensor 'optimizer.{name}' has shape {ParameterTensor.FormatShape(found.Shape)}, expected [{values.Length}]");
            else
            {
                var copy = new float[values.Length];
                file.ReadAsFloat(found, copy);
                staged.Add((values, copy));
            }
        foreach (var t in file.Tensors)
            if (t.Name.StartsWith("optimizer.", StringComparison.Ordinal) && !state.Any(b => "optimizer." + b.Name == t.Name))
                problems.Add($"it holds '{t.Name}', which this {optimizer.GetType().Name} does not keep (another momentum, or another kind of optimizer?)");
        if (problems.Count > 0) throw Bad(path, string.Join("; ", problems));
        var extra = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var t in file.Tensors)
            if (!t.Name.StartsWith("model.", StringComparison.Ordinal) && !t.Name.StartsWith("optimizer.", StringComparison.Ordinal) && t.Shape is [int length])
            {
                var values = new float[length];
                file.ReadAsFloat(t, values);
                extra[t.Name] = values;
            }
        beforeCommit?.Invoke(meta, extra);

        parameters.CopyTo(network.Parameters);
        network.TrainingSteps = trainingSteps;
        network.DropoutSeed = dropoutSeed;
        foreach (var (into, values) in staged) values.CopyTo(into, 0);
        optimizer.RestoreCounters(optimizerSteps, learningRate);
        return meta;
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static long Long(string path, string text, string key)
        => long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : throw Bad(path, $"its '{key}' is '{text}', not a whole number");

    private static InvalidDataException Bad(string path, string what) => new($"checkpoint '{path}' cannot be restored; nothing was changed: {what}.");
}
