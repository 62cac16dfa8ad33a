using GenNets;

namespace CnnVsMlpSample;

/// <summary>The main sample's multilayer perceptron: 784-256-128-10 with ReLU and a little dropout.</summary>
[Input(784)]
[Dense(256, Activation.ReLU)]
[Dense(128, Activation.ReLU)]
[Dropout(0.1f)]
[Dense(10)]
public partial class Mlp { }

/// <summary>
/// A small convolutional network: two 3×3 convolutions (32 and 64 filters, "same" padding) each followed by
/// 2×2 max pooling, then a dense layer of 128 and the 10 classes. The same 784 floats per image, read as (1, 28, 28).
/// </summary>
[Input(1, 28, 28)]
[Conv2D(32, 3, Padding = 1, Activation = Activation.ReLU)]
[MaxPool2D(2)]
[Conv2D(64, 3, Padding = 1, Activation = Activation.ReLU)]
[MaxPool2D(2)]
[Flatten]
[Dropout(0.25f)]
[Dense(128, Activation.ReLU)]
[Dropout(0.25f)]
[Dense(10)]
public partial class Cnn { }
