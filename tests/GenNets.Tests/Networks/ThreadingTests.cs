using System;
using System.Linq;
using System.Threading.Tasks;
using GenNets.Kernels;
using GenNets.Threading;
using GenNets.Training;
using Xunit;

namespace GenNets.Tests.Networks;

/// <summary>A batch split over threads gives the unsplit results within float tolerance, and the same bits every time.</summary>
public class ThreadingTests
{
    private const int Batch = 64;

    private static (float[] X, int[] Labels) Data(int seed)
        => (Check.Random(Batch * 784, (ulong)seed), Enumerable.Range(0, Batch).Select(i => (i * 7 + seed) % 10).ToArray());

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void APartThatThrows_ReachesTheCaller_AndThePoolKeepsWorking(int failing)
    {
        var output = new float[4];
        // Part 0 (the caller's) waits, up to a second, until part 1 has started on the worker, so that each side throws
        // in one of the two cases. (If the pool is busy with another test's job, both run on the caller, in order.)
        var job = new int[] { failing, 0 };
        var ex = Assert.Throws<InvalidOperationException>(() => WorkerPool.Run(2, 2, job, static (state, part, parts, input, o) =>
        {
            var flags = (int[])state;
            if (part == 1) System.Threading.Volatile.Write(ref flags[1], 1);
            else System.Threading.SpinWait.SpinUntil(() => System.Threading.Volatile.Read(ref flags[1]) == 1, 1000);
            if (part == flags[0]) throw new InvalidOperationException($"part {part} failed");
            o[part] = 1f;
        }, default, output));
        Assert.Equal($"part {failing} failed", ex.Message);
        WorkerPool.Run(2, 2, failing, static (state, part, parts, input, o) => o[part] = part + 1, default, output);
        Assert.Equal(new[] { 1f, 2f, 0f, 0f }, output);
    }

    [Fact]
    public void ABatch_IsCutIntoChunks_ByItsSizeAlone()
    {
        Assert.Equal(4, WorkerPool.ChunksFor(Batch, FashionMlp.ForwardFlopsPerSample)); // 16 samples a chunk
        Assert.Equal(1, WorkerPool.ChunksFor(1, FashionMlp.ForwardFlopsPerSample));
        Assert.Equal(1, WorkerPool.ChunksFor(Batch, 10)); // too little work to share
        Assert.Equal(2, WorkerPool.ChunksFor(Batch, FashionCnn.ForwardFlopsPerSample, minSamples: 32)); // networks that sum chunk gradients
        Assert.Equal(2, WorkerPool.ChunksFor(Batch, WideEncoder.ForwardFlopsPerSample, minSamples: 32)); // so "attention" below splits its batch
        Assert.Throws<ArgumentOutOfRangeException>(() => WorkerPool.ChunksFor(Batch, 1, minSamples: 0));
        Assert.Equal(WorkerPool.MaxChunks, WorkerPool.ChunksFor(int.MaxValue, long.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => WorkerPool.ChunksFor(0, 1));
        Assert.Equal(int.MaxValue, WorkerPool.Start(int.MaxValue, 15, 15));
        Assert.Equal((int)((long)int.MaxValue * 7 / 15), WorkerPool.Start(int.MaxValue, 7, 15));
    }

    // Five steps of Adam on fresh data, dropout on; then batch inference. Everything a run produces.
    private static (float[] Parameters, float[] Outputs) TrainAndInfer(Func<INetwork> make, int threads, int inputSize, int batch)
    {
        var net = make();
        net.Threads = threads;
        var adam = new Adam(1e-3f);
        for (int step = 0; step < 5; step++)
        {
            var x = Check.Random(batch * inputSize, (ulong)(100 + step));
            var labels = Enumerable.Range(0, batch).Select(i => (i * 7 + step) % net.OutputSize).ToArray();
            if (net.Loss == LossKind.SoftmaxCrossEntropy) net.TrainStep(x, labels, batch, adam);
            else net.TrainStep(x, Check.Random(batch * net.OutputSize, (ulong)(200 + step)), batch, adam);
        }
        var outputs = new float[batch * net.OutputSize];
        net.Forward(Check.Random(batch * inputSize, 300), outputs, batch);
        return (net.Parameters.ToArray(), outputs);
    }

    public static TheoryData<string, int> NetworksAndThreads()
    {
        var data = new TheoryData<string, int>();
        foreach (var name in new[] { "mlp", "cnn", "lstm", "normed", "attention" })
            foreach (int threads in new[] { 2, 3, 6, 8, 16 })
                data.Add(name, threads);
        return data;
    }

    private static (Func<INetwork> Make, int InputSize) Network(string name) => name switch
    {
        "mlp" => (() => new FashionMlp(seed: 31), FashionMlp.InputSize),
        "cnn" => (() => new FashionCnn(seed: 32), FashionCnn.InputSize),
        "normed" => (() => new NormedResNet(seed: 34), NormedResNet.InputSize), // batch normalisation over chunks, and residual blocks
        "attention" => (() => new WideEncoder(seed: 35), WideEncoder.InputSize), // attention, layer normalisation and GELU over chunks
        _ => (() => new BenchLstm(seed: 33), BenchLstm.InputSize),
    };

    [Theory]
    [InlineData(1025)]
    [InlineData(1030)]
    [InlineData(2060)]
    public void LargeBatchInference_GivesTheSameBits_AtAnyThreadCount(int batch)
    {
        // Inference takes a part 1,024 samples at a time at most: blocks of equal sizes, so no thread count leaves a block
        // too short for the strip kernel (which the row kernel would round otherwise).
        var x = Check.Random(batch * FashionMlp.InputSize, 40);
        float[] Infer(int threads)
        {
            var outputs = new float[batch * FashionMlp.OutputSize];
            new FashionMlp(seed: 41) { Threads = threads }.Forward(x, outputs, batch);
            return outputs;
        }
        var one = Infer(1);
        foreach (int threads in new[] { 2, 3, 4, 16 })
            Assert.True(one.AsSpan().SequenceEqual(Infer(threads)), $"batch {batch}: outputs differ between 1 and {threads} threads");
    }

    [Theory]
    [MemberData(nameof(NetworksAndThreads))]
    public void Training_GivesTheSameBits_AtAnyThreadCount(string name, int threads)
    {
        // The same seed and data give the same weights and outputs on a 1-core machine and a 16-core one: a batch is cut
        // into chunks by its size alone, and sums over the batch add the chunks in chunk order whoever computed them.
        var (make, inputSize) = Network(name);
        foreach (int batch in new[] { Batch, 100 })
        {
            var one = TrainAndInfer(make, 1, inputSize, batch);
            var many = TrainAndInfer(make, threads, inputSize, batch);
            Assert.True(one.Parameters.AsSpan().SequenceEqual(many.Parameters), $"{name}, batch {batch}: weights differ between 1 and {threads} threads");
            Assert.True(one.Outputs.AsSpan().SequenceEqual(many.Outputs), $"{name}, batch {batch}: outputs differ between 1 and {threads} threads");
        }
    }

    [Fact]
    public void StripInference_GivesTheSameBits_AtOneAndTwoThreads()
    {
        // Both halves of 64 are wide enough for the strip path, where a sample's result does not depend on its batch.
        var (x, _) = Data(3);
        var results = new[] { 1, 2 }.Select(threads =>
        {
            var net = new FashionMlp(seed: 6) { Threads = threads };
            var outputs = new float[Batch * 10];
            net.Forward(x, outputs, Batch);
            return outputs;
        }).ToArray();
        Assert.Equal(results[0], results[1]);
    }

    [Fact]
    public void DenseNetworkGradients_AreTheSameBits_AtOneAndTwoThreads()
    {
        // Forward in strips does not depend on the batch, and backward sums each weight's gradient over the whole batch
        // in one order whatever the number of parts: one thread and two give the same bits.
        var (x, labels) = Data(10);
        var results = new[] { 1, 2 }.Select(threads =>
        {
            var net = new FashionMlp(seed: 11) { Threads = threads };
            float loss = net.ComputeGradients(x, labels, Batch);
            return (Loss: loss, Gradients: net.Gradients.ToArray());
        }).ToArray();
        Assert.Equal(results[0].Loss, results[1].Loss);
        Assert.True(results[0].Gradients.AsSpan().SequenceEqual(results[1].Gradients));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void SplitBatch_GradientsMatchTheDoubleReference(int threads)
    {
        var (x, labels) = Data(2);
        var net = new FashionMlp(seed: 5) { Threads = threads };
        float loss = net.ComputeGradients(x, labels, Batch);
        var expected = new double[FashionMlp.ParameterCount];
        double expectedLoss = Reference.NetworkLoss(net.Layers, net.Loss, Check.ToDouble(net.Parameters), Check.ToDouble(x), Batch,
            labels, default, expected, net.DropoutSeed, net.TrainingSteps);
        Assert.Equal(expectedLoss, loss, 4);
        Check.Close(expected, net.Gradients, 1e-4, 1e-6, "gradients");
    }

    [Fact]
    public void SameThreadCount_GivesBitIdenticalTraining()
    {
        float[] Train()
        {
            var net = new FashionMlp(seed: 6) { Threads = 2 };
            var adam = new Adam();
            for (int step = 0; step < 5; step++)
            {
                var (x, labels) = Data(step);
                net.TrainStep(x, labels, Batch, adam);
            }
            return net.Parameters.ToArray();
        }
        Assert.True(Train().AsSpan().SequenceEqual(Train()));
    }

    [Fact]
    public void SplitTraining_AllocatesNothing_AfterWarmUp()
    {
        var (x, labels) = Data(3);
        var net = new FashionMlp(seed: 7) { Threads = 2 };
        var sgd = new Sgd(0.01f);
        var outputs = new float[Batch * 10];
        Assert.Equal(0, Check.SteadyStateAllocation(() =>
        {
            net.TrainStep(x, labels, Batch, sgd);
            net.Forward(x, outputs, Batch);
        }));
    }

    [Fact]
    public void CallersThatAreThemselvesParallel_GetCorrectResults()
    {
        // Four callers at once on a two-core pool: whoever finds the pool busy runs on its own thread.
        var (x, _) = Data(4);
        var net = new FashionMlp(seed: 8) { Threads = 2 };
        var expected = new float[Batch * 10];
        new FashionMlp(seed: 8) { Threads = 1 }.Forward(x, expected, Batch);
        var results = new float[4][];
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
        {
            var mine = new float[Batch * 10];
            for (int round = 0; round < 50; round++) net.Forward(x, mine, Batch);
            results[t] = mine;
        });
        foreach (var r in results) Check.Close(Check.ToDouble(expected), r, 1e-5, 1e-6, "outputs");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Cnn_SplitBatch_MatchesTheDoubleReference(int threads)
    {
        // The CNN takes the same 784 floats per sample, read as (1, 28, 28).
        var (x, labels) = Data(9);
        var net = new FashionCnn(seed: 5) { Threads = threads };
        float loss = net.ComputeGradients(x, labels, Batch);
        var expected = new double[FashionCnn.ParameterCount];
        double expectedLoss = Reference.NetworkLoss(net.Layers, net.Loss, Check.ToDouble(net.Parameters), Check.ToDouble(x), Batch,
            labels, default, expected, net.DropoutSeed, net.TrainingSteps);
        Assert.Equal(expectedLoss, loss, 4);
        Check.Close(expected, net.Gradients, 1e-4, 1e-6, "gradients");

        var outputs = new float[Batch * 10];
        net.Forward(x, outputs, Batch);
        Check.Close(Reference.NetworkOutputs(net.Layers, Check.ToDouble(net.Parameters), Check.ToDouble(x), Batch), outputs, 1e-4, 1e-5, "batch inference");
    }

    [Fact]
    public void Cnn_SplitTraining_IsBitIdenticalRunToRun_AndAllocatesNothingAfterWarmUp()
    {
        var data = Enumerable.Range(0, 4).Select(Data).ToArray();
        var outputs = new float[Batch * 10];
        float[] Train(out long allocated)
        {
            var net = new FashionCnn(seed: 6) { Threads = 2 };
            var adam = new Adam();
            int step = 0;
            allocated = Check.SteadyStateAllocation(() =>
            {
                var (x, labels) = data[step++ % data.Length];
                net.TrainStep(x, labels, Batch, adam);
                net.Forward(x, outputs, Batch);
            }, warmUp: 2, iterations: 3);
            return net.Parameters.ToArray();
        }
        var first = Train(out long allocated);
        Assert.Equal(0, allocated);
        Assert.True(first.AsSpan().SequenceEqual(Train(out _)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Recurrent_SplitBatch_MatchesTheDoubleReference_AndRepeatsBitForBit(int threads)
    {
        const int batch = 64;
        var x = Check.Random(batch * BenchLstm.InputSize, 12);
        var targets = Check.Random(batch, 13);
        float[] Train(out float loss, out float[] gradients)
        {
            var net = new BenchLstm(seed: 2) { Threads = threads };
            loss = net.ComputeGradients(x, targets, batch);
            gradients = net.Gradients.ToArray();
            return net.Parameters.ToArray();
        }
        var parameters = Train(out float loss, out float[] gradients);
        var reference = new BenchLstm(seed: 2);
        var expected = new double[BenchLstm.ParameterCount];
        double expectedLoss = Reference.NetworkLoss(reference.Layers, reference.Loss, Check.ToDouble(parameters), Check.ToDouble(x), batch,
            default, Check.ToDouble(targets), expected);
        Assert.Equal(expectedLoss, loss, 4);
        Check.Close(expected, gradients, 1e-4, 1e-6, "gradients");
        Train(out float again, out float[] gradientsAgain);
        Assert.Equal(loss, again);
        Assert.True(gradients.AsSpan().SequenceEqual(gradientsAgain));
    }

    [Fact]
    public void Recurrent_Training_AllocatesNothing_AfterWarmUp()
    {
        const int batch = 64;
        var x = Check.Random(batch * BenchLstm.InputSize, 14);
        var targets = Check.Random(batch, 15);
        var net = new BenchLstm(seed: 3) { Threads = 2 };
        var adam = new Adam();
        var outputs = new float[batch];
        var one = new float[1];
        Assert.Equal(0, Check.SteadyStateAllocation(() =>
        {
            net.TrainStep(x, targets, batch, adam);
            net.Forward(x, outputs, batch);
            net.Forward(x.AsSpan(0, BenchLstm.InputSize), one);
        }));
    }

    [Fact]
    public void Threads_BelowOne_IsRefused()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new FashionMlp { Threads = 0 });
        Assert.Equal(0, ex.ActualValue);
    }
}
