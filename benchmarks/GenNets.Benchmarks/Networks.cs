using GenNets;

namespace GenNets.Benchmarks;

/// <summary>The sample's MLP (PEERS.md's "MLP"): 784-256-128-10, ReLU.</summary>
[Input(784)]
[Dense(256, Activation.ReLU)]
[Dense(128, Activation.ReLU)]
[Dense(10)]
[Loss(LossKind.SoftmaxCrossEntropy)]
public partial class BenchMlp { }
