using System;
using System.IO;
using System.Linq;
using GenNets.Kernels;
using GenNets.Threading;
using GenNets.Training;
using Xunit;

namespace GenNets.Tests.Networks;

/// <summary>
/// Batch normalisation in generated networks: the running statistics (PyTorch's momentum, unbiased variance, count),
/// inference by them (folded into the layer before), the whole batch's statistics however the batch is split, the
/// optimizer leaving the buffers alone, and the buffers saved and loaded under PyTorch's names.
/// </summary>
public class BatchNormNetworkTests
{
    private const int Batch = 64;

    private static float[] Inputs(int batch, ulong seed) => Check.Random(batch * NormedResNet.InputSize, seed);

    private static int[] Labels(int batch, int step) => Enumerable.Range(0, batch).Select(i => (i * 5 + step) % NormedResNet.OutputSize).ToArray();

    private static ParameterTensor Tensor(INetwork net, string name) => net.ParameterTensors.Single(t => t.Name == name);

    [Fact]
    public void TheBatchIsCutIntoChunks_SoTheStatisticsCrossThem()
        => Assert.Equal(2, WorkerPool.ChunksFor(Batch, NormedResNet.ForwardFlopsPerSample, minSamples: 32));

    [Fact]
    public void RunningStatistics_FollowPyTorch_MomentumAndUnbiasedVariance()
    {
        var net = new NormedResNet(seed: 5);
        var x = Inputs(Batch, 1);
        var before = Check.ToDouble(net.Parameters);
        net.ComputeGradients(x, Labels(Batch, 0), Batch);

        // bn1 normalises conv1's output: recompute that output in double and take its statistics over the batch.
        var layers = net.Layers;
        var conv = layers[0];
        var g = conv.Convolution!;
        double[] z = Reference.Conv2D(Check.ToDouble(x), before.AsSpan(conv.Weight!.Offset, conv.Weight.Length), before.AsSpan(conv.Bias!.Offset, conv.Bias.Length), Batch, g);
        var runningMean = new double[8];
        var runningVariance = Enumerable.Repeat(1.0, 8).ToArray();
        Reference.BatchNorm(z, Enumerable.Repeat(1.0, 8).ToArray(), new double[8], Batch, 8, 16 * 16, runningMean, runningVariance);

        var mean = Tensor(net, "bn1.running_mean");
        var variance = Tensor(net, "bn1.running_var");
        Check.Close(runningMean, net.Parameters.Slice(mean.Offset, 8), 1e-5, 1e-6, "bn1.running_mean");
        Check.Close(runningVariance, net.Parameters.Slice(variance.Offset, 8), 1e-5, 1e-6, "bn1.running_var");
        Assert.Equal(1f, net.Parameters[Tensor(net, "bn1.num_batches_tracked").Offset]);
        Assert.Equal(1f, net.Parameters[Tensor(net, "layer1.0.bn2.num_batches_tracked").Offset]);
        Assert.Empty(Tensor(net, "bn1.num_batches_tracked").Shape); // a scalar, as PyTorch's
        Assert.False(mean.Trainable);
        Assert.False(variance.Trainable);
        Assert.True(Tensor(net, "bn1.weight").Trainable);
    }

    [Fact]
    public void Inference_UsesTheRunningStatistics_FoldedWithinRounding()
    {
        var net = new NormedResNet(seed: 6);
        var adam = new Adam(1e-2f);
        for (int step = 0; step < 4; step++) net.TrainStep(Inputs(Batch, (ulong)(10 + step)), Labels(Batch, step), Batch, adam);
        // The running statistics have moved away from (0, 1): inference that used the batch's, or ignored them, would differ.
        Assert.NotEqual(0f, net.Parameters[Tensor(net, "bn1.running_mean").Offset]);

        var x = Inputs(9, 20);
        var outputs = new float[9 * NormedResNet.OutputSize];
        net.Forward(x, outputs, 9);
        double[] expected = Reference.NetworkOutputs(net.Layers, Check.ToDouble(net.Parameters), Check.ToDouble(x), 9);
        Check.Close(expected, outputs, 1e-4, 1e-5, "folded inference against the running statistics");
        // A batch of one normalises by the running statistics too, so it gives the same as its row of the batch.
        var one = new float[NormedResNet.OutputSize];
        net.Forward(x.AsSpan(0, NormedResNet.InputSize), one);
        Check.Close(expected.AsSpan(0, NormedResNet.OutputSize), one, 1e-4, 1e-5, "one sample");
    }

    [Fact]
    public void Folding_ChangesAConvolutionsOutput_ByRoundingOnly()
    {
        // conv then batch normalisation in double, against the folded convolution in float.
        var g = new Conv2DGeometry(3, 6, 6, 5, 3, 3, 1, 1, 1, 6, 6);
        float[] w = Check.Random(g.WeightLength, 1), b = Check.Random(5, 2), gamma = Check.Random(5, 3), beta = Check.Random(5, 4);
        float[] mean = Check.Random(5, 5), variance = Check.Random(5, 6).Select(v => v * v + 0.1f).ToArray();
        float[] x = Check.Random(2 * 3 * 36, 7);
        double[] z = Reference.Conv2D(Check.ToDouble(x), Check.ToDouble(w), Check.ToDouble(b), 2, g);
        double[] expected = Reference.BatchNormInference(z, Check.ToDouble(gamma), Check.ToDouble(beta), Check.ToDouble(mean), Check.ToDouble(variance), 2, 5, 36);
        var foldedWeight = new float[w.Length];
        var foldedBias = new float[5];
        Normalization.FoldBatchNorm(w, b, gamma, beta, mean, variance, foldedWeight, foldedBias, 5, g.WeightLength / 5);
        var y = new float[2 * 5 * 36];
        Convolution.Forward(x, foldedWeight, foldedBias, y, 2, g);
        Check.Close(expected, y, 1e-5, 1e-6, "folded convolution");
    }

    [Fact]
    public void OneAndTwoThreads_GiveTheSameBits()
    {
        (float[] Parameters, float[] Gradients) Step(int threads)
        {
            var net = new NormedResNet(seed: 7) { Threads = threads };
            var sgd = new Sgd(0.05f, momentum: 0.9f);
            for (int step = 0; step < 3; step++) net.TrainStep(Inputs(Batch, (ulong)(30 + step)), Labels(Batch, step), Batch, sgd);
            return (net.Parameters.ToArray(), net.Gradients.ToArray());
        }
        var one = Step(1);
        var two = Step(2);
        Assert.True(one.Gradients.AsSpan().SequenceEqual(two.Gradients), "gradients differ between 1 and 2 threads");
        Assert.True(one.Parameters.AsSpan().SequenceEqual(two.Parameters), "parameters (running statistics included) differ between 1 and 2 threads");
    }

    [Fact]
    public void TheWholeBatchStatistics_NotEachChunks()
    {
        // Two chunks of 32, normalised each by its own statistics, would give other gradients than the reference's, which
        // normalises by the batch's; the generated gradients match the reference.
        var net = new NormedResNet(seed: 8) { Threads = 2 };
        var x = Inputs(Batch, 40);
        var labels = Labels(Batch, 0);
        float loss = net.ComputeGradients(x, labels, Batch);
        var expected = new double[NormedResNet.ParameterCount];
        double expectedLoss = Reference.NetworkLoss(net.Layers, net.Loss, Check.ToDouble(net.Parameters), Check.ToDouble(x), Batch, labels, default, expected);
        Assert.Equal(expectedLoss, loss, 4);
        Check.Close(expected, net.Gradients, 1e-4, 1e-6, "gradients over a batch of two chunks");
    }

    [Fact]
    public void TheOptimizer_NeverTouchesTheRunningStatistics()
    {
        var x = Inputs(Batch, 50);
        var labels = Labels(Batch, 0);
        var gradientsOnly = new NormedResNet(seed: 9);
        gradientsOnly.ComputeGradients(x, labels, Batch);
        var stepped = new NormedResNet(seed: 9);
        stepped.TrainStep(x, labels, Batch, new AdamW(learningRate: 0.5f, weightDecay: 0.5f));
        foreach (var t in stepped.ParameterTensors)
        {
            bool same = gradientsOnly.Parameters.Slice(t.Offset, t.Length).SequenceEqual(stepped.Parameters.Slice(t.Offset, t.Length));
            Assert.True(same == !t.Trainable, $"{t.Name}: {(t.Trainable ? "not updated" : "changed by the optimizer")}");
            if (!t.Trainable) Assert.True(stepped.Gradients.Slice(t.Offset, t.Length).IndexOfAnyExcept(0f) < 0, $"{t.Name} has a gradient");
        }
    }

    [Fact]
    public void SaveAndLoad_KeepTheRunningStatistics_UnderPyTorchsNames()
    {
        var net = new NormedResNet(seed: 10);
        net.TrainStep(Inputs(Batch, 60), Labels(Batch, 0), Batch, new Sgd(0.1f));
        string path = Path.Combine(Path.GetTempPath(), $"gennets-bn-{Guid.NewGuid():N}.safetensors");
        try
        {
            net.Save(path);
            var loaded = new NormedResNet(seed: 11);
            loaded.Load(path);
            Assert.True(net.Parameters.SequenceEqual(loaded.Parameters));
            var x = Inputs(5, 61);
            float[] a = new float[5 * 3], b = new float[5 * 3];
            net.Forward(x, a, 5);
            loaded.Forward(x, b, 5);
            Assert.Equal(a, b);
            var names = net.ParameterTensors.Select(t => t.Name).ToHashSet();
            foreach (string name in new[] { "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked", "layer1.0.bn2.running_var", "layer1.0.conv1.weight" })
                Assert.Contains(name, names);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AVectorBatchNorm_RefusesABatchOfOne_BeforeAnythingChanges()
    {
        var net = new NormedCnn(seed: 12);
        var before = net.Parameters.ToArray();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => net.ComputeGradients(Check.Random(NormedCnn.InputSize, 70), new[] { 1 }, 1));
        Assert.Contains("at least 2 samples", e.Message);
        Assert.True(before.AsSpan().SequenceEqual(net.Parameters));
        Assert.Equal(0, net.TrainingSteps);
    }
}
