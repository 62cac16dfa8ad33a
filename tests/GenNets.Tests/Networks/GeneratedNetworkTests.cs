using System;
using System.Linq;
using System.Threading.Tasks;
using GenNets.Kernels;
using Xunit;

namespace GenNets.Tests.Networks;

/// <summary>
/// Every generated network against the double-precision reference, and the reference against
/// central finite differences: forward, loss, every parameter's gradient, dropout included.
/// </summary>
public class GeneratedNetworkTests
{
    public static TheoryData<string> Networks => new() { "FashionMlp", "XorNet", "EveryActivation", "MultiLabel", "Regressor", "PerPosition", "DropoutFirst", "InnerNet", "SmallCnn", "PooledCnn", "FashionCnn", "FoldedPooledCnn", "StackedRecurrent", "SequenceTagger", "BenchLstm", "ResidualMlp", "ResidualCnn", "NormedSequence", "NormedCnn", "PlainStack", "AttentionClassifier", "CausalTagger", "EncoderClassifier" };

    // Networks too large for the finite differences of every parameter set's reference (checked on the small ones), whose
    // generated passes are still held to the reference: ResNet-mini's blocks at a width Winograd takes.
    public static TheoryData<string> WideNetworks => new() { "WinogradResNet" };

    internal static INetwork Create(string name, int seed = 7) => name switch
    {
        "WinogradResNet" => new WinogradResNet(seed),
        "FashionMlp" => new FashionMlp(seed),
        "XorNet" => new XorNet(seed),
        "EveryActivation" => new EveryActivation(seed),
        "MultiLabel" => new MultiLabel(seed),
        "Regressor" => new Regressor(seed),
        "PerPosition" => new PerPosition(seed),
        "DropoutFirst" => new DropoutFirst(seed),
        "InnerNet" => new Outer.Nested.InnerNet(seed),
        "SmallCnn" => new SmallCnn(seed),
        "PooledCnn" => new PooledCnn(seed),
        "FashionCnn" => new FashionCnn(seed),
        "FoldedPooledCnn" => new FoldedPooledCnn(seed),
        "StackedRecurrent" => new StackedRecurrent(seed),
        "SequenceTagger" => new SequenceTagger(seed),
        "BenchLstm" => new BenchLstm(seed),
        "ResidualMlp" => new ResidualMlp(seed),
        "ResidualCnn" => new ResidualCnn(seed),
        "NormedSequence" => new NormedSequence(seed),
        "NormedCnn" => new NormedCnn(seed),
        "PlainStack" => new PlainStack(seed),
        "AttentionClassifier" => new AttentionClassifier(seed),
        "CausalTagger" => new CausalTagger(seed),
        "EncoderClassifier" => new EncoderClassifier(seed),
        _ => throw new ArgumentException(name),
    };

    /// <summary>Targets that fit the network's loss: labels for softmax cross-entropy, values otherwise.</summary>
    private static (int[] Labels, float[] Values) MakeTargets(INetwork net, int batch)
    {
        int cols = net.Layers[^1].OutputShape[^1];
        int rows = batch * net.OutputSize / cols;
        var r = new SeededRandom(99);
        if (net.Loss == LossKind.SoftmaxCrossEntropy)
            return (Enumerable.Range(0, rows).Select(_ => r.NextInt(cols)).ToArray(), []);
        var values = new float[batch * net.OutputSize];
        for (int i = 0; i < values.Length; i++)
            values[i] = net.Loss == LossKind.BinaryCrossEntropyWithLogits ? (r.NextDouble() < 0.5 ? 0f : 1f) : (float)(2 * r.NextDouble() - 1);
        return ([], values);
    }

    private static double ReferenceLoss(INetwork net, double[] parameters, double[] inputs, int batch, int[] labels, float[] values, double[]? gradient, long step)
        => Reference.NetworkLoss(net.Layers, net.Loss, parameters, inputs, batch, labels, Check.ToDouble(values), gradient ?? Span<double>.Empty,
            DropoutSeedOf(net), step);

    private static ulong DropoutSeedOf(INetwork net) => (ulong)net.GetType().GetProperty("DropoutSeed")!.GetValue(net)!;

    [Theory]
    [MemberData(nameof(Networks))]
    public void ReferenceGradient_MatchesFiniteDifferences(string name)
    {
        var net = Create(name);
        const int batch = 3;
        double[] inputs = Check.ToDouble(Check.Random(batch * net.InputSize, 31));
        var (labels, values) = MakeTargets(net, batch);
        double[] parameters = Check.ToDouble(net.Parameters);
        // FashionMlp has 235k parameters: check a spread of them rather than all.
        int[] which = parameters.Length <= 2000 ? Enumerable.Range(0, parameters.Length).ToArray()
            : Enumerable.Range(0, 600).Select(i => (int)((long)i * 7919 % parameters.Length)).ToArray();

        var analytic = new double[parameters.Length];
        ReferenceLoss(net, parameters, inputs, batch, labels, values, analytic, step: 1);
        foreach (int i in which)
        {
            double keep = parameters[i], h = 1e-6;
            parameters[i] = keep + h;
            double plus = ReferenceLoss(net, parameters, inputs, batch, labels, values, null, step: 1);
            parameters[i] = keep - h;
            double minus = ReferenceLoss(net, parameters, inputs, batch, labels, values, null, step: 1);
            parameters[i] = keep;
            double numeric = (plus - minus) / (2 * h);
            Assert.True(Math.Abs(numeric - analytic[i]) <= 1e-7 + 1e-5 * Math.Abs(numeric),
                $"{name}: parameter {i}: finite difference {numeric:R}, backward {analytic[i]:R}");
        }
    }

    [Theory]
    [MemberData(nameof(Networks))]
    [MemberData(nameof(WideNetworks))]
    public void GeneratedGradients_MatchReference(string name)
    {
        var net = Create(name);
        const int batch = 5;
        float[] inputs = Check.Random(batch * net.InputSize, 32);
        var (labels, values) = MakeTargets(net, batch);
        float loss = labels.Length > 0 ? net.ComputeGradients(inputs, labels, batch) : net.ComputeGradients(inputs, values, batch);

        var expected = new double[net.ParameterCount];
        long step = (long)net.GetType().GetProperty("TrainingSteps")!.GetValue(net)!;
        double expectedLoss = ReferenceLoss(net, Check.ToDouble(net.Parameters), Check.ToDouble(inputs), batch, labels, values, expected, step);
        Assert.Equal(expectedLoss, loss, 4);
        Check.Close(expected, net.Gradients, 1e-4, 1e-6, $"{name} gradients");
    }

    [Theory]
    [MemberData(nameof(Networks))]
    [MemberData(nameof(WideNetworks))]
    public void Forward_MatchesReference_OneSampleAndBatch(string name)
    {
        var net = Create(name);
        // 6 samples take the dot-product path, 37 the strip path (two full strips and a padded one).
        foreach (int batch in new[] { 6, 37 })
        {
            float[] inputs = Check.Random(batch * net.InputSize, 33);
            var outputs = new float[batch * net.OutputSize];
            net.Forward(inputs, outputs, batch);

            double[] expected = ReferenceOutputs(net, inputs, batch);
            Check.Close(expected, outputs, 1e-4, 1e-5, $"{name} batch of {batch} outputs");
            var one = new float[net.OutputSize];
            for (int s = 0; s < batch; s++)
            {
                net.Forward(inputs.AsSpan(s * net.InputSize, net.InputSize), one);
                Check.Close(expected.AsSpan(s * net.OutputSize, net.OutputSize), one, 1e-4, 1e-5, $"{name} sample {s}");
            }
        }
    }

    // The reference layers in inference mode (dropout is the identity).
    internal static double[] ReferenceOutputs(INetwork net, float[] inputs, int batch)
        => Reference.NetworkOutputs(net.Layers, Check.ToDouble(net.Parameters), Check.ToDouble(inputs), batch);

    [Theory]
    [MemberData(nameof(Networks))]
    public void SameSeed_SameWeights_DifferentSeed_DifferentWeights(string name)
    {
        var a = Create(name, seed: 3);
        var b = Create(name, seed: 3);
        var c = Create(name, seed: 4);
        Assert.True(a.Parameters.SequenceEqual(b.Parameters));
        Assert.False(a.Parameters.SequenceEqual(c.Parameters));
    }

    [Fact]
    public void ForwardTrainingThenBackward_WithOwnLossGradient_MatchesComputeGradients()
    {
        // A loss of one's own: mean squared error written by hand, its gradient passed to Backward.
        var net = new EveryActivation(seed: 9);
        const int batch = 4;
        float[] x = Check.Random(batch * EveryActivation.InputSize, 40);
        float[] t = Check.Random(batch * EveryActivation.OutputSize, 41);
        float expectedLoss = net.ComputeGradients(x, t, batch);
        float[] expected = net.Gradients.ToArray();

        var twin = new EveryActivation(seed: 9);
        var y = twin.ForwardTraining(x, batch).ToArray(); // same step number, so the same dropout masks
        var dy = new float[y.Length];
        double loss = 0;
        for (int i = 0; i < y.Length; i++)
        {
            loss += (y[i] - t[i]) * (y[i] - t[i]) / y.Length;
            dy[i] = 2 * (y[i] - t[i]) / y.Length;
        }
        twin.Backward(x, dy);
        Assert.Equal(expectedLoss, (float)loss, 5);
        // The hand-written gradient rounds as (2·d)/n, the runtime's as (2/n)·d: equal to float precision.
        Check.Close(Check.ToDouble(expected), twin.Gradients, 1e-5, 1e-8, "gradients");
    }

    [Fact]
    public void Backward_BeforeForwardTraining_SaysSo()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => new Regressor().Backward(new float[13], new float[2]));
        Assert.Contains("ForwardTraining", ex.Message);
    }

    [Fact]
    public void Initialization_FollowsHeForReLUAndZeroBiases()
    {
        var net = new FashionMlp(1);
        var w = net.Parameters.Slice(FashionMlp.Layer0WeightOffset, 256 * 784).ToArray();
        double limit = Math.Sqrt(6.0 / 784);
        Assert.All(w, v => Assert.InRange(v, -limit, limit));
        double variance = w.Select(v => (double)v * v).Average();
        Assert.InRange(variance, 0.9 * 2.0 / 784, 1.1 * 2.0 / 784); // He: Var = 2 / fan_in
        Assert.All(net.Parameters.Slice(FashionMlp.Layer0BiasOffset, 256).ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Layout_UsesPyTorchNamesAndShapes()
    {
        var net = new FashionMlp();
        Assert.Equal(["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"], net.ParameterTensors.Select(t => t.Name));
        Assert.Equal([256, 784], net.ParameterTensors[0].Shape);
        Assert.Equal([10], net.ParameterTensors[5].Shape);
        Assert.Equal(FashionMlp.ParameterCount, net.ParameterTensors.Sum(t => t.Length));
        Assert.Equal(["encoder.weight", "encoder.bias", "head.weight", "head.bias"], new MultiLabel().ParameterTensors.Select(t => t.Name));
    }

    [Fact]
    public void MemoryConstants_AreKnownAtBuildTime()
    {
        Assert.Equal(235_146, FashionMlp.ParameterCount);
        Assert.Equal(4L * 235_146, FashionMlp.ParameterBytes);
        // Two strip buffers as wide as the widest layer input, the 784 floats of a sample.
        Assert.Equal(2 * 784 * 4, FashionMlp.InferenceBytesPerSample);
        Assert.Equal(2 * FashionMlp.ParameterBytes, FashionMlp.AdamStateBytes);
        // Outputs of the four layers, the dropout mask, the output gradient, and two gradient buffers of the widest layer.
        Assert.Equal(4L * (256 + 128 + 128 + 128 + 10 + 10 + 256 + 256), FashionMlp.TrainingBytesPerSample);
    }

    [Fact]
    public void Forward_WrongLengths_NameTheNumbers()
    {
        var net = new FashionMlp();
        var ex = Assert.Throws<ArgumentException>(() => net.Forward(new float[783], new float[10]));
        Assert.Contains("783", ex.Message);
        Assert.Contains("784", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => net.Forward(new float[784 * 2], new float[10], 2));
        Assert.Contains("20", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => net.ComputeGradients(new float[784 * 2], new int[] { 1, 2 }, 3));
        Assert.Contains("2352", ex.Message);
    }

    [Fact]
    public void ForwardAndTraining_AllocateNothing_AfterWarmUp()
    {
        var net = new FashionMlp(5);
        float[] x = Check.Random(64 * 784, 34);
        int[] labels = Enumerable.Range(0, 64).Select(i => i % 10).ToArray();
        var one = new float[10];
        var many = new float[64 * 10];
        var optimizer = new GenNets.Training.Adam();
        // After warm-up (JIT, the per-thread scratch, the training buffers and the optimizer state), nothing.
        Assert.Equal(0, Check.SteadyStateAllocation(() =>
        {
            net.Forward(x.AsSpan(0, 784), one);
            net.Forward(x, many, 64);
            net.TrainStep(x, labels, 64, optimizer);
        }));
    }

    [Fact]
    public void ConcurrentForward_GivesTheSequentialResults()
    {
        var net = new FashionMlp(6);
        const int samples = 64;
        float[] x = Check.Random(samples * 784, 35);
        var expected = new float[samples * 10];
        for (int s = 0; s < samples; s++) net.Forward(x.AsSpan(s * 784, 784), expected.AsSpan(s * 10, 10));

        var actual = new float[8][];
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
        {
            var mine = new float[samples * 10];
            for (int round = 0; round < 20; round++)
                for (int s = 0; s < samples; s++)
                    if (t % 2 == 0) net.Forward(x.AsSpan(s * 784, 784), mine.AsSpan(s * 10, 10));
                    else net.Forward(x.AsSpan(0, samples * 784), mine, samples);
            actual[t] = mine;
        });
        // Odd threads run the batch kernel, whose sums go in another order than one sample's: rounding apart (more so
        // where multiply-adds are not fused), while a race would give garbage.
        for (int t = 0; t < 8; t++)
            Check.Close(Check.ToDouble(expected), actual[t], 1e-5, 1e-5, $"thread {t}");
    }

    [Fact]
    public void Dropout_IsOffInInference_AndOnInTraining()
    {
        var net = new DropoutFirst(1);
        float[] x = Check.Random(6 * 50, 36);
        var a = new float[4 * 50];
        var b = new float[4 * 50];
        net.Forward(x, a, 50);
        net.Forward(x, b, 50);
        Assert.Equal(a, b);
        // In training, the outputs differ from inference (half the inputs are dropped) and between steps.
        var values = new float[4 * 50];
        net.ComputeGradients(x, values, 50);
        float[] first = net.TrainingOutputs.ToArray();
        net.ComputeGradients(x, values, 50);
        Assert.NotEqual(a, first);
        Assert.NotEqual(first, net.TrainingOutputs.ToArray());
    }

    [Fact]
    public void Dropout_DropsAboutTheRightFraction_AndScalesTheRest()
    {
        var x = new float[100_000];
        Array.Fill(x, 1f);
        var y = new float[x.Length];
        var mask = new float[x.Length];
        Dropout.Forward(x, y, mask, 0.3f, seed: 5, step: 1, firstElement: 0);
        double dropped = mask.Count(m => m == 0) / (double)mask.Length;
        Assert.InRange(dropped, 0.29, 0.31);
        Assert.All(y, v => Assert.True(v == 0f || Math.Abs(v - 1 / 0.7f) < 1e-6));
    }
}
