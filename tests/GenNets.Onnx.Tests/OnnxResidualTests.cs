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

namespace GenNets.Onnx.Tests.Residual
{
    // A stride-2 block straight from the input (the projection reads the graph's input), softmax after the sum.
    [Input(3, 10, 10)]
    [Residual(typeof(DownBlock), Activation = Activation.Softmax, Name = "stem")]
    [Flatten]
    [Dense(2)]
    public partial class DownFromInput { }

    /// <summary>Residual networks exported to ONNX: ONNX Runtime gives what GenNets and the double reference give.</summary>
    public class OnnxResidualTests
    {
        public static TheoryData<string, int> Cases => new()
        {
            { "ResidualMlp", 17 }, { "ResidualMlp", 20 }, { "ResidualCnn", 17 }, { "DownFromInput", 17 },
        };

        private static INetwork Create(string name, int seed) => name switch
        {
            "ResidualMlp" => new ResidualMlp(seed),
            "ResidualCnn" => new ResidualCnn(seed),
            "DownFromInput" => new DownFromInput(seed),
            _ => throw new ArgumentException(name),
        };

        private static float[] Inputs(INetwork net, int batch, int seed)
        {
            var random = new SeededRandom((ulong)seed);
            return Enumerable.Range(0, batch * net.InputSize).Select(_ => (float)(2 * random.NextDouble() - 1)).ToArray();
        }

        private static float[] RunOnnx(INetwork net, float[] x, int batch, int opset = 17)
        {
            using var session = new InferenceSession(net.ToOnnx(new OnnxExportOptions { Opset = opset }));
            var shape = new[] { batch }.Concat(net.Layers[0].InputShape).ToArray();
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(x, shape))]);
            var output = results.Single(r => r.Name == "output").AsTensor<float>();
            Assert.Equal(new[] { batch }.Concat(net.Layers[^1].OutputShape), output.Dimensions.ToArray());
            return output.ToArray();
        }

        [Theory]
        [MemberData(nameof(Cases))]
        public void OnnxRuntime_MatchesForwardAndReference(string name, int opset)
        {
            var net = Create(name, seed: 21);
            Assert.Contains(net.Layers, l => l.Kind == LayerKind.Add);
            const int batch = 5;
            float[] x = Inputs(net, batch, seed: 22);
            var forward = new float[batch * net.OutputSize];
            net.Forward(x, forward, batch);
            double[] reference = Reference.NetworkOutputs(net.Layers, Array.ConvertAll(net.Parameters.ToArray(), v => (double)v),
                Array.ConvertAll(x, v => (double)v), batch);

            float[] actual = RunOnnx(net, x, batch, opset);

            Assert.Equal(forward.Length, actual.Length);
            for (int i = 0; i < actual.Length; i++)
            {
                Assert.True(Math.Abs(actual[i] - forward[i]) <= 1e-5 * Math.Abs(forward[i]) + 1e-6,
                    $"{name} opset {opset}, output {i}: ONNX Runtime {actual[i]:R}, GenNets {forward[i]:R}");
                Assert.True(Math.Abs(actual[i] - reference[i]) <= 1e-5 * Math.Abs(reference[i]) + 1e-6,
                    $"{name} opset {opset}, output {i}: ONNX Runtime {actual[i]:R}, reference {reference[i]:R}");
            }
            // The samples differ, so a graph that mixed up or dropped a skip could not match by accident.
            Assert.NotEqual(actual.AsSpan(0, net.OutputSize).ToArray(), actual.AsSpan(net.OutputSize, net.OutputSize).ToArray());
        }

        [Fact]
        public void OnnxRuntime_FollowsTrainedWeights()
        {
            // After training steps the skips and projections carry weights unlike their initialization; the export follows them.
            INetwork net = new ResidualCnn(seed: 5);
            const int batch = 4;
            float[] x = Inputs(net, batch, seed: 6);
            var targets = new int[batch];
            for (int i = 0; i < batch; i++) targets[i] = i % 3;
            var optimizer = new Adam(0.01f);
            for (int step = 0; step < 5; step++) net.TrainStep(x, Targets.FromLabels(targets), batch, optimizer);

            var forward = new float[batch * net.OutputSize];
            net.Forward(x, forward, batch);
            float[] actual = RunOnnx(net, x, batch);
            for (int i = 0; i < actual.Length; i++)
                Assert.True(Math.Abs(actual[i] - forward[i]) <= 1e-5 * Math.Abs(forward[i]) + 1e-6,
                    $"output {i}: ONNX Runtime {actual[i]:R}, GenNets {forward[i]:R}");
        }

        [Fact]
        public void Initializers_KeepTheNestedPyTorchNames_AndTheWeights()
        {
            var net = new ResidualCnn(seed: 1);
            var model = Protocol.ModelProto.Parser.ParseFrom(net.ToOnnx());
            var initializers = model.Graph.Initializer.ToDictionary(t => t.Name);
            Assert.Equal(net.ParameterTensors.Select(t => t.Name).Order(StringComparer.Ordinal), initializers.Keys.Order(StringComparer.Ordinal));
            // A block inside a block nests its name: layer3's block 0 holds the basic block "0" (layer3.0.0.0.conv1) and its
            // own projection (layer3.0.downsample.0), as PyTorch would name a Sequential inside a Sequential.
            Assert.Equal(
            [
                "5.bias", "5.weight", "conv1.bias", "conv1.weight",
                "layer1.0.conv1.bias", "layer1.0.conv1.weight", "layer1.0.conv2.bias", "layer1.0.conv2.weight",
                "layer2.0.conv1.bias", "layer2.0.conv1.weight", "layer2.0.conv2.bias", "layer2.0.conv2.weight",
                "layer2.0.downsample.0.bias", "layer2.0.downsample.0.weight",
                "layer3.0.0.0.conv1.bias", "layer3.0.0.0.conv1.weight", "layer3.0.0.0.conv2.bias", "layer3.0.0.0.conv2.weight",
                "layer3.0.0.0.downsample.0.bias", "layer3.0.0.0.downsample.0.weight",
                "layer3.0.1.bias", "layer3.0.1.weight", "layer3.0.downsample.0.bias", "layer3.0.downsample.0.weight",
            ], initializers.Keys.Order(StringComparer.Ordinal));
            foreach (var tensor in net.ParameterTensors)
            {
                var proto = initializers[tensor.Name];
                Assert.Equal(tensor.Shape.Select(d => (long)d), proto.Dims);
                var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(proto.RawData.Span).ToArray();
                Assert.Equal(net.Parameters.Slice(tensor.Offset, tensor.Length).ToArray(), values);
            }

            var mlp = Protocol.ModelProto.Parser.ParseFrom(new ResidualMlp(seed: 1).ToOnnx());
            // Repeat numbers the blocks (layer2.0, layer2.1); the unnamed narrowing block is "3.0" with its dense projection;
            // GELU before opset 20 adds its three constants.
            Assert.Equal(
            [
                "3.0.0.bias", "3.0.0.weight", "3.0.downsample.0.bias", "3.0.downsample.0.weight", "4.bias", "4.weight", "half",
                "layer1.0.fc1.bias", "layer1.0.fc1.weight", "layer1.0.fc2.bias", "layer1.0.fc2.weight",
                "layer2.0.fc1.bias", "layer2.0.fc1.weight", "layer2.0.fc2.bias", "layer2.0.fc2.weight",
                "layer2.1.fc1.bias", "layer2.1.fc1.weight", "layer2.1.fc2.bias", "layer2.1.fc2.weight", "one", "sqrt2",
            ], mlp.Graph.Initializer.Select(t => t.Name).Order(StringComparer.Ordinal));
        }

        [Fact]
        public void SharedValue_IsOneTensor_ReadByTheBlockAndItsSkip()
        {
            // ResidualMlp's first block starts at the input: its first Gemm and its Add both read "input", with no copy.
            var model = Protocol.ModelProto.Parser.ParseFrom(new ResidualMlp(seed: 1).ToOnnx());
            var readers = model.Graph.Node.Where(n => n.Input.Contains("input")).Select(n => n.OpType).Order().ToArray();
            Assert.Equal(["Add", "Gemm"], readers);
            Assert.DoesNotContain(model.Graph.Node, n => n.OpType is "Identity" or "Dropout");
            var net = new ResidualMlp(seed: 1);
            Assert.Equal(net.Layers.Count(l => l.Kind == LayerKind.Add), model.Graph.Node.Count(n => n.OpType == "Add" && !n.Name.Contains("gelu")));
            // Every tensor a node reads was made before it: the graph is in topological order, as ONNX requires.
            var known = new HashSet<string>(model.Graph.Initializer.Select(t => t.Name)) { "input" };
            foreach (var node in model.Graph.Node)
            {
                Assert.All(node.Input.Where(i => i.Length > 0), i => Assert.Contains(i, known));
                foreach (string output in node.Output) Assert.True(known.Add(output), $"{output} is written twice");
            }
        }

        [Fact]
        public void UnsupportedLayer_Throws_NamingIt()
        {
            var net = new ResidualMlp(seed: 1);
            var unknown = new LayersReplaced(net, net.Layers.Select(l => l.Index == 2 ? l with { Kind = (LayerKind)99 } : l).ToArray());
            var ex = Assert.Throws<NotSupportedException>(() => unknown.ToOnnx());
            Assert.StartsWith("ONNX export has no mapping for layer 2, of kind 99 (", ex.Message); // then the layer's description

            var activation = new LayersReplaced(net, net.Layers.Select(l => l.Kind == LayerKind.Add ? l with { Activation = (Activation)42 } : l).ToArray());
            int add = net.Layers.First(l => l.Kind == LayerKind.Add).Index;
            ex = Assert.Throws<NotSupportedException>(() => activation.ToOnnx());
            Assert.Equal($"ONNX export has no mapping for activation 42 (layer {add}).", ex.Message);
        }

        [Fact]
        public void MalformedSources_AreRefused_NamingTheLayer()
        {
            var net = new ResidualMlp(seed: 1);
            int add = net.Layers.First(l => l.Kind == LayerKind.Add).Index;
            var oneSource = new LayersReplaced(net, net.Layers.Select(l => l.Index == add ? l with { Inputs = [add - 1] } : l).ToArray());
            var ex = Assert.Throws<ArgumentException>(() => oneSource.ToOnnx());
            Assert.StartsWith($"Layer {add}, of kind Add, reads 1 sources; it should read 2.", ex.Message);

            var forward = new LayersReplaced(net, net.Layers.Select(l => l.Index == 1 ? l with { Inputs = [3] } : l).ToArray());
            ex = Assert.Throws<ArgumentException>(() => forward.ToOnnx());
            Assert.StartsWith("Layer 1, of kind Dense, reads layer 3, which is neither the input (−1) nor an earlier layer.", ex.Message);
        }
    }
}
