using System;
using System.Linq;
using GenNets.Onnx;
using GenNets.Training;
using Microsoft.ML.OnnxRuntime;

namespace GenNets.Benchmarks;

/// <summary>
/// One network measured both ways on the same weights and inputs: GenNets directly, and ONNX Runtime on
/// the model GenNets exports. Nothing here allocates per call: ONNX Runtime runs through an I/O binding
/// over pinned arrays.
/// </summary>
public sealed class Workload : IDisposable
{
    public const int Batch = 64;
    private readonly INetwork _net;
    private readonly Sgd _sgd = new(1e-4f);
    private readonly float[] _one, _many, _outOne, _outMany;
    private readonly int[] _labels;
    private readonly float[] _values;
    private readonly InferenceSession _session;
    private readonly RunOptions _run = new();
    private readonly OrtIoBinding _bindOne, _bindMany;
    private readonly OrtValue[] _ortValues;

    public Workload(string name, INetwork network, int threads)
    {
        Name = name;
        Threads = threads;
        _net = network;
        network.Threads = threads;
        _sgd.Threads = threads;
        var random = new SeededRandom(7);
        _many = Enumerable.Range(0, Batch * network.InputSize).Select(_ => (float)random.NextDouble()).ToArray();
        _one = _many.AsSpan(0, network.InputSize).ToArray();
        _outOne = new float[network.OutputSize];
        _outMany = new float[Batch * network.OutputSize];
        _labels = Enumerable.Range(0, Batch).Select(i => i % Math.Max(2, network.OutputSize)).ToArray();
        _values = Enumerable.Range(0, Batch * network.OutputSize).Select(_ => (float)random.NextDouble()).ToArray();
        network.Reserve(Batch);
        ForwardFlops = network.ForwardFlopsPerSample;

        var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        _session = new InferenceSession(network.ToOnnx(), options);
        long[] inShape(int batch) => [batch, .. network.Layers[0].InputShape.Select(d => (long)d)];
        long[] outShape(int batch) => [batch, .. network.Layers[^1].OutputShape.Select(d => (long)d)];
        _ortValues =
        [
            OrtValue.CreateTensorValueFromMemory(_one, inShape(1)),
            OrtValue.CreateTensorValueFromMemory(_outOne, outShape(1)),
            OrtValue.CreateTensorValueFromMemory(_many, inShape(Batch)),
            OrtValue.CreateTensorValueFromMemory(_outMany, outShape(Batch)),
        ];
        _bindOne = _session.CreateIoBinding();
        _bindOne.BindInput("input", _ortValues[0]);
        _bindOne.BindOutput("output", _ortValues[1]);
        _bindMany = _session.CreateIoBinding();
        _bindMany.BindInput("input", _ortValues[2]);
        _bindMany.BindOutput("output", _ortValues[3]);
        CheckAgreement();
    }

    public string Name { get; }
    public int Threads { get; }
    public long ForwardFlops { get; }

    public void GenNetsSingle() => _net.Forward(_one, _outOne);
    public void GenNetsBatch() => _net.Forward(_many, _outMany, Batch);
    public void GenNetsTrain()
    {
        if (_net.Loss == LossKind.SoftmaxCrossEntropy) _net.TrainStep(_many, _labels, Batch, _sgd);
        else _net.TrainStep(_many, _values, Batch, _sgd);
    }
    public void OrtSingle() => _session.RunWithBinding(_run, _bindOne);
    public void OrtBatch() => _session.RunWithBinding(_run, _bindMany);

    // The two engines must compute the same function before their times mean anything.
    private void CheckAgreement()
    {
        var expected = new float[_outMany.Length];
        _net.Forward(_many, expected, Batch);
        OrtBatch();
        double scale = expected.Max(v => Math.Abs(v)), worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - _outMany[i]) / scale);
        if (worst > 1e-5) throw new InvalidOperationException($"{Name}: ONNX Runtime and GenNets disagree (largest difference {worst:E2} of the largest output).");
    }

    public void Dispose()
    {
        _bindOne.Dispose();
        _bindMany.Dispose();
        foreach (var v in _ortValues) v.Dispose();
        _session.Dispose();
        _run.Dispose();
    }
}
