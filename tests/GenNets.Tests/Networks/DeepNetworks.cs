using GenNets;

namespace GenNets.Tests.Networks;

// Residual networks, normalisation, and deep stacks: shared with the ONNX tests, which compile this file too.

// ---- Residual networks ----

// Two dense layers whose input comes back after them: the identity skip of a residual block.
[Block]
[Dense(8, Activation.ReLU, Name = "fc1")]
[Dense(8, Name = "fc2")]
public partial class DenseBlock { }

// A block that changes the width, 8 → 5: its skip is a dense projection.
[Block]
[Dense(5, Activation.Tanh)]
public partial class NarrowingBlock { }

// Identity skips (repeated twice), a projection, and a residual whose skip starts at the network's input.
[Input(8)]
[Residual(typeof(DenseBlock), Activation = Activation.ReLU, Name = "layer1")]
[Dropout(0.2f)]
[Residual(typeof(DenseBlock), Activation = Activation.GELU, Repeat = 2, Name = "layer2")]
[Residual(typeof(NarrowingBlock))]
[Dense(3)]
public partial class ResidualMlp { }

// ResNet's basic block: two 3×3 convolutions, the input added back before the ReLU.
[Block]
[Conv2D(4, 3, Padding = 1, Activation = Activation.ReLU, Name = "conv1")]
[Conv2D(4, 3, Padding = 1, Name = "conv2")]
public partial class BasicBlock { }

// The first block of a stage: stride 2 and more channels, so the skip is a 1×1 convolution with stride 2.
[Block]
[Conv2D(6, 3, Stride = 2, Padding = 1, Activation = Activation.ReLU, Name = "conv1")]
[Conv2D(6, 3, Padding = 1, Name = "conv2")]
public partial class DownBlock { }

// A block of blocks: a basic block, then a convolution under a max pooling (taken in one pass), the whole skipped.
[Block]
[Residual(typeof(BasicBlock), Activation = Activation.ReLU)]
[Conv2D(4, 3, Padding = 1, Activation = Activation.ReLU)]
[MaxPool2D(2)]
public partial class PoolingBlock { }

[Input(2, 8, 8)]
[Conv2D(4, 3, Padding = 1, Activation = Activation.ReLU, Name = "conv1")]
[Residual(typeof(BasicBlock), Activation = Activation.ReLU, Name = "layer1")]
[Residual(typeof(DownBlock), Activation = Activation.ReLU, Name = "layer2")]
[Residual(typeof(PoolingBlock), Activation = Activation.Tanh, Name = "layer3")]
[GlobalAvgPool]
[Dense(3)]
public partial class ResidualCnn { }

// ResNet's basic block at a width Winograd takes (8 or more channels in, 16 out, 14×14 or more positions): its
// convolutions' forward and backward passes, and the sums and ReLU gradients they take as they write, run the
// Winograd kernels wherever 256-bit vectors are accelerated.
[Block]
[Conv2D(16, 3, Padding = 1, Activation = Activation.ReLU, Name = "conv1")]
[Conv2D(16, 3, Padding = 1, Name = "conv2")]
public partial class WideBasicBlock { }

[Input(1, 14, 14)]
[Conv2D(16, 3, Padding = 1, Activation = Activation.ReLU, Name = "stem")]
[Residual(typeof(WideBasicBlock), Activation = Activation.ReLU, Repeat = 2, Name = "layer1")]
[GlobalAvgPool]
[Dense(3)]
public partial class WinogradResNet { }

// A pre-LN block as transformers have it: LayerNorm, then dense layers per position, the input added back; and a
// LayerNorm straight on the network's input and on its output.
[Block]
[LayerNorm(Name = "norm")]
[Dense(6, Activation.GELU, Name = "fc1")]
[Dense(5, Name = "fc2")]
public partial class PreNormBlock { }

[Input(3, 5)]
[LayerNorm]
[Residual(typeof(PreNormBlock), Repeat = 2, Name = "blocks")]
[LayerNorm(Name = "final")]
[Dense(4)]
public partial class NormedSequence { }

// ---- Batch normalisation ----

// ResNet's basic block as torchvision has it: each convolution followed by a batch normalisation.
[Block]
[Conv2D(4, 3, Padding = 1, Name = "conv1")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn1")]
[Conv2D(4, 3, Padding = 1, Name = "conv2")]
[BatchNorm(Name = "bn2")]
public partial class NormedBlock { }

// Batch normalisations folded into a convolution and a dense layer in inference, inside a residual block, after a
// pooling (not folded), and on a vector; a stride-2 block whose skip is projected.
[Input(2, 8, 8)]
[Conv2D(4, 3, Padding = 1, Name = "conv1")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn1")]
[Residual(typeof(NormedBlock), Activation = Activation.ReLU, Name = "layer1")]
[MaxPool2D(2)]
[BatchNorm(Activation = Activation.Tanh)]
[GlobalAvgPool]
[Dense(6)]
[BatchNorm(Activation = Activation.GELU)]
[Dense(3)]
public partial class NormedCnn { }

[Block]
[Conv2D(8, 3, Padding = 1, Name = "conv1")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn1")]
[Conv2D(8, 3, Padding = 1, Name = "conv2")]
[BatchNorm(Name = "bn2")]
public partial class WideNormedBlock { }

// Enough work per sample (about 0.6 MFLOP) that a batch of 64 is cut into two chunks: the whole batch's statistics
// must then be combined across them.
[Input(1, 16, 16)]
[Conv2D(8, 3, Padding = 1, Name = "conv1")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn1")]
[Residual(typeof(WideNormedBlock), Activation = Activation.ReLU, Name = "layer1")]
[GlobalAvgPool]
[Dense(3, Name = "fc")]
public partial class NormedResNet { }

// A block's layers in place, twice, with no skip: the plain counterpart of a residual stack.
[Input(8)]
[Sequential(typeof(DenseBlock), Repeat = 2, Name = "stack")]
[Dense(2)]
[Loss(LossKind.MeanSquaredError)]
public partial class PlainStack { }

// ---- Fifty layers, with and without skips ----

// Sigmoid units, whose derivative is at most 1/4: a chain of them is where gradients vanish.
[Block]
[Dense(16, Activation.Sigmoid)]
public partial class SigmoidUnit { }

[Input(16)]
[Sequential(typeof(SigmoidUnit), Repeat = 50)]
[Dense(4)]
[Loss(LossKind.MeanSquaredError)]
public partial class PlainFifty { }

[Input(16)]
[Residual(typeof(SigmoidUnit), Repeat = 50)]
[Dense(4)]
[Loss(LossKind.MeanSquaredError)]
public partial class ResidualFifty { }
