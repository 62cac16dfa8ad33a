using GenNets;

namespace FashionMnistSample;

/// <summary>The sample's network: 784 pixels → 256 → 128 → 10 classes, as in the Fashion-MNIST benchmark's MLPs.</summary>
[Input(784)]
[Dense(256, Activation.ReLU)]
[Dense(128, Activation.ReLU)]
[Dropout(0.1f)]
[Dense(10)]
[Loss(LossKind.SoftmaxCrossEntropy)]
public partial class FashionMlp { }
