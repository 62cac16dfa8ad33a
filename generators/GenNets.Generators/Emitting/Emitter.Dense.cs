using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using GenNets.Generators.Layers;
using GenNets.Generators.Model;
using GenNets.Generators.Planning;
using GenNets.Generators.Shapes;
using static GenNets.Generators.Text;

namespace GenNets.Generators;

// The paths a network of dense layers alone takes: batched inference in strips of 16 samples kept from layer to layer,
// and a backward pass split over threads one layer at a time.
internal static partial class Emitter
{
    // Batched inference in the strip layout of Gemm.MultiplyStrips: the input is packed once, every dense layer
    // reads and writes strips of 16 samples, and the output is unpacked at the end.
    private static void EmitInferStrips(IndentedWriter w, ShapedNetwork net, NetworkPlan plan)
    {
        var layers = net.Layers;
        w.Line("// Inference on a batch in strips of 16 samples, each strip feature-major (see Gemm.MultiplyStrips): the input is");
        w.Line("// packed once, each dense layer reads its input strips in place of a row-major matrix, and the output is unpacked.");
        w.Line(Generated);
        w.Open($"private void InferStrips({RoSpan} input, {Span} output, {Span} scratch, int batch)");
        w.Line($"{RoSpan} p = _parameters;");
        w.Line($"int rows = {(plan.StripPositions == 1 ? "batch" : $"batch * {plan.StripPositions}")};");
        w.Line($"int half = {Kernels}Gemm.StripLength(rows, {plan.StripFeatures});");
        w.Line($"{Span} ping = scratch.Slice(0, half);");
        w.Line($"{Span} pong = scratch.Slice(half, half);");
        int inFeatures = layers[0].InFeatures;
        w.Line($"{Kernels}Gemm.PackStrips(input, ping, rows, {inFeatures});");
        string current = "ping";
        int side = 1, width = inFeatures;
        foreach (var emitter in plan.Emitters)
        {
            var layer = emitter.Layer;
            w.Line($"// Layer {layer.Index}: {emitter.Description}    strips of {layer.InFeatures} -> strips of {layer.OutFeatures}");
            if (layer.Spec is DropoutSpec)
            {
                w.Line("// (the identity in inference)");
                continue;
            }
            string target = $"h{layer.Index}";
            w.Line($"{Span} {target} = {(side == 0 ? "ping" : "pong")}.Slice(0, {Kernels}Gemm.StripLength(rows, {layer.OutFeatures}));");
            side ^= 1;
            w.Line($"{Kernels}Gemm.MultiplyStrips(p.Slice(Layer{layer.Index}WeightOffset, {layer.OutFeatures * layer.InFeatures}), p.Slice(Layer{layer.Index}BiasOffset, {layer.OutFeatures}), {current}, {target}, rows, {layer.OutFeatures}, {layer.InFeatures});");
            var activation = layer.Activation;
            if (activation != ActivationKind.Identity && activation != ActivationKind.Softmax)
                w.Line($"{Kernels}Activations.{activation}({target}, {target}); // the padding of the last strip is computed too, and never read");
            current = target;
            width = layer.OutFeatures;
        }
        w.Line($"{Kernels}Gemm.UnpackStrips({current}, output, rows, {width});");
        if (layers[layers.Length - 1].Spec is DenseSpec { Activation: ActivationKind.Softmax })
            w.Line($"{Kernels}Activations.Softmax(output, output, rows, {width});");
        w.Close();
        w.Line();
    }

    // The backward pass of a network of dense layers split over threads one layer at a time (see RunBackward's comment).
    // Called with RunBackward open, after its single-part case.
    private static void EmitLayerwiseBackward(IndentedWriter w, ShapedNetwork net, NetworkPlan plan)
    {
        var layers = net.Layers;
        string cls = net.Spec.ClassName;
        var dense = layers.Where(l => l.Spec is DenseSpec).ToList();
        var last = dense[dense.Count - 1];
        // What follows the last dense layer (dropout) and its activation act on the loss gradient of the whole batch, here.
        if (last.Index != layers.Length - 1 || last.Activation != ActivationKind.Identity)
        {
            w.Line("int batch = _trainingBatch;");
            w.Line($"{Span} dy = new {Span}(_outputGradient, 0, batch * OutputSize);");
        }
        for (int i = layers.Length - 1; i > last.Index; i--)
            w.Line($"{Kernels}Dropout.Backward(new {RoSpan}(_mask{layers[i].Index}, 0, batch * {layers[i].OutputLength}), dy, dy);");
        EmitActivationBackward(w, last, "0", "batch", "dy");
        w.Open("if (parts == 1)");
        foreach (var layer in Enumerable.Reverse(dense))
            w.Line($"BackwardLayer{layer.Index}(0, 1, inputs);");
        w.Close();
        w.Open("else");
        foreach (var layer in Enumerable.Reverse(dense))
            w.Line($"{Pool}WorkerPool.Run(parts, _threads, this, s_backwardLayer{layer.Index}, inputs, default);");
        w.Close();
        w.Close();
        w.Line();
        EmitForwardPart(w, cls);


        string dyBuffer = "_outputGradient";
        bool inA = false;
        for (int d = dense.Count - 1; d >= 0; d--)
        {
            var layer = dense[d];
            int n = layer.Index;
            // The layer whose gradient this one passes on: the dense layer below, with the dropout layers between.
            var below = d > 0 ? dense[d - 1] : null;
            var above = d < dense.Count - 1 ? dense[d + 1] : null;
            string rows = layer.Positions == 1 ? "batch" : $"batch * {layer.Positions}";
            string partRows = layer.Positions == 1 ? "rows" : $"rows * {layer.Positions}";
            w.Line($"private static readonly {Pool}PartAction s_backwardLayer{n} = static (network, part, parts, inputs, _) => (({cls})network).BackwardLayer{n}(part, parts, inputs);");
            w.Line();
            w.Line($"// Layer {n}: {plan.Emitters[n].Description}. Weight and bias gradients of this part's outputs over the whole batch" + (below is null ? "." : "; the"));
            if (below is not null)
                w.Line($"// gradient for this part's samples, back through the layers down to layer {below.Index}'s activation.");
            w.Line(Generated);
            w.Open($"private void BackwardLayer{n}(int part, int parts, {RoSpan} inputs)");
            w.Line($"{RoSpan} p = _parameters;");
            w.Line("int batch = _trainingBatch;");
            w.Line($"int start = {Pool}WorkerPool.Start(batch, part, parts), rows = {Pool}WorkerPool.Start(batch, part + 1, parts) - start; // this part's samples");
            w.Line($"int first = {layer.OutFeatures} * part / parts, count = {layer.OutFeatures} * (part + 1) / parts - first; // this part's outputs");
            string x = n == 0 ? "inputs.Slice(0, batch * InputSize)" : $"new {RoSpan}({NetworkPlan.FieldOf(layers[n - 1])}, 0, batch * {layer.InputLength})";
            w.Line($"{RoSpan} x = {x};");
            w.Line($"{Span} dy = new {Span}({dyBuffer}, 0, batch * {layer.OutputLength});");
            w.Open("if (count > 0)");
            w.Line($"{Kernels}Gemm.ColumnSums(dy.Slice(first), new {Span}(_gradients, Layer{n}BiasOffset + first, count), {rows}, count, {layer.OutFeatures}); // db = Σ dy");
            w.Line($"{Kernels}Gemm.MultiplyAccumulate(dy.Slice(first), 1, {layer.OutFeatures}, x, new {Span}(_gradients, Layer{n}WeightOffset + first * {layer.InFeatures}, count * {layer.InFeatures}), count, {layer.InFeatures}, {rows}, accumulate: false); // dW = dyᵀ·x");
            w.Close();
            if (below is null)
            {
                w.Line("// The input needs no gradient.");
                w.Close();
                w.Line();
                continue;
            }
            string target = inA ? "_gradientB" : "_gradientA";
            w.Line($"{Span} dx = new {Span}({target}, start * {layer.InputLength}, rows * {layer.InputLength});");
            w.Line($"{Kernels}Gemm.MultiplyAccumulate(dy.Slice(start * {layer.OutputLength}), {layer.OutFeatures}, 1, p.Slice(Layer{n}WeightOffset, {layer.OutFeatures * layer.InFeatures}), dx, {partRows}, {layer.InFeatures}, {layer.OutFeatures}, accumulate: false); // dx = dy·W");
            for (int i = n - 1; i > below.Index; i--)
                w.Line($"{Kernels}Dropout.Backward(new {RoSpan}(_mask{layers[i].Index}, start * {layers[i].OutputLength}, rows * {layers[i].OutputLength}), dx, dx);");
            EmitActivationBackward(w, below, "start", "rows", "dx");
            w.Close();
            w.Line();
            dyBuffer = target;
            inA = !inA;
        }
    }

    // A layer's activation backward on samples [start, start + rows) of its kept output and pre-activation, in place on `dy`.
    private static void EmitActivationBackward(IndentedWriter w, ShapedLayer layer, string start, string rows, string dy)
    {
        int n = layer.Index, length = layer.OutputLength;
        string Slice(string field) => $"new {RoSpan}({field}, {start} * {length}, {rows} * {length})";
        LayerEmitter.EmitActivationBackward(w, layer, Slice($"_y{n}"), Slice($"_z{n}"), layer.Positions == 1 ? rows : $"{rows} * {layer.Positions}", dy);
    }
}
