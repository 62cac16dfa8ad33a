using System;
using BenchmarkDotNet.Attributes;

namespace GenNets.Benchmarks;

/// <summary>The networks under test, by name.</summary>
public static class Networks
{
    public static readonly string[] Names = ["MLP", "CNN", "CNN-32-64", "ResNet-mini", "Transformer", "LSTM", "GRU", "RNN"];

    public static INetwork Create(string name) => name switch
    {
        "MLP" => new BenchMlp(seed: 1),
        "CNN" => new BenchCnn(seed: 1),
        "CNN-32-64" => new BenchCnnWide(seed: 1),
        "ResNet-mini" => new BenchResNetMini(seed: 1),
        "Transformer" => new BenchTransformer(seed: 1),
        "LSTM" => new BenchLstm(seed: 1),
        "GRU" => new BenchGru(seed: 1),
        "RNN" => new BenchRnn(seed: 1),
        _ => throw new ArgumentException($"No benchmark network '{name}'. Known: {string.Join(", ", Names)}."),
    };
}

/// <summary>GenNets and ONNX Runtime side by side: one sample, a batch of 64, and (GenNets only) a training step of 64.</summary>
public class EngineBenchmarks
{
    private Workload _workload = null!;

    [ParamsSource(nameof(NetworkNames))]
    public string Network { get; set; } = "MLP";

    [Params(1, 2)]
    public int Threads { get; set; }

    // GENNETS_BENCH_NETWORKS=MLP,CNN limits a full run to some networks (the benchmark processes inherit it).
    public static string[] NetworkNames => Environment.GetEnvironmentVariable("GENNETS_BENCH_NETWORKS") is { Length: > 0 } names
        ? names.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
        : Networks.Names;

    [GlobalSetup]
    public void Setup() => _workload = new Workload(Network, Networks.Create(Network), Threads);

    [GlobalCleanup]
    public void Cleanup() => _workload.Dispose();

    [Benchmark] public void GenNetsSingle() => _workload.GenNetsSingle();
    [Benchmark] public void OrtSingle() => _workload.OrtSingle();
    [Benchmark] public void GenNetsBatch() => _workload.GenNetsBatch();
    [Benchmark] public void OrtBatch() => _workload.OrtBatch();
    [Benchmark] public void GenNetsTrain() => _workload.GenNetsTrain();
}
