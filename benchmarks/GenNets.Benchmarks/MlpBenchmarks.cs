using System;
using System.Linq;
using BenchmarkDotNet.Attributes;
using GenNets.Training;

namespace GenNets.Benchmarks;

/// <summary>Single-sample inference and a batch-64 training step (forward, loss, backward, SGD) of the MLP on one thread, GenNets beside a straightforward C# implementation.</summary>
[MemoryDiagnoser]
public class MlpBenchmarks // filter: *Naive* or *MlpBenchmarks*
{
    public const int Batch = 64;
    private BenchMlp _net = null!;
    private NaiveMlp _naive = null!;
    private Sgd _sgd = null!;
    private float[] _x = null!, _one = null!, _out = null!;
    private int[] _labels = null!;

    [GlobalSetup]
    public void Setup()
    {
        _net = new BenchMlp(seed: 1) { Threads = 1 };
        _naive = new NaiveMlp(_net);
        _sgd = new Sgd(1e-3f) { Threads = 1 };
        var r = new SeededRandom(2);
        _x = Enumerable.Range(0, Batch * 784).Select(_ => (float)r.NextDouble()).ToArray();
        _labels = Enumerable.Range(0, Batch).Select(i => i % 10).ToArray();
        _one = _x.AsSpan(0, 784).ToArray();
        _out = new float[10];
        _net.Reserve(Batch);
    }

    [Benchmark]
    public float GenNetsInference()
    {
        _net.Forward(_one, _out);
        return _out[0];
    }

    [Benchmark]
    public float NaiveInference()
    {
        _naive.Forward(_one, _out);
        return _out[0];
    }

    [Benchmark]
    public float GenNetsTrainStep() => _net.TrainStep(_x, _labels, Batch, _sgd);

    [Benchmark]
    public void NaiveTrainStep() => _naive.TrainStep(_x, _labels, Batch, 1e-3f);
}
