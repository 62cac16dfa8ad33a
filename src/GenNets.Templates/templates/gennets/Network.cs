using GenNets;

namespace GenNetsApp;

// The network, declared with attributes: at build time GenNets generates its Forward, TrainStep, Save and Load,
// with every shape a constant. Change a layer and rebuild; a mistake (say [Dense(0)]) is reported with a GN
// diagnostic on the line at fault.
//   2 inputs (x, y) -> 16 -> 16 -> 2 classes (outside or inside the circle)
[Input(2)]
[Dense(16, Activation.ReLU)]
[Dense(16, Activation.ReLU)]
[Dense(2)]
[Loss(LossKind.SoftmaxCrossEntropy)]
public partial class Classifier { }
