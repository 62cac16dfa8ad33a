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

// Training: the public calls, splitting a batch over threads, and the forward and backward passes of a part.
internal static partial class Emitter
{
    private static void EmitTraining(IndentedWriter w, ShapedNetwork net, NetworkPlan plan)
    {
        var layers = net.Layers;
        var last = layers[layers.Length - 1];
        string cls = net.Spec.ClassName;

        string lengthsArg = plan.Recurrent ? ", lengths" : "";
        w.Line("/// <summary>");
        w.Line("/// Forward in training mode (dropout on), the loss, and backward through every layer in reverse:");
        w.Line("/// overwrites <see cref=\"Gradients\"/> with the gradient of the mean loss over the batch and returns that loss (NaN or");
        w.Line("/// infinite values are returned as they are). Every argument is checked first: a rejected call changes nothing.");
        w.Line("/// Allocates nothing once a batch of this size has been seen. Not thread-safe.");
        w.Line("/// </summary>");
        EmitTrainingExceptions(w, plan, step: false);
        w.Line(Generated);
        if (plan.Recurrent)
        {
            w.Line($"public float ComputeGradients({RoSpan} inputs, global::GenNets.Targets targets, int batchSize) => ComputeGradients(inputs, targets, batchSize, default);");
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// <see cref=\"ComputeGradients(global::System.ReadOnlySpan{float}, global::GenNets.Targets, int)\"/> for sequences of different lengths,");
            w.Line("/// each padded to the declared steps: padding changes no state and gets no gradient, and a sequence output's loss is the");
            w.Line("/// mean over the true steps (the targets of padding steps are never read). Empty lengths: every sequence is full.");
            w.Line("/// The padding's values never reach a recurrent layer; a per-step layer before the first recurrent layer does");
            w.Line("/// multiply them (by a zero gradient), so there they must be finite.");
            w.Line("/// </summary>");
            EmitTrainingExceptions(w, plan, step: false);
            w.Line(Generated);
            w.Open($"public float ComputeGradients({RoSpan} inputs, global::GenNets.Targets targets, int batchSize, {ReadOnlyIntSpan} lengths)");
        }
        else
            w.Open($"public float ComputeGradients({RoSpan} inputs, global::GenNets.Targets targets, int batchSize)");
        w.Line($"CheckBatch(inputs, targets, batchSize{lengthsArg});");
        w.Line($"RunForward(inputs, batchSize{lengthsArg});");
        w.Line("float loss = OutputLoss(targets, batchSize);");
        w.Line("RunBackward(inputs);");
        w.Line("return loss;");
        w.Close();
        w.Line();

        w.Line("/// <summary>");
        w.Line("/// One training step: forward, loss, backward, then <paramref name=\"optimizer\"/>'s update of all parameters. The step applies");
        w.Line("/// whole or not at all: when the loss or any gradient is NaN or infinite, it throws with the parameters, the optimizer's");
        w.Line("/// state and step count and <see cref=\"TrainingSteps\"/> as they were (<see cref=\"Gradients\"/> holds what was computed).");
        w.Line("/// Returns the mean loss. Not thread-safe.");
        w.Line("/// </summary>");
        EmitTrainingExceptions(w, plan, step: true);
        w.Line(Generated);
        if (plan.Recurrent)
        {
            w.Line($"public float TrainStep({RoSpan} inputs, global::GenNets.Targets targets, int batchSize, global::GenNets.Training.Optimizer optimizer) => TrainStep(inputs, targets, batchSize, default, optimizer);");
            w.Line();
            w.Line("/// <summary>A training step on sequences of different lengths (see <see cref=\"ComputeGradients(global::System.ReadOnlySpan{float}, global::GenNets.Targets, int, global::System.ReadOnlySpan{int})\"/>).</summary>");
            EmitTrainingExceptions(w, plan, step: true);
            w.Line(Generated);
            w.Open($"public float TrainStep({RoSpan} inputs, global::GenNets.Targets targets, int batchSize, {ReadOnlyIntSpan} lengths, global::GenNets.Training.Optimizer optimizer)");
        }
        else
            w.Open($"public float TrainStep({RoSpan} inputs, global::GenNets.Targets targets, int batchSize, global::GenNets.Training.Optimizer optimizer)");
        w.Line("global::System.ArgumentNullException.ThrowIfNull(optimizer);");
        w.Line($"CheckBatch(inputs, targets, batchSize{lengthsArg});");
        w.Line("long stepsBefore = _trainingSteps;");
        w.Open("try");
        w.Line($"RunForward(inputs, batchSize{lengthsArg});");
        w.Line("float loss = OutputLoss(targets, batchSize);");
        w.Line("RunBackward(inputs);");
        w.Line("if (!float.IsFinite(loss)) throw global::GenNets.Training.TrainingDivergedException.ForLoss(loss);");
        w.Line("optimizer.Step(this); // all of the update, or none of it when a gradient is not finite");
        w.Line("return loss;");
        w.Close();
        w.Open("catch");
        w.Line("_trainingSteps = stepsBefore; // a step that was not applied does not count, so later dropout masks are those of a run without it");
        w.Line("throw;");
        w.Close();
        w.Close();
        w.Line();

        // The loss sees the outputs as rows of the last axis (one row per sample, or per position of a sequence).
        int lossRows = net.OutputLength / last.OutFeatures;
        w.Line("// The mean loss of the training outputs against the targets; its gradient goes to _outputGradient.");
        w.Line(Generated);
        w.Open("private float OutputLoss(global::GenNets.Targets targets, int batch)");
        if (plan.SequenceOutput)
        {
            w.Line("if (_withLengths)");
            w.Line($"    return {Kernels}Losses.ComputeSequences(TrainingLoss, TrainingOutputs, targets, new {Span}(_outputGradient, 0, batch * OutputSize), batch, Steps, {last.OutFeatures}, new {ReadOnlyIntSpan}(_lengths, 0, batch));");
        }
        w.Line($"return {Kernels}Losses.Compute(TrainingLoss, TrainingOutputs, targets, new {Span}(_outputGradient, 0, batch * OutputSize), {(lossRows == 1 ? "batch" : $"batch * {lossRows}")}, {last.OutFeatures});");
        w.Close();
        w.Line();

        w.Line("// Checks a training call's arguments before anything changes, so that a rejected call leaves the network as it was.");
        w.Line(Generated);
        w.Open(plan.Recurrent
            ? $"private static void CheckBatch({RoSpan} inputs, global::GenNets.Targets targets, int batchSize, {ReadOnlyIntSpan} lengths)"
            : $"private static void CheckBatch({RoSpan} inputs, global::GenNets.Targets targets, int batchSize)");
        w.Line($"{Kernels}Guard.Inputs(inputs.Length, InputSize, batchSize);");
        w.Line($"{Kernels}Guard.Capacity(batchSize, {plan.MaxTrainingFloatsPerSample});");
        if (plan.Recurrent)
            w.Line($"{Kernels}Guard.Lengths(lengths, batchSize, Steps);");
        if (plan.SequenceOutput)
        {
            w.Line("if (!lengths.IsEmpty)");
            w.Line($"    {Kernels}Losses.CheckSequenceTargets(TrainingLoss, targets, batchSize, Steps, {last.OutFeatures}, lengths);");
            w.Line("else");
            w.Line($"    {Kernels}Losses.CheckTargets(TrainingLoss, targets, {(lossRows == 1 ? "batchSize" : $"batchSize * {lossRows}")}, {last.OutFeatures});");
        }
        else
            w.Line($"{Kernels}Losses.CheckTargets(TrainingLoss, targets, {(lossRows == 1 ? "batchSize" : $"batchSize * {lossRows}")}, {last.OutFeatures});");
        w.Close();
        w.Line();

        w.Line("/// <summary>");
        w.Line("/// Forward in training mode (dropout on), keeping what <see cref=\"Backward\"/> needs. Returns the outputs,");
        w.Line("/// batch × <see cref=\"OutputSize\"/>, valid until the next training call. For a loss of your own: call this,");
        w.Line("/// compute the gradient of your loss with respect to the outputs, and pass it to <see cref=\"Backward\"/>.");
        w.Line("/// </summary>");
        EmitForwardTrainingExceptions(w, plan);
        w.Line(Generated);
        w.Open($"public {RoSpan} ForwardTraining({RoSpan} inputs, int batchSize)");
        w.Line(plan.Recurrent ? "RunForward(inputs, batchSize, default);" : "RunForward(inputs, batchSize);");
        w.Line("return TrainingOutputs;");
        w.Close();
        w.Line();
        if (plan.Recurrent)
        {
            w.Line("/// <summary>");
            w.Line("/// <see cref=\"ForwardTraining(global::System.ReadOnlySpan{float}, int)\"/> for sequences of the given lengths; the following");
            w.Line("/// <see cref=\"Backward\"/> uses them too (a sequence output's gradient on padding steps is ignored).");
            w.Line("/// </summary>");
            EmitForwardTrainingExceptions(w, plan);
            w.Line(Generated);
            w.Open($"public {RoSpan} ForwardTraining({RoSpan} inputs, int batchSize, {ReadOnlyIntSpan} lengths)");
            w.Line("RunForward(inputs, batchSize, lengths);");
            w.Line("return TrainingOutputs;");
            w.Close();
            w.Line();
        }

        w.Line("/// <summary>");
        w.Line("/// Backward through every layer for the batch of the last <see cref=\"ForwardTraining\"/>, given the same");
        w.Line("/// <paramref name=\"inputs\"/> and the gradient of the loss with respect to the outputs: overwrites <see cref=\"Gradients\"/>.");
        w.Line("/// </summary>");
        w.Line("/// <exception cref=\"global::System.InvalidOperationException\">No <see cref=\"ForwardTraining\"/> call came first.</exception>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\"><paramref name=\"inputs\"/> or <paramref name=\"outputGradient\"/> do not hold that call's batch.</exception>");
        w.Line(Generated);
        w.Open($"public void Backward({RoSpan} inputs, {RoSpan} outputGradient)");
        w.Line("int batch = _trainingBatch;");
        w.Line("if (batch == 0) throw new global::System.InvalidOperationException(\"Backward needs a ForwardTraining call first.\");");
        w.Line($"{Kernels}Guard.Batch(inputs.Length, InputSize, outputGradient.Length, OutputSize, batch);");
        w.Line($"outputGradient.CopyTo(new {Span}(_outputGradient, 0, batch * OutputSize));");
        if (plan.SequenceOutput)
            w.Line($"{Kernels}Recurrent.ClearPadding(new {Span}(_outputGradient, 0, batch * OutputSize), Lengths(0, batch), batch, Steps, {last.OutFeatures}); // padding steps get no gradient");
        w.Line("RunBackward(inputs);");
        w.Close();
        w.Line();

        // ---- Splitting a batch over threads ----
        if (plan.DenseOnly)
        {
            w.Line("// A batch is split into parts of contiguous samples for the forward pass. Backward goes one layer at a time:");
            w.Line("// each part computes the input gradient of its own samples and the weight and bias gradients of its share of");
            w.Line("// the layer's outputs, summed over the whole batch. No part keeps gradients of its own and nothing is summed");
            w.Line("// afterwards, and every gradient is the same sum in the same order whatever the number of parts.");
        }
        else
        {
            w.Line("// A batch is split into parts of contiguous samples. Each part runs forward and backward on its own rows and");
            w.Line("// writes its own gradients (part 0 into _gradients); the parts' gradients are then summed in part order, so");
            w.Line("// the result depends on the number of parts, never on which thread ran which part.");
        }
        w.Line(Generated);
        w.Open(plan.Recurrent ? $"private void RunForward({RoSpan} inputs, int batchSize, {ReadOnlyIntSpan} lengths)" : $"private void RunForward({RoSpan} inputs, int batchSize)");
        w.Line($"{Kernels}Guard.Inputs(inputs.Length, InputSize, batchSize);");
        if (plan.Recurrent)
            w.Line($"{Kernels}Guard.Lengths(lengths, batchSize, Steps);");
        if (plan.BatchNorms.FirstOrDefault(n => n.Spatial == 1) is { } vector)
            w.Line($"if (batchSize < 2) throw new global::System.ArgumentOutOfRangeException(nameof(batchSize), batchSize, \"Layer {vector.Layer.Index} ({vector.Description}) normalises a vector by the batch's statistics in training, which needs at least 2 samples.\");");
        w.Line("if (batchSize > _capacity) Reserve(batchSize);");
        if (plan.Recurrent)
        {
            w.Line("if (_lengths.Length < _capacity) _lengths = new int[_capacity];");
            w.Line("_withLengths = !lengths.IsEmpty;");
            w.Line("lengths.CopyTo(_lengths);");
        }
        w.Line("_trainingBatch = batchSize;");
        w.Line("_step = ++_trainingSteps;");
        w.Line("int parts = _trainingParts = PartsFor(batchSize);");
        if (plan.Segments == 1)
        {
            w.Line("if (parts == 1) TrainForward(inputs, 0, batchSize);");
            w.Line($"else {Pool}WorkerPool.Run(parts, _threads, this, s_forwardPart, inputs, default);");
        }
        else
        {
            foreach (var norm in plan.BatchNorms) norm.EmitReservePartials(w);
            w.Line("// Batch normalisation needs the whole batch's statistics: the pass runs in segments, and between two the parts'");
            w.Line("// sums are combined in part order, so that any split of the batch normalises by the same statistics.");
            for (int segment = 0; segment < plan.Segments; segment++)
            {
                w.Line($"if (parts == 1) TrainForward{segment}(inputs, 0, batchSize, 0);");
                w.Line($"else {Pool}WorkerPool.Run(parts, _threads, this, s_forwardPart{segment}, inputs, default);");
                if (segment < plan.Segments - 1) w.Line($"Normalize{plan.BatchNorms[segment].Layer.Index}Statistics(parts);");
            }
        }
        w.Close();
        w.Line();
        w.Line(Generated);
        w.Open($"private void RunBackward({RoSpan} inputs)");
        w.Line("int parts = _trainingParts;");
        if (plan.DenseOnly)
        {
            EmitLayerwiseBackward(w, net, plan);
            EmitTrainingPasses(w, net, plan, backward: false);
            return;
        }
        w.Open("if (parts == 1)");
        if (plan.Segments == 1)
            w.Line("TrainBackward(inputs, 0, _trainingBatch, _gradients);");
        else
            for (int segment = plan.Segments - 1; segment >= 0; segment--)
            {
                w.Line($"TrainBackward{segment}(inputs, 0, _trainingBatch, _gradients, 0);");
                if (segment > 0) w.Line($"Normalize{plan.BatchNorms[segment - 1].Layer.Index}Gradients(1);");
            }
        w.Line("return;");
        w.Close();
        w.Line("// The chunks go backward a group at a time, as many as there are threads, chunk 0 into _gradients and the others");
        w.Line("// each into a buffer of its own, added to _gradients in chunk order: the threads change the speed, never the result.");
        if (plan.Segments == 1)
            w.Line("_chunkGradients.Run(parts, _threads, this, s_backwardChunk, inputs, _gradients, 0, ParameterCount);");
        else
        {
            w.Line("// Segment by segment, last first: between two, a batch normalisation combines the parts' sums of its gradients.");
            w.Open($"for (_segment = {plan.Segments - 1}; _segment >= 0; _segment--)");
            w.Line("var (from, to) = s_segmentParameters[_segment]; // the segment's layers' parameters");
            w.Line("_chunkGradients.Run(parts, _threads, this, s_backwardChunk, inputs, _gradients, from, to);");
            w.Open("switch (_segment)");
            for (int segment = 1; segment < plan.Segments; segment++)
                w.Line($"case {segment}: Normalize{plan.BatchNorms[segment - 1].Layer.Index}Gradients(parts); break;");
            w.Close();
            w.Close();
        }
        w.Close();
        w.Line();
        if (plan.Segments == 1)
            EmitForwardPart(w, cls);
        else
        {
            for (int segment = 0; segment < plan.Segments; segment++)
                EmitForwardPart(w, cls, segment);
            foreach (var norm in plan.BatchNorms) norm.EmitCombine(w);
            w.Line("// The parameters each segment's layers hold (batch normalisations excluded: their gradients are the whole batch's, combined).");
            w.Line($"private static readonly (int From, int To)[] s_segmentParameters = [{string.Join(", ", plan.SegmentParameters.Select(r => $"({r.From}, {r.To})"))}];");
            w.Line();
        }
        w.Line($"private static readonly {Pool}ChunkAction s_backwardChunk = static (network, chunk, chunks, g, inputs) => (({cls})network).BackwardChunk(chunk, chunks, g, inputs);");
        w.Line();
        w.Line("// Chunk `chunk` of the batch going backward, its parameter gradients into g.");
        w.Line(Generated);
        w.Open($"private void BackwardChunk(int chunk, int chunks, {Span} g, {RoSpan} inputs)");
        w.Line($"int batch = _trainingBatch, start = {Pool}WorkerPool.Start(batch, chunk, chunks), rows = {Pool}WorkerPool.Start(batch, chunk + 1, chunks) - start;");
        if (plan.Segments == 1)
            w.Line("TrainBackward(inputs, start, rows, g);");
        else
        {
            w.Open("switch (_segment)");
            for (int segment = 0; segment < plan.Segments; segment++)
                w.Line($"case {segment}: TrainBackward{segment}(inputs, start, rows, g, chunk); break;");
            w.Close();
        }
        w.Close();
        w.Line();
        EmitTrainingPasses(w, net, plan, backward: true);
    }

    private static void EmitForwardPart(IndentedWriter w, string cls, int? segment = null)
    {
        string n = segment?.ToString(CultureInfo.InvariantCulture) ?? "";
        w.Line($"private static readonly {Pool}PartAction s_forwardPart{n} = static (network, part, parts, inputs, _) => (({cls})network).ForwardPart{n}(part, parts, inputs);");
        w.Line();
        w.Line(Generated);
        w.Open($"private void ForwardPart{n}(int part, int parts, {RoSpan} inputs)");
        w.Line($"int batch = _trainingBatch, start = {Pool}WorkerPool.Start(batch, part, parts);");
        w.Line($"TrainForward{n}(inputs, start, {Pool}WorkerPool.Start(batch, part + 1, parts) - start{(segment is null ? "" : ", part")});");
        w.Close();
        w.Line();
    }

    // TrainForward, and TrainBackward unless the network's backward goes layer by layer (EmitLayerwiseBackward).
    private static void EmitTrainingPasses(IndentedWriter w, ShapedNetwork net, NetworkPlan plan, bool backward)
    {
        var layers = net.Layers;

        // ---- The forward pass in training mode, over rows [start, start + rows) of the batch (in segments with batch normalisation) ----
        void OpenForward(int segment, int firstStep)
        {
            w.Line(Generated);
            w.Open(plan.Segments == 1 ? $"private void TrainForward({RoSpan} inputs, int start, int rows)" : $"private void TrainForward{segment}({RoSpan} inputs, int start, int rows, int part)");
            w.Line($"{RoSpan} p = _parameters;");
            w.Line("long step = _step;");
            w.Line("int batch = rows; // the kernels below see only this part's samples");
            w.Line($"{RoSpan} x = inputs.Slice(start * InputSize, rows * InputSize);");
            if (firstStep == 0) return;
            w.Line("// What the segments before this one kept.");
            EmitKeptViews(w, plan, layers, plan.Steps.Take(firstStep));
        }
        string current = "x";
        int forwardSegment = 0;
        OpenForward(0, 0);
        for (int s = 0; s < plan.Steps.Count; s++)
        {
            var step = plan.Steps[s];
            var layer = step.Layer;
            w.Line($"// Layer {layer.Index}: {step.Emitter.Description}    (batch, {Join(layer.InputShape)}) -> (batch, {Join(layer.OutputShape)})");
            var site = new TrainingSite(layer.Sources.Select(KeptName).ToList());
            if (step.Emitter is BatchNormEmitter norm)
            {
                norm.EmitPartials(w, site.Input);
                w.Close();
                w.Line();
                OpenForward(++forwardSegment, s);
                w.Line($"// Layer {layer.Index}: {norm.Description}, by the batch's statistics");
            }
            if (step.SumTakenBelow)
            {
                w.Line($"// Written by layer {layer.Sources[0]} as it stored its output.");
                current = $"y{layer.Index}";
                continue;
            }
            current = step.Pooled is { } pool
                ? ((ConvolutionEmitter)step.Emitter).EmitPooledTrainingForward(w, site, pool)
                : step.SumTaken is { } sum
                    ? ((ConvolutionEmitter)step.Emitter).EmitTrainingForwardWithSum(w, site, sum.Layer, KeptName(sum.Layer.Sources[1]))
                    : step.Emitter.EmitTrainingForward(w, site);
        }
        if (plan.SequenceOutput)
            w.Line($"{Kernels}Recurrent.ClearPadding({current}, Lengths(start, rows), batch, Steps, {layers[layers.Length - 1].OutFeatures}); // a sequence output is zero on padding");
        w.Close();
        w.Line();
        if (plan.Recurrent)
        {
            w.Line("// The lengths of the training samples [start, start + rows), or none (every sequence full).");
            w.Line($"private {ReadOnlyIntSpan} Lengths(int start, int rows) => _withLengths ? new {ReadOnlyIntSpan}(_lengths, start, rows) : default;");
            w.Line();
        }
        if (!backward)
        {
            EmitReserve(w, net, plan);
            return;
        }

        // ---- The backward pass over rows [start, start + rows), gradients into g (in segments with batch normalisation) ----
        void OpenBackward(int segment)
        {
            w.Line(Generated);
            w.Open(plan.Segments == 1 ? $"private void TrainBackward({RoSpan} inputs, int start, int rows, {Span} g)" : $"private void TrainBackward{segment}({RoSpan} inputs, int start, int rows, {Span} g, int part)");
            w.Line($"{RoSpan} p = _parameters;");
            w.Line("int batch = rows; // the kernels below see only this part's samples");
            w.Line($"{RoSpan} x = inputs.Slice(start * InputSize, rows * InputSize);");
            w.Line("// What the forward pass kept: each layer's output (and pre-activation or mask where backward needs it).");
            EmitKeptViews(w, plan, layers, plan.Steps);
            w.Line("// Layers in reverse; dy is the gradient of the loss with respect to the layer's output. This part's");
            w.Line(plan.GradientBuffers == 2
                ? $"// gradients flow through its own stretch of _gradientA and _gradientB: rows [start, start + rows) of width {plan.GradientWidth}."
                : $"// gradients flow through its own stretch of _gradientA to {NetworkPlan.GradientField(plan.GradientBuffers - 1)}: rows [start, start + rows) of width {plan.GradientWidth}.");
            w.Line($"int stretch = start * {plan.GradientWidth};");
        }
        OpenBackward(plan.Segments - 1);
        w.Line($"{Span} dy = new {Span}(_outputGradient, start * OutputSize, batch * OutputSize);");
        EmitBackwardSteps(w, net, plan, (segment, held) =>
        {
            OpenBackward(segment);
            foreach (string line in held) w.Line(line);
        });
        w.Close();
        w.Line();
        EmitReserve(w, net, plan);
    }

    // Read-only views of what the steps' training forward kept.
    private static void EmitKeptViews(IndentedWriter w, NetworkPlan plan, EquatableArray<ShapedLayer> layers, IEnumerable<Step> steps)
    {
        foreach (var step in steps)
            if (step.Pooled is { } pool)
                ConvolutionEmitter.EmitPooledKeptViews(w, pool.Layer);
            else if (step.SumTaken is null) // a convolution that wrote the sum above it kept no output of its own
                step.Emitter.EmitKeptViews(w, layers.AsImmutableArray());
    }

    // What a step's training forward reads: the network's inputs, or the view of a kept output.
    private static string KeptName(int value) => value < 0 ? "x" : $"y{value}";

    /// <summary>The number of gradient buffers the backward pass of <paramref name="net"/> uses (it is written, and not kept).</summary>
    public static int CountGradientBuffers(ShapedNetwork net, NetworkPlan plan) => EmitBackwardSteps(new IndentedWriter(), net, plan, null);

    // The steps' backward passes in reverse, with dy the gradient of the step's output. Along a chain, each step writes its
    // input's gradient into a free buffer and dy moves there. Where a residual block began, two paths meet: the gradient the
    // skip carried back is kept in a buffer of its own until the block's first layer has written its share, then added.
    // Returns how many buffers were used.
    // A batch normalisation ends one segment and begins the next (its gradients need the whole batch's sums): the method
    // of a segment is closed there and `segment` opens the next one's, given what it must declare again (dy, the skips
    // kept); null when the pass is written only to be counted.
    private static int EmitBackwardSteps(IndentedWriter w, ShapedNetwork net, NetworkPlan plan, System.Action<int, List<string>>? segment)
    {
        var layers = net.Layers;
        var pinned = new HashSet<int>(); // buffers holding a skip's gradient until the paths meet
        var skipGradients = new Dictionary<int, List<(string Name, int Buffer)>>(); // per block input: its skips' shares of its gradient
        int currentSegment = plan.Segments - 1;
        var handed = new List<int>(); // buffers handed to the step being written
        int dyBuffer = -1, used = 0; // −1: _outputGradient
        int Free(bool overDy)
        {
            int b = 0;
            while (pinned.Contains(b) || handed.Contains(b) || (b == dyBuffer && !overDy)) b++;
            used = System.Math.Max(used, b + 1);
            return b;
        }
        void Keep(int value, string name, int buffer)
        {
            if (!skipGradients.TryGetValue(value, out var list)) skipGradients[value] = list = new List<(string, int)>();
            list.Add((name, buffer));
        }
        for (int s = plan.Steps.Count - 1; s >= 0; s--)
        {
            var step = plan.Steps[s];
            var top = step.Last;
            int input = step.Layer.Sources[0];
            if (step.ReluTakenByInputGradientOf is null && skipGradients.TryGetValue(top.Index, out var skips))
            {
                w.Line($"// Layer {top.Index}'s output began a residual block: the gradient its skip carried back joins the block's.");
                step.ReluTakenAtJoin = step.ReluMayBeTaken;
                for (int k = 0; k < skips.Count; k++)
                {
                    var skip = skips[k];
                    w.Line(step.ReluTakenAtJoin && k == skips.Count - 1
                        ? $"{Kernels}Elementwise.AddThroughReLU({skip.Name}, y{top.Index}, dy); // and layer {top.Index}'s ReLU gradient, in the same pass"
                        : $"{Kernels}Elementwise.Add({skip.Name}, dy);");
                    pinned.Remove(skip.Buffer);
                }
                skipGradients.Remove(top.Index);
            }
            w.Line($"// Layer {top.Index}: {(step.Pooled ?? step.Emitter).Description}    (batch, {Join(top.OutputShape)}) -> (batch, {Join(top.InputShape)})");
            if (step.Emitter is BatchNormEmitter norm)
            {
                // This part's sums end the segment; the next begins with the input's gradient from the batch's.
                norm.EmitBackwardPartials(w, KeptName(input));
                var held = new List<string>
                {
                    dyBuffer < 0
                        ? $"{Span} dy = new {Span}(_outputGradient, start * OutputSize, batch * OutputSize);"
                        : $"{Span} dy = new {Span}({NetworkPlan.GradientField(dyBuffer)}, stretch, batch * {top.OutputLength});",
                };
                foreach (var pair in skipGradients)
                    foreach (var skip in pair.Value)
                        held.Add($"{Span} {skip.Name} = new {Span}({NetworkPlan.GradientField(skip.Buffer)}, stretch, batch * {layers[pair.Key].OutputLength}); // kept from the segment after this one");
                if (segment is not null)
                {
                    w.Close();
                    w.Line();
                    segment(--currentSegment, held);
                }
                w.Line($"// Layer {top.Index}: {norm.Description}, continued: the input's gradient from the batch's sums");
                norm.EmitBackwardData(w, new BackwardSite(KeptName(input), First: input < 0, _ => ""));
                continue;
            }
            // A projection on a skip reads the sum's gradient, which the block's layers read after it: dy is kept aside.
            var readers = plan.Consumers[top.Index + 1];
            int? sum = readers.Count == 1 && layers[readers[0]].Spec is AddSpec && layers[readers[0]].Sources[1] == top.Index ? readers[0] : null;
            if (sum is int a && input >= 0)
                w.Line($"{Span} dsum{a} = dy; // the sum's gradient, which the block's own layers take after the projection");
            int sumBuffer = dyBuffer;
            handed.Clear();
            var site = new BackwardSite(KeptName(input), First: input < 0, overDy =>
            {
                int b = Free(overDy);
                handed.Add(b);
                return NetworkPlan.GradientField(b);
            });
            // A convolution whose input came out of a ReLU the layer below lets another pass take (and that the pooling
            // above it has not): its input gradient takes that ReLU's gradient as it is written, and the join of the one
            // skip that carried a gradient back to that input, instead of passes of their own over dX.
            var below = s > 0 ? plan.Steps[s - 1] : null;
            List<(string Name, int Buffer)>? joined = null;
            skipGradients.TryGetValue(input, out var waiting);
            if (step.Pooled is null && step.Emitter is ConvolutionEmitter && input >= 0 && below is { ReluMayBeTaken: true, ReluTakenAbove: false }
                && below.Last.Index == input && sum is null && (waiting is null || waiting.Count == 1))
            {
                step.InputGradientThroughReLU = true;
                below.ReluTakenByInputGradientOf = step.Layer.Index;
                if (waiting is not null)
                {
                    joined = waiting;
                    step.InputSkipGradient = joined[0].Name;
                    below.ReluTakenAtJoin = true;
                }
            }
            if (step.Pooled is { } pool)
                ((ConvolutionEmitter)step.Emitter).EmitPooledBackward(w, site, pool.Layer);
            else
                step.Emitter.EmitBackward(w, site, step);
            if (joined is not null)
            {
                pinned.Remove(joined[0].Buffer);
                skipGradients.Remove(input);
            }
            if (input >= 0 && handed.Count > 0) dyBuffer = handed[handed.Count - 1]; // the step's dx, which dy now is
            if (sum is int added && input >= 0)
            {
                w.Line($"{Span} dskip{added} = dy; // the skip's share of layer {input}'s gradient");
                w.Line($"dy = dsum{added};");
                Keep(input, $"dskip{added}", dyBuffer);
                pinned.Add(dyBuffer);
                dyBuffer = sumBuffer;
            }
            // An identity skip: the block's input is read by the block's first layer too (a projection is read by the sum alone).
            if (step.Layer.Spec is AddSpec && step.Layer.Sources[1] is int identity && identity >= 0 && plan.Consumers[identity + 1].Count > 1)
            {
                // The skip carries the sum's gradient back unchanged. When the block's last layer (the step taken next) only
                // reads dy, dy's buffer is kept for the skip as it is; else a copy, since that layer changes dy in place.
                if (dyBuffer >= 0 && below is { Pooled: null } && below.Layer.Index == step.Layer.Sources[0] && below.Emitter.ReadsOutputGradientOnly)
                {
                    w.Line($"{Span} dskip{step.Layer.Index} = dy; // the skip's share of layer {identity}'s gradient: layer {below.Layer.Index} only reads dy, whose buffer stays");
                    Keep(identity, $"dskip{step.Layer.Index}", dyBuffer);
                    pinned.Add(dyBuffer);
                }
                else
                {
                    int b = Free(overDy: false);
                    w.Line($"{Span} dskip{step.Layer.Index} = new {Span}({NetworkPlan.GradientField(b)}, stretch, batch * {layers[identity].OutputLength});");
                    w.Line($"dy.CopyTo(dskip{step.Layer.Index}); // the skip's share of layer {identity}'s gradient");
                    Keep(identity, $"dskip{step.Layer.Index}", b);
                    pinned.Add(b);
                }
            }
        }
        return used;
    }

    // The exceptions ForwardTraining documents: those of its inputs, batch size and lengths.
    private static void EmitForwardTrainingExceptions(IndentedWriter w, NetworkPlan plan)
    {
        w.Line("/// <exception cref=\"global::System.ArgumentOutOfRangeException\"><paramref name=\"batchSize\"/> is below 1 or too large for the training buffers" + (plan.Recurrent ? ", or a length is outside 0 to the declared steps." : ".") + "</exception>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\"><paramref name=\"inputs\"/> do not hold <paramref name=\"batchSize\"/> samples" + (plan.Recurrent ? ", or there is not one length per sample." : ".") + "</exception>");
    }

    // The exceptions a training call documents: those of its argument checks, and for a step those of the update.
    private static void EmitTrainingExceptions(IndentedWriter w, NetworkPlan plan, bool step)
    {
        if (step)
            w.Line("/// <exception cref=\"global::System.ArgumentNullException\"><paramref name=\"optimizer\"/> is null.</exception>");
        w.Line("/// <exception cref=\"global::System.ArgumentOutOfRangeException\"><paramref name=\"batchSize\"/> is below 1 or too large for the training buffers; or a label is outside the classes" +
            (plan.Recurrent ? ", or a length outside 0 to the declared steps." : ".") + "</exception>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\"><paramref name=\"inputs\"/> do not hold <paramref name=\"batchSize\"/> samples, or <paramref name=\"targets\"/> are of the wrong kind or count for the loss" +
            (plan.Recurrent ? ", or there is not one length per sample." : ".") + "</exception>");
        if (step)
        {
            w.Line("/// <exception cref=\"global::GenNets.Training.TrainingDivergedException\">The loss or a gradient is NaN or infinite (the exception names the tensor); nothing was applied.</exception>");
            w.Line("/// <exception cref=\"global::System.InvalidOperationException\"><paramref name=\"optimizer\"/> holds state for a network of another size.</exception>");
        }
        w.Line("/// <exception cref=\"global::System.OutOfMemoryException\">The training buffers for a batch this large cannot be allocated; the network is as it was.</exception>");
    }

    private static void EmitReserve(IndentedWriter w, ShapedNetwork net, NetworkPlan plan)
    {
        w.Line("/// <summary>");
        w.Line("/// Allocates the training buffers for batches of up to <paramref name=\"batchSize\"/> samples (a larger batch later grows them).");
        w.Line("/// All or nothing: when a buffer cannot be allocated, the network keeps the buffers it had.");
        w.Line("/// </summary>");
        w.Line($"/// <exception cref=\"global::System.ArgumentOutOfRangeException\"><paramref name=\"batchSize\"/> is below 1, or its buffers would exceed a .NET array ({plan.MaxTrainingFloatsPerSample} floats a sample).</exception>");
        w.Line("/// <exception cref=\"global::System.OutOfMemoryException\">The buffers cannot be allocated; the network is as it was.</exception>");
        w.Line(Generated);
        w.Open("public void Reserve(int batchSize)");
        w.Line($"{Kernels}Guard.Capacity(batchSize, {plan.MaxTrainingFloatsPerSample});");
        w.Line("if (batchSize <= _capacity) return;");
        w.Line("// Every buffer is allocated before any is replaced.");
        foreach (var buffer in plan.TrainingBuffers)
            w.Line($"var {buffer.Field.TrimStart('_')} = new float[batchSize * {buffer.FloatsPerSample}];");
        foreach (var buffer in plan.TrainingBuffers)
            w.Line($"{buffer.Field} = {buffer.Field.TrimStart('_')};");
        w.Line("_capacity = batchSize;");
        w.Close();
    }
}
