using System;
using System.Linq;
using GenNets.Kernels;
using GenNets.Onnx;
using GenNets.Tests.Networks;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace GenNets.Onnx.Tests;

/// <summary>
/// Attention, embeddings and positional encodings exported to ONNX: ONNX Runtime gives what GenNets and the double
/// reference give, at opset 17 (every operator composed) and 20 (GELU's own operator).
/// </summary>
public class OnnxTransformerTests
{
    public static TheoryData<string, int> Cases => new()
    {
        { "AttentionClassifier", 17 }, { "CausalTagger", 17 }, { "CausalTagger", 20 }, { "EncoderClassifier", 17 }, { "EncoderClassifier", 20 },
        { "TinyLanguageModel", 17 }, { "TinyLanguageModel", 20 },
    };

    private static INetwork Create(string name, int seed) => name switch
    {
        "AttentionClassifier" => new AttentionClassifier(seed),
        "CausalTagger" => new CausalTagger(seed),
        "EncoderClassifier" => new EncoderClassifier(seed),
        "TinyLanguageModel" => new TinyLanguageModel(seed),
        _ => throw new ArgumentException(name),
    };

    // Token ids (as whole floats) for a network that reads them; values in [−1, 1) otherwise.
    private static float[] Inputs(INetwork net, int batch, int seed)
    {
        var random = new SeededRandom((ulong)seed);
        int vocabulary = net.Vocabulary();
        return Enumerable.Range(0, batch * net.InputSize)
            .Select(_ => vocabulary > 0 ? random.NextInt(vocabulary) : (float)(2 * random.NextDouble() - 1)).ToArray();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void OnnxRuntime_MatchesForwardAndReference(string name, int opset)
    {
        var net = Create(name, seed: 31);
        const int batch = 3;
        float[] x = Inputs(net, batch, seed: 32);
        var forward = new float[batch * net.OutputSize];
        net.Forward(x, forward, batch);
        double[] reference = Reference.NetworkOutputs(net.Layers, Array.ConvertAll(net.Parameters.ToArray(), v => (double)v), Array.ConvertAll(x, v => (double)v), batch);

        using var session = new InferenceSession(net.ToOnnx(new OnnxExportOptions { Opset = opset }));
        var shape = new[] { batch }.Concat(net.Layers[0].InputShape).ToArray();
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(x, shape))]);
        var output = results.Single(r => r.Name == "output").AsTensor<float>();
        Assert.Equal(new[] { batch }.Concat(net.Layers[^1].OutputShape), output.Dimensions.ToArray());
        float[] actual = output.ToArray();

        for (int i = 0; i < actual.Length; i++)
        {
            Assert.True(Math.Abs(actual[i] - forward[i]) <= 1e-4 * Math.Abs(forward[i]) + 1e-5,
                $"{name} opset {opset}, output {i}: ONNX Runtime {actual[i]:R}, GenNets {forward[i]:R}");
            Assert.True(Math.Abs(actual[i] - reference[i]) <= 1e-4 * Math.Abs(reference[i]) + 1e-5,
                $"{name} opset {opset}, output {i}: ONNX Runtime {actual[i]:R}, reference {reference[i]:R}");
        }
        Assert.NotEqual(actual.AsSpan(0, net.OutputSize).ToArray(), actual.AsSpan(net.OutputSize, net.OutputSize).ToArray());
    }

    [Fact]
    public void Export_NamesAttentionTensorsAsPyTorch()
    {
        var model = Protocol.ModelProto.Parser.ParseFrom(new TinyLanguageModel(1).ToOnnx());
        var names = model.Graph.Initializer.Select(t => t.Name).ToHashSet();
        Assert.Contains("wte.weight", names);
        Assert.Contains("encoder.layers.1.self_attn.in_proj_bias", names);
        Assert.Contains("encoder.layers.0.self_attn.out_proj.bias", names);
        Assert.Contains("encoder.layers.1.norm2.weight", names);
        Assert.Contains("ln_f.bias", names);
    }
}
