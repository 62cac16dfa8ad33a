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

// Inference: Forward on one sample and on a batch, split into parts over threads and blocks of samples.
internal static partial class Emitter
{
    private static void EmitInference(IndentedWriter w, ShapedNetwork net, NetworkPlan plan)
    {
        string ClassName = net.Spec.ClassName;
        w.Line(plan.InferenceScratch <= StackScratchLimit && plan.DenseOnly
            ? "/// <summary>Inference on one sample. Thread-safe; allocates nothing (its scratch is on the stack).</summary>"
            : "/// <summary>Inference on one sample. Thread-safe; the first call on each thread allocates that thread's scratch (the network's and its kernels'), and later calls allocate nothing.</summary>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\"><paramref name=\"input\"/> or <paramref name=\"output\"/> is not one sample long.</exception>");
        w.Line(Generated);
        w.Open($"public void Forward({RoSpan} input, {Span} output)");
        w.Line($"{Kernels}Guard.Sample(input.Length, InputSize, output.Length, OutputSize);");
        w.Line("// Sweep the weights in the other direction than last time: what was read last is still in cache.");
        w.Line("bool reverse = (++_sweeps & 1) == 0;");
        string none = plan.Recurrent ? ", default" : ""; // a recurrent network's Infer and InferPart take lengths: none here
        if (plan.InferenceScratch == 0)
            w.Line($"Infer(input, output, default, 1, reverse{none});");
        else if (plan.InferenceScratch <= StackScratchLimit)
            w.Line($"Infer(input, output, stackalloc float[{plan.InferenceScratch}], 1, reverse{none});");
        else
            w.Line($"Infer(input, output, {Kernels}Scratch.Get(ref t_scratch, {plan.InferenceScratch}), 1, reverse{none});");
        w.Close();
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// Inference on <paramref name=\"batchSize\"/> samples stored one after another. Thread-safe. Each thread that computes a part");
        w.Line($"/// keeps a scratch buffer ({Bytes(4L * plan.BatchScratchPerSample)} a sample, for at most {InferenceBlockRows} samples), allocated on its first call and");
        w.Line("/// grown when a part has more samples than before; otherwise nothing is allocated.");
        w.Line("/// </summary>");
        w.Line("/// <exception cref=\"global::System.ArgumentOutOfRangeException\"><paramref name=\"batchSize\"/> is below 1.</exception>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\"><paramref name=\"inputs\"/> or <paramref name=\"outputs\"/> do not hold <paramref name=\"batchSize\"/> samples.</exception>");
        w.Line(Generated);
        w.Open($"public void Forward({RoSpan} inputs, {Span} outputs, int batchSize)");
        w.Line($"{Kernels}Guard.Batch(inputs.Length, InputSize, outputs.Length, OutputSize, batchSize);");
        w.Line("int parts = PartsFor(batchSize);");
        w.Line($"if (parts == 1) InferPart(0, 1, inputs, outputs{none});");
        w.Line($"else {Pool}WorkerPool.Run(parts, _threads, this, s_inferPart, inputs, outputs);");
        w.Close();
        w.Line();
        w.Line($"private static readonly {Pool}PartAction s_inferPart = static (network, part, parts, inputs, outputs) => (({ClassName})network).InferPart(part, parts, inputs, outputs{none});");
        w.Line();
        if (plan.Recurrent)
        {
            w.Line("/// <summary>");
            w.Line("/// Inference on <paramref name=\"batchSize\"/> sequences stored one after another, each padded to the declared steps:");
            w.Line("/// sequence s is <paramref name=\"lengths\"/>[s] steps long. Padding changes no state, and a sequence output is zero there.");
            w.Line("/// Thread-safe; allocates nothing after the first call on a thread.");
            w.Line("/// </summary>");
            w.Line("/// <exception cref=\"global::System.ArgumentOutOfRangeException\"><paramref name=\"batchSize\"/> is below 1, or a length is outside 0 to the declared steps.</exception>");
            w.Line("/// <exception cref=\"global::System.ArgumentException\">The spans do not hold <paramref name=\"batchSize\"/> samples, or there is not one length per sample.</exception>");
            w.Line(Generated);
            w.Open($"public void Forward({RoSpan} inputs, {Span} outputs, int batchSize, {ReadOnlyIntSpan} lengths)");
            w.Line($"{Kernels}Guard.Batch(inputs.Length, InputSize, outputs.Length, OutputSize, batchSize);");
            w.Line($"{Kernels}Guard.Lengths(lengths, batchSize, Steps);");
            w.Open("if (lengths.IsEmpty)");
            w.Line("Forward(inputs, outputs, batchSize);");
            w.Line("return;");
            w.Close();
            w.Line("int parts = PartsFor(batchSize);");
            w.Open("if (parts == 1)");
            w.Line("InferPart(0, 1, inputs, outputs, lengths);");
            w.Line("return;");
            w.Close();
            w.Line("// The parts run on other threads: the lengths go with them in this thread's job (spans cannot).");
            w.Line("var job = t_lengthsJob ??= new LengthsJob();");
            w.Line("if (job.Lengths.Length < batchSize) job.Lengths = new int[batchSize];");
            w.Line("lengths.CopyTo(job.Lengths);");
            w.Line("job.Network = this;");
            w.Line($"try {{ {Pool}WorkerPool.Run(parts, _threads, job, s_inferPartWithLengths, inputs, outputs); }}");
            w.Line("finally { job.Network = null; }");
            w.Close();
            w.Line();
            w.Line("private sealed class LengthsJob");
            w.Line("{");
            w.Line($"    public {ClassName}? Network;");
            w.Line("    public int[] Lengths = global::System.Array.Empty<int>();");
            w.Line("}");
            w.Line();
            w.Line("[global::System.ThreadStatic] private static LengthsJob? t_lengthsJob;");
            w.Line($"private static readonly {Pool}PartAction s_inferPartWithLengths = static (state, part, parts, inputs, outputs) =>");
            w.Line("    ((LengthsJob)state).Network!.InferPart(part, parts, inputs, outputs, ((LengthsJob)state).Lengths);");
            w.Line();
        }
        w.Line("// Part `part` of `parts` of a batch: a contiguous run of samples, fixed by the batch size and the part count, taken");
        w.Line($"// {InferenceBlockRows} samples at a time at most, so that the scratch stays bounded whatever the batch. The blocks are of");
        w.Line("// equal sizes, so that a part of many samples never leaves a short block to a kernel that rounds otherwise.");
        w.Line(Generated);
        w.Open(plan.Recurrent ? $"private void InferPart(int part, int parts, {RoSpan} inputs, {Span} outputs, {ReadOnlyIntSpan} lengths)" : $"private void InferPart(int part, int parts, {RoSpan} inputs, {Span} outputs)");
        w.Line("int batch = inputs.Length / InputSize;");
        w.Line($"int partStart = {Pool}WorkerPool.Start(batch, part, parts), partRows = {Pool}WorkerPool.Start(batch, part + 1, parts) - partStart;");
        w.Line($"int blocks = partRows / {InferenceBlockRows} + (partRows % {InferenceBlockRows} == 0 ? 0 : 1); // of as equal sizes as can be: none is left with a few samples");
        w.Open("for (int block = 0; block < blocks; block++)");
        w.Line($"int start = partStart + {Pool}WorkerPool.Start(partRows, block, blocks), rows = partStart + {Pool}WorkerPool.Start(partRows, block + 1, blocks) - start;");
        if (plan.StripFeatures > 0)
        {
            string stripRows = plan.StripPositions == 1 ? "rows" : $"rows * {plan.StripPositions}";
            w.Line($"if ({stripRows} >= {Kernels}Gemm.StripMinimumRows)");
            w.Line($"    InferStrips(inputs.Slice(start * InputSize, rows * InputSize), outputs.Slice(start * OutputSize, rows * OutputSize), {Kernels}Scratch.Get(ref t_scratch, 2 * {Kernels}Gemm.StripLength({stripRows}, {plan.StripFeatures})), rows);");
            w.Line("else");
            w.Line($"    Infer(inputs.Slice(start * InputSize, rows * InputSize), outputs.Slice(start * OutputSize, rows * OutputSize), {Kernels}Scratch.Get(ref t_scratch, rows * {plan.InferenceScratch}), rows, reverse: false);");
        }
        else if (plan.InferenceChunk > 0)
        {
            w.Line("// A few samples at a time, so that each layer's output is still in L2 when the next layer reads it.");
            w.Open($"for (int s = 0; s < rows; s += {plan.InferenceChunk})");
            w.Line($"int count = global::System.Math.Min({plan.InferenceChunk}, rows - s);");
            w.Line($"Infer(inputs.Slice((start + s) * InputSize, count * InputSize), outputs.Slice((start + s) * OutputSize, count * OutputSize), {Kernels}Scratch.Get(ref t_scratch, count * {plan.InferenceScratch}), count, reverse: false" +
                (plan.Recurrent ? ", lengths.IsEmpty ? default : lengths.Slice(start + s, count));" : ");"));
            w.Close();
        }
        else
            w.Line($"Infer(inputs.Slice(start * InputSize, rows * InputSize), outputs.Slice(start * OutputSize, rows * OutputSize), {Kernels}Scratch.Get(ref t_scratch, rows * {plan.InferenceScratch}), rows, reverse: false);");
        w.Close();
        w.Close();
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// Threads a batch is split over (1: no threading), at least 1. A batch is cut into chunks by its size alone and threads take");
        w.Line("/// whole chunks, so results are the same bits at any value, on any machine.");
        w.Line("/// </summary>");
        w.Line("/// <exception cref=\"global::System.ArgumentOutOfRangeException\">The value is below 1.</exception>");
        w.Open("public int Threads");
        w.Line("get => _threads;");
        w.Line("set => _threads = value >= 1 ? value : throw new global::System.ArgumentOutOfRangeException(nameof(value), value, \"Threads must be at least 1.\");");
        w.Close();
        w.Line();
        if (plan.DenseOnly)
        {
            // A dense network's sums over the batch never cross a chunk: backward splits the outputs, not the samples, and a
            // sample's forward is the same bits in any chunk of 16 or more samples (the strip kernel's lanes are independent).
            w.Line("// The parts a batch is split into: its chunks (by its size and the network's work per sample), merged down to the");
            w.Line("// threads. Merging changes no result here: backward splits the layers' outputs, not the samples, and a sample's");
            w.Line("// forward is the same bits in any part of 16 or more samples.");
            w.Line($"private int PartsFor(int batch) => global::System.Math.Min({Pool}WorkerPool.ChunksFor(batch, ForwardFlopsPerSample), _threads);");
        }
        else
        {
            w.Line("// The chunks a batch is cut into, 32 samples at least: by its size and the network's work per sample, never by the");
            w.Line("// number of threads, since the chunks' gradients are summed in chunk order.");
            w.Line($"private static int PartsFor(int batch) => {Pool}WorkerPool.ChunksFor(batch, ForwardFlopsPerSample, minSamples: {ChunkSamples});");
        }
        w.Line();

        // Hidden values take slots of the scratch as the plan assigned them: along a chain of layers they alternate between
        // "ping" and "pong"; a residual block's input keeps a slot of its own until the sum reads it.
        w.Line(Generated);
        w.Open(plan.Recurrent
            ? $"private void Infer({RoSpan} input, {Span} output, {Span} scratch, int batch, bool reverse, {ReadOnlyIntSpan} lengths)"
            : $"private void Infer({RoSpan} input, {Span} output, {Span} scratch, int batch, bool reverse)");
        w.Line($"{RoSpan} p = _parameters;");
        if (plan.InferenceScratch > 0)
            for (int slot = 0; slot < plan.InferenceScratch / plan.MaxHidden; slot++)
            {
                string start = slot switch { 0 => "0", 1 => $"batch * {plan.MaxHidden}", _ => $"{slot} * batch * {plan.MaxHidden}" };
                w.Line($"{Span} {NetworkPlan.SlotName(slot)} = scratch.Slice({start}, batch * {plan.MaxHidden});");
            }
        if (plan.FoldedLength > 0)
        {
            w.Line("// Batch normalisations folded into the layers before them: their weights scaled by the running statistics, per call,");
            w.Line("// since the parameters may have changed since the last.");
            w.Line($"{Span} folded = {Kernels}Scratch.Get(ref t_folded, {plan.FoldedLength});");
        }
        int foldedAt = 0;
        var names = new Dictionary<int, string> { [-1] = "input" }; // the span each layer's output is in
        var summed = new HashSet<int>(); // residual sums written by the convolution below them
        var layers = net.Layers;
        foreach (var step in plan.Steps)
        {
            var layer = step.Layer;
            bool last = step.Last.Index == layers.Length - 1;
            w.Line($"// Layer {layer.Index}: {step.Emitter.Description}    (batch, {Join(layer.InputShape)}) -> (batch, {Join(layer.OutputShape)})");
            var site = new InferenceSite(layer.Sources.Select(v => names[v]).ToList(), last, output =>
            {
                if (last) return "output";
                if (plan.InferenceSlots[output.Index] == plan.SlotOfValue(layer.Sources[0])) return names[layer.Sources[0]]; // in place
                w.Line($"{Span} h{output.Index} = {NetworkPlan.SlotName(plan.InferenceSlots[output.Index])}.Slice(0, batch * {output.OutputLength});");
                return $"h{output.Index}";
            });
            if (step.FoldedNorm is { } norm && step.Emitter.FoldableTensors is { } tensors)
            {
                var (weight, bias) = norm.EmitFold(w, tensors.Weight, tensors.Bias, tensors.PerChannel, foldedAt);
                foldedAt += norm.FoldedLength(tensors.PerChannel);
                step.Emitter.Folded = (weight, bias, norm.Layer.Activation);
            }
            if (summed.Contains(layer.Index))
            {
                w.Line($"// Written by layer {layer.Sources[0]} as it stored its output, in place.");
                names[layer.Index] = names[layer.Sources[0]];
                continue;
            }
            // A convolution ending a residual block writes the sum above it when the sum would be written in place over its output.
            bool takesSum = step.SumTaken is { } sum && step.FoldedNorm is null && sum.Layer.Index != layers.Length - 1
                && plan.InferenceSlots[sum.Layer.Index] == plan.SlotOfValue(layer.Index);
            if (takesSum) summed.Add(step.SumTaken!.Layer.Index);
            names[step.Last.Index] = step.Pooled is { } pool
                ? ((ConvolutionEmitter)step.Emitter).EmitPooledInference(w, site, pool)
                : takesSum
                    ? ((ConvolutionEmitter)step.Emitter).EmitInferenceWithSum(w, site, step.SumTaken!.Layer, names[step.SumTaken.Layer.Sources[1]])
                    : step.Emitter.EmitInference(w, site);
            step.Emitter.Folded = null;
        }
        if (plan.SequenceOutput)
            w.Line($"{Kernels}Recurrent.ClearPadding(output, lengths, batch, Steps, {layers[layers.Length - 1].OutFeatures}); // a sequence output is zero on padding");
        w.Close();
        w.Line();
        if (plan.StripFeatures > 0)
            EmitInferStrips(w, net, plan);
    }
}
