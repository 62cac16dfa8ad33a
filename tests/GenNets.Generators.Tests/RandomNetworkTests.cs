using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using GenNets.Kernels;
using GenNets.Tests;
using Microsoft.CodeAnalysis;
using Xunit;

namespace GenNets.Generators.Tests;

/// <summary>
/// Seeded random convolutional networks, generated, compiled and run: the generated forward pass and gradients against
/// the runtime's double-precision reference, at one and two threads. The emitter decides per network which kernels a
/// layer takes and which buffers layers share (a convolution that pools its own output, a gradient written over the
/// buffer it is read from); the networks in the tests are a handful of those decisions, these are many more.
/// </summary>
public class RandomNetworkTests
{
    private const int Count = 40;

    private static readonly Lazy<(Assembly Assembly, string[] Declarations)> Networks = new(() =>
    {
        var declarations = new string[Count];
        var source = new StringBuilder("using GenNets;\n#pragma warning disable GN0021, GN0022\n");
        for (int i = 0; i < Count; i++)
        {
            declarations[i] = Declare(new SeededRandom((ulong)(20261127 + i)), $"Random{i}");
            source.Append(declarations[i]);
        }
        var (output, result) = GeneratorHarness.Run(source.ToString());
        var errors = result.Diagnostics.Concat(output.GetDiagnostics()).Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, GeneratorHarness.Describe(errors));
        using var image = new MemoryStream();
        var emitted = output.Emit(image);
        Assert.True(emitted.Success, GeneratorHarness.Describe(emitted.Diagnostics));
        return (Assembly.Load(image.ToArray()), declarations);
    });

    // A network of one to three convolutions (square or rectangular kernels, strides, zero or "same" padding, several
    // activations), each perhaps followed by a max or average pooling, then Flatten and a dense layer of 2 to 5 classes.
    private static string Declare(SeededRandom random, string name)
    {
        int Next(int lo, int hi) => lo + random.NextInt(hi - lo + 1); // lo..hi inclusive
        string[] activations = ["Activation.Identity", "Activation.ReLU", "Activation.ReLU", "Activation.Tanh", "Activation.LeakyReLU"];
        int c = Next(1, 3), h = Next(5, 14), w = Next(5, 14);
        var text = new StringBuilder($"[Input({c}, {h}, {w})]\n");
        for (int layer = 0, layers = Next(1, 3); layer < layers; layer++)
        {
            int kh = Next(1, 4), kw = random.NextDouble() < 0.7 ? kh : Next(1, 4), filters = new[] { 2, 3, 4, 8, 16 }[Next(0, 4)];
            bool same = random.NextDouble() < 0.4;
            int stride = same ? 1 : Next(1, 2), padding = same ? 0 : Next(0, Math.Max(kh, kw));
            int outH = same ? h : (h + 2 * padding - kh) / stride + 1, outW = same ? w : (w + 2 * padding - kw) / stride + 1;
            if (h + 2 * padding < kh || w + 2 * padding < kw || outH < 1 || outW < 1) continue;
            string kernel = kh == kw ? $"{kh}" : $"{kh}, {kw}";
            string pad = same ? "Conv2DAttribute.Same" : $"{padding}";
            text.Append($"[Conv2D({filters}, {kernel}, Stride = {stride}, Padding = {pad}, Activation = {activations[Next(0, activations.Length - 1)]})]\n");
            (c, h, w) = (filters, outH, outW);
            if (h >= 2 && w >= 2 && random.NextDouble() < 0.6)
            {
                text.Append(random.NextDouble() < 0.75 ? "[MaxPool2D(2)]\n" : "[AvgPool2D(2)]\n");
                (h, w) = (h / 2, w / 2);
            }
        }
        text.Append($"[Flatten]\n[Dense({Next(2, 5)})]\npublic partial class {name} {{ }}\n\n");
        return text.ToString();
    }

    public static TheoryData<int> Indices()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < Count; i++) data.Add(i);
        return data;
    }

    [Theory]
    [MemberData(nameof(Indices))]
    public void GeneratedNetwork_MatchesReference(int index)
    {
        var (assembly, declarations) = Networks.Value;
        string what = declarations[index];
        var type = assembly.GetType($"Random{index}")!;
        const int batch = 5;
        foreach (int threads in new[] { 1, 2 })
        {
            var net = (INetwork)Activator.CreateInstance(type, 7)!;
            net.Threads = threads;
            var source = new SeededRandom((ulong)(100 + index));
            // Every parameter drawn, biases too: with the initial zero biases, positions that read only padding hold an
            // exact zero before a ReLU, its kink, where the least rounding difference upstream puts float and double on
            // different sides and the gradients differ without either being wrong.
            var weights = net.Parameters;
            for (int i = 0; i < weights.Length; i++) weights[i] = (float)(0.5 * (2 * source.NextDouble() - 1));
            var inputs = new float[batch * net.InputSize];
            for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)(2 * source.NextDouble() - 1);
            var labels = Enumerable.Range(0, batch).Select(i => i % net.OutputSize).ToArray();
            double[] parameters = Check.ToDouble(net.Parameters), x = Check.ToDouble(inputs);

            // Inference: the batch and each sample alone.
            var outputs = new float[batch * net.OutputSize];
            net.Forward(inputs, outputs, batch);
            var expected = Reference.NetworkOutputs(net.Layers, parameters, x, batch);
            Check.Close(expected, outputs, 1e-4, 1e-5, $"outputs at {threads} threads of\n{what}");
            var one = new float[net.OutputSize];
            net.Forward(inputs.AsSpan(0, net.InputSize), one);
            Check.Close(expected.AsSpan(0, net.OutputSize), one, 1e-4, 1e-5, $"one sample's outputs of\n{what}");

            // Training: loss and every parameter's gradient.
            float loss = net.ComputeGradients(inputs, labels, batch);
            var gradient = new double[net.ParameterCount];
            double expectedLoss = Reference.NetworkLoss(net.Layers, net.Loss, parameters, x, batch, labels, default, gradient);
            Assert.True(Math.Abs(expectedLoss - loss) <= 1e-4 * (1 + Math.Abs(expectedLoss)), $"loss {loss} against {expectedLoss} at {threads} threads of\n{what}");
            Check.Close(gradient, net.Gradients, 1e-4, 1e-6, $"gradients at {threads} threads of\n{what}");
        }
    }

    [Fact]
    public void TheDrawsCoverTheEmittersChoices()
    {
        // The draws are fixed by the seed; this keeps a change to them from losing what the test is for.
        var text = string.Concat(Networks.Value.Declarations);
        Assert.Contains("[MaxPool2D(2)]", text);
        Assert.Contains("[AvgPool2D(2)]", text);
        Assert.Contains("Conv2DAttribute.Same", text);
        Assert.Contains("Stride = 2", text);
        Assert.Contains("Activation = Activation.ReLU)]\n[MaxPool2D(2)]", text);
        Assert.Contains("Activation = Activation.Identity)]\n[MaxPool2D(2)]", text);
    }
}
