using System;
using System.Linq;
using GenNets.Data;
using GenNets.Training;
using Xunit;

namespace GenNets.Tests.Networks;

/// <summary>
/// Every public entry point of a generated network, and the runtime calls around it, driven with extreme sizes: 0, −1,
/// int.MinValue, int.MaxValue, and batch sizes whose product with the sample size wraps a 32-bit int back to the span's
/// length. Each is refused with an ArgumentException-family error naming the argument, before anything is read or changed.
/// </summary>
public class ExtremeArgumentTests
{
    public static TheoryData<string, int> NetworksAndBatchSizes()
    {
        var data = new TheoryData<string, int>();
        foreach (var name in new[] { "mlp", "cnn", "lstm" })
        {
            var net = Make(name);
            foreach (int batch in new[] { 0, -1, int.MinValue, int.MaxValue, 2, Wrapping(net.InputSize), Wrapping(net.OutputSize) }.Distinct())
                data.Add(name, batch);
        }
        return data;
    }

    private static INetwork Make(string name) => name switch
    {
        "mlp" => new FashionMlp(seed: 1),
        "cnn" => new FashionCnn(seed: 1),
        _ => new BenchLstm(seed: 1),
    };

    // The smallest batch above 1 whose product with `size` wraps a 32-bit int back to `size` (int.MaxValue when none fits an int).
    private static int Wrapping(int size)
    {
        long period = (1L << 32) / (size & -size);
        return 1 + period <= int.MaxValue ? (int)(1 + period) : int.MaxValue;
    }

    private static long TrainingSteps(INetwork net) => net switch
    {
        FashionMlp m => m.TrainingSteps,
        FashionCnn c => c.TrainingSteps,
        BenchLstm l => l.TrainingSteps,
        _ => throw new ArgumentException(net.GetType().Name),
    };

    private static void Refused(Action call, params string[] names)
    {
        var e = Assert.ThrowsAny<ArgumentException>(call);
        Assert.Contains(e.ParamName, names);
    }

    [Theory]
    [MemberData(nameof(NetworksAndBatchSizes))]
    public void EveryBatchCall_RefusesASizeItsSpansDoNotHold_AndChangesNothing(string name, int batch)
    {
        // Spans of one sample: only batch 1 fits them; every size above is refused, whatever its product wraps to.
        var net = Make(name);
        net.Threads = 2;
        var before = net.Parameters.ToArray();
        var x = new float[net.InputSize];
        var y = new float[net.OutputSize];
        bool labels = net.Loss == LossKind.SoftmaxCrossEntropy;
        Targets Targets() => labels ? new int[1] : new float[net.OutputSize];
        var adam = new Adam();
        Refused(() => net.Forward(x, y, batch), "batchSize", "inputs", "outputs");
        Refused(() => net.ComputeGradients(x, Targets(), batch), "batchSize", "inputs", "targets");
        Refused(() => net.TrainStep(x, Targets(), batch, adam), "batchSize", "inputs", "targets");
        if (net is ISequenceNetwork sequences)
        {
            Refused(() => sequences.Forward(x, y, batch, new int[] { 1 }), "batchSize", "inputs", "outputs", "lengths");
            Refused(() => sequences.TrainStep(x, Targets(), batch, new int[] { 1 }, adam), "batchSize", "inputs", "targets", "lengths");
        }
        if (batch <= 0 || (long)batch * 4096 > Array.MaxLength)
            Refused(() => net.Reserve(batch), "batchSize");
        Assert.True(before.AsSpan().SequenceEqual(net.Parameters));
        Assert.Equal(0, adam.StepCount);
        Assert.Equal(0, TrainingSteps(net));
    }

    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    [InlineData("lstm")]
    public void AFailedReserve_LeavesTheNetworkAsItWas(string name)
    {
        // 33,554,433 samples of 256 floats wrap an int to 256: the buffers were once "allocated" that small, and every
        // later legal step failed. Now the call is refused and the next step is the one a fresh network takes.
        var net = Make(name);
        var fresh = Make(name);
        net.Threads = fresh.Threads = 2;
        net.Reserve(8);
        foreach (int batch in new[] { 33554433, int.MaxValue, 0, -1 })
            Refused(() => net.Reserve(batch), "batchSize");
        const int n = 4;
        var x = Check.Random(n * net.InputSize, 3);
        Targets Targets() => net.Loss == LossKind.SoftmaxCrossEntropy ? new[] { 0, 1, 0, 1 } : Check.Random(n * net.OutputSize, 4);
        float a = net.TrainStep(x, Targets(), n, new Sgd(0.01f));
        float b = fresh.TrainStep(x, Targets(), n, new Sgd(0.01f));
        Assert.Equal(b, a);
        Assert.True(fresh.Parameters.SequenceEqual(net.Parameters));
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(783, 10)]
    [InlineData(785, 10)]
    [InlineData(784, 0)]
    [InlineData(784, 9)]
    [InlineData(784, 11)]
    public void SingleSampleForward_RefusesSpansOfAnotherLength(int inputs, int outputs)
    {
        var net = new FashionMlp();
        Refused(() => net.Forward(new float[inputs], new float[outputs]), inputs == FashionMlp.InputSize ? "output" : "input");
    }

    [Fact]
    public void Backward_RefusesAGradientOfAnotherBatch_AndACallBeforeForwardTraining()
    {
        var net = new FashionMlp();
        Assert.Throws<InvalidOperationException>(() => net.Backward(new float[FashionMlp.InputSize], new float[FashionMlp.OutputSize]));
        net.ForwardTraining(new float[2 * FashionMlp.InputSize], 2);
        Refused(() => net.Backward(new float[2 * FashionMlp.InputSize], new float[FashionMlp.OutputSize]), "outputs");
        Refused(() => net.Backward(new float[FashionMlp.InputSize], new float[2 * FashionMlp.OutputSize]), "inputs");
        Refused(() => net.ForwardTraining(new float[FashionMlp.InputSize], Wrapping(FashionMlp.InputSize)), "inputs");
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(51)]
    [InlineData(int.MinValue)]
    [InlineData(int.MaxValue)]
    public void Lengths_OutsideTheDeclaredSteps_AreRefused(int length)
    {
        var net = new BenchLstm();
        var x = new float[2 * BenchLstm.InputSize];
        Refused(() => net.Forward(x, new float[2], 2, new[] { 5, length }), "lengths");
        Refused(() => net.TrainStep(x, new float[2], 2, new[] { length, 5 }, new Adam()), "lengths");
        Refused(() => net.Forward(x, new float[2], 2, new[] { 5 }), "lengths");
        Assert.Equal(0, net.TrainingSteps);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void Trainer_RefusesBatchSizesBelowOne(int batch)
    {
        var data = Dataset.WithLabels(new float[4 * 784], 784, [0, 1, 2, 3]);
        var trainer = new Trainer<FashionMlp>(new FashionMlp(), new Adam());
        Refused(() => trainer.Fit(data, epochs: 1, batchSize: batch), "batchSize");
        Refused(() => trainer.Evaluate(data, batchSize: batch), "batchSize");
        Refused(() => trainer.Fit(data, epochs: batch, batchSize: 2), "epochs");
    }

    [Fact]
    public void Trainer_TakesABatchLargerThanTheSet_AsOneBatch()
    {
        var data = Dataset.WithLabels(Check.Random(4 * 784, 5), 784, [0, 1, 2, 3]);
        var net = new FashionMlp(seed: 2);
        var trainer = new Trainer<FashionMlp>(net, new Adam());
        var history = trainer.Fit(data, epochs: 1, batchSize: int.MaxValue);
        Assert.True(float.IsFinite(history[0].TrainLoss));
        Assert.Equal(1, net.TrainingSteps);
        Assert.Equal(4, trainer.Evaluate(data, batchSize: int.MaxValue).Count);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(268435457)] // × 784 inputs wraps to 784, × 10 outputs does not fit
    public void Predict_RefusesABatchItsSpansDoNotHold(int batch)
    {
        var net = new FashionMlp();
        Refused(() => net.Predict(new float[FashionMlp.InputSize], new int[1], batch), "batchSize", "inputs", "classes", "outputs");
    }
}
