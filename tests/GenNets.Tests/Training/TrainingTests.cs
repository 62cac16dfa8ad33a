using System;
using System.Linq;
using GenNets.Data;
using GenNets.Tests.Networks;
using GenNets.Training;
using Xunit;

namespace GenNets.Tests.Training;

public class TrainingTests
{
    private static Dataset Xor()
    {
        float[] x = [0, 0, 0, 1, 1, 0, 1, 1];
        return Dataset.WithTargets(x, 2, [0, 1, 1, 0], 1);
    }

    [Fact]
    public void Xor_IsLearnt()
    {
        var net = new XorNet(seed: 1);
        var trainer = new Trainer<XorNet>(net, new Adam(0.05f));
        var history = trainer.Fit(Xor(), epochs: 300, batchSize: 4, seed: 1);
        Assert.True(history[^1].TrainLoss < 0.05f, $"final loss {history[^1].TrainLoss}");
        var output = new float[1];
        float[][] cases = [[0, 0], [0, 1], [1, 0], [1, 1]];
        bool[] expected = [false, true, true, false];
        for (int i = 0; i < 4; i++)
        {
            net.Forward(cases[i], output);
            Assert.Equal(expected[i], output[0] > 0);
        }
    }

    [Fact]
    public void SameSeeds_GiveBitIdenticalWeights()
    {
        var data = Blobs(400, 13);
        float[] Run()
        {
            var net = new FashionLikeNet(seed: 11);
            new Trainer<FashionLikeNet>(net, new AdamW(3e-3f)).Fit(data, epochs: 3, batchSize: 32, seed: 5);
            return net.Parameters.ToArray();
        }
        float[] a = Run(), b = Run();
        Assert.True(a.AsSpan().SequenceEqual(b), "two runs with the same seeds differ");
        var other = new FashionLikeNet(seed: 11);
        new Trainer<FashionLikeNet>(other, new AdamW(3e-3f)).Fit(data, epochs: 3, batchSize: 32, seed: 6);
        Assert.False(a.AsSpan().SequenceEqual(other.Parameters), "a different shuffle seed should change the weights");
    }

    [Fact]
    public void FixedSeed_ReachesFixedAccuracy_OnFixedSubset()
    {
        // Four Gaussian blobs in 13 dimensions, fixed seeds: the network must separate them well.
        var train = Blobs(800, 13);
        var test = Blobs(200, 14);
        var net = new FashionLikeNet(seed: 2);
        var trainer = new Trainer<FashionLikeNet>(net, new Sgd(0.05f, momentum: 0.9f)) { Schedule = new CosineSchedule() };
        var history = trainer.Fit(train, epochs: 8, batchSize: 32, validation: test, seed: 3);
        Assert.True(history[^1].ValidationAccuracy >= 0.95f, $"validation accuracy {history[^1].ValidationAccuracy}");
        Assert.True(history[^1].TrainLoss < history[0].TrainLoss);
        Assert.Equal(trainer.Evaluate(test).Accuracy, history[^1].ValidationAccuracy);
    }

    [Fact]
    public void Progress_IsReportedPerBatch_AndPerEpoch()
    {
        var data = Blobs(100, 13);
        var reports = new System.Collections.Generic.List<TrainingProgress>();
        var net = new FashionLikeNet(seed: 1);
        new Trainer<FashionLikeNet>(net, new Adam()).Fit(data, epochs: 2, batchSize: 32, progress: new Collect(reports));
        Assert.Equal(2 * (4 + 1), reports.Count); // 4 batches and one epoch report, twice
        Assert.Equal(2, reports.Count(r => r.Completed is not null));
        Assert.Equal(4, reports[0].Batches);
    }

    [Fact]
    public void NaNLoss_Throws_NamingTheLayer_AndKeepsWeights()
    {
        var net = new FashionLikeNet(seed: 1);
        var data = Blobs(64, 13);
        // Poison one weight of the second layer: the forward becomes NaN.
        net.Parameters[FashionLikeNet.Layer1WeightOffset + 3] = float.NaN;
        float[] before = net.Parameters.ToArray();
        var ex = Assert.Throws<TrainingDivergedException>(() => new Trainer<FashionLikeNet>(net, new Sgd(0.1f)).Fit(data, epochs: 1, batchSize: 16));
        Assert.Contains("'1.weight'", ex.Message);
        Assert.Contains("epoch 1, batch 1", ex.Message);
        Assert.True(before.AsSpan().SequenceEqual(net.Parameters), "the failing step must not be applied");
    }

    [Fact]
    public void ExplodingLearningRate_IsCaughtBeforeWeightsTurnNaN()
    {
        var net = new Regressor(seed: 1);
        var r = new SeededRandom(3);
        var x = Enumerable.Range(0, 64 * 13).Select(_ => (float)(r.NextDouble() * 1000)).ToArray();
        var y = Enumerable.Range(0, 64 * 2).Select(_ => (float)(r.NextDouble() * 1e6)).ToArray();
        var data = Dataset.WithTargets(x, 13, y, 2);
        var ex = Assert.Throws<TrainingDivergedException>(() => new Trainer<Regressor>(net, new Sgd(10f)).Fit(data, epochs: 50, batchSize: 64));
        Assert.Contains("diverged", ex.Message);
        foreach (float v in net.Parameters) Assert.True(float.IsFinite(v));
    }

    [Fact]
    public void MismatchedData_IsRejectedWithTheNumbers()
    {
        var net = new FashionLikeNet();
        var trainer = new Trainer<FashionLikeNet>(net, new Adam());
        var wrongWidth = Dataset.WithLabels(new float[20], 10, [0, 1]);
        var ex = Assert.Throws<ArgumentException>(() => trainer.Fit(wrongWidth, 1, 2));
        Assert.Contains("13", ex.Message);
        Assert.Contains("10", ex.Message);
        var badLabel = Dataset.WithLabels(new float[26], 13, [0, 9]);
        ex = Assert.Throws<ArgumentException>(() => trainer.Fit(badLabel, 1, 2));
        Assert.Contains("Label 9", ex.Message);
    }

    [Fact]
    public void GradientClipping_BoundsTheStep()
    {
        var data = Blobs(32, 13);
        // The gradient of this batch is far longer than the bound, so clipping must act.
        var probe = new FashionLikeNet(seed: 4);
        probe.ComputeGradients(data.Features, data.Labels!, 32);
        float norm = System.Numerics.Tensors.TensorPrimitives.Norm(probe.Gradients);
        Assert.True(norm > 0.1f, $"the unclipped gradient's norm is {norm}");

        var clipped = new FashionLikeNet(seed: 4);
        var start = clipped.Parameters.ToArray();
        new Trainer<FashionLikeNet>(clipped, new Sgd(1f) { MaxGradientNorm = 0.01f }).Fit(data, epochs: 1, batchSize: 32);
        double moved = 0;
        for (int i = 0; i < start.Length; i++) moved += Math.Pow(clipped.Parameters[i] - start[i], 2);
        // One SGD step of lr 1 moves the parameters by the clipped gradient: exactly its norm, 0.01, up to rounding.
        Assert.InRange(Math.Sqrt(moved), 0.0099, 0.0100001);
        Assert.InRange(System.Numerics.Tensors.TensorPrimitives.Norm(clipped.Gradients), 0.0099f, 0.0100001f);
    }

    /// <summary>Four labelled Gaussian blobs around fixed centres.</summary>
    internal static Dataset Blobs(int count, ulong seed)
    {
        var centres = new SeededRandom(1000);
        var c = new float[4 * 13];
        for (int i = 0; i < c.Length; i++) c[i] = (float)(centres.NextGaussian() * 1.5);
        var r = new SeededRandom(seed);
        var x = new float[count * 13];
        var labels = new int[count];
        for (int s = 0; s < count; s++)
        {
            labels[s] = r.NextInt(4);
            for (int d = 0; d < 13; d++) x[s * 13 + d] = c[labels[s] * 13 + d] + (float)r.NextGaussian();
        }
        return Dataset.WithLabels(x, 13, labels);
    }

    private sealed class Collect(System.Collections.Generic.List<TrainingProgress> into) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => into.Add(value);
    }
}

[Input(13)]
[Dense(32, Activation.ReLU)]
[Dense(16, Activation.ReLU)]
[Dropout(0.2f)]
[Dense(4)]
[Loss(LossKind.SoftmaxCrossEntropy)]
public partial class FashionLikeNet { }
