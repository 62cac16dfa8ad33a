using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using Google.Protobuf;
using GenNets.IO;
using GenNets.Onnx.Protocol;

namespace GenNets.Onnx;

/// <summary>Options of an ONNX export.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>
    /// The ONNX operator set to target: 17 or later (17 is the first with <c>LayerNormalization</c>). From 20 on, GELU is one
    /// <c>Gelu</c> node; before, it is built from <c>Erf</c>.
    /// </summary>
    public int Opset { get; init; } = 17;

    /// <summary>The graph's name; by default the network's class name.</summary>
    public string? GraphName { get; init; }
}

/// <summary>
/// Writes a generated network's inference graph with its current weights as a standard ONNX model:
/// input <c>input</c> of shape [batch, …input shape], output <c>output</c> of shape [batch, …output shape],
/// weights as initializers under their PyTorch names. Dropout, the identity in inference, is left out. Each layer reads the
/// tensors of its <see cref="LayerInfo.Sources"/>, so a residual block's input is one tensor read by the block and its skip,
/// and a <see cref="LayerKind.Add"/> is an ONNX <c>Add</c> followed by its activation. A <see cref="LayerKind.LayerNorm"/> is
/// ONNX's <c>LayerNormalization</c> on the last axis; a <see cref="LayerKind.BatchNorm"/> is <c>BatchNormalization</c> on the
/// running statistics (inference), followed by its activation.
/// </summary>
public static class OnnxExport
{
    private const long IrVersion = 8; // the IR of opsets 17 and 18

    /// <summary>
    /// Writes the model to <paramref name="path"/> through a temporary file in the same directory renamed over it, so that a
    /// failure leaves any earlier file as it was; a symbolic link is followed and stays a link, and an existing file keeps
    /// its permissions (see <see cref="GenNets.IO.SafeFile"/>).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> or <paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or not a valid path; or a layer's sources are not
    /// earlier layers or the input, or their count does not fit its kind.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The options ask for an opset below 17.</exception>
    /// <exception cref="NotSupportedException">A layer or activation has no ONNX mapping.</exception>
    /// <exception cref="System.IO.IOException"><paramref name="path"/> names something other than a regular file (a directory,
    /// a device such as /dev/null, a pipe), or writing or renaming failed (including <see cref="DirectoryNotFoundException"/>
    /// and <see cref="PathTooLongException"/>); the message names <paramref name="path"/>, and an earlier file there is left as it was.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory does not allow creating a file in it or renaming one over the target.</exception>
    public static void ExportOnnx(this INetwork network, string path, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes = network.ToOnnx(options);
        SafeFile.Replace(path, stream => stream.Write(bytes), "the ONNX model");
    }

    /// <summary>The model as bytes, ready for <c>InferenceSession</c> or any ONNX engine.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The options ask for an opset below 17.</exception>
    /// <exception cref="ArgumentException">A layer's sources are not earlier layers or the input, or their count does not fit its kind.</exception>
    /// <exception cref="NotSupportedException">A layer or activation has no ONNX mapping.</exception>
    public static byte[] ToOnnx(this INetwork network, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        options ??= new OnnxExportOptions();
        if (options.Opset < 17)
            throw new ArgumentOutOfRangeException(nameof(options), options.Opset, "GenNets exports ONNX opset 17 or later.");

        var graph = new GraphProto { Name = options.GraphName ?? network.GetType().Name };
        var builder = new GraphBuilder(graph, network, options.Opset);
        var layers = network.Layers;
        graph.Input.Add(Value("input", layers.Count == 0 ? [] : layers[0].InputShape));

        // Each layer's output as a tensor name: a value that several layers read (a residual block's input, read by the
        // block's first layer and by its skip) is one tensor; dropout, the identity in inference, passes its source's name on.
        var outputs = new string[layers.Count];
        for (int i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            // Source k of the layer's `count` (an Add reads two, every other layer one), checked before it is read.
            string Read(int k, int count)
            {
                int[] sources = layer.Sources;
                if (sources.Length != count)
                    throw new ArgumentException($"Layer {i}, of kind {layer.Kind}, reads {sources.Length} sources; it should read {count}.", nameof(network));
                int source = sources[k];
                if (source < -1 || source >= i)
                    throw new ArgumentException($"Layer {i}, of kind {layer.Kind}, reads layer {source}, which is neither the input (−1) nor an earlier layer.", nameof(network));
                return source == -1 ? "input" : outputs[source];
            }
            outputs[i] = layer.Kind switch
            {
                LayerKind.Dense => builder.Activation(layer, builder.Dense(layer, Read(0, 1))),
                LayerKind.Conv2D => builder.Activation(layer, builder.Convolution(layer, Read(0, 1))),
                LayerKind.Add => builder.Activation(layer, builder.Add(layer, Read(0, 2), Read(1, 2))),
                LayerKind.LayerNorm => builder.LayerNormalization(layer, Read(0, 1)),
                LayerKind.BatchNorm => builder.Activation(layer, builder.BatchNormalization(layer, Read(0, 1))),
                LayerKind.MaxPool2D or LayerKind.AvgPool2D => builder.Pool(layer, Read(0, 1)),
                LayerKind.GlobalAvgPool when layer.InputShape.Length == 2 => builder.MeanOverPositions(layer, Read(0, 1)),
                LayerKind.GlobalAvgPool => builder.GlobalAveragePool(layer, Read(0, 1)),
                LayerKind.Embedding => builder.Embedding(layer, Read(0, 1)),
                LayerKind.PositionalEncoding => builder.PositionalEncoding(layer, Read(0, 1)),
                LayerKind.SelfAttention => builder.SelfAttention(layer, Read(0, 1)),
                LayerKind.Flatten => builder.Flatten(layer, Read(0, 1)),
                LayerKind.SimpleRNN or LayerKind.LSTM or LayerKind.GRU => builder.Recurrent(layer, Read(0, 1)),
                LayerKind.Dropout => Read(0, 1), // the identity in inference
                _ => throw new NotSupportedException($"ONNX export has no mapping for layer {i}, of kind {layer.Kind}"
                    + (layer.Description == layer.Kind.ToString() ? "." : $" ({layer.Description}).")),
            };
        }
        string current = layers.Count == 0 ? "input" : outputs[^1];
        builder.Rename(current, "output");
        graph.Output.Add(Value("output", layers[^1].OutputShape));

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "GenNets",
            ProducerVersion = typeof(INetwork).Assembly.GetName().Version?.ToString() ?? "1.0",
            Graph = graph,
            DocString = $"{graph.Name}: loss {network.Loss}, {network.ParameterCount} parameters.",
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = options.Opset });
        return model.ToByteArray();
    }

    private static ValueInfoProto Value(string name, int[] sampleShape)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        foreach (int d in sampleShape) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    /// <summary>Adds nodes and initializers to one graph, naming intermediate values uniquely.</summary>
    private sealed class GraphBuilder(GraphProto graph, INetwork network, int opset)
    {
        private const float Epsilon = 1e-5f; // both normalisations', as PyTorch's
        private int _values;
        private readonly HashSet<string> _constants = new(StringComparer.Ordinal);

        private string Fresh(string hint) => $"{hint}_{_values++}";

        private NodeProto Node(string op, string name, string[] inputs, string output)
        {
            var node = new NodeProto { OpType = op, Name = name };
            node.Input.AddRange(inputs);
            node.Output.Add(output);
            graph.Node.Add(node);
            return node;
        }

        public string Dense(LayerInfo layer, string x)
        {
            var weight = layer.Weight!;
            var bias = layer.Bias!;
            int outFeatures = weight.Shape[0], inFeatures = weight.Shape[1];
            var w = network.Parameters.Slice(weight.Offset, weight.Length);
            string y = Fresh($"dense{layer.Index}");
            Initializer(bias.Name, bias.Shape, network.Parameters.Slice(bias.Offset, bias.Length));
            if (layer.InputShape.Length == 1)
            {
                // A vector per sample: one Gemm, Y = X·Wᵀ + b, the weight kept in PyTorch's [out, in] layout.
                Initializer(weight.Name, weight.Shape, w);
                var gemm = Node("Gemm", $"layer{layer.Index}_gemm", [x, weight.Name, bias.Name], y);
                gemm.Attribute.Add(new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
                return y;
            }
            // A sequence per sample: MatMul on the last axis with the weight stored transposed, [in, out], then Add.
            var transposed = new float[w.Length];
            for (int o = 0; o < outFeatures; o++)
                for (int i = 0; i < inFeatures; i++)
                    transposed[i * outFeatures + o] = w[o * inFeatures + i];
            string wt = weight.Name + "_transposed";
            Initializer(wt, [inFeatures, outFeatures], transposed);
            string product = Fresh($"dense{layer.Index}_matmul");
            Node("MatMul", $"layer{layer.Index}_matmul", [x, wt], product);
            Node("Add", $"layer{layer.Index}_bias", [product, bias.Name], y);
            return y;
        }

        /// <summary>
        /// Layer normalisation over the last axis: ONNX's <c>LayerNormalization</c> (opset 17, the lowest the export targets)
        /// with axis −1, ε = 1e-5, Scale the layer's weight (γ) and B its bias (β), under their PyTorch names.
        /// </summary>
        public string LayerNormalization(LayerInfo layer, string x)
        {
            var weight = layer.Weight!;
            var bias = layer.Bias!;
            Initializer(weight.Name, weight.Shape, network.Parameters.Slice(weight.Offset, weight.Length));
            Initializer(bias.Name, bias.Shape, network.Parameters.Slice(bias.Offset, bias.Length));
            string y = Fresh($"layernorm{layer.Index}");
            var node = Node("LayerNormalization", $"layer{layer.Index}_layernorm", [x, weight.Name, bias.Name], y);
            node.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = -1 });
            node.Attribute.Add(new AttributeProto { Name = "epsilon", Type = AttributeProto.Types.AttributeType.Float, F = Epsilon });
            return y;
        }

        /// <summary>
        /// Batch normalisation in inference: ONNX's <c>BatchNormalization</c> on the running statistics, ε = 1e-5. ONNX's
        /// channels are axis 1, which is GenNets' channels on an image [batch, C, H, W] and its features on a vector
        /// [batch, F]. The weight, bias, running_mean and running_var keep their PyTorch names; num_batches_tracked, unused in
        /// inference, is left out.
        /// </summary>
        public string BatchNormalization(LayerInfo layer, string x)
        {
            if (layer.InputShape.Length is not (1 or 3))
                throw new NotSupportedException($"ONNX export maps batch normalisation on a vector or an image; layer {layer.Index} has input shape [{string.Join(", ", layer.InputShape)}].");
            var weight = layer.Weight!;
            var bias = layer.Bias!;
            var mean = layer.RunningMean!;
            int channels = weight.Length;
            // running_var follows running_mean; its tensor gives its name ({prefix}.running_var).
            ParameterTensor? variance = null;
            foreach (var tensor in network.ParameterTensors)
                if (tensor.Offset == mean.Offset + channels && tensor.Length == channels && tensor.Name.EndsWith(".running_var", StringComparison.Ordinal))
                    variance = tensor;
            string varianceName = variance?.Name ?? (mean.Name.EndsWith(".running_mean", StringComparison.Ordinal)
                ? mean.Name[..^".running_mean".Length] + ".running_var"
                : mean.Name + "_var");
            Initializer(weight.Name, [channels], network.Parameters.Slice(weight.Offset, channels));
            Initializer(bias.Name, [channels], network.Parameters.Slice(bias.Offset, channels));
            Initializer(mean.Name, [channels], network.Parameters.Slice(mean.Offset, channels));
            Initializer(varianceName, [channels], network.Parameters.Slice(mean.Offset + channels, channels));
            string y = Fresh($"batchnorm{layer.Index}");
            var node = Node("BatchNormalization", $"layer{layer.Index}_batchnorm", [x, weight.Name, bias.Name, mean.Name, varianceName], y);
            node.Attribute.Add(new AttributeProto { Name = "epsilon", Type = AttributeProto.Types.AttributeType.Float, F = Epsilon });
            return y;
        }

        /// <summary>A residual sum: the block's last layer plus the skip (the block's input or its projection), elementwise.</summary>
        public string Add(LayerInfo layer, string main, string skip)
        {
            string y = Fresh($"add{layer.Index}");
            Node("Add", $"layer{layer.Index}_add", [main, skip], y);
            return y;
        }

        public string Convolution(LayerInfo layer, string x)
        {
            var g = layer.Convolution!;
            var weight = layer.Weight!;
            var bias = layer.Bias!;
            Initializer(weight.Name, weight.Shape, network.Parameters.Slice(weight.Offset, weight.Length));
            Initializer(bias.Name, bias.Shape, network.Parameters.Slice(bias.Offset, bias.Length));
            string y = Fresh($"conv{layer.Index}");
            var node = Node("Conv", $"layer{layer.Index}_conv", [x, weight.Name, bias.Name], y);
            // The padding below and right is what the output size needs: for "same" with an even kernel, one more than above.
            int bottom = Math.Max(0, (g.OutHeight - 1) * g.Stride + g.KernelHeight - g.Height - g.PadTop);
            int right = Math.Max(0, (g.OutWidth - 1) * g.Stride + g.KernelWidth - g.Width - g.PadLeft);
            node.Attribute.Add(Ints("kernel_shape", g.KernelHeight, g.KernelWidth));
            node.Attribute.Add(Ints("strides", g.Stride, g.Stride));
            node.Attribute.Add(Ints("pads", g.PadTop, g.PadLeft, bottom, right));
            return y;
        }

        public string Pool(LayerInfo layer, string x)
        {
            bool max = layer.Kind == LayerKind.MaxPool2D;
            string y = Fresh(max ? $"maxpool{layer.Index}" : $"avgpool{layer.Index}");
            var node = Node(max ? "MaxPool" : "AveragePool", $"layer{layer.Index}_{(max ? "maxpool" : "avgpool")}", [x], y);
            node.Attribute.Add(Ints("kernel_shape", layer.KernelHeight, layer.KernelWidth));
            node.Attribute.Add(Ints("strides", layer.Stride, layer.Stride));
            return y;
        }

        public string GlobalAveragePool(LayerInfo layer, string x)
        {
            // ONNX keeps the spatial axes as 1×1; flattening from axis 1 gives GenNets' (channels).
            string pooled = Fresh($"globalavgpool{layer.Index}");
            Node("GlobalAveragePool", $"layer{layer.Index}_globalavgpool", [x], pooled);
            return Flatten(layer, pooled);
        }

        /// <summary>The mean over a sequence's positions, [batch, T, F] → [batch, F]: ReduceMean on axis 1 (an input from opset 18, an attribute before).</summary>
        public string MeanOverPositions(LayerInfo layer, string x)
        {
            string y = Fresh($"meanpool{layer.Index}");
            var node = opset >= 18
                ? Node("ReduceMean", $"layer{layer.Index}_meanpool", [x, Axes("axes_1", 1)], y)
                : Node("ReduceMean", $"layer{layer.Index}_meanpool", [x], y);
            if (opset < 18) node.Attribute.Add(Ints("axes", 1));
            node.Attribute.Add(new AttributeProto { Name = "keepdims", Type = AttributeProto.Types.AttributeType.Int, I = 0 });
            return y;
        }

        /// <summary>
        /// An embedding: the ids, which the graph's float input carries as whole numbers, cast to int64 and looked up with
        /// Gather on the table's rows ([batch, T] → [batch, T, features]).
        /// </summary>
        public string Embedding(LayerInfo layer, string x)
        {
            var table = layer.Weight!;
            Initializer(table.Name, table.Shape, network.Parameters.Slice(table.Offset, table.Length));
            string ids = Fresh($"embedding{layer.Index}_ids"), y = Fresh($"embedding{layer.Index}");
            Node("Cast", $"layer{layer.Index}_ids", [x], ids).Attribute.Add(new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = (long)TensorProto.Types.DataType.Int64 });
            Node("Gather", $"layer{layer.Index}_gather", [table.Name, ids], y).Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 0 });
            return y;
        }

        /// <summary>A positional encoding: Add of the table's first T rows, [T, F], broadcast over the batch (the sinusoids as a constant).</summary>
        public string PositionalEncoding(LayerInfo layer, string x)
        {
            int positions = layer.InputShape[0], features = layer.InputShape[1];
            string table;
            if (layer.Weight is { } learned)
            {
                table = learned.Name;
                Initializer(table, [positions, features], network.Parameters.Slice(learned.Offset, positions * features));
            }
            else
            {
                table = $"layer{layer.Index}.positions";
                Initializer(table, [positions, features], GenNets.Kernels.PositionalEncoding.SinusoidalTable(positions, features));
            }
            string y = Fresh($"positions{layer.Index}");
            Node("Add", $"layer{layer.Index}_positions", [x, table], y);
            return y;
        }

        /// <summary>
        /// Multi-head self-attention from opset-17 operators, as PyTorch's nn.MultiheadAttention computes it: q, k, v by one
        /// MatMul with in_proj_weightᵀ plus in_proj_bias, Split; each reshaped to [batch, heads, T, d/heads]; scores
        /// q·kᵀ/√(d/heads) (plus a −∞ mask above the diagonal when causal); Softmax; ·v; the heads joined back to [batch, T, d]
        /// and projected by out_proj.
        /// </summary>
        public string SelfAttention(LayerInfo layer, string x)
        {
            int positions = layer.InputShape[0], d = layer.InputShape[1], heads = layer.Heads, dh = d / heads;
            string n = $"layer{layer.Index}";
            string qkv = Projection(n + "_in_proj", x, layer.Weight!, layer.Bias!, 3 * d, d);
            string q = Fresh(n + "_q"), k = Fresh(n + "_k"), v = Fresh(n + "_v");
            var split = new NodeProto { OpType = "Split", Name = n + "_split" };
            split.Input.AddRange([qkv, Int64s(n + ".split", d, d, d)]);
            split.Output.AddRange([q, k, v]);
            split.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = -1 });
            graph.Node.Add(split);
            string headsShape = Int64s($"heads_shape_{heads}_{dh}", 0, 0, heads, dh);
            string Heads(string value, string name, params long[] perm)
            {
                string reshaped = Fresh(name + "_heads"), turned = Fresh(name + "_turned");
                Node("Reshape", name + "_reshape", [value, headsShape], reshaped);
                Node("Transpose", name + "_transpose", [reshaped], turned).Attribute.Add(Ints("perm", perm));
                return turned;
            }
            string qh = Heads(q, n + "_q", 0, 2, 1, 3), kt = Heads(k, n + "_k", 0, 2, 3, 1), vh = Heads(v, n + "_v", 0, 2, 1, 3);
            string scores = Fresh(n + "_scores"), scaled = Fresh(n + "_scaled");
            Node("MatMul", n + "_qk", [qh, kt], scores);
            Node("Mul", n + "_scale", [scores, Scalar($"attention_scale_{dh}", 1f / MathF.Sqrt(dh))], scaled);
            if (layer.Causal)
            {
                string mask = $"causal_mask_{positions}";
                if (_constants.Add(mask))
                {
                    var values = new float[positions * positions];
                    for (int i = 0; i < positions; i++)
                        for (int j = i + 1; j < positions; j++) values[i * positions + j] = float.NegativeInfinity;
                    Initializer(mask, [positions, positions], values);
                }
                string masked = Fresh(n + "_masked");
                Node("Add", n + "_mask", [scaled, mask], masked);
                scaled = masked;
            }
            string weights = Fresh(n + "_weights"), mixed = Fresh(n + "_mixed"), back = Fresh(n + "_back"), joined = Fresh(n + "_joined");
            Node("Softmax", n + "_softmax", [scaled], weights).Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = -1 });
            Node("MatMul", n + "_pv", [weights, vh], mixed);
            Node("Transpose", n + "_untranspose", [mixed], back).Attribute.Add(Ints("perm", 0, 2, 1, 3));
            Node("Reshape", n + "_join", [back, Int64s($"model_shape_{d}", 0, 0, d)], joined);
            return Projection(n + "_out_proj", joined, layer.OutputWeight!, layer.OutputBias!, d, d);
        }

        // x·Wᵀ + b on the last axis for a PyTorch [out, in] weight, stored transposed for MatMul.
        private string Projection(string name, string x, ParameterTensor weight, ParameterTensor bias, int outFeatures, int inFeatures)
        {
            var w = network.Parameters.Slice(weight.Offset, outFeatures * inFeatures);
            var transposed = new float[w.Length];
            for (int o = 0; o < outFeatures; o++)
                for (int i = 0; i < inFeatures; i++)
                    transposed[i * outFeatures + o] = w[o * inFeatures + i];
            Initializer(weight.Name + "_transposed", [inFeatures, outFeatures], transposed);
            Initializer(bias.Name, [outFeatures], network.Parameters.Slice(bias.Offset, outFeatures));
            string product = Fresh(name + "_matmul"), y = Fresh(name);
            Node("MatMul", name + "_matmul", [x, weight.Name + "_transposed"], product);
            Node("Add", name + "_bias", [product, bias.Name], y);
            return y;
        }

        // A 1-D int64 initializer, shared by name.
        private string Int64s(string name, params long[] values) => Axes(name, values);

        public string Flatten(LayerInfo layer, string x)
        {
            string y = Fresh($"flatten{layer.Index}");
            Node("Flatten", $"layer{layer.Index}_flatten_{_values}", [x], y).Attribute.Add(
                new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
            return y;
        }

        /// <summary>
        /// ONNX's RNN, LSTM or GRU (one direction, sequence-first layout): the input is transposed to [steps, batch, features]
        /// and the output brought back to GenNets' [batch, steps, units] or [batch, units]. ONNX orders the gates differently
        /// from PyTorch (LSTM i, o, f, c against i, f, g, o; GRU z, r, h against r, z, n), so the weight blocks are reordered;
        /// GRU's linear_before_reset = 1 is PyTorch's form (the reset gate scales W_hn·h + b_hn).
        /// </summary>
        public string Recurrent(LayerInfo layer, string x)
        {
            var g = layer.Recurrent!;
            int H = g.Hidden, I = g.Inputs, GH = g.GateWidth;
            int[] order = layer.Kind switch
            {
                LayerKind.LSTM => [0, 3, 1, 2],
                LayerKind.GRU => [1, 0, 2],
                _ => [0],
            };
            // Gate block `order[k]` of a PyTorch tensor with `width` columns becomes block k.
            float[] Reorder(ParameterTensor tensor, int width)
            {
                var source = network.Parameters.Slice(tensor.Offset, tensor.Length);
                var result = new float[tensor.Length];
                for (int k = 0; k < order.Length; k++)
                    source.Slice(order[k] * H * width, H * width).CopyTo(result.AsSpan(k * H * width));
                return result;
            }
            string op = layer.Kind == LayerKind.SimpleRNN ? "RNN" : layer.Kind.ToString();
            string prefix = layer.Weight!.Name[..layer.Weight.Name.LastIndexOf('.')];
            string w = prefix + ".W", r = prefix + ".R", b = prefix + ".B";
            Initializer(w, [1, GH, I], Reorder(layer.Weight!, I));
            Initializer(r, [1, GH, H], Reorder(layer.HiddenWeight!, H));
            var biases = new float[2 * GH];
            Reorder(layer.Bias!, 1).CopyTo(biases, 0);
            Reorder(layer.HiddenBias!, 1).CopyTo(biases, GH);
            Initializer(b, [1, 2 * GH], biases);

            string sequenceFirst = Fresh($"{op.ToLowerInvariant()}{layer.Index}_input");
            Node("Transpose", $"layer{layer.Index}_to_steps_first", [x], sequenceFirst).Attribute.Add(Ints("perm", 1, 0, 2));
            string all = Fresh($"{op.ToLowerInvariant()}{layer.Index}_y"), last = Fresh($"{op.ToLowerInvariant()}{layer.Index}_y_h");
            var node = new NodeProto { OpType = op, Name = $"layer{layer.Index}_{op.ToLowerInvariant()}" };
            node.Input.AddRange([sequenceFirst, w, r, b]);
            node.Output.AddRange(g.ReturnSequences ? [all] : ["", last]);
            node.Attribute.Add(new AttributeProto { Name = "hidden_size", Type = AttributeProto.Types.AttributeType.Int, I = H });
            if (layer.Kind == LayerKind.GRU)
                node.Attribute.Add(new AttributeProto { Name = "linear_before_reset", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
            graph.Node.Add(node);

            string y = Fresh($"{op.ToLowerInvariant()}{layer.Index}");
            if (!g.ReturnSequences)
            {
                // Y_h is [1, batch, units].
                Node("Squeeze", $"layer{layer.Index}_squeeze", [last, Axes("axes_0", 0)], y);
                return y;
            }
            // Y is [steps, 1, batch, units].
            string squeezed = Fresh($"{op.ToLowerInvariant()}{layer.Index}_steps_first");
            Node("Squeeze", $"layer{layer.Index}_squeeze", [all, Axes("axes_1", 1)], squeezed);
            Node("Transpose", $"layer{layer.Index}_to_batch_first", [squeezed], y).Attribute.Add(Ints("perm", 1, 0, 2));
            return y;
        }

        // A 1-D int64 initializer of axes, shared by name.
        private string Axes(string name, params long[] axes)
        {
            if (!_constants.Add(name)) return name;
            var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
            tensor.Dims.Add(axes.Length);
            tensor.Int64Data.AddRange(axes);
            graph.Initializer.Add(tensor);
            return name;
        }

        private static AttributeProto Ints(string name, params long[] values)
        {
            var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
            attribute.Ints.AddRange(values);
            return attribute;
        }

        public string Activation(LayerInfo layer, string x)
        {
            string y = Fresh($"{layer.Activation.ToString().ToLowerInvariant()}{layer.Index}");
            string name = $"layer{layer.Index}_{layer.Activation.ToString().ToLowerInvariant()}";
            switch (layer.Activation)
            {
                case GenNets.Activation.Identity:
                    return x;
                case GenNets.Activation.ReLU:
                    Node("Relu", name, [x], y);
                    return y;
                case GenNets.Activation.LeakyReLU:
                    Node("LeakyRelu", name, [x], y).Attribute.Add(new AttributeProto { Name = "alpha", Type = AttributeProto.Types.AttributeType.Float, F = GenNets.Kernels.Activations.LeakySlope });
                    return y;
                case GenNets.Activation.Sigmoid:
                    Node("Sigmoid", name, [x], y);
                    return y;
                case GenNets.Activation.Tanh:
                    Node("Tanh", name, [x], y);
                    return y;
                case GenNets.Activation.Softmax:
                    Node("Softmax", name, [x], y).Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = -1 });
                    return y;
                case GenNets.Activation.GELU when opset >= 20:
                    Node("Gelu", name, [x], y);
                    return y;
                case GenNets.Activation.GELU:
                {
                    // y = x · 0.5 · (1 + erf(x / √2)), the exact GELU from opset-17 operators.
                    string scaled = Fresh("gelu_scaled"), erf = Fresh("gelu_erf"), plus = Fresh("gelu_plus_one"), times = Fresh("gelu_times_x");
                    Node("Div", name + "_div", [x, Scalar("sqrt2", MathF.Sqrt(2f))], scaled);
                    Node("Erf", name + "_erf", [scaled], erf);
                    Node("Add", name + "_add", [erf, Scalar("one", 1f)], plus);
                    Node("Mul", name + "_mul", [x, plus], times);
                    Node("Mul", name + "_half", [times, Scalar("half", 0.5f)], y);
                    return y;
                }
                case GenNets.Activation.GELUTanh when opset >= 20:
                    Node("Gelu", name, [x], y).Attribute.Add(new AttributeProto { Name = "approximate", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("tanh") });
                    return y;
                case GenNets.Activation.GELUTanh:
                {
                    // y = 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³))), from opset-17 operators.
                    string cube = Fresh("gelu_cube"), inner = Fresh("gelu_inner"), sum = Fresh("gelu_sum"), scaled = Fresh("gelu_scaled"), tanh = Fresh("gelu_tanh"),
                        plus = Fresh("gelu_plus_one"), times = Fresh("gelu_times_x");
                    Node("Pow", name + "_cube", [x, Scalar("three", 3f)], cube);
                    Node("Mul", name + "_cubic", [cube, Scalar("gelu_cubic", 0.044715f)], inner);
                    Node("Add", name + "_sum", [x, inner], sum);
                    Node("Mul", name + "_scale", [sum, Scalar("sqrt_2_over_pi", MathF.Sqrt(2f / MathF.PI))], scaled);
                    Node("Tanh", name + "_tanh", [scaled], tanh);
                    Node("Add", name + "_add", [tanh, Scalar("one", 1f)], plus);
                    Node("Mul", name + "_mul", [x, plus], times);
                    Node("Mul", name + "_half", [times, Scalar("half", 0.5f)], y);
                    return y;
                }
                default:
                    throw new NotSupportedException($"ONNX export has no mapping for activation {layer.Activation} (layer {layer.Index}).");
            }
        }

        public void Rename(string from, string to)
        {
            if (from == "input")
            {
                Node("Identity", "output_identity", ["input"], to);
                return;
            }
            foreach (var node in graph.Node)
                for (int i = 0; i < node.Output.Count; i++)
                    if (node.Output[i] == from) node.Output[i] = to;
            foreach (var node in graph.Node)
                for (int i = 0; i < node.Input.Count; i++)
                    if (node.Input[i] == from) node.Input[i] = to;
        }

        private string Scalar(string name, float value)
        {
            if (_constants.Add(name)) Initializer(name, [], [value]);
            return name;
        }

        private void Initializer(string name, int[] shape, ReadOnlySpan<float> values)
        {
            var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
            foreach (int d in shape) tensor.Dims.Add(d);
            if (BitConverter.IsLittleEndian)
                tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values));
            else
                foreach (float v in values) tensor.FloatData.Add(v);
            graph.Initializer.Add(tensor);
        }
    }
}
