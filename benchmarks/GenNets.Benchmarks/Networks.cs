using GenNets;

namespace GenNets.Benchmarks;

/// <summary>The sample's MLP (PEERS.md's "MLP"): 784-256-128-10, ReLU.</summary>
[Input(784)]
[Dense(256, Activation.ReLU)]
[Dense(128, Activation.ReLU)]
[Dense(10)]
[Loss(LossKind.SoftmaxCrossEntropy)]
public partial class BenchMlp { }

/// <summary>PEERS.md's "CNN": conv 8 3×3 p1 + ReLU + maxpool 2; conv 16 3×3 p1 + ReLU + maxpool 2; dense 784→10.</summary>
[Input(1, 28, 28)]
[Conv2D(8, 3, Padding = 1, Activation = Activation.ReLU)]
[MaxPool2D(2)]
[Conv2D(16, 3, Padding = 1, Activation = Activation.ReLU)]
[MaxPool2D(2)]
[Flatten]
[Dense(10)]
public partial class BenchCnn { }

/// <summary>The CNN of the CNN-versus-MLP sample: conv 32 – pool – conv 64 – pool – dense 128 – dense 10.</summary>
[Input(1, 28, 28)]
[Conv2D(32, 3, Padding = 1, Activation = Activation.ReLU)]
[MaxPool2D(2)]
[Conv2D(64, 3, Padding = 1, Activation = Activation.ReLU)]
[MaxPool2D(2)]
[Flatten]
[Dense(128, Activation.ReLU)]
[Dense(10)]
public partial class BenchCnnWide { }

/// <summary>PEERS.md's recurrent networks: input 8, hidden 64, 50 steps, the last state into Dense(1).</summary>
[Input(50, 8)]
[LSTM(64)]
[Dense(1)]
[Loss(LossKind.MeanSquaredError)]
public partial class BenchLstm { }

/// <summary>As <see cref="BenchLstm"/>, with a GRU.</summary>
[Input(50, 8)]
[GRU(64)]
[Dense(1)]
[Loss(LossKind.MeanSquaredError)]
public partial class BenchGru { }

/// <summary>As <see cref="BenchLstm"/>, with a plain RNN.</summary>
[Input(50, 8)]
[SimpleRNN(64)]
[Dense(1)]
[Loss(LossKind.MeanSquaredError)]
public partial class BenchRnn { }

/// <summary>ResNet's basic block without normalisation, as PEERS.md's ResNet-mini has it: conv–ReLU–conv at 16×28×28.</summary>
[Block]
[Conv2D(16, 3, Padding = 1, Activation = Activation.ReLU, Name = "conv1")]
[Conv2D(16, 3, Padding = 1, Name = "conv2")]
public partial class BenchBasicBlock { }

/// <summary>PEERS.md's "ResNet-mini": conv 16 3×3 + ReLU; two basic blocks with identity skips and ReLU after the sum; global average pool; dense 10.</summary>
[Input(1, 28, 28)]
[Conv2D(16, 3, Padding = 1, Activation = Activation.ReLU, Name = "stem")]
[Residual(typeof(BenchBasicBlock), Activation = Activation.ReLU, Repeat = 2, Name = "block")]
[GlobalAvgPool]
[Dense(10, Name = "fc")]
public partial class BenchResNetMini { }

/// <summary>The pre-LN attention sublayer of PEERS.md's Transformer: LayerNorm, then 4-head self-attention (its qkv and proj).</summary>
[Block]
[LayerNorm(Name = "ln1")]
[SelfAttention(4, Name = "attn")]
public partial class BenchAttentionBlock { }

/// <summary>The pre-LN feed-forward sublayer of PEERS.md's Transformer: LayerNorm, Dense 256 GELU, Dense 64.</summary>
[Block]
[LayerNorm(Name = "ln2")]
[Dense(256, Activation.GELU, Name = "ff1")]
[Dense(64, Name = "ff2")]
public partial class BenchFeedForwardBlock { }

/// <summary>PEERS.md's "Transformer": input [32, 64], one pre-LN encoder layer (4 heads, feed-forward 256 GELU), mean pooling over the positions, dense 10.</summary>
[Input(32, 64)]
[Residual(typeof(BenchAttentionBlock), Name = "sa")]
[Residual(typeof(BenchFeedForwardBlock), Name = "ff")]
[GlobalAvgPool]
[Dense(10, Name = "fc")]
public partial class BenchTransformer { }
