using GenNets;

namespace DeepResidualSample;

// The ResNet paper's networks for CIFAR-10 (He et al., 2016, section 4.2), on 28×28 Fashion-MNIST images and narrower:
// a 3×3 convolution, then three stages of n blocks of two 3×3 convolutions each, at 8, 16 and 32 channels on maps of
// 28×28, 14×14 and 7×7 (the first convolution of stages 2 and 3 has stride 2), a global average pool and a dense layer
// of 10: 6n + 2 layers with weights. Every convolution is followed by a batch normalisation (and has no activation of its
// own, so that inference folds the normalisation into it). The plain networks and the residual ones have the same
// layers; the residual ones add each block's input to its output before the block's last ReLU, through a 1×1
// convolution of stride 2 (the paper's option B) where a block halves the map and doubles the channels.

// ---- Residual blocks: conv–BN–ReLU–conv–BN, the input added, then ReLU (in the [Residual] that uses them) ----

[Block]
[Conv2D(8, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv1")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn1")]
[Conv2D(8, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv2")]
[BatchNorm(Name = "bn2")]
public partial class Residual8 { }

[Block]
[Conv2D(16, 3, Stride = 2, Padding = 1, Init = Initializer.HeNormal, Name = "conv1")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn1")]
[Conv2D(16, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv2")]
[BatchNorm(Name = "bn2")]
public partial class Residual16Down { }

[Block]
[Conv2D(16, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv1")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn1")]
[Conv2D(16, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv2")]
[BatchNorm(Name = "bn2")]
public partial class Residual16 { }

[Block]
[Conv2D(32, 3, Stride = 2, Padding = 1, Init = Initializer.HeNormal, Name = "conv1")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn1")]
[Conv2D(32, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv2")]
[BatchNorm(Name = "bn2")]
public partial class Residual32Down { }

[Block]
[Conv2D(32, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv1")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn1")]
[Conv2D(32, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv2")]
[BatchNorm(Name = "bn2")]
public partial class Residual32 { }

// ---- Plain blocks: the same layers, conv–BN–ReLU–conv–BN–ReLU, nothing added ----

[Block]
[Conv2D(8, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv1")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn1")]
[Conv2D(8, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv2")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn2")]
public partial class Plain8 { }

[Block]
[Conv2D(16, 3, Stride = 2, Padding = 1, Init = Initializer.HeNormal, Name = "conv1")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn1")]
[Conv2D(16, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv2")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn2")]
public partial class Plain16Down { }

[Block]
[Conv2D(16, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv1")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn1")]
[Conv2D(16, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv2")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn2")]
public partial class Plain16 { }

[Block]
[Conv2D(32, 3, Stride = 2, Padding = 1, Init = Initializer.HeNormal, Name = "conv1")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn1")]
[Conv2D(32, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv2")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn2")]
public partial class Plain32Down { }

[Block]
[Conv2D(32, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv1")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn1")]
[Conv2D(32, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv2")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn2")]
public partial class Plain32 { }

// ---- The six networks of part 1: n = 1, 3, 9 blocks per stage ----

/// <summary>Plain, n = 1: 8 layers.</summary>
[Input(1, 28, 28)]
[Conv2D(8, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv1")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn1")]
[Sequential(typeof(Plain8), Name = "layer1")]
[Sequential(typeof(Plain16Down), Name = "layer2")]
[Sequential(typeof(Plain32Down), Name = "layer3")]
[GlobalAvgPool]
[Dense(10, Name = "fc")]
public partial class Plain8Layers { }

/// <summary>Plain, n = 3: 20 layers.</summary>
[Input(1, 28, 28)]
[Conv2D(8, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv1")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn1")]
[Sequential(typeof(Plain8), Repeat = 3, Name = "layer1")]
[Sequential(typeof(Plain16Down), Name = "layer2")]
[Sequential(typeof(Plain16), Repeat = 2, Name = "layer2")]
[Sequential(typeof(Plain32Down), Name = "layer3")]
[Sequential(typeof(Plain32), Repeat = 2, Name = "layer3")]
[GlobalAvgPool]
[Dense(10, Name = "fc")]
public partial class Plain20Layers { }

/// <summary>Plain, n = 9: 56 layers.</summary>
[Input(1, 28, 28)]
[Conv2D(8, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv1")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn1")]
[Sequential(typeof(Plain8), Repeat = 9, Name = "layer1")]
[Sequential(typeof(Plain16Down), Name = "layer2")]
[Sequential(typeof(Plain16), Repeat = 8, Name = "layer2")]
[Sequential(typeof(Plain32Down), Name = "layer3")]
[Sequential(typeof(Plain32), Repeat = 8, Name = "layer3")]
[GlobalAvgPool]
[Dense(10, Name = "fc")]
public partial class Plain56Layers { }

/// <summary>Residual, n = 1: ResNet-8.</summary>
[Input(1, 28, 28)]
[Conv2D(8, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv1")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn1")]
[Residual(typeof(Residual8), Activation = Activation.ReLU, Name = "layer1")]
[Residual(typeof(Residual16Down), Activation = Activation.ReLU, Name = "layer2")]
[Residual(typeof(Residual32Down), Activation = Activation.ReLU, Name = "layer3")]
[GlobalAvgPool]
[Dense(10, Name = "fc")]
public partial class ResNet8 { }

/// <summary>Residual, n = 3: ResNet-20.</summary>
[Input(1, 28, 28)]
[Conv2D(8, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv1")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn1")]
[Residual(typeof(Residual8), Activation = Activation.ReLU, Repeat = 3, Name = "layer1")]
[Residual(typeof(Residual16Down), Activation = Activation.ReLU, Name = "layer2")]
[Residual(typeof(Residual16), Activation = Activation.ReLU, Repeat = 2, Name = "layer2")]
[Residual(typeof(Residual32Down), Activation = Activation.ReLU, Name = "layer3")]
[Residual(typeof(Residual32), Activation = Activation.ReLU, Repeat = 2, Name = "layer3")]
[GlobalAvgPool]
[Dense(10, Name = "fc")]
public partial class ResNet20 { }

/// <summary>Residual, n = 9: ResNet-56.</summary>
[Input(1, 28, 28)]
[Conv2D(8, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv1")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn1")]
[Residual(typeof(Residual8), Activation = Activation.ReLU, Repeat = 9, Name = "layer1")]
[Residual(typeof(Residual16Down), Activation = Activation.ReLU, Name = "layer2")]
[Residual(typeof(Residual16), Activation = Activation.ReLU, Repeat = 8, Name = "layer2")]
[Residual(typeof(Residual32Down), Activation = Activation.ReLU, Name = "layer3")]
[Residual(typeof(Residual32), Activation = Activation.ReLU, Repeat = 8, Name = "layer3")]
[GlobalAvgPool]
[Dense(10, Name = "fc")]
public partial class ResNet56 { }

// ---- Part 2: the paper's ResNet-20 for CIFAR-10 at its own width (16, 32, 64 channels), on 28×28 images ----

[Block]
[Conv2D(16, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv1")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn1")]
[Conv2D(16, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv2")]
[BatchNorm(Name = "bn2")]
public partial class Basic16 { }

[Block]
[Conv2D(32, 3, Stride = 2, Padding = 1, Init = Initializer.HeNormal, Name = "conv1")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn1")]
[Conv2D(32, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv2")]
[BatchNorm(Name = "bn2")]
public partial class Basic32Down { }

[Block]
[Conv2D(32, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv1")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn1")]
[Conv2D(32, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv2")]
[BatchNorm(Name = "bn2")]
public partial class Basic32 { }

[Block]
[Conv2D(64, 3, Stride = 2, Padding = 1, Init = Initializer.HeNormal, Name = "conv1")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn1")]
[Conv2D(64, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv2")]
[BatchNorm(Name = "bn2")]
public partial class Basic64Down { }

[Block]
[Conv2D(64, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv1")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn1")]
[Conv2D(64, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv2")]
[BatchNorm(Name = "bn2")]
public partial class Basic64 { }

/// <summary>ResNet-20: 16 channels on 28×28, 32 on 14×14, 64 on 7×7, three basic blocks per stage.</summary>
[Input(1, 28, 28)]
[Conv2D(16, 3, Padding = 1, Init = Initializer.HeNormal, Name = "conv1")]
[BatchNorm(Activation = Activation.ReLU, Name = "bn1")]
[Residual(typeof(Basic16), Activation = Activation.ReLU, Repeat = 3, Name = "layer1")]
[Residual(typeof(Basic32Down), Activation = Activation.ReLU, Name = "layer2")]
[Residual(typeof(Basic32), Activation = Activation.ReLU, Repeat = 2, Name = "layer2")]
[Residual(typeof(Basic64Down), Activation = Activation.ReLU, Name = "layer3")]
[Residual(typeof(Basic64), Activation = Activation.ReLU, Repeat = 2, Name = "layer3")]
[GlobalAvgPool]
[Dense(10, Name = "fc")]
public partial class FashionResNet { }
