using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using GenNets.Data;
using GenNets.Tests.Networks;
using GenNets.Training;
using Xunit;

namespace GenNets.Tests.Training;

/// <summary>
/// The training loop a Keras or PyTorch Lightning user expects: epochs reported as they end, early stopping with the best
/// weights restored, checkpoints that resume bit for bit, a learning-rate warm-up, metrics beyond accuracy, a progress bar.
/// </summary>
public sealed class TrainingLoopTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gennets-loop-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Dataset Blobs(int count, ulong seed) => TrainingTests.Blobs(count, seed);

    [Fact]
    public void Epochs_TrainsAnEpoch_EachTimeTheEnumerationAsksForOne()
    {
        var net = new FashionLikeNet(seed: 1);
        var trainer = new Trainer<FashionLikeNet>(net, new Adam());
        var epochs = trainer.Epochs(Blobs(100, 13), epochs: 3, batchSize: 32);
        Assert.Equal(0, net.TrainingSteps); // nothing happens until the enumeration starts
        using var e = epochs.GetEnumerator();
        for (int epoch = 1; epoch <= 3; epoch++)
        {
            Assert.True(e.MoveNext());
            Assert.Equal(epoch, e.Current.Epoch);
            Assert.Equal(4 * epoch, net.TrainingSteps); // 4 batches an epoch, and not one more
            Assert.Equal(epoch, trainer.History.Count);
        }
        Assert.False(e.MoveNext());
    }

    [Fact]
    public void Epochs_ChecksItsArguments_WhenCalled()
    {
        var trainer = new Trainer<FashionLikeNet>(new FashionLikeNet(), new Adam());
        Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Epochs(Blobs(10, 1), epochs: 0, batchSize: 2));
        Assert.Throws<ArgumentException>(() => trainer.Epochs(Dataset.WithLabels(new float[20], 10, [0, 1]), epochs: 1, batchSize: 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer<FashionLikeNet>(new FashionLikeNet(), new Adam()) { WarmupSteps = -1 });
    }

    [Fact]
    public void Fit_AndEpochs_GiveTheSameWeights()
    {
        var data = Blobs(200, 13);
        var a = new FashionLikeNet(seed: 3);
        var b = new FashionLikeNet(seed: 3);
        var fitted = new Trainer<FashionLikeNet>(a, new Adam()).Fit(data, 3, 32, data, seed: 4);
        var stepped = new Trainer<FashionLikeNet>(b, new Adam()).Epochs(data, 3, 32, data, seed: 4).ToList();
        Assert.True(a.Parameters.SequenceEqual(b.Parameters));
        Assert.Equal(fitted.Select(r => r.ValidationLoss), stepped.Select(r => r.ValidationLoss));
    }

    public static TheoryData<string> Optimizers => new() { "adam", "sgd" };

    private static Optimizer Make(string kind) => kind == "adam" ? new AdamW(3e-3f) : new Sgd(0.05f, momentum: 0.9f, nesterov: true, weightDecay: 1e-4f);

    private Trainer<FashionLikeNet> Trainer(FashionLikeNet net, string optimizer, string? checkpoint = null) => new(net, Make(optimizer))
    {
        Schedule = new CosineSchedule(0.1f),
        WarmupSteps = 10,
        EarlyStopping = new EarlyStopping(patience: 100),
        CheckpointPath = checkpoint,
    };

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void AStoppedRun_ResumedFromItsCheckpoint_EndsWithTheSameBits(string optimizer)
    {
        // Dropout, a schedule, a warm-up, early stopping's bookkeeping and the optimizer's moments all carry state across
        // epochs: a run stopped after epoch 2 and resumed must end exactly where the run that never stopped ends.
        var train = Blobs(150, 21);
        var validation = Blobs(60, 22);
        var whole = new FashionLikeNet(seed: 5);
        var straight = Trainer(whole, optimizer).Fit(train, epochs: 5, batchSize: 32, validation: validation, seed: 7);

        string path = Path.Combine(_dir, "run.ckpt");
        var first = new FashionLikeNet(seed: 5);
        foreach (var epoch in Trainer(first, optimizer, path).Epochs(train, 5, 32, validation, seed: 7))
            if (epoch.Epoch == 2) break; // the process "stops" here; the checkpoint of epoch 2 is on disk

        var second = new FashionLikeNet(seed: 99); // other weights: all must come from the checkpoint
        var resumed = Trainer(second, optimizer, path);
        resumed.Resume(path);
        var history = resumed.Fit(train, epochs: 5, batchSize: 32, validation: validation, seed: 7);

        Assert.True(whole.Parameters.SequenceEqual(second.Parameters), "the resumed run's weights differ from the straight run's");
        Assert.Equal(whole.TrainingSteps, second.TrainingSteps);
        Assert.Equal(straight.Select(r => (r.TrainLoss, r.ValidationLoss, r.LearningRate)), history.Select(r => (r.TrainLoss, r.ValidationLoss, r.LearningRate)));
    }

    [Fact]
    public void Resume_WithAnotherSeed_OrIntoAnotherNetwork_IsRefused_AndChangesNothing()
    {
        var train = Blobs(64, 23);
        string path = Path.Combine(_dir, "a.ckpt");
        new Trainer<FashionLikeNet>(new FashionLikeNet(seed: 1), new Adam()) { CheckpointPath = path }.Fit(train, 1, 32, seed: 3);

        var net = new FashionLikeNet(seed: 2);
        var trainer = new Trainer<FashionLikeNet>(net, new Adam());
        trainer.Resume(path);
        var e = Assert.Throws<ArgumentException>(() => trainer.Fit(train, 2, 32, seed: 4));
        Assert.Contains("seed 3", e.Message);

        var other = new Regressor(seed: 1);
        var before = other.Parameters.ToArray();
        var bad = Assert.Throws<InvalidDataException>(() => new Trainer<Regressor>(other, new Adam()).Resume(path));
        Assert.Contains("FashionLikeNet", bad.Message);
        Assert.True(before.AsSpan().SequenceEqual(other.Parameters));

        var sgdNet = new FashionLikeNet(seed: 2);
        var sgdBefore = sgdNet.Parameters.ToArray();
        var wrongOptimizer = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path, sgdNet, new Sgd(0.1f)));
        Assert.Contains("the state of Adam, not of Sgd", wrongOptimizer.Message);
        Assert.True(sgdBefore.AsSpan().SequenceEqual(sgdNet.Parameters));
    }

    [Fact]
    public void Checkpoint_RoundTrips_TheOptimizerState_AndTheCounters()
    {
        var data = Blobs(64, 24);
        var net = new FashionLikeNet(seed: 8);
        var adam = new Adam(2e-3f);
        new Trainer<FashionLikeNet>(net, adam).Fit(data, 2, 16);
        string path = Path.Combine(_dir, "c.ckpt");
        Checkpoint.Save(path, net, adam, new Dictionary<string, string> { ["note"] = "mine" });

        var copy = new FashionLikeNet(seed: 9);
        var adamCopy = new Adam(1f);
        var meta = Checkpoint.Load(path, copy, adamCopy);
        Assert.Equal("mine", meta["note"]);
        Assert.True(net.Parameters.SequenceEqual(copy.Parameters));
        Assert.Equal(net.TrainingSteps, copy.TrainingSteps);
        Assert.Equal(adam.StepCount, adamCopy.StepCount);
        Assert.Equal(adam.LearningRate, adamCopy.LearningRate);
        // The moments came back too: one more identical step gives identical weights.
        var (x, y) = (data.Features.AsSpan(0, 16 * 13).ToArray(), data.Labels!.AsSpan(0, 16).ToArray());
        net.TrainStep(x, y, 16, adam);
        copy.TrainStep(x, y, 16, adamCopy);
        Assert.True(net.Parameters.SequenceEqual(copy.Parameters));
        Assert.Throws<ArgumentException>(() => Checkpoint.Save(path, net, adam, new Dictionary<string, string> { ["gennets.format"] = "x" }));
    }

    [Fact]
    public void EarlyStopping_Stops_AndRestoresTheBestEpochsWeights()
    {
        // The validation set's labels are the training labels of other points: the more the network fits the training set,
        // the worse its validation loss gets, so it must stop long before 60 epochs.
        var train = Blobs(200, 25);
        var noise = Blobs(200, 26);
        var validation = Dataset.WithLabels(noise.Features, 13, noise.Labels!.Select((l, i) => (l + 1 + i % 3) % 4).ToArray());
        var net = new FashionLikeNet(seed: 4);
        var trainer = new Trainer<FashionLikeNet>(net, new Adam(1e-2f)) { EarlyStopping = new EarlyStopping(patience: 3) };
        var history = trainer.Fit(train, epochs: 60, batchSize: 32, validation: validation, seed: 1);

        Assert.True(trainer.StoppedEarly);
        Assert.True(history.Count < 60);
        int best = history.OrderBy(r => r.ValidationLoss).First().Epoch;
        Assert.Equal(best, trainer.BestEpoch);
        Assert.Equal(history.Count, best + 3); // three epochs without improvement, then the stop
        // The network holds the best epoch's weights: its validation loss is that epoch's, to the bit.
        Assert.Equal(history[best - 1].ValidationLoss, trainer.Evaluate(validation, batchSize: 256).Loss);
    }

    [Fact]
    public void EarlyStopping_WithoutAValidationSet_SaysWhy()
    {
        var trainer = new Trainer<FashionLikeNet>(new FashionLikeNet(), new Adam()) { EarlyStopping = new EarlyStopping() };
        var e = Assert.Throws<ArgumentException>(() => trainer.Epochs(Blobs(32, 1), 2, 16)); // at the call, before any training
        Assert.Equal("Early stopping watches ValidationLoss, which needs a validation set. (Parameter 'validation')", e.Message);
        var r2 = new Trainer<FashionLikeNet>(new FashionLikeNet(), new Adam()) { EarlyStopping = new EarlyStopping(EarlyStoppingMetric.ValidationR2) };
        Assert.Contains("needs a validation set of float targets", Assert.Throws<ArgumentException>(() => r2.Epochs(Blobs(32, 1), 2, 16, validation: Blobs(8, 2))).Message);
    }

    [Fact]
    public void Warmup_RaisesTheLearningRate_LinearlyOverItsSteps()
    {
        var data = Blobs(32, 27);
        var sgd = new Sgd(0.1f);
        var history = new Trainer<FashionLikeNet>(new FashionLikeNet(seed: 1), sgd) { WarmupSteps = 4 }.Fit(data, epochs: 6, batchSize: 32);
        // One step an epoch: step n (from 0) uses (n + 1)/4 of the rate, then all of it.
        Assert.Equal(new[] { 0.025f, 0.05f, 0.075f, 0.1f, 0.1f, 0.1f }, history.Select(r => r.LearningRate));
    }

    [Fact]
    public void RegressionMetrics_AreTheTextbookOnes()
    {
        var r = new SeededRandom(5);
        var x = Enumerable.Range(0, 50 * 13).Select(_ => (float)r.NextGaussian()).ToArray();
        var y = Enumerable.Range(0, 50 * 2).Select(i => (float)(r.NextGaussian() + i % 2 * 3)).ToArray();
        var data = Dataset.WithTargets(x, 13, y, 2);
        var net = new Regressor(seed: 3);
        var eval = Trainer<Regressor>.Evaluation(net, data, batchSize: 7);

        var outputs = new float[50 * 2];
        net.Forward(x, outputs, 50);
        double mae = 0, r2 = 0;
        for (int i = 0; i < y.Length; i++) mae += Math.Abs(y[i] - outputs[i]);
        for (int c = 0; c < 2; c++)
        {
            double mean = Enumerable.Range(0, 50).Average(s => y[s * 2 + c]);
            double res = Enumerable.Range(0, 50).Sum(s => Math.Pow(y[s * 2 + c] - outputs[s * 2 + c], 2));
            double tot = Enumerable.Range(0, 50).Sum(s => Math.Pow(y[s * 2 + c] - mean, 2));
            r2 += (1 - res / tot) / 2;
        }
        Assert.Equal(mae / y.Length, eval.MeanAbsoluteError!.Value, 5);
        Assert.Equal(r2, eval.R2!.Value, 4);
        Assert.Null(eval.Accuracy);
        Assert.Null(eval.Confusion);
    }

    [Fact]
    public void ClassificationMetrics_GivePrecisionRecallAndF1_PerClass()
    {
        var m = new ConfusionMatrix(3);
        // actual 0: 3 right, 1 as class 1; actual 1: 2 right; actual 2: 1 right, 2 as class 0.
        foreach (var (a, p) in new[] { (0, 0), (0, 0), (0, 0), (0, 1), (1, 1), (1, 1), (2, 2), (2, 0), (2, 0) }) m.Add(a, p);
        Assert.Equal(3.0 / 5, m.Precision(0), 12);
        Assert.Equal(3.0 / 4, m.Recall(0), 12);
        Assert.Equal(2 * 0.6 * 0.75 / 1.35, m.F1(0), 12);
        Assert.Equal(2.0 / 3, m.Precision(1), 12);
        Assert.Equal(1.0, m.Recall(1), 12);
        Assert.Equal(1.0 / 3, m.Recall(2), 12);
        Assert.Equal((m.F1(0) + m.F1(1) + m.F1(2)) / 3, m.MacroF1, 12);
        Assert.Contains("precision", m.Format());

        var data = Blobs(120, 28);
        var net = new FashionLikeNet(seed: 2);
        var trainer = new Trainer<FashionLikeNet>(net, new Adam(1e-2f));
        trainer.Fit(data, 3, 32);
        var eval = trainer.Evaluate(data);
        Assert.NotNull(eval.Confusion);
        Assert.Equal(120, eval.Confusion!.Total);
        Assert.Equal(eval.Accuracy!.Value, (float)eval.Confusion.Accuracy);
    }

    [Fact]
    public void TrainAccuracy_IsNotReported_ForOneLogitPerStep()
    {
        // One binary logit per position: there is no class to take the largest of, so no accuracy (as validation has none).
        var x = Check.Random(20 * 12, 30);
        var data = Dataset.WithStepLabels(x, 12, Enumerable.Repeat(1, 20 * 4).ToArray(), steps: 4);
        var history = new Trainer<StepLogits>(new StepLogits(seed: 1), new Adam(1e-2f)).Fit(data, 3, 10, validation: data);
        Assert.All(history, e => Assert.Null(e.TrainAccuracy));
        Assert.All(history, e => Assert.Null(e.ValidationAccuracy));
    }

    [Fact]
    public void Evaluation_OfADataSetThatDoesNotFit_IsRefused()
    {
        var net = new Regressor(seed: 1);
        var wide = Dataset.WithTargets(new float[3 * 13], 13, new float[3 * 8], 8);
        var e = Assert.Throws<ArgumentException>(() => Trainer<Regressor>.Evaluation(net, wide));
        Assert.Contains("2 outputs", e.Message);
        Assert.Contains("8 targets", e.Message);
    }

    [Fact]
    public void MacroAverages_TakeTheClassesThatOccur_AsScikitLearnDoes()
    {
        // Ten classes, but only 0 and 1 occur: the macro F1 is the mean of those two, not a tenth of their sum.
        var m = new ConfusionMatrix(10);
        m.Add(0, 0); m.Add(0, 1); m.Add(1, 1); m.Add(1, 1);
        Assert.Equal((m.F1(0) + m.F1(1)) / 2, m.MacroF1, 12);
        Assert.Equal((1.0 + 2.0 / 3) / 2, m.MacroPrecision, 12);
        Assert.Equal(0, new ConfusionMatrix(3).MacroF1);
    }

    [Fact]
    public void Checkpoint_OfSgdWithMomentum_IsRefusedBySgdWithout()
    {
        var data = Blobs(32, 31);
        var net = new FashionLikeNet(seed: 1);
        var withMomentum = new Sgd(0.1f, momentum: 0.9f);
        new Trainer<FashionLikeNet>(net, withMomentum).Fit(data, 1, 16);
        string path = Path.Combine(_dir, "m.ckpt");
        Checkpoint.Save(path, net, withMomentum);
        var copy = new FashionLikeNet(seed: 2);
        var before = copy.Parameters.ToArray();
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path, copy, new Sgd(0.1f)));
        Assert.Contains("'optimizer.momentum_buffer'", e.Message);
        Assert.True(before.AsSpan().SequenceEqual(copy.Parameters));
    }

    [Fact]
    public void ConsoleProgressBar_PrintsOneLinePerEpoch_WhenNotInteractive()
    {
        var output = new StringWriter();
        var data = Blobs(64, 29);
        new Trainer<FashionLikeNet>(new FashionLikeNet(seed: 1), new Adam()).Fit(data, 3, 16, validation: data, progress: new ConsoleProgressBar(output, interactive: false));
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("epoch  1/3  loss ", lines[0]);
        Assert.Contains("val acc", lines[2]);
        Assert.Contains("val F1", lines[2]);
    }
}

// One binary logit per step of a sequence: per-position binary classification.
[Input(4, 3)]
[Dense(1)]
[Loss(LossKind.BinaryCrossEntropyWithLogits)]
public partial class StepLogits { }
