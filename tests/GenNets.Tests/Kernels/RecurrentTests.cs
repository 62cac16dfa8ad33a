using System;
using System.Linq;
using GenNets.Kernels;
using Xunit;

namespace GenNets.Tests.Kernels;

/// <summary>
/// SimpleRNN, LSTM and GRU: the double-precision twin's backpropagation through time against central finite
/// differences, and the fast kernels against the twin.
/// </summary>
public class RecurrentTests
{
    // cell, steps, inputs, units, all steps?
    public static TheoryData<LayerKind, int, int, int, bool> Cases => new()
    {
        { LayerKind.SimpleRNN, 5, 3, 4, false },
        { LayerKind.SimpleRNN, 4, 2, 5, true },
        { LayerKind.LSTM, 5, 3, 4, false },
        { LayerKind.LSTM, 4, 2, 5, true },
        { LayerKind.GRU, 5, 3, 4, false },
        { LayerKind.GRU, 4, 2, 5, true },
        { LayerKind.LSTM, 1, 1, 1, false },
        { LayerKind.GRU, 7, 9, 17, true },
    };

    // Each cell, with the last state or every state as its output.
    public static TheoryData<LayerKind, bool> CellsAndOutputs => new()
    {
        { LayerKind.SimpleRNN, false }, { LayerKind.SimpleRNN, true }, { LayerKind.LSTM, false },
        { LayerKind.LSTM, true }, { LayerKind.GRU, false }, { LayerKind.GRU, true },
    };

    // Weights of the size PyTorch draws (±1/√H) keep the gates away from saturation, where differences say little.
    private static float[] Parameters(RecurrentGeometry g, ulong seed) => Check.Random(g.ParameterLength, seed, (float)(1 / Math.Sqrt(g.Hidden)) * 2);

    [Theory]
    [MemberData(nameof(Cases))]
    public void ReferenceBackward_MatchesFiniteDifferences(LayerKind cell, int steps, int inputs, int units, bool all)
        => CheckReferenceBackward(new RecurrentGeometry(cell, steps, inputs, units, all), batch: 2, lengths: default, seed: 1);

    // The reference's gradients of loss = Σ weights⊙y, against central differences of its forward pass.
    private static void CheckReferenceBackward(RecurrentGeometry g, int batch, int[]? lengths, ulong seed)
    {
        double[] x = Check.ToDouble(Check.Random(batch * g.InputLength, seed));
        double[] p = Check.ToDouble(Parameters(g, seed + 1));
        double[] weights = Check.ToDouble(Check.Random(batch * g.OutputLength, seed + 2));
        double Loss(double[] xx, double[] pp)
        {
            var y = Reference.Recurrent(xx, pp, batch, g, lengths);
            double sum = 0;
            for (int i = 0; i < y.Length; i++) sum += weights[i] * y[i];
            return sum;
        }
        var gradient = new double[g.ParameterLength];
        var dx = Reference.RecurrentBackward(x, p, weights, batch, g, gradient, lengths);
        Check.Close(Check.FiniteDifferences(pp => Loss(x, pp), p), gradient, 1e-5, 1e-7, "parameter gradient");
        Check.Close(Check.FiniteDifferences(xx => Loss(xx, p), x), dx, 1e-5, 1e-7, "input gradient");
    }

    [Fact]
    public void Reference_FollowsPyTorchsGateOrder()
    {
        // One unit, one input, one step from a zero state: each gate's row picks out its own pre-activation.
        var g = new RecurrentGeometry(LayerKind.LSTM, 1, 1, 1, false);
        // weight_ih rows i, f, g, o; weight_hh (unused from the zero state); bias_ih; bias_hh.
        double[] p = [0.5, -0.25, 0.75, 1.5, 9, 9, 9, 9, 0.1, 0.2, 0.3, 0.4, 0.01, 0.02, 0.03, 0.04];
        double x = 2;
        double Sig(double v) => 1 / (1 + Math.Exp(-v));
        double i = Sig(0.5 * x + 0.11), gg = Math.Tanh(0.75 * x + 0.33), o = Sig(1.5 * x + 0.44);
        Assert.Equal(o * Math.Tanh(i * gg), Reference.Recurrent([x], p, 1, g)[0], 12);

        // GRU: r, z, n, with r scaling W_hn·h + b_hn (only b_hn from the zero state).
        var gru = new RecurrentGeometry(LayerKind.GRU, 1, 1, 1, false);
        double[] q = [0.5, -0.25, 0.75, 9, 9, 9, 0.1, 0.2, 0.3, 0.01, 0.02, 0.03];
        double r = Sig(0.5 * x + 0.11), z = Sig(-0.25 * x + 0.22), n = Math.Tanh(0.75 * x + 0.3 + r * 0.03);
        Assert.Equal((1 - z) * n, Reference.Recurrent([x], q, 1, gru)[0], 12);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_MatchesReference_InTrainingAndInference(LayerKind cell, int steps, int inputs, int units, bool all)
    {
        var g = new RecurrentGeometry(cell, steps, inputs, units, all);
        const int batch = 3;
        float[] x = Check.Random(batch * g.InputLength, 4), p = Parameters(g, 5);
        var expected = Reference.Recurrent(Check.ToDouble(x), Check.ToDouble(p), batch, g);
        var y = new float[batch * g.OutputLength];
        var kept = new float[batch * g.KeptPerSample];
        Recurrent.Forward(x, p, y, batch, g, kept);
        Check.Close(expected, y, 1e-5, 1e-5, "training output");
        var inferred = new float[batch * g.OutputLength];
        Recurrent.Forward(x, p, inferred, batch, g, default);
        Assert.True(y.AsSpan().SequenceEqual(inferred), "inference gives the training output's bits");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_MatchesReference(LayerKind cell, int steps, int inputs, int units, bool all)
    {
        var g = new RecurrentGeometry(cell, steps, inputs, units, all);
        const int batch = 3;
        float[] x = Check.Random(batch * g.InputLength, 6), p = Parameters(g, 7), dy = Check.Random(batch * g.OutputLength, 8);
        var y = new float[batch * g.OutputLength];
        var kept = new float[batch * g.KeptPerSample];
        Recurrent.Forward(x, p, y, batch, g, kept);
        var gradients = Check.Random(g.ParameterLength, 9); // overwritten, not added to
        var dx = Check.Random(batch * g.InputLength, 10);
        Recurrent.Backward(p, kept, dy, dx, gradients, batch, g);

        var expected = new double[g.ParameterLength];
        var expectedDx = Reference.RecurrentBackward(Check.ToDouble(x), Check.ToDouble(p), Check.ToDouble(dy), batch, g, expected);
        double atol = 1e-5 * batch * steps;
        Check.Close(expected, gradients, 1e-4, atol, "parameter gradients");
        Check.Close(expectedDx, dx, 1e-4, atol, "input gradient");

        // A first layer asks for no input gradient.
        Recurrent.Backward(p, kept, dy, default, gradients, batch, g);
        Check.Close(expected, gradients, 1e-4, atol, "parameter gradients without dx");
    }

    [Fact]
    public void Geometry_RefusesWhatIsNotARecurrentLayer()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new RecurrentGeometry(LayerKind.Dense, 3, 2, 4, false));
        Assert.Contains("SimpleRNN, LSTM or GRU", e.Message);
        var s = Assert.Throws<ArgumentOutOfRangeException>(() => new RecurrentGeometry(LayerKind.GRU, 0, 2, 4, false));
        Assert.Equal("steps", s.ParamName);
        Assert.Contains("at least 1, but is 0", s.Message);
    }

    [Fact]
    public void Kernels_RefuseShortBuffers_NamingTheSizes()
    {
        var g = new RecurrentGeometry(LayerKind.LSTM, 3, 2, 4, false);
        var e = Assert.Throws<ArgumentException>(() => Recurrent.Forward(new float[12], new float[g.ParameterLength], new float[8], 2, g, new float[5]));
        Assert.Equal("kept", e.ParamName);
        Assert.Contains($"kept holds 5 values, but a batch of 2 samples' kept values, {g.KeptPerSample} each, needs {2 * g.KeptPerSample}.", e.Message);
        Assert.Equal(g.ParameterLength, Enumerable.Sum([g.InputWeightLength, g.HiddenWeightLength, g.GateWidth, g.GateWidth]));
    }

    // A batch of 24 takes its weight gradients in windows of three steps (64 rows), so 8 steps make windows of 3, 3 and 2;
    // 17 inputs take the other form of W_ih's products. Padded samples cross the windows' edges.
    [Theory]
    [InlineData(LayerKind.SimpleRNN, 3, false)]
    [InlineData(LayerKind.LSTM, 3, false)]
    [InlineData(LayerKind.LSTM, 17, true)]
    [InlineData(LayerKind.GRU, 3, true)]
    [InlineData(LayerKind.GRU, 17, false)]
    public void Backward_InWindowsOfSteps_MatchesReference(LayerKind cell, int inputs, bool all)
    {
        var g = new RecurrentGeometry(cell, 8, inputs, 5, all);
        const int batch = 24;
        int[] lengths = Enumerable.Range(0, batch).Select(b => b % 9).ToArray();
        float[] x = Check.Random(batch * g.InputLength, 31), p = Parameters(g, 32), dy = Check.Random(batch * g.OutputLength, 33);
        var y = new float[batch * g.OutputLength];
        var kept = new float[batch * g.KeptPerSample];
        Recurrent.Forward(x, p, y, batch, g, kept, lengths);
        var gradients = Check.Random(g.ParameterLength, 34);
        var dx = new float[batch * g.InputLength];
        Recurrent.Backward(p, kept, dy, dx, gradients, batch, g, lengths);

        var clean = Check.ToDouble(x);
        for (int b = 0; b < batch; b++) Array.Clear(clean, (b * g.Steps + lengths[b]) * inputs, (g.Steps - lengths[b]) * inputs);
        var expected = new double[g.ParameterLength];
        var expectedDx = Reference.RecurrentBackward(clean, Check.ToDouble(p), Check.ToDouble(dy), batch, g, expected, lengths);
        Check.Close(expected, gradients, 1e-4, 1e-5 * batch * g.Steps, "parameter gradients");
        Check.Close(expectedDx, dx, 1e-4, 1e-4, "input gradient");
    }

    [Theory]
    [MemberData(nameof(CellsAndOutputs))]
    public void ReferenceWithLengths_MatchesFiniteDifferences(LayerKind cell, bool all)
        => CheckReferenceBackward(new RecurrentGeometry(cell, 6, 2, 3, all), batch: 4, lengths: [6, 2, 0, 4], seed: 21);

    [Theory]
    [MemberData(nameof(CellsAndOutputs))]
    public void Lengths_MatchTheReference_AndPaddingNeverMatters(LayerKind cell, bool all)
    {
        var g = new RecurrentGeometry(cell, 7, 3, 5, all);
        int[] lengths = [7, 3, 0, 5, 1];
        int batch = lengths.Length;
        float[] x = Check.Random(batch * g.InputLength, 24), p = Parameters(g, 25), dy = Check.Random(batch * g.OutputLength, 26);
        // Padding holds garbage, even NaN and infinity: none of it may reach an output or a gradient.
        for (int b = 0; b < batch; b++)
            for (int t = lengths[b]; t < g.Steps; t++)
                for (int k = 0; k < g.Inputs; k++)
                    x[(b * g.Steps + t) * g.Inputs + k] = (t + k) % 3 == 0 ? float.NaN : (t + k) % 3 == 1 ? float.PositiveInfinity : 1e30f;
        var y = new float[batch * g.OutputLength];
        var kept = new float[batch * g.KeptPerSample];
        Recurrent.Forward(x, p, y, batch, g, kept, lengths);
        var clean = Check.ToDouble(x);
        for (int k = 0; k < clean.Length; k++) if (!double.IsFinite(clean[k]) || clean[k] > 1e20) clean[k] = 0;
        Check.Close(Reference.Recurrent(clean, Check.ToDouble(p), batch, g, lengths), y, 1e-5, 1e-5, "outputs");

        var gradients = new float[g.ParameterLength];
        var dx = new float[batch * g.InputLength];
        Recurrent.Backward(p, kept, dy, dx, gradients, batch, g, lengths);
        var expected = new double[g.ParameterLength];
        var expectedDx = Reference.RecurrentBackward(clean, Check.ToDouble(p), Check.ToDouble(dy), batch, g, expected, lengths);
        Check.Close(expected, gradients, 1e-4, 1e-4, "parameter gradients");
        Check.Close(expectedDx, dx, 1e-4, 1e-4, "input gradient (zero on padding)");

        var inferred = new float[y.Length];
        Recurrent.Forward(x, p, inferred, batch, g, default, lengths);
        Assert.True(y.AsSpan().SequenceEqual(inferred));
    }

    [Theory]
    [InlineData(LayerKind.SimpleRNN, false)]
    [InlineData(LayerKind.LSTM, false)]
    [InlineData(LayerKind.LSTM, true)]
    [InlineData(LayerKind.GRU, true)]
    public void APaddedSequence_GivesExactlyTheUnpaddedResult(LayerKind cell, bool all)
    {
        const int steps = 9, length = 4, inputs = 3, units = 6;
        var padded = new RecurrentGeometry(cell, steps, inputs, units, all);
        var exact = new RecurrentGeometry(cell, length, inputs, units, all);
        float[] p = Parameters(padded, 27);
        float[] xExact = Check.Random(length * inputs, 28);
        float[] xPadded = new float[steps * inputs];
        xExact.CopyTo(xPadded, 0);
        Array.Fill(xPadded, 7f, length * inputs, (steps - length) * inputs);

        var yExact = new float[exact.OutputLength];
        var keptExact = new float[exact.KeptPerSample];
        Recurrent.Forward(xExact, p, yExact, 1, exact, keptExact);
        var yPadded = new float[padded.OutputLength];
        var keptPadded = new float[padded.KeptPerSample];
        Recurrent.Forward(xPadded, p, yPadded, 1, padded, keptPadded, [length]);
        Assert.True(yExact.AsSpan().SequenceEqual(yPadded.AsSpan(0, yExact.Length)), "outputs of the true steps");
        Assert.All(yPadded[yExact.Length..], v => Assert.Equal(0f, v));

        float[] dyExact = Check.Random(exact.OutputLength, 29);
        float[] dyPadded = new float[padded.OutputLength];
        dyExact.CopyTo(dyPadded, 0);
        Array.Fill(dyPadded, 5f, dyExact.Length, dyPadded.Length - dyExact.Length); // ignored: the outputs there are constant
        var gExact = new float[exact.ParameterLength];
        var gPadded = new float[padded.ParameterLength];
        var dxExact = new float[exact.InputLength];
        var dxPadded = new float[padded.InputLength];
        Recurrent.Backward(p, keptExact, dyExact, dxExact, gExact, 1, exact);
        Recurrent.Backward(p, keptPadded, dyPadded, dxPadded, gPadded, 1, padded, [length]);
        Assert.True(gExact.AsSpan().SequenceEqual(gPadded), "parameter gradients");
        Assert.True(dxExact.AsSpan().SequenceEqual(dxPadded.AsSpan(0, dxExact.Length)), "input gradient of the true steps");
        Assert.All(dxPadded[dxExact.Length..], v => Assert.Equal(0f, v));
    }

    [Fact]
    public void AnEmptyBatch_DoesNothing()
    {
        var g = new RecurrentGeometry(LayerKind.LSTM, 3, 2, 4, false);
        var p = Parameters(g, 60);
        var gradients = new float[g.ParameterLength];
        Recurrent.Forward(default, p, default, 0, g, default);
        Recurrent.Backward(p, default, default, default, gradients, 0, g);
        Assert.All(gradients, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Lengths_OutsideTheDeclaredSteps_AreRefused()
    {
        var g = new RecurrentGeometry(LayerKind.GRU, 4, 2, 3, false);
        var y = new float[6];
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Recurrent.Forward(new float[16], new float[g.ParameterLength], y, 2, g, default, [4, 5]));
        Assert.Contains("Sequence 1 has length 5", e.Message);
        Assert.Contains("declared 4 steps", e.Message);
        var n = Assert.Throws<ArgumentException>(() => Recurrent.Forward(new float[16], new float[g.ParameterLength], y, 2, g, default, [4]));
        Assert.Contains("2 sequences needs 2 lengths, but 1 were given", n.Message);
    }
}
