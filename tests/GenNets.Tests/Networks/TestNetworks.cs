using GenNets;

namespace GenNets.Tests.Networks;

// Networks compiled by the GenNets generator exactly as a user's would be. Each exercises a
// different mix of activations, losses and shapes; the tests compare them with the double-precision
// reference and with finite differences.

[Input(784)]
[Dense(256, Activation.ReLU)]
[Dense(128, Activation.ReLU)]
[Dropout(0.1f)]
[Dense(10)]
[Loss(LossKind.SoftmaxCrossEntropy)]
public partial class FashionMlp { }

[Input(2)]
[Dense(8, Activation.Tanh)]
[Dense(1)]
[Loss(LossKind.BinaryCrossEntropyWithLogits)]
public partial class XorNet { }

[Input(5)]
[Dense(7, Activation.GELU)]
[Dropout(0.3f)]
[Dense(6, Activation.LeakyReLU, Init = Initializer.HeNormal)]
[Dense(4, Activation.Sigmoid, Init = Initializer.GlorotNormal)]
[Dense(3, Activation.Softmax)]
[Loss(LossKind.MeanSquaredError)]
public partial class EveryActivation { }

[Input(9)]
[Dense(11, Activation.Tanh, Name = "encoder")]
[Dense(3, Name = "head")]
[Loss(LossKind.BinaryCrossEntropyWithLogits)]
public partial class MultiLabel { }

[Input(13)]
[Dense(17, Activation.ReLU)]
[Dense(2, Activation.Identity)]
[Loss(LossKind.MeanSquaredError)]
public partial class Regressor { }

// Dense acts on the last axis, per position: (4 positions, 6 features) -> (4, 5) -> (4, 3).
[Input(4, 6)]
[Dense(5, Activation.Sigmoid)]
[Dense(3)]
[Loss(LossKind.SoftmaxCrossEntropy)]
public partial class PerPosition { }

// Dropout first, and a network with no hidden layer at all.
[Input(6)]
[Dropout(0.5f)]
[Dense(4)]
public partial class DropoutFirst { }

// Convolution and pooling: a padded 3×3 convolution, max pooling with an odd input (a row and column dropped),
// a strided rectangular convolution with GELU, average pooling, Flatten, and a dense head. The dropped rows are meant.
#pragma warning disable GN0022
[Input(2, 9, 8)]
[Conv2D(5, 3, Padding = 1, Activation = Activation.ReLU)]
[MaxPool2D(2)]
[Conv2D(7, 2, 3, Stride = 1, Padding = 1, Activation = Activation.GELU, Name = "conv2")]
[AvgPool2D(2)]
[Flatten]
[Dense(6, Activation.Tanh)]
[Dense(3)]
public partial class SmallCnn { }
#pragma warning restore GN0022

// "Same" padding with an even kernel, a stride, global average pooling, dropout, and a 1×1 convolution.
[Input(3, 7, 7)]
[Conv2D(4, 4, Padding = Conv2DAttribute.Same, Activation = Activation.LeakyReLU)]
[Conv2D(6, 3, Stride = 2, Activation = Activation.Sigmoid)]
[Conv2D(5, 1)]
[Dropout(0.25f)]
[GlobalAvgPool]
[Dense(2)]
[Loss(LossKind.MeanSquaredError)]
public partial class PooledCnn { }

// The CNN of the benchmarks: conv 8 – pool – conv 16 – pool – dense 10 on 28×28.
[Input(1, 28, 28)]
[Conv2D(8, 3, Padding = 1, Activation = Activation.ReLU)]
[MaxPool2D(2)]
[Conv2D(16, 3, Padding = 1, Activation = Activation.ReLU)]
[MaxPool2D(2)]
[Flatten]
[Dense(10)]
public partial class FashionCnn { }

// A convolution with more padding than its kernel less one (a 1×3 kernel, padding 1) under a max pooling: its input
// gradient is folded back, and is larger than the pooled gradient it shares a buffer with. No ReLU: its rows read
// only padding, so they are the bias, and a zero bias would sit on ReLU's kink, where finite differences disagree.
[Input(2, 6, 6)]
[Conv2D(4, 3, Padding = Conv2DAttribute.Same)]
[Conv2D(6, 1, 3, Padding = 1)]
[MaxPool2D(2)]
[Flatten]
[Dense(3)]
public partial class FoldedPooledCnn { }

// Stacked recurrent layers: an LSTM's every state, through dropout, into a GRU whose last state feeds a dense layer.
[Input(6, 3)]
[LSTM(5, ReturnSequences = true)]
[Dropout(0.2f)]
[GRU(4)]
[Dense(2)]
[Loss(LossKind.MeanSquaredError)]
public partial class StackedRecurrent { }

// A sequence tagger: a plain RNN's every state, classified per step by a dense layer.
[Input(5, 2)]
[SimpleRNN(4, ReturnSequences = true, Name = "rnn")]
[Dense(3)]
public partial class SequenceTagger { }

// The recurrent networks of the benchmarks: input 8, hidden 64, 50 steps, last state to Dense(1).
[Input(50, 8)]
[LSTM(64)]
[Dense(1)]
[Loss(LossKind.MeanSquaredError)]
public partial class BenchLstm { }

// The same layers over 9 and over 4 steps: a padded sequence must give exactly the unpadded result.
[Input(9, 3)]
[GRU(5, ReturnSequences = true)]
[Dense(2)]
[Loss(LossKind.MeanSquaredError)]
public partial class TaggerNine { }

[Input(4, 3)]
[GRU(5, ReturnSequences = true)]
[Dense(2)]
[Loss(LossKind.MeanSquaredError)]
public partial class TaggerFour { }

[Input(9, 3)]
[LSTM(5)]
[Dense(2)]
[Loss(LossKind.MeanSquaredError)]
public partial class LastNine { }

[Input(4, 3)]
[LSTM(5)]
[Dense(2)]
[Loss(LossKind.MeanSquaredError)]
public partial class LastFour { }

// An LSTM whose forget gates start open.
[Input(3, 2)]
[LSTM(4, ForgetBias = 1f)]
[Dense(1)]
[Loss(LossKind.MeanSquaredError)]
public partial class OpenForget { }

public static partial class Outer
{
    public static partial class Nested
    {
        [Input(3)]
        [Dense(2)]
        [Loss(LossKind.MeanSquaredError)]
        public partial class InnerNet { }
    }
}

// One weight and one bias: an input of 1.5e19 with weight 1 gives a finite loss (2.25e38) but an infinite weight gradient.
[Input(1)]
[Dense(1)]
[Loss(LossKind.MeanSquaredError)]
public partial class OneWeight { }
