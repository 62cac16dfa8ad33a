using System;
using System.Linq;
using GenNets.Kernels;
using GenNets.Training;
using Xunit;

namespace GenNets.Tests.Networks;

/// <summary>
/// Recurrent networks on sequences of different lengths in one batch: padding neither changes a state nor receives
/// gradient, a sequence output's loss covers the true steps only, and a padded sequence gives exactly the unpadded result.
/// </summary>
public class SequenceLengthTests
{
    private static int[] Lengths(int batch, int steps, ulong seed)
    {
        var r = new SeededRandom(seed);
        var lengths = Enumerable.Range(0, batch).Select(_ => r.NextInt(steps + 1)).ToArray();
        lengths[0] = steps; // one full sequence
        return lengths;
    }

    [Theory]
    [InlineData("StackedRecurrent")]
    [InlineData("SequenceTagger")]
    [InlineData("BenchLstm")]
    public void Gradients_WithLengths_MatchTheReference(string name)
    {
        var net = GeneratedNetworkTests.Create(name);
        const int batch = 6;
        int steps = net.Layers[0].InputShape[0];
        var lengths = Lengths(batch, steps, 3);
        float[] inputs = Check.Random(batch * net.InputSize, 41);
        int cols = net.Layers[^1].OutputShape[^1], rows = batch * net.OutputSize / cols;
        var r = new SeededRandom(5);
        int[] labels = net.Loss == LossKind.SoftmaxCrossEntropy ? Enumerable.Range(0, rows).Select(_ => r.NextInt(cols)).ToArray() : [];
        float[] values = net.Loss == LossKind.SoftmaxCrossEntropy ? [] : Check.Random(batch * net.OutputSize, 42);
        float loss = ComputeGradients(net, inputs, labels, values, batch, lengths);

        var expected = new double[net.ParameterCount];
        long step = (long)net.GetType().GetProperty("TrainingSteps")!.GetValue(net)!;
        ulong seed = (ulong)net.GetType().GetProperty("DropoutSeed")!.GetValue(net)!;
        double expectedLoss = Reference.NetworkLoss(net.Layers, net.Loss, Check.ToDouble(net.Parameters), Check.ToDouble(inputs), batch, labels,
            Check.ToDouble(values), expected, seed, step, lengths);
        Assert.Equal(expectedLoss, loss, 4);
        Check.Close(expected, net.Gradients, 1e-4, 1e-6, $"{name} gradients with lengths");
    }

    // The lengths overloads are members of each generated class, not of INetwork.
    private static float ComputeGradients(INetwork net, float[] inputs, int[] labels, float[] values, int batch, int[] lengths)
    {
        Targets targets = labels.Length > 0 ? labels : values;
        return net switch
        {
            StackedRecurrent n => n.ComputeGradients(inputs, targets, batch, lengths),
            SequenceTagger n => n.ComputeGradients(inputs, targets, batch, lengths),
            BenchLstm n => n.ComputeGradients(inputs, targets, batch, lengths),
            _ => throw new ArgumentException(net.GetType().Name),
        };
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Inference_WithLengths_MatchesTheReference_AtOneAndTwoThreads(int threads)
    {
        var net = new SequenceTagger(seed: 4) { Threads = threads };
        const int batch = 64;
        var lengths = Lengths(batch, 5, 6);
        float[] inputs = Check.Random(batch * SequenceTagger.InputSize, 43);
        var outputs = new float[batch * SequenceTagger.OutputSize];
        net.Forward(inputs, outputs, batch, lengths);
        var expected = Reference.NetworkOutputs(net.Layers, Check.ToDouble(net.Parameters), Check.ToDouble(inputs), batch, lengths);
        Check.Close(expected, outputs, 1e-5, 1e-6, "outputs, zero on padding");

        var lstm = new BenchLstm(seed: 4) { Threads = threads };
        float[] sequences = Check.Random(batch * BenchLstm.InputSize, 44);
        var last = new float[batch];
        var lstmLengths = Lengths(batch, 50, 7);
        lstm.Forward(sequences, last, batch, lstmLengths);
        Check.Close(Reference.NetworkOutputs(lstm.Layers, Check.ToDouble(lstm.Parameters), Check.ToDouble(sequences), batch, lstmLengths), last, 1e-4, 1e-5, "last states");
        Assert.Equal(0, Check.SteadyStateAllocation(() => lstm.Forward(sequences, last, batch, lstmLengths)));
    }

    [Fact]
    public void APaddedSequence_TrainsExactlyAsTheUnpaddedOne()
    {
        // A sequence output: the loss covers the true steps only, so padding and its targets change nothing.
        float[] x = Check.Random(4 * 3, 45), t = Check.Random(4 * 2, 46);
        float[] xPadded = [.. x, .. Enumerable.Repeat(9f, 5 * 3)];
        float[] tPadded = [.. t, .. Enumerable.Repeat(-3f, 5 * 2)];
        var nine = new TaggerNine(seed: 8) { Threads = 1 };
        var four = new TaggerFour(seed: 8) { Threads = 1 };
        Assert.True(nine.Parameters.SequenceEqual(four.Parameters), "the same parameters whatever the steps");
        var sgdNine = new Sgd(0.1f, momentum: 0.9f);
        var sgdFour = new Sgd(0.1f, momentum: 0.9f);
        for (int step = 0; step < 3; step++)
        {
            float lossNine = nine.TrainStep(xPadded, tPadded, 1, [4], sgdNine);
            float lossFour = four.TrainStep(x, t, 1, sgdFour);
            Assert.Equal(lossFour, lossNine);
            Assert.True(four.Parameters.SequenceEqual(nine.Parameters), $"parameters differ after step {step}");
        }
        var yNine = new float[TaggerNine.OutputSize];
        var yFour = new float[TaggerFour.OutputSize];
        nine.Forward(xPadded, yNine, 1, [4]);
        four.Forward(x, yFour);
        Assert.True(yFour.AsSpan().SequenceEqual(yNine.AsSpan(0, yFour.Length)));
        Assert.All(yNine[yFour.Length..], v => Assert.Equal(0f, v));

        // The last state: the padding's steps do not move it.
        var lastNine = new LastNine(seed: 9) { Threads = 1 };
        var lastFour = new LastFour(seed: 9) { Threads = 1 };
        float[] target = [0.5f, -0.25f];
        Assert.Equal(lastFour.ComputeGradients(x, target, 1), lastNine.ComputeGradients(xPadded, target, 1, [4]));
        Assert.True(lastFour.Gradients.SequenceEqual(lastNine.Gradients));
    }

    [Fact]
    public void BadLengths_AreRefused_NamingTheNumbers()
    {
        var net = new SequenceTagger(seed: 1);
        var inputs = new float[2 * SequenceTagger.InputSize];
        var outputs = new float[2 * SequenceTagger.OutputSize];
        var count = Assert.Throws<ArgumentException>(() => net.Forward(inputs, outputs, 2, [5]));
        Assert.Contains("2 sequences needs 2 lengths, but 1 were given", count.Message);
        var range = Assert.Throws<ArgumentOutOfRangeException>(() => net.ComputeGradients(inputs, new int[10], 2, [5, 6]));
        Assert.Contains("Sequence 1 has length 6", range.Message);
        Assert.Contains("declared 5 steps", range.Message);
    }

    [Fact]
    public void ForgetBias_StartsTheForgetGatesBlockOfBiasIh_AndNothingElse()
    {
        var net = new OpenForget(seed: 3);
        var tensors = net.ParameterTensors.ToDictionary(t => t.Name);
        var biasIh = net.Parameters.Slice(tensors["0.bias_ih_l0"].Offset, 16).ToArray();
        Assert.Equal([0f, 0f, 0f, 0f, 1f, 1f, 1f, 1f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f], biasIh);
        Assert.All(net.Parameters.Slice(tensors["0.bias_hh_l0"].Offset, 16).ToArray(), v => Assert.Equal(0f, v));
        // The weights are PyTorch's uniform ±1/√units.
        Assert.All(net.Parameters.Slice(tensors["0.weight_hh_l0"].Offset, 64).ToArray(), v => Assert.InRange(v, -0.5f, 0.5f));
    }

    [Fact]
    public void Trainer_WithLengths_NeverSeesThePadding()
    {
        // Two copies of a data set that differ only in what their padding holds train to the same bits.
        const int count = 40, steps = 50;
        var r = new SeededRandom(17);
        var lengths = Enumerable.Range(0, count).Select(_ => 1 + r.NextInt(steps)).ToArray();
        var a = Check.Random(count * steps * 8, 18);
        var b = (float[])a.Clone();
        for (int s = 0; s < count; s++)
            for (int k = lengths[s] * 8; k < steps * 8; k++)
            {
                a[s * steps * 8 + k] = 0f;
                b[s * steps * 8 + k] = s % 2 == 0 ? 1e6f : float.NaN;
            }
        var targets = Check.Random(count, 19);
        float[] Train(float[] features)
        {
            var net = new BenchLstm(seed: 5) { Threads = 2 };
            var trainer = new Trainer<BenchLstm>(net, new Adam(1e-2f) { MaxGradientNorm = 1f });
            var data = GenNets.Data.Dataset.WithTargets(features, steps * 8, targets, 1).WithLengths(lengths);
            var history = trainer.Fit(data, epochs: 2, batchSize: 16, validation: data, seed: 3);
            Assert.True(float.IsFinite(history[^1].ValidationLoss!.Value));
            return net.Parameters.ToArray();
        }
        Assert.True(Train(a).AsSpan().SequenceEqual(Train(b)));
    }

    [Fact]
    public void Evaluate_OfASequenceOutput_CountsTheTrueStepsOnly()
    {
        float[] x = Check.Random(4 * 3, 51), t = Check.Random(4 * 2, 52);
        float[] xPadded = [.. x, .. Enumerable.Repeat(3f, 5 * 3)];
        float[] tPadded = [.. t, .. Enumerable.Repeat(100f, 5 * 2)];
        var nine = new Trainer<TaggerNine>(new TaggerNine(seed: 6), new Sgd(0.1f));
        var four = new Trainer<TaggerFour>(new TaggerFour(seed: 6), new Sgd(0.1f));
        float padded = nine.Evaluate(GenNets.Data.Dataset.WithTargets(xPadded, 27, tPadded, 18).WithLengths([4])).Loss;
        float exact = four.Evaluate(GenNets.Data.Dataset.WithTargets(x, 12, t, 8)).Loss;
        Assert.Equal(exact, padded);
    }

    [Fact]
    public void Trainer_RefusesLengthsItCannotUse()
    {
        var mlp = new Trainer<Regressor>(new Regressor(seed: 1), new Sgd(0.1f));
        var flat = GenNets.Data.Dataset.WithTargets(new float[2 * Regressor.InputSize], Regressor.InputSize, new float[2 * Regressor.OutputSize], Regressor.OutputSize).WithLengths([1, 1]);
        Assert.Contains("no recurrent layer", Assert.Throws<ArgumentException>(() => mlp.Evaluate(flat)).Message);
        var lstm = new Trainer<BenchLstm>(new BenchLstm(seed: 1), new Sgd(0.1f));
        var tooLong = GenNets.Data.Dataset.WithTargets(new float[2 * 400], 400, new float[2], 1).WithLengths([50, 51]);
        Assert.Contains("Sequence 1 has length 51, more than the network's 50 steps", Assert.Throws<ArgumentException>(() => lstm.Evaluate(tooLong)).Message);
        Assert.Contains("2 samples but 1 lengths", Assert.Throws<ArgumentException>(() => tooLong.WithLengths([3])).Message);
    }

    [Fact]
    public void ForwardTrainingAndBackward_WithLengths_MatchComputeGradients()
    {
        // A loss of one's own on a sequence output: its gradient on padding steps is ignored, as the built-in loss's is zero.
        var own = new TaggerNine(seed: 12);
        var builtIn = new TaggerNine(seed: 12);
        const int batch = 3;
        int[] lengths = [9, 4, 0];
        float[] x = Check.Random(batch * TaggerNine.InputSize, 53), t = Check.Random(batch * TaggerNine.OutputSize, 54);
        builtIn.ComputeGradients(x, t, batch, lengths);
        var y = own.ForwardTraining(x, batch, lengths).ToArray();
        // Mean squared error over the 13 true steps of 2 outputs, written by hand; garbage where the padding is.
        var dy = new float[y.Length];
        for (int s = 0; s < batch; s++)
            for (int k = 0; k < 9 * 2; k++)
            {
                int i = s * 18 + k;
                dy[i] = k < lengths[s] * 2 ? 2f * (y[i] - t[i]) / (13 * 2) : 1e6f;
            }
        own.Backward(x, dy);
        Check.Close(Check.ToDouble(builtIn.Gradients), own.Gradients, 1e-5, 1e-7, "gradients");
    }

    [Fact]
    public void Forward_WithEmptyLengths_IsTheWholeSequences_AtTwoThreads()
    {
        var net = new BenchLstm(seed: 13) { Threads = 2 };
        const int batch = 64;
        var x = Check.Random(batch * BenchLstm.InputSize, 55);
        var whole = new float[batch];
        var empty = new float[batch];
        net.Forward(x, whole, batch);
        net.Forward(x, new float[batch], batch, Enumerable.Repeat(3, batch).ToArray()); // leaves other lengths in the thread's job
        net.Forward(x, empty, batch, default);
        Assert.True(whole.AsSpan().SequenceEqual(empty));
    }

    [Fact]
    public void TrainStep_ThatGoesWrong_MovesNothing_InARecurrentNetwork()
    {
        // A finite loss whose gradient is not: the dense layer's weights of 1e20 turn an output error of 1e19 into an
        // infinite gradient for the LSTM's state, while the squared error itself (1e38) still fits a float.
        var net = new BenchLstm(seed: 14) { Threads = 1 };
        var dense = net.ParameterTensors.Single(t => t.Name == "1.weight");
        net.Parameters.Slice(dense.Offset, dense.Length).Fill(1e20f);
        var x = Check.Random(2 * BenchLstm.InputSize, 56);
        var y = new float[2];
        net.Forward(x, y, 2);
        var before = net.Parameters.ToArray();
        var adam = new Adam();
        var e = Assert.Throws<TrainingDivergedException>(() => net.TrainStep(x, new[] { y[0] + 1e19f, y[1] - 1e19f }, 2, adam));
        Assert.NotNull(e.Tensor);
        Assert.False(Guard.AllFinite(net.Gradients));
        Assert.True(before.AsSpan().SequenceEqual(net.Parameters));
        Assert.Equal(0, net.TrainingSteps);
        Assert.Equal(0, adam.StepCount);
    }

    [Fact]
    public void Evaluate_OfAPerStepOutput_UsesOneRowPerStep_AsTraining()
    {
        // Softmax cross-entropy over each step's 3 outputs, not over the 15 values of a sample.
        const int batch = 4;
        var net = new SequenceTagger(seed: 15);
        var x = Check.Random(batch * SequenceTagger.InputSize, 57);
        var oneHot = new float[batch * SequenceTagger.OutputSize];
        for (int row = 0; row < batch * 5; row++) oneHot[row * 3 + row % 3] = 1f;
        float trained = net.ComputeGradients(x, oneHot, batch);
        float evaluated = new Trainer<SequenceTagger>(net, new Sgd(0.1f)).Evaluate(GenNets.Data.Dataset.WithTargets(x, 10, oneHot, 15)).Loss;
        Assert.Equal(trained, evaluated, 5);
        var labels = GenNets.Data.Dataset.WithLabels(x, 10, new int[batch]);
        Assert.Contains("5 positions per sample", Assert.Throws<ArgumentException>(() => new Trainer<SequenceTagger>(net, new Sgd(0.1f)).Evaluate(labels)).Message);
    }

    [Fact]
    public void Trainer_WithALabelPerStep_ScoresTheTrueStepsOnly()
    {
        // A per-step classifier: the class of a step is how many of its two inputs exceed one half.
        const int count = 96, steps = 5;
        var x = Check.Random(count * steps * 2, 58);
        for (int k = 0; k < x.Length; k++) x[k] = 0.5f * (x[k] + 1f); // into [0, 1)
        var r = new SeededRandom(59);
        var lengths = Enumerable.Range(0, count).Select(_ => 1 + r.NextInt(steps)).ToArray();
        var labels = new int[count * steps];
        for (int s = 0; s < count; s++)
            for (int t = 0; t < steps; t++)
                labels[s * steps + t] = t < lengths[s] ? (x[(s * steps + t) * 2] > 0.5f ? 1 : 0) + (x[(s * steps + t) * 2 + 1] > 0.5f ? 1 : 0) : -1;
        var data = GenNets.Data.Dataset.WithStepLabels(x, 10, labels, steps).WithLengths(lengths);
        var net = new SequenceTagger(seed: 16);
        var trainer = new Trainer<SequenceTagger>(net, new Adam(0.02f));
        var history = trainer.Fit(data, epochs: 30, batchSize: 32, seed: 1);
        Assert.True(history[^1].TrainLoss < history[0].TrainLoss, $"loss {history[0].TrainLoss} -> {history[^1].TrainLoss}");

        // Evaluation counts the true steps only (labels of -1 on the padding would otherwise never match).
        var evaluation = trainer.Evaluate(data);
        var outputs = new float[count * 15];
        net.Forward(x, outputs, count, lengths);
        int correct = 0, total = 0;
        for (int s = 0; s < count; s++)
            for (int t = 0; t < lengths[s]; t++, total++)
                if (System.Numerics.Tensors.TensorPrimitives.IndexOfMax(outputs.AsSpan((s * steps + t) * 3, 3)) == labels[s * steps + t]) correct++;
        Assert.Equal((float)correct / total, evaluation.Accuracy!.Value, 6);
        Assert.True(evaluation.Accuracy > 0.8f, $"accuracy {evaluation.Accuracy}");
        Assert.Equal(net.ComputeGradients(x, labels, count, lengths), evaluation.Loss, 4);

        // A label out of range on a true step is refused; on padding it is never read.
        labels[0] = 7;
        var bad = GenNets.Data.Dataset.WithStepLabels(x, 10, labels, steps).WithLengths(lengths);
        Assert.Contains("Label 7 of sample 0, step 0", Assert.Throws<ArgumentException>(() => trainer.Evaluate(bad)).Message);
    }
}
