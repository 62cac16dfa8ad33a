using System;
using System.Collections.Generic;
using System.Linq;
using GenNets.Kernels;
using GenNets.Onnx;
using GenNets.Training;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using GenNets.Tests.Networks;
using Xunit;

namespace GenNets.Onnx.Tests.Normalization
{
    // LayerNorm on a vector per sample, between dense layers.
    [Input(6)]
    [Dense(7, Activation.ReLU, Name = "fc1")]
    [LayerNorm(Name = "ln")]
    [Dense(3, Name = "fc2")]
    public partial class NormedMlp { }

    /// <summary>
    /// LayerNorm and BatchNorm exported to ONNX: after training moved γ, β and the running statistics, ONNX Runtime gives
    /// what GenNets' Forward and the double reference give in inference.
    /// </summary>
    public class OnnxNormalizationTests
    {
        private const int Batch = 6;

        public static TheoryData<string, int> Cases => new()
        {
            { "NormedSequence", 17 }, { "NormedSequence", 20 }, { "NormedMlp", 17 },
            { "NormedCnn", 17 }, { "NormedCnn", 20 }, { "NormedResNet", 17 },
        };

        private static INetwork Create(string name, int seed) => name switch
        {
            "NormedSequence" => new NormedSequence(seed),
            "NormedMlp" => new NormedMlp(seed),
            "NormedCnn" => new NormedCnn(seed),
            "NormedResNet" => new NormedResNet(seed),
            _ => throw new ArgumentException(name),
        };

        private static float[] Inputs(INetwork net, int batch, int seed)
        {
            var random = new SeededRandom((ulong)seed);
            return Enumerable.Range(0, batch * net.InputSize).Select(_ => (float)(2 * random.NextDouble() - 1)).ToArray();
        }

        /// <summary>A few Adam steps on random data, so that γ, β and the running statistics leave their starting values.</summary>
        private static void Train(INetwork net, int seed)
        {
            var optimizer = new Adam(1e-2f);
            int columns = net.Layers[^1].OutputShape[^1];
            for (int step = 0; step < 6; step++)
            {
                float[] x = Inputs(net, Batch, seed + step);
                // Shifted and scaled inputs, so that the running mean and variance move well away from (0, 1).
                for (int i = 0; i < x.Length; i++) x[i] = 3 * x[i] + 1;
                var random = new SeededRandom((ulong)(1000 + seed + step));
                if (net.Loss == LossKind.SoftmaxCrossEntropy)
                {
                    var labels = Enumerable.Range(0, Batch * net.OutputSize / columns).Select(_ => random.NextInt(columns)).ToArray();
                    net.TrainStep(x, Targets.FromLabels(labels), Batch, optimizer);
                }
                else
                {
                    var values = Enumerable.Range(0, Batch * net.OutputSize).Select(_ => (float)(2 * random.NextDouble() - 1)).ToArray();
                    net.TrainStep(x, Targets.FromValues(values), Batch, optimizer);
                }
            }
        }

        private static float[] RunOnnx(byte[] model, INetwork net, float[] x, int batch)
        {
            using var session = new InferenceSession(model);
            var shape = new[] { batch }.Concat(net.Layers[0].InputShape).ToArray();
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(x, shape))]);
            var output = results.Single(r => r.Name == "output").AsTensor<float>();
            Assert.Equal(new[] { batch }.Concat(net.Layers[^1].OutputShape), output.Dimensions.ToArray());
            return output.ToArray();
        }

        private static float[] Values(INetwork net, ParameterTensor tensor) => net.Parameters.Slice(tensor.Offset, tensor.Length).ToArray();

        [Theory]
        [MemberData(nameof(Cases))]
        public void OnnxRuntime_MatchesForwardAndReference_AfterTraining(string name, int opset)
        {
            var net = Create(name, seed: 31);
            Train(net, seed: 32);
            // Training moved every normalisation's tensors away from where they start (γ 1, β 0, running mean 0, variance 1).
            foreach (var tensor in net.ParameterTensors.Where(t => t.Name.EndsWith(".running_mean") || t.Name.EndsWith(".running_var")))
            {
                float start = tensor.Name.EndsWith(".running_var") ? 1f : 0f;
                Assert.True(Values(net, tensor).Max(v => Math.Abs(v - start)) > 0.02f, $"{tensor.Name} stayed near {start}: {string.Join(", ", Values(net, tensor))}");
            }
            foreach (var layer in net.Layers.Where(l => l.Kind is LayerKind.LayerNorm or LayerKind.BatchNorm))
            {
                Assert.True(Values(net, layer.Weight!).Max(v => Math.Abs(v - 1)) > 1e-3f, $"{layer.Weight!.Name} stayed at 1");
                Assert.True(Values(net, layer.Bias!).Max(Math.Abs) > 1e-3f, $"{layer.Bias!.Name} stayed at 0");
            }

            float[] x = Inputs(net, Batch, seed: 33);
            var forward = new float[Batch * net.OutputSize];
            net.Forward(x, forward, Batch);
            double[] reference = Reference.NetworkOutputs(net.Layers, Array.ConvertAll(net.Parameters.ToArray(), v => (double)v),
                Array.ConvertAll(x, v => (double)v), Batch);

            byte[] model = net.ToOnnx(new OnnxExportOptions { Opset = opset });
            float[] actual = RunOnnx(model, net, x, Batch);

            Assert.Equal(forward.Length, actual.Length);
            for (int i = 0; i < actual.Length; i++)
            {
                Assert.True(Math.Abs(actual[i] - forward[i]) <= 1e-5 * Math.Abs(forward[i]) + 1e-6,
                    $"{name} opset {opset}, output {i}: ONNX Runtime {actual[i]:R}, GenNets {forward[i]:R}");
                Assert.True(Math.Abs(actual[i] - reference[i]) <= 1e-5 * Math.Abs(reference[i]) + 1e-6,
                    $"{name} opset {opset}, output {i}: ONNX Runtime {actual[i]:R}, reference {reference[i]:R}");
            }
            Assert.NotEqual(actual.AsSpan(0, net.OutputSize).ToArray(), actual.AsSpan(net.OutputSize, net.OutputSize).ToArray());

            // Inference normalises by the running statistics, not the batch's: one sample alone gives what it gave in the batch.
            float[] single = RunOnnx(model, net, x.AsSpan(net.InputSize, net.InputSize).ToArray(), 1);
            for (int i = 0; i < single.Length; i++)
                Assert.True(Math.Abs(single[i] - actual[net.OutputSize + i]) <= 1e-5 * Math.Abs(actual[net.OutputSize + i]) + 1e-6,
                    $"{name} opset {opset}, output {i} of sample 1 alone: {single[i]:R}, in the batch {actual[net.OutputSize + i]:R}");
        }

        [Fact]
        public void BatchNorm_IsOneBatchNormalizationNode_WithPyTorchNames_AndNoStepCount()
        {
            var net = new NormedCnn(seed: 3);
            Train(net, seed: 4);
            var model = Protocol.ModelProto.Parser.ParseFrom(net.ToOnnx());
            var initializers = model.Graph.Initializer.ToDictionary(t => t.Name);

            // Every tensor but num_batches_tracked, which inference never reads, is an initializer under its PyTorch name,
            // with its shape and values.
            var expected = net.ParameterTensors.Where(t => !t.Name.EndsWith(".num_batches_tracked")).ToArray();
            Assert.Equal(5, net.ParameterTensors.Count(t => t.Name.EndsWith(".num_batches_tracked")));
            Assert.Equal(expected.Select(t => t.Name).Order(StringComparer.Ordinal),
                initializers.Keys.Where(k => k is not ("half" or "one" or "sqrt2")).Order(StringComparer.Ordinal));
            Assert.DoesNotContain(initializers.Keys, k => k.Contains("num_batches_tracked"));
            foreach (string tensorName in new[] { "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                "layer1.0.bn1.running_mean", "layer1.0.bn1.running_var", "layer1.0.bn2.running_var" })
                Assert.Contains(tensorName, initializers.Keys);
            foreach (var tensor in expected)
            {
                var proto = initializers[tensor.Name];
                Assert.Equal(tensor.Shape.Select(d => (long)d), proto.Dims);
                var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(proto.RawData.Span).ToArray();
                Assert.Equal(Values(net, tensor), values);
            }

            // One node per batch normalisation, in inference mode, reading γ, β, the running mean and the running variance
            // of its own layer; ε as PyTorch's.
            var layers = net.Layers.Where(l => l.Kind == LayerKind.BatchNorm).ToArray();
            var nodes = model.Graph.Node.Where(n => n.OpType == "BatchNormalization").ToArray();
            Assert.Equal(layers.Length, nodes.Length);
            for (int k = 0; k < layers.Length; k++)
            {
                string prefix = layers[k].Weight!.Name[..^".weight".Length];
                Assert.Equal([prefix + ".weight", prefix + ".bias", prefix + ".running_mean", prefix + ".running_var"], nodes[k].Input.Skip(1));
                Assert.Single(nodes[k].Output);
                Assert.Equal(1e-5f, nodes[k].Attribute.Single(a => a.Name == "epsilon").F);
                Assert.DoesNotContain(nodes[k].Attribute, a => a.Name == "training_mode" && a.I != 0);
            }
            // The activations after them: ReLU (bn1, layer1.0.bn1), Tanh, and GELU from Erf at opset 17; bn2 has none.
            Assert.Equal(1, model.Graph.Node.Count(n => n.OpType == "Tanh"));
            Assert.Equal(1, model.Graph.Node.Count(n => n.OpType == "Erf"));
            Assert.Equal(3, model.Graph.Node.Count(n => n.OpType == "Relu")); // bn1, layer1.0.bn1, and the block's sum
        }

        [Fact]
        public void LayerNorm_IsOneLayerNormalizationNode_OnTheLastAxis_WithPyTorchNames()
        {
            var net = new NormedSequence(seed: 3);
            Train(net, seed: 4);
            var model = Protocol.ModelProto.Parser.ParseFrom(net.ToOnnx());
            var initializers = model.Graph.Initializer.ToDictionary(t => t.Name);
            Assert.Equal(net.ParameterTensors.Select(t => t.Name).Order(StringComparer.Ordinal),
                initializers.Keys.Where(k => k is not ("half" or "one" or "sqrt2")).Select(k => k.EndsWith("_transposed") ? k[..^"_transposed".Length] : k)
                    .Order(StringComparer.Ordinal));
            foreach (string tensorName in new[] { "0.weight", "0.bias", "blocks.0.norm.weight", "blocks.1.norm.bias", "final.weight", "final.bias" })
            {
                var tensor = net.ParameterTensors.Single(t => t.Name == tensorName);
                var proto = initializers[tensorName];
                Assert.Equal(new long[] { 5 }, proto.Dims);
                Assert.Equal(Values(net, tensor), System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(proto.RawData.Span).ToArray());
            }

            var layers = net.Layers.Where(l => l.Kind == LayerKind.LayerNorm).ToArray();
            var nodes = model.Graph.Node.Where(n => n.OpType == "LayerNormalization").ToArray();
            Assert.Equal(4, layers.Length);
            Assert.Equal(layers.Length, nodes.Length);
            for (int k = 0; k < layers.Length; k++)
            {
                Assert.Equal([layers[k].Weight!.Name, layers[k].Bias!.Name], nodes[k].Input.Skip(1));
                Assert.Single(nodes[k].Output); // no mean or inverse deviation outputs
                Assert.Equal(-1, nodes[k].Attribute.Single(a => a.Name == "axis").I);
                Assert.Equal(1e-5f, nodes[k].Attribute.Single(a => a.Name == "epsilon").F);
            }
            // The first reads the graph's input; none has an activation after it.
            Assert.Equal("input", nodes[0].Input[0]);
        }

        [Fact]
        public void BatchNorm_OnASequence_IsRefused_NamingTheLayer()
        {
            // The generator refuses a batch normalisation on (positions, features); a layer list that has one anyway would
            // put ONNX's channels (axis 1) on the positions, so the export refuses it rather than write a wrong graph.
            var net = new NormedCnn(seed: 1);
            int index = net.Layers.Last(l => l.Kind == LayerKind.BatchNorm).Index;
            var sequence = new LayersReplaced(net, net.Layers.Select(l => l.Index == index ? l with { InputShape = [2, 3], OutputShape = [2, 3] } : l).ToArray());
            var ex = Assert.Throws<NotSupportedException>(() => sequence.ToOnnx());
            Assert.Equal($"ONNX export maps batch normalisation on a vector or an image; layer {index} has input shape [2, 3].", ex.Message);
        }

        [Fact]
        public void Graph_IsInTopologicalOrder()
        {
            foreach (var net in new INetwork[] { new NormedSequence(seed: 1), new NormedCnn(seed: 1), new NormedResNet(seed: 1) })
            {
                var model = Protocol.ModelProto.Parser.ParseFrom(net.ToOnnx());
                var known = new HashSet<string>(model.Graph.Initializer.Select(t => t.Name)) { "input" };
                foreach (var node in model.Graph.Node)
                {
                    Assert.All(node.Input.Where(i => i.Length > 0), i => Assert.Contains(i, known));
                    foreach (string output in node.Output) Assert.True(known.Add(output), $"{output} is written twice");
                }
                Assert.Contains("output", known);
            }
        }
    }
}
