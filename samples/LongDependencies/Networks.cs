using GenNets;

namespace LongDependenciesSample;

// One network per cell and sequence length: the length is part of the declaration, so every loop
// bound in the generated code is a constant. Each reads (value, marker) pairs and predicts the sum of
// the two marked values from its last hidden state. 32 units each; the LSTM's forget gates start open
// (bias 1, as Keras does by default), the usual start for long dependencies.

[Input(10, 2)]
[SimpleRNN(32)]
[Dense(1)]
[Loss(LossKind.MeanSquaredError)]
public partial class SimpleRNN10 { }

[Input(25, 2)]
[SimpleRNN(32)]
[Dense(1)]
[Loss(LossKind.MeanSquaredError)]
public partial class SimpleRNN25 { }

[Input(50, 2)]
[SimpleRNN(32)]
[Dense(1)]
[Loss(LossKind.MeanSquaredError)]
public partial class SimpleRNN50 { }

[Input(100, 2)]
[SimpleRNN(32)]
[Dense(1)]
[Loss(LossKind.MeanSquaredError)]
public partial class SimpleRNN100 { }

#pragma warning disable GN0030 // the point of the experiment: a plain RNN over a long sequence
[Input(200, 2)]
[SimpleRNN(32)]
[Dense(1)]
[Loss(LossKind.MeanSquaredError)]
public partial class SimpleRNN200 { }
#pragma warning restore GN0030

[Input(10, 2)]
[LSTM(32, ForgetBias = 1f)]
[Dense(1)]
[Loss(LossKind.MeanSquaredError)]
public partial class LSTM10 { }

[Input(25, 2)]
[LSTM(32, ForgetBias = 1f)]
[Dense(1)]
[Loss(LossKind.MeanSquaredError)]
public partial class LSTM25 { }

[Input(50, 2)]
[LSTM(32, ForgetBias = 1f)]
[Dense(1)]
[Loss(LossKind.MeanSquaredError)]
public partial class LSTM50 { }

[Input(100, 2)]
[LSTM(32, ForgetBias = 1f)]
[Dense(1)]
[Loss(LossKind.MeanSquaredError)]
public partial class LSTM100 { }

[Input(200, 2)]
[LSTM(32, ForgetBias = 1f)]
[Dense(1)]
[Loss(LossKind.MeanSquaredError)]
public partial class LSTM200 { }

[Input(10, 2)]
[GRU(32)]
[Dense(1)]
[Loss(LossKind.MeanSquaredError)]
public partial class GRU10 { }

[Input(25, 2)]
[GRU(32)]
[Dense(1)]
[Loss(LossKind.MeanSquaredError)]
public partial class GRU25 { }

[Input(50, 2)]
[GRU(32)]
[Dense(1)]
[Loss(LossKind.MeanSquaredError)]
public partial class GRU50 { }

[Input(100, 2)]
[GRU(32)]
[Dense(1)]
[Loss(LossKind.MeanSquaredError)]
public partial class GRU100 { }

[Input(200, 2)]
[GRU(32)]
[Dense(1)]
[Loss(LossKind.MeanSquaredError)]
public partial class GRU200 { }

/// <summary>The networks by cell and length.</summary>
public static class Networks
{
    public static readonly string[] Cells = ["SimpleRNN", "LSTM", "GRU"];
    public static readonly int[] Lengths = [10, 25, 50, 100, 200];

    public static INetwork Create(string cell, int length, int seed) => (cell, length) switch
    {
        ("SimpleRNN", 10) => new SimpleRNN10(seed),
        ("SimpleRNN", 25) => new SimpleRNN25(seed),
        ("SimpleRNN", 50) => new SimpleRNN50(seed),
        ("SimpleRNN", 100) => new SimpleRNN100(seed),
        ("SimpleRNN", 200) => new SimpleRNN200(seed),
        ("LSTM", 10) => new LSTM10(seed),
        ("LSTM", 25) => new LSTM25(seed),
        ("LSTM", 50) => new LSTM50(seed),
        ("LSTM", 100) => new LSTM100(seed),
        ("LSTM", 200) => new LSTM200(seed),
        ("GRU", 10) => new GRU10(seed),
        ("GRU", 25) => new GRU25(seed),
        ("GRU", 50) => new GRU50(seed),
        ("GRU", 100) => new GRU100(seed),
        ("GRU", 200) => new GRU200(seed),
        _ => throw new System.ArgumentException($"No {cell} network over {length} steps; lengths: {string.Join(", ", Lengths)}."),
    };
}
