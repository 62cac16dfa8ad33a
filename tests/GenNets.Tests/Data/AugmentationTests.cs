using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using GenNets.Data;
using GenNets.Training;
using Xunit;

namespace GenNets.Tests.Data;

/// <summary>
/// Random crops and flips of training images: each output is the image shifted within the padding and mirrored or not,
/// decided by (seed, epoch, index) alone, so that batches, orders and resumes change nothing; the trainer augments its
/// training batches and nothing else.
/// </summary>
public sealed class AugmentationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gennets-augment-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // Images of values in [1, 2): no pixel is 0, so a shift's zeros and a mirror are told apart from the image itself.
    private static float[] Images(int count, int size, ulong seed)
    {
        var random = new SeededRandom(seed);
        var x = new float[count * size];
        for (int i = 0; i < x.Length; i++) x[i] = 1f + (float)random.NextDouble();
        return x;
    }

    // Pixel (y, x) of the result is pixel (y + dy, x + dx) of the image, 0 outside it.
    private static float[] Shifted(ReadOnlySpan<float> image, int channels, int height, int width, int dy, int dx)
    {
        var r = new float[image.Length];
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    int sy = y + dy, sx = x + dx;
                    if (sy >= 0 && sy < height && sx >= 0 && sx < width) r[(c * height + y) * width + x] = image[(c * height + sy) * width + sx];
                }
        return r;
    }

    // Each row reversed.
    private static float[] Mirrored(ReadOnlySpan<float> image, int channels, int height, int width)
    {
        var r = new float[image.Length];
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                    r[(c * height + y) * width + x] = image[(c * height + y) * width + width - 1 - x];
        return r;
    }

    private static float[] Augmented(Augmentation augmentation, ReadOnlySpan<float> image, int seed, int epoch, int index)
    {
        var output = new float[image.Length];
        augmentation.Apply(image, output, seed, epoch, index);
        return output;
    }

    [Fact]
    public void NoPadding_AndNoFlip_IsTheIdentity()
    {
        var augmentation = new ImageAugmentation(3, 5, 4);
        var images = Images(20, 60, 1);
        for (int i = 0; i < 20; i++)
        {
            var image = images.AsSpan(i * 60, 60);
            Assert.True(Augmented(augmentation, image, seed: 7, epoch: i % 3, index: i).AsSpan().SequenceEqual(image));
        }
    }

    [Fact]
    public void Flips_GiveTheImage_OrItsMirror_AboutHalfOfTheTime_TheSameForEveryChannel()
    {
        const int C = 3, H = 5, W = 7, size = C * H * W, count = 400;
        var augmentation = new ImageAugmentation(C, H, W, flipHorizontal: true);
        var images = Images(count, size, 2);
        int mirrored = 0;
        for (int i = 0; i < count; i++)
        {
            var image = images.AsSpan(i * size, size);
            var output = Augmented(augmentation, image, seed: 3, epoch: 0, index: i);
            if (output.AsSpan().SequenceEqual(Mirrored(image, C, H, W))) mirrored++;
            else Assert.True(output.AsSpan().SequenceEqual(image), $"sample {i} is neither the image nor its mirror");
        }
        Assert.InRange(mirrored, count * 35 / 100, count * 65 / 100); // a binomial(400, ½): 200 ± 10 or so
    }

    [Fact]
    public void Crops_ShiftTheImage_ByEveryOffsetWithinThePadding_WithZerosFillingIn()
    {
        const int C = 2, H = 6, W = 5, P = 2, size = C * H * W, count = 300;
        var augmentation = new ImageAugmentation(C, H, W, padding: P);
        var images = Images(count, size, 3);
        var shifts = new HashSet<(int, int)>();
        for (int i = 0; i < count; i++)
        {
            var image = images.AsSpan(i * size, size);
            var output = Augmented(augmentation, image, seed: 4, epoch: 1, index: i);
            var matches = new List<(int, int)>();
            for (int dy = -P; dy <= P; dy++)
                for (int dx = -P; dx <= P; dx++)
                    if (output.AsSpan().SequenceEqual(Shifted(image, C, H, W, dy, dx))) matches.Add((dy, dx));
            Assert.True(matches.Count == 1, $"sample {i} matches {matches.Count} shifts within ±{P}");
            shifts.Add(matches[0]);
        }
        Assert.Equal((2 * P + 1) * (2 * P + 1), shifts.Count); // 300 draws of 25 shifts: every one, the extremes included
    }

    [Fact]
    public void CropsAndFlips_GiveAShiftedImage_OrTheMirrorOfOne()
    {
        const int C = 1, H = 4, W = 6, P = 1, size = C * H * W, count = 200;
        var augmentation = new ImageAugmentation(C, H, W, padding: P, flipHorizontal: true);
        var images = Images(count, size, 5);
        int mirrored = 0;
        for (int i = 0; i < count; i++)
        {
            var image = images.AsSpan(i * size, size);
            var output = Augmented(augmentation, image, seed: 9, epoch: 2, index: i);
            int asShifted = 0, asMirrored = 0;
            for (int dy = -P; dy <= P; dy++)
                for (int dx = -P; dx <= P; dx++)
                {
                    var shifted = Shifted(image, C, H, W, dy, dx);
                    if (output.AsSpan().SequenceEqual(shifted)) asShifted++;
                    if (output.AsSpan().SequenceEqual(Mirrored(shifted, C, H, W))) asMirrored++;
                }
            Assert.True(asShifted + asMirrored == 1, $"sample {i} is {asShifted} shifts of the image within ±{P} and the mirror of {asMirrored}, not one of them");
            mirrored += asMirrored;
        }
        Assert.InRange(mirrored, 50, 150);
    }

    [Fact]
    public void TheSameSeedEpochAndIndex_GiveTheSameImage_AnotherEpochOrSeed_OtherOnes()
    {
        const int size = 2 * 8 * 8, count = 32;
        var images = Images(count, size, 6);
        var data = Dataset.WithLabels(images, size, new int[count]);
        var indices = Enumerable.Range(0, count).ToArray();
        float[] Batch(Augmentation a, int seed, int epoch)
        {
            var output = new float[count * size];
            a.Apply(data, indices, output, seed, epoch);
            return output;
        }
        var one = new ImageAugmentation(2, 8, 8, padding: 3, flipHorizontal: true);
        var other = new ImageAugmentation(2, 8, 8, padding: 3, flipHorizontal: true); // a second instance holds no state of its own
        var epoch1 = Batch(one, 11, 1);
        Assert.Equal(epoch1, Batch(one, 11, 1));
        Assert.Equal(epoch1, Batch(other, 11, 1));
        Assert.NotEqual(epoch1, Batch(one, 11, 2));
        Assert.NotEqual(epoch1, Batch(one, 12, 1));
        // Not only somewhere in the batch: most samples change from epoch to epoch (each stays with 1 chance in 98).
        var epoch2 = Batch(one, 11, 2);
        int changed = Enumerable.Range(0, count).Count(i => !epoch1.AsSpan(i * size, size).SequenceEqual(epoch2.AsSpan(i * size, size)));
        Assert.True(changed >= count * 3 / 4, $"only {changed} of {count} samples changed between epochs");
    }

    [Fact]
    public void ABatch_InAnyOrder_IsEachSampleAugmentedOnItsOwn()
    {
        const int C = 3, H = 7, W = 6, size = C * H * W, count = 24;
        var augmentation = new ImageAugmentation(C, H, W, padding: 2, flipHorizontal: true);
        var data = Dataset.WithLabels(Images(count, size, 7), size, new int[count]);
        var order = Enumerable.Range(0, count).ToArray();
        new SeededRandom(8).Shuffle(order);
        foreach (var indices in new[] { order, order.Reverse().ToArray(), order[5..9], new[] { 3, 3, 17 } })
        {
            var batch = new float[indices.Length * size];
            augmentation.Apply(data, indices, batch, seed: 5, epoch: 4);
            for (int i = 0; i < indices.Length; i++)
            {
                var alone = Augmented(augmentation, data.GetFeatures(indices[i]), seed: 5, epoch: 4, index: indices[i]);
                Assert.True(batch.AsSpan(i * size, size).SequenceEqual(alone), $"row {i} (sample {indices[i]}) differs from the sample augmented alone");
            }
        }
    }

    [Fact]
    public void Augmenting_AllocatesNothing()
    {
        const int size = 1 * 28 * 28, count = 64;
        var augmentation = new ImageAugmentation(1, 28, 28, padding: 4, flipHorizontal: true);
        var data = Dataset.WithLabels(Images(count, size, 9), size, new int[count]);
        var indices = Enumerable.Range(0, count).Reverse().ToArray();
        var output = new float[count * size];
        int epoch = 0;
        Assert.Equal(0, Check.SteadyStateAllocation(() => augmentation.Apply(data, indices, output, 1, epoch++)));
    }

    [Fact]
    public void ATrainingBatch_AllocatesNothing_OnceTheBuffersExist()
    {
        var data = Images(40, 36, 10);
        var net = new AugmentedCnn(seed: 1);
        var batches = new Batches(net, Dataset.WithLabels(data, 36, new int[40]), 16, seed: 2, new ImageAugmentation(1, 6, 6, padding: 2, flipHorizontal: true));
        batches.Shuffle();
        int b = 0;
        Assert.Equal(0, Check.SteadyStateAllocation(() => batches.Fill(b++ % batches.Count, epoch: 3)));
    }

    [Fact]
    public void BadArguments_AreRefused_NamingTheNumbers()
    {
        Assert.Contains("-1", Assert.Throws<ArgumentOutOfRangeException>("padding", () => new ImageAugmentation(1, 28, 28, padding: -1)).Message);
        var tooMuch = Assert.Throws<ArgumentOutOfRangeException>("padding", () => new ImageAugmentation(1, 6, 9, padding: 7));
        Assert.Contains("7", tooMuch.Message);
        Assert.Contains("6×9", tooMuch.Message);
        Assert.Contains("it has 0", Assert.Throws<ArgumentOutOfRangeException>("channels", () => new ImageAugmentation(0, 28, 28)).Message);
        Assert.Contains("-3", Assert.Throws<ArgumentOutOfRangeException>("height", () => new ImageAugmentation(1, -3, 28)).Message);
        Assert.Contains("it is 0", Assert.Throws<ArgumentOutOfRangeException>("width", () => new ImageAugmentation(1, 28, 0)).Message);
        var huge = Assert.Throws<ArgumentOutOfRangeException>(() => new ImageAugmentation(4096, 4096, 4096));
        Assert.Contains("68719476736", huge.Message);

        var augmentation = new ImageAugmentation(2, 3, 4, padding: 1);
        var wrong = Assert.Throws<ArgumentException>("source", () => augmentation.Apply(new float[23], new float[24], 0, 0, 0));
        Assert.Contains("23", wrong.Message);
        Assert.Contains("24", wrong.Message);
        Assert.Contains("25", Assert.Throws<ArgumentException>("destination", () => augmentation.Apply(new float[24], new float[25], 0, 0, 0)).Message);
        var shared = new float[48];
        Assert.Throws<ArgumentException>("destination", () => augmentation.Apply(shared.AsSpan(0, 24), shared.AsSpan(12, 24), 0, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>("epoch", () => augmentation.Apply(new float[24], new float[24], 0, -1, 0));
        Assert.Throws<ArgumentOutOfRangeException>("index", () => augmentation.Apply(new float[24], new float[24], 0, 0, -1));

        var data = Dataset.WithLabels(new float[5 * 24], 24, new int[5]);
        var output = new float[2 * 24];
        var outside = Assert.Throws<ArgumentOutOfRangeException>("indices", () => augmentation.Apply(data, [1, 5], output, 0, 0));
        Assert.Contains("sample 5", outside.Message);
        Assert.Contains("5 samples", outside.Message);
        Assert.Contains("30", Assert.Throws<ArgumentException>("data", () => augmentation.Apply(Dataset.WithLabels(new float[60], 30, new int[2]), [0], new float[24], 0, 0)).Message);
        Assert.Contains("47", Assert.Throws<ArgumentException>("destination", () => augmentation.Apply(data, [0, 1], new float[47], 0, 0)).Message);
        Assert.Throws<ArgumentNullException>("data", () => augmentation.Apply(null!, [0], new float[24], 0, 0));
    }

    // Labelled 6×6 images for AugmentedCnn's three classes.
    private static Dataset Tiny(int count, ulong seed)
    {
        var random = new SeededRandom(seed + 100);
        var labels = new int[count];
        for (int i = 0; i < count; i++) labels[i] = random.NextInt(3);
        return Dataset.WithLabels(Images(count, 36, seed), 36, labels);
    }

    [Fact]
    public void Training_AugmentsTheTrainingBatches_AndNotTheValidation()
    {
        var train = Tiny(60, 11);
        var validation = Tiny(30, 12);
        var plain = new AugmentedCnn(seed: 3);
        var plainResults = new Trainer<AugmentedCnn>(plain, new Adam(1e-2f)).Fit(train, epochs: 3, batchSize: 16, validation: validation, seed: 4);

        var identity = new AugmentedCnn(seed: 3); // no padding, no flip: the same bits as no augmentation
        new Trainer<AugmentedCnn>(identity, new Adam(1e-2f)) { Augmentation = new ImageAugmentation(1, 6, 6) }
            .Fit(train, epochs: 3, batchSize: 16, validation: validation, seed: 4);
        Assert.True(plain.Parameters.SequenceEqual(identity.Parameters));

        var augmented = new AugmentedCnn(seed: 3);
        var trainer = new Trainer<AugmentedCnn>(augmented, new Adam(1e-2f)) { Augmentation = new ImageAugmentation(1, 6, 6, padding: 2, flipHorizontal: true) };
        var results = trainer.Fit(train, epochs: 3, batchSize: 16, validation: validation, seed: 4);
        Assert.False(plain.Parameters.SequenceEqual(augmented.Parameters), "the augmentation changed nothing in training");
        Assert.All(results, r => Assert.True(float.IsFinite(r.TrainLoss)));

        // The validation of the last epoch is that of the final weights on the data as it is, as for the run without augmentation.
        var direct = Trainer<AugmentedCnn>.Evaluation(augmented, validation, 256);
        Assert.Equal(direct.Loss, results[^1].ValidationLoss);
        Assert.Equal(direct.Accuracy, results[^1].ValidationAccuracy);
        Assert.Equal((direct.Loss, direct.Accuracy), (trainer.Evaluate(validation).Loss, trainer.Evaluate(validation).Accuracy));
        Assert.Equal(Trainer<AugmentedCnn>.Evaluation(plain, validation, 256).Loss, plainResults[^1].ValidationLoss);
        Assert.Equal(60, train.Count); // the training set itself is left as it was
        Assert.True(train.Features.SequenceEqual(Tiny(60, 11).Features));
    }

    [Theory]
    [InlineData(16)]
    [InlineData(7)]
    public void TheTrainer_FeedsEachSample_AsAugmentedForItsSeedEpochAndIndex(int batchSize)
    {
        // A network that records its training inputs; the batches' order is the trainer's seeded shuffle, replayed here.
        const int count = 40, seed = 6;
        var train = Tiny(count, 13);
        var augmentation = new ImageAugmentation(1, 6, 6, padding: 1, flipHorizontal: true);
        var recorder = new Recorder(new AugmentedCnn(seed: 2));
        new Trainer<Recorder>(recorder, new Sgd(0.01f)) { Augmentation = augmentation }.Fit(train, epochs: 3, batchSize: batchSize, seed: seed);

        var order = Enumerable.Range(0, count).ToArray();
        var shuffle = new SeededRandom(seed);
        int batches = (count + batchSize - 1) / batchSize;
        Assert.Equal(3 * batches, recorder.Inputs.Count);
        for (int epoch = 0; epoch < 3; epoch++)
        {
            shuffle.Shuffle(order);
            for (int b = 0; b < batches; b++)
            {
                int start = b * batchSize, n = Math.Min(batchSize, count - start);
                var recorded = recorder.Inputs[epoch * batches + b];
                Assert.Equal(n * 36, recorded.Length);
                for (int s = 0; s < n; s++)
                {
                    int index = order[start + s];
                    var expected = Augmented(augmentation, train.GetFeatures(index), seed, epoch, index);
                    Assert.True(recorded.AsSpan(s * 36, 36).SequenceEqual(expected), $"epoch {epoch}, batch {b}, row {s} (sample {index})");
                }
            }
        }
    }

    [Fact]
    public void AStoppedAugmentedRun_ResumedFromItsCheckpoint_EndsWithTheSameBits()
    {
        var train = Tiny(50, 14);
        var validation = Tiny(20, 15);
        Trainer<AugmentedCnn> Make(AugmentedCnn net, string? path) => new(net, new Adam(5e-3f))
        {
            Augmentation = new ImageAugmentation(1, 6, 6, padding: 2, flipHorizontal: true),
            CheckpointPath = path,
        };
        var whole = new AugmentedCnn(seed: 5);
        var straight = Make(whole, null).Fit(train, epochs: 4, batchSize: 16, validation: validation, seed: 8);

        string path = Path.Combine(_dir, "augmented.ckpt");
        foreach (var epoch in Make(new AugmentedCnn(seed: 5), path).Epochs(train, 4, 16, validation, seed: 8))
            if (epoch.Epoch == 2) break;
        var second = new AugmentedCnn(seed: 99);
        var resumed = Make(second, path);
        resumed.Resume(path);
        var history = resumed.Fit(train, epochs: 4, batchSize: 16, validation: validation, seed: 8);

        Assert.True(whole.Parameters.SequenceEqual(second.Parameters), "the resumed run's weights differ from the straight run's");
        Assert.Equal(straight.Select(r => (r.TrainLoss, r.ValidationLoss)), history.Select(r => (r.TrainLoss, r.ValidationLoss)));
    }

    [Fact]
    public void AnAugmentationOfAnotherSize_IsRefused_BeforeAnythingChanges()
    {
        var net = new AugmentedCnn(seed: 1);
        var before = net.Parameters.ToArray();
        var trainer = new Trainer<AugmentedCnn>(net, new Adam()) { Augmentation = new ImageAugmentation(1, 5, 6, padding: 1) };
        var e = Assert.Throws<ArgumentException>("train", () => trainer.Epochs(Tiny(20, 16), epochs: 1, batchSize: 4));
        Assert.Contains("30", e.Message);
        Assert.Contains("36", e.Message);
        Assert.Contains("1×5×6", e.Message);
        Assert.Equal(0, net.TrainingSteps);
        Assert.True(before.AsSpan().SequenceEqual(net.Parameters));
    }

    /// <summary>A network that keeps a copy of the inputs of every training step and otherwise is <c>inner</c>.</summary>
    private sealed class Recorder(INetwork inner) : INetwork
    {
        public List<float[]> Inputs { get; } = [];
        public int InputSize => inner.InputSize;
        public int OutputSize => inner.OutputSize;
        public int ParameterCount => inner.ParameterCount;
        public LossKind Loss => inner.Loss;
        public long ForwardFlopsPerSample => inner.ForwardFlopsPerSample;
        public int Threads { get => inner.Threads; set => inner.Threads = value; }
        public void Reserve(int batchSize) => inner.Reserve(batchSize);
        public Span<float> Parameters => inner.Parameters;
        public Span<float> Gradients => inner.Gradients;
        public IReadOnlyList<ParameterTensor> ParameterTensors => inner.ParameterTensors;
        public ulong DropoutSeed { get => inner.DropoutSeed; set => inner.DropoutSeed = value; }
        public long TrainingSteps { get => inner.TrainingSteps; set => inner.TrainingSteps = value; }
        public IReadOnlyList<LayerInfo> Layers => inner.Layers;
        public void Forward(ReadOnlySpan<float> input, Span<float> output) => inner.Forward(input, output);
        public void Forward(ReadOnlySpan<float> inputs, Span<float> outputs, int batchSize) => inner.Forward(inputs, outputs, batchSize);
        public float ComputeGradients(ReadOnlySpan<float> inputs, Targets targets, int batchSize) => inner.ComputeGradients(inputs, targets, batchSize);
        public ReadOnlySpan<float> TrainingOutputs => inner.TrainingOutputs;

        public float TrainStep(ReadOnlySpan<float> inputs, Targets targets, int batchSize, Optimizer optimizer)
        {
            Inputs.Add(inputs.ToArray());
            return inner.TrainStep(inputs, targets, batchSize, optimizer);
        }
    }
}

// A tiny image classifier for the trainer's tests: one padded convolution on 1×6×6 images and a dense head.
[Input(1, 6, 6)]
[Conv2D(3, 3, Padding = 1, Activation = Activation.ReLU)]
[Flatten]
[Dense(3)]
[Loss(LossKind.SoftmaxCrossEntropy)]
public partial class AugmentedCnn { }
