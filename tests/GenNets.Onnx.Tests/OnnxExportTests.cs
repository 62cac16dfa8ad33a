using System;
using System.IO;
using System.Linq;
using GenNets.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace GenNets.Onnx.Tests;

[Input(784)]
[Dense(256, Activation.ReLU)]
[Dense(128, Activation.ReLU)]
[Dropout(0.1f)]
[Dense(10)]
[Loss(LossKind.SoftmaxCrossEntropy)]
public partial class Mlp { }

[Input(6)]
[Dense(9, Activation.GELU)]
[Dropout(0.3f)]
[Dense(8, Activation.LeakyReLU)]
[Dense(7, Activation.Sigmoid)]
[Dense(5, Activation.Tanh)]
[Dense(4, Activation.Softmax)]
[Loss(LossKind.MeanSquaredError)]
public partial class AllActivations { }

[Input(5, 6)]
[Dense(8, Activation.GELU)]
[Dense(3)]
public partial class PerPosition { }

[Input(1, 28, 28)]
[Conv2D(8, 3, Padding = 1, Activation = Activation.ReLU)]
[MaxPool2D(2)]
[Conv2D(16, 3, Padding = 1, Activation = Activation.ReLU)]
[MaxPool2D(2)]
[Flatten]
[Dense(10)]
public partial class Cnn { }

// "Same" with an even kernel (asymmetric padding), stride with unused columns, GELU, average and global pooling.
#pragma warning disable GN0021
[Input(3, 11, 10)]
[Conv2D(6, 4, Padding = Conv2DAttribute.Same, Activation = Activation.GELU)]
[AvgPool2D(2, Stride = 1)]
[Conv2D(5, 3, 2, Stride = 2, Padding = 1, Activation = Activation.Tanh)]
[Dropout(0.2f)]
[GlobalAvgPool]
[Dense(4, Activation.Softmax)]
public partial class OddCnn { }
#pragma warning restore GN0021

// Recurrent layers stacked (every step's state into the next), each cell, the last state into a dense layer.
[Input(7, 3)]
[LSTM(5, ReturnSequences = true)]
[GRU(4, ReturnSequences = true)]
[SimpleRNN(6)]
[Dense(2)]
[Loss(LossKind.MeanSquaredError)]
public partial class RecurrentStack { }

// A recurrent layer's every state as the output's steps, through a per-step dense layer; and a GRU alone.
[Input(6, 2)]
[LSTM(4, ReturnSequences = true)]
[Dense(3)]
public partial class Tagger { }

[Input(9, 2)]
[GRU(8)]
[Loss(LossKind.MeanSquaredError)]
public partial class GruLast { }

/// <summary>Every exported network, run in ONNX Runtime, matches GenNets within 1e-5 relative.</summary>
public class OnnxExportTests
{
    public static TheoryData<string, int> Cases => new()
    {
        { "Mlp", 17 }, { "AllActivations", 17 }, { "AllActivations", 20 }, { "PerPosition", 17 }, { "PerPosition", 20 }, { "Cnn", 17 }, { "OddCnn", 17 }, { "OddCnn", 20 },
        { "RecurrentStack", 17 }, { "Tagger", 17 }, { "GruLast", 17 },
    };

    private static INetwork Create(string name) => name switch
    {
        "Mlp" => new Mlp(seed: 3),
        "AllActivations" => new AllActivations(seed: 4),
        "PerPosition" => new PerPosition(seed: 5),
        "Cnn" => new Cnn(seed: 6),
        "OddCnn" => new OddCnn(seed: 7),
        "RecurrentStack" => new RecurrentStack(seed: 8),
        "Tagger" => new Tagger(seed: 9),
        "GruLast" => new GruLast(seed: 10),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void OnnxRuntime_MatchesGenNets(string name, int opset)
    {
        var net = Create(name);
        const int batch = 7;
        var random = new SeededRandom(11);
        var x = Enumerable.Range(0, batch * net.InputSize).Select(_ => (float)(2 * random.NextDouble() - 1)).ToArray();
        var expected = new float[batch * net.OutputSize];
        net.Forward(x, expected, batch);

        using var session = new InferenceSession(net.ToOnnx(new OnnxExportOptions { Opset = opset }));
        var shape = new[] { batch }.Concat(net.Layers[0].InputShape).ToArray();
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(x, shape))]);
        var output = results.Single(r => r.Name == "output").AsTensor<float>();
        Assert.Equal(new[] { batch }.Concat(net.Layers[^1].OutputShape), output.Dimensions.ToArray());
        float[] actual = output.ToArray();
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 * Math.Abs(expected[i]) + 1e-6,
                $"{name} opset {opset}, output {i}: ONNX Runtime {actual[i]:R}, GenNets {expected[i]:R}");
    }

    [Fact]
    public void Model_DeclaresOpsetDynamicBatchAndNamedWeights()
    {
        var net = new Mlp(seed: 1);
        using var session = new InferenceSession(net.ToOnnx());
        var input = session.InputMetadata["input"];
        Assert.Equal([-1, 784], input.Dimensions);
        Assert.Equal([-1, 10], session.OutputMetadata["output"].Dimensions);
        var model = Protocol.ModelProto.Parser.ParseFrom(net.ToOnnx());
        Assert.Equal(17, model.OpsetImport.Single().Version);
        Assert.Equal(["0.bias", "0.weight", "1.bias", "1.weight", "3.bias", "3.weight"], model.Graph.Initializer.Select(t => t.Name).Order());
        Assert.DoesNotContain(model.Graph.Node, n => n.OpType == "Dropout");
    }

    [Fact]
    public void ExportOnnx_WritesAFileOrtLoads()
    {
        string dir = Directory.CreateTempSubdirectory("gennets-onnx-").FullName;
        try
        {
            string path = Path.Combine(dir, "mlp.onnx");
            new Mlp(seed: 2).ExportOnnx(path);
            using var session = new InferenceSession(path);
            Assert.Contains("output", session.OutputMetadata.Keys);
            Assert.Equal(["mlp.onnx"], Directory.GetFileSystemEntries(dir).Select(Path.GetFileName)); // no temporary file left
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void OldOpset_IsRefused()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new Mlp().ToOnnx(new OnnxExportOptions { Opset = 13 }));
        Assert.Contains("17", ex.Message);
    }
}
