using System;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GenNets.Kernels;

/// <summary>
/// The sizes of a recurrent layer as the kernels take them. Parameters are one span in PyTorch's order:
/// <c>weight_ih</c> [G·H, I], <c>weight_hh</c> [G·H, H], <c>bias_ih</c> [G·H], <c>bias_hh</c> [G·H], with G gates
/// (1 for SimpleRNN; 4 for LSTM in the order i, f, g, o; 3 for GRU in the order r, z, n).
/// </summary>
public sealed class RecurrentGeometry
{
    /// <summary>Describes a recurrent layer over <paramref name="steps"/> steps of <paramref name="inputs"/> features with <paramref name="hidden"/> units.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="cell"/> is not a recurrent cell, a size is less than 1, or the layer's
    /// parameters, a sample's input, output or kept values, or the weights as the kernels lay them out would hold more than
    /// <see cref="int.MaxValue"/> floats (the largest size is named).</exception>
    public RecurrentGeometry(LayerKind cell, int steps, int inputs, int hidden, bool returnSequences)
    {
        Gates = cell switch
        {
            LayerKind.SimpleRNN => 1,
            LayerKind.LSTM => 4,
            LayerKind.GRU => 3,
            _ => throw new ArgumentOutOfRangeException(nameof(cell), cell, "A recurrent layer is SimpleRNN, LSTM or GRU."),
        };
        Sizes.Positive(steps, nameof(steps));
        Sizes.Positive(inputs, nameof(inputs));
        Sizes.Positive(hidden, nameof(hidden));
        // Every length below, and the kernels' per-sample arithmetic, in int: checked here once, in Int128 (where nothing wraps).
        Int128 gh = (Int128)Gates * hidden, t = steps, i = inputs, h = hidden;
        (Int128 Floats, string What)[] extents =
        [
            (gh * (i + h + 2), "The parameters"),
            (t * i, "A sample's input"),
            (t * h, "A sample's output"),
            (t * i + 3 * (t + 1) * h + t * gh, "A sample's kept values"),
            (i * gh + h * (gh + 16) + 2 * gh, "The weights as the kernels lay them out"),
            (2 * i * gh + 64 * (2 * gh + 4 * h + i), "Backward's scratch for a window of steps"),
        ];
        foreach (var (floats, what) in extents)
            if (floats > int.MaxValue)
                throw new ArgumentOutOfRangeException(Sizes.Largest((steps, nameof(steps)), (inputs, nameof(inputs)), (hidden, nameof(hidden))),
                    $"A {cell} layer of {steps} steps, {inputs} inputs and {hidden} units: {what} comes to {floats} floats, more than a span can hold ({int.MaxValue}).");
        Cell = cell;
        Steps = steps;
        Inputs = inputs;
        Hidden = hidden;
        ReturnSequences = returnSequences;
    }

    /// <summary>The cell.</summary>
    public LayerKind Cell { get; }
    /// <summary>Time steps per sequence.</summary>
    public int Steps { get; }
    /// <summary>Features per step.</summary>
    public int Inputs { get; }
    /// <summary>Hidden units.</summary>
    public int Hidden { get; }
    /// <summary>Whether the output is every step's state (else the last).</summary>
    public bool ReturnSequences { get; }
    /// <summary>Gates per unit: 1, 4 or 3.</summary>
    public int Gates { get; }
    /// <summary>Rows of the weight matrices: gates × units.</summary>
    public int GateWidth => Gates * Hidden;
    /// <summary>Floats of <c>weight_ih</c>.</summary>
    public int InputWeightLength => GateWidth * Inputs;
    /// <summary>Floats of <c>weight_hh</c>.</summary>
    public int HiddenWeightLength => GateWidth * Hidden;
    /// <summary>Floats of all four tensors.</summary>
    public int ParameterLength => GateWidth * (Inputs + Hidden + 2);
    /// <summary>Floats of one input sample.</summary>
    public int InputLength => Steps * Inputs;
    /// <summary>Floats of one output sample.</summary>
    public int OutputLength => ReturnSequences ? Steps * Hidden : Hidden;

    /// <summary>
    /// Floats a training forward pass keeps per sample for backward: the input step-major, every state (with the zero
    /// state first), every step's gate activations, and for LSTM every cell state, for GRU every W_hn·h + b_hn.
    /// </summary>
    public int KeptPerSample => Steps * Inputs + (Steps + 1) * Hidden + Steps * GateWidth
        + (Cell == LayerKind.LSTM ? (Steps + 1) * Hidden : 0) + (Cell == LayerKind.GRU ? Steps * Hidden : 0);

    // Where each kept array starts in a span of `rows` samples (each array step-major: [step][row][width]).
    internal int StatesAt(int rows) => rows * Steps * Inputs;
    internal int GatesAt(int rows) => StatesAt(rows) + rows * (Steps + 1) * Hidden;
    internal int ExtraAt(int rows) => GatesAt(rows) + rows * Steps * GateWidth;
}

/// <summary>
/// Recurrent layers over a batch: the input projections of all steps in one matrix product, then one small product with
/// <c>weight_hh</c> and the cell's element-wise update per step; backward through time in reverse, with the weight
/// gradients of all steps again in one product each. Inside a call, arrays are step-major ([step][sample][width]) so
/// that each step's rows are contiguous for the matrix kernels.
/// </summary>
public static class Recurrent
{
    [ThreadStatic] private static float[]? t_forward;
    [ThreadStatic] private static float[]? t_backward;
    [ThreadStatic] private static float[]? t_weights;

    /// <summary>
    /// Forward over <paramref name="batch"/> samples of <paramref name="x"/> ([batch][steps][inputs]) into <paramref name="y"/>
    /// ([batch][steps][units] or [batch][units]). In training, <paramref name="kept"/> (batch × <see cref="RecurrentGeometry.KeptPerSample"/>)
    /// receives what <see cref="Backward"/> needs; in inference pass an empty span. <paramref name="lengths"/>, when not empty,
    /// gives each sample's true number of steps: the steps after it are padding, which changes no state (the last state is
    /// the state after the true last step), outputs zeros, and is never read. A batch of 0 does nothing.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="g"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is negative, the batch (or the scratch it needs) would hold more than
    /// <see cref="int.MaxValue"/> floats, or a length is outside 0 to the steps.</exception>
    /// <exception cref="ArgumentException">X, the parameters, Y or a non-empty <paramref name="kept"/> is shorter than the geometry and batch need,
    /// or non-empty <paramref name="lengths"/> do not give one length a sample.</exception>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> parameters, Span<float> y, int batch, RecurrentGeometry g, Span<float> kept,
        ReadOnlySpan<int> lengths = default)
    {
        ArgumentNullException.ThrowIfNull(g);
        int T = g.Steps, I = g.Inputs, H = g.Hidden, GH = g.GateWidth;
        Sizes.Need(x.Length, Sizes.Product(batch, nameof(batch), g.InputLength, nameof(g)), nameof(x), "a batch of {0} inputs of {1}", batch, g.InputLength);
        Sizes.Need(y.Length, Sizes.Product(batch, nameof(batch), g.OutputLength, nameof(g)), nameof(y), "a batch of {0} outputs of {1}", batch, g.OutputLength);
        Sizes.Need(parameters.Length, g.ParameterLength, nameof(parameters), "the parameters of {0} units", H);
        Guard.Lengths(lengths, batch, T);
        bool training = !kept.IsEmpty;
        if (training)
            Sizes.Need(kept.Length, Sizes.Product(batch, nameof(batch), g.KeptPerSample, nameof(g)), nameof(kept), "a batch of {0} samples' kept values, {1} each,", batch, g.KeptPerSample);
        // Inference's scratch: the input step-major, two states (and cells), a window's gates and a step's temporaries.
        Sizes.Fits((long)batch * (T * I + 7L * H + 2L * GH) + (long)Window(T, batch) * batch * GH, nameof(batch), "The scratch of a forward pass");
        var wih = parameters.Slice(0, g.InputWeightLength);
        var whh = parameters.Slice(g.InputWeightLength, g.HiddenWeightLength);
        var bih = parameters.Slice(g.InputWeightLength + g.HiddenWeightLength, GH);
        var bhh = parameters.Slice(g.InputWeightLength + g.HiddenWeightLength + GH, GH);

        // Training keeps every state; inference needs two state slots (and cell slots) and a window's gates at a time. The
        // input projections are taken a window of steps at a time (W·batch ≥ 64 rows), just before those steps read them.
        int stateSlots = training ? T + 1 : 2;
        int window = Window(T, batch);
        int gateSteps = training ? T : window;
        Span<float> store = training ? kept : Scratch.Get(ref t_forward,
            batch * (T * I + 2 * H + window * GH + (g.Cell == LayerKind.LSTM ? 2 * H : 0) + (g.Cell == LayerKind.GRU ? H + GH : 0) + H));
        var xs = store.Slice(0, batch * T * I);
        var hs = store.Slice(batch * T * I, batch * stateSlots * H);
        var gates = store.Slice(batch * T * I + batch * stateSlots * H, batch * gateSteps * GH);
        int next = batch * (T * I + stateSlots * H + gateSteps * GH);
        Span<float> cs = default, hns = default;
        if (g.Cell == LayerKind.LSTM) { cs = store.Slice(next, batch * stateSlots * H); next += cs.Length; }
        if (g.Cell == LayerKind.GRU) { hns = store.Slice(next, batch * (training ? T : 1) * H); next += hns.Length; }
        // A step's temporary row of H per sample, and for a GRU its hidden side W_hh·h + b_hh (the others add it onto the gates).
        bool gru = g.Cell == LayerKind.GRU;
        int hpWidth = gru ? GH : 0;
        Span<float> hp = training ? Scratch.Get(ref t_backward, batch * (hpWidth + H)) : store.Slice(next, batch * (hpWidth + H));
        Span<float> tmp = hp.Slice(batch * hpWidth, batch * H);
        hp = hp.Slice(0, batch * hpWidth);

        // The weights as the products take them: W_ih transposed ([I, GH], for the broadcast kernel over steps × samples
        // rows); W_hh transposed too for one sample (whose step is one row against eight vectors of columns at a time) and
        // for a batch of six or more, while two to five samples read W_hh's rows as they are, with the dot kernel (the
        // six-row kernel would compute their rows more than once). The tanh gates are sigmoids too: tanh(x) = 2σ(2x) − 1, the
        // doubling folded into the sigmoid pass, so every gate of a step goes through one kind of pass.
        // The transposed W_hh's rows are padded (see Gemm.PaddedStride): 1 KB apart, a block of their columns would fall
        // into four of L1's sets and not stay there while the batch's rows pass (forward product 66 → 79 GFLOP/s).
        bool broadcast = batch >= 6 || batch == 1;
        int ldh = broadcast ? Gemm.PaddedStride(GH) : H;
        var prepared = Scratch.Get(ref t_weights, I * GH + (broadcast ? H * ldh : 0) + GH);
        var wihT = prepared.Slice(0, I * GH);
        Transpose(wih, wihT, GH, I);
        ReadOnlySpan<float> whhP = whh;
        if (broadcast)
        {
            var transposed = prepared.Slice(I * GH, H * ldh);
            Transpose(whh, transposed, GH, H, ldh);
            whhP = transposed;
        }
        // Except in a GRU (whose reset gate scales the hidden side's n block alone), the hidden side adds straight into the
        // gates: both biases go in with the input projection, and each step's product accumulates onto it.
        var biases = prepared.Slice(prepared.Length - GH, GH);
        if (g.Cell == LayerKind.GRU) bih.CopyTo(biases);
        else TensorPrimitives.Add(bih, bhh, biases);

        // The input step-major.
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < T; t++)
                if (lengths.IsEmpty || t < lengths[b]) x.Slice((b * T + t) * I, I).CopyTo(xs.Slice((t * batch + b) * I, I));
                else xs.Slice((t * batch + b) * I, I).Clear(); // padding: whatever it holds never reaches a gradient
        hs.Slice(0, batch * H).Clear();
        if (!cs.IsEmpty) cs.Slice(0, batch * H).Clear();

        for (int t = 0; t < T; t++)
        {
            int prev = training ? t : t & 1, cur = training ? t + 1 : (t + 1) & 1;
            var hPrev = hs.Slice(prev * batch * H, batch * H);
            var h = hs.Slice(cur * batch * H, batch * H);
            int slot = training ? t : t % window;
            if (t % window == 0)
            {
                // The input projections (with the biases) of this window's steps in one product.
                int rows = Math.Min(window, T - t) * batch;
                Gemm.MultiplyAccumulate(xs.Slice(t * batch * I, rows * I), I, 1, wihT, GH, biases, gates.Slice(slot * batch * GH, rows * GH), rows, GH, I, accumulate: false);
            }
            var a = gates.Slice(slot * batch * GH, batch * GH);
            // W_hh·hₜ₋₁: onto the gates, or for a GRU into hp with b_hh.
            if (!gru)
            {
                if (broadcast) Gemm.MultiplyAccumulateChecked(hPrev, H, 1, whhP, ldh, default, a, batch, GH, H, accumulate: true, reverse: (t & 1) == 1);
                else Gemm.MultiplyTransposed(hPrev, whhP, default, a, batch, GH, H, accumulate: true);
            }
            else if (broadcast)
                Gemm.MultiplyAccumulateChecked(hPrev, H, 1, whhP, ldh, bhh, hp, batch, GH, H, accumulate: false, reverse: (t & 1) == 1);
            else
                Gemm.MultiplyTransposed(hPrev, whhP, bhh, hp, batch, GH, H);
            switch (g.Cell)
            {
                case LayerKind.SimpleRNN:
                    Activations.SigmoidInPlace(a, 2f);
                    TensorPrimitives.Multiply(a, 2f, a);
                    TensorPrimitives.Subtract(a, 1f, a); // tanh = 2σ(2x) − 1
                    a.CopyTo(h);
                    break;
                case LayerKind.LSTM:
                    for (int b = 0; b < batch; b++) // i, f, σ(2·g), o
                    {
                        var row = a.Slice(b * GH, GH);
                        Activations.SigmoidInPlace(row.Slice(0, 2 * H));
                        Activations.SigmoidInPlace(row.Slice(2 * H, H), 2f);
                        Activations.SigmoidInPlace(row.Slice(3 * H, H));
                    }
                    LstmCell(a, cs.Slice(prev * batch * H, batch * H), cs.Slice(cur * batch * H, batch * H), tmp, batch, H);
                    Activations.SigmoidInPlace(tmp); // σ(2c)
                    LstmOutput(a, tmp, h, batch, H);
                    break;
                case LayerKind.GRU:
                    GruGates(a, hp, tmp, batch, H);
                    for (int b = 0; b < batch; b++) Activations.SigmoidInPlace(a.Slice(b * GH, 2 * H)); // r, z
                    GruCandidate(a, hp, tmp, hns.Slice((training ? t : 0) * batch * H, batch * H), batch, H);
                    Activations.SigmoidInPlace(tmp, 2f); // σ(2·n's pre-activation)
                    GruState(a, tmp, hPrev, h, batch, H);
                    break;
            }
            // A padded step keeps the state (and cell) it was given.
            if (!lengths.IsEmpty)
                for (int b = 0; b < batch; b++)
                    if (t >= lengths[b])
                    {
                        hPrev.Slice(b * H, H).CopyTo(h.Slice(b * H, H));
                        if (!cs.IsEmpty) cs.Slice((prev * batch + b) * H, H).CopyTo(cs.Slice((cur * batch + b) * H, H));
                    }
            if (g.ReturnSequences)
                for (int b = 0; b < batch; b++)
                    if (lengths.IsEmpty || t < lengths[b]) h.Slice(b * H, H).CopyTo(y.Slice((b * T + t) * H, H));
                    else y.Slice((b * T + t) * H, H).Clear();
            else if (t == T - 1)
                h.CopyTo(y.Slice(0, batch * H));
        }
    }

    /// <summary>
    /// Backward through time for the batch of the last training <see cref="Forward"/> (whose <paramref name="kept"/> is passed back):
    /// from <paramref name="dy"/> (the shape of y) writes the gradients of all four tensors into <paramref name="gradients"/>
    /// (laid out as the parameters, overwritten) and, unless <paramref name="dx"/> is empty, the input gradient. With the
    /// forward pass's <paramref name="lengths"/>, padding steps pass the gradient through unchanged and receive none.
    /// A batch of 0 clears the gradients.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="g"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is negative, the batch (or the scratch it needs) would hold more than
    /// <see cref="int.MaxValue"/> floats, or a length is outside 0 to the steps.</exception>
    /// <exception cref="ArgumentException">The parameters, <paramref name="kept"/>, dy, the gradients or a non-empty dx is shorter than the geometry
    /// and batch need, or non-empty <paramref name="lengths"/> do not give one length a sample.</exception>
    public static void Backward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> kept, ReadOnlySpan<float> dy, Span<float> dx, Span<float> gradients, int batch, RecurrentGeometry g,
        ReadOnlySpan<int> lengths = default)
    {
        ArgumentNullException.ThrowIfNull(g);
        int T = g.Steps, I = g.Inputs, H = g.Hidden, GH = g.GateWidth;
        Sizes.Need(parameters.Length, g.ParameterLength, nameof(parameters), "the parameters of {0} units", H);
        Sizes.Need(kept.Length, Sizes.Product(batch, nameof(batch), g.KeptPerSample, nameof(g)), nameof(kept), "a batch of {0} samples' kept values, {1} each,", batch, g.KeptPerSample);
        Sizes.Need(dy.Length, Sizes.Product(batch, nameof(batch), g.OutputLength, nameof(g)), nameof(dy), "a batch of {0} outputs of {1}", batch, g.OutputLength);
        Sizes.Need(gradients.Length, g.ParameterLength, nameof(gradients), "the parameters of {0} units", H);
        if (!dx.IsEmpty)
            Sizes.Need(dx.Length, Sizes.Product(batch, nameof(batch), g.InputLength, nameof(g)), nameof(dx), "a batch of {0} inputs of {1}", batch, g.InputLength);
        Guard.Lengths(lengths, batch, T);
        // The scratch: a window's pre-activation gradients (two sets for a GRU), four rows of states, the window's dx.
        Sizes.Fits((long)Window(T, batch) * batch * (2L * GH + I) + 4L * batch * H + 2L * I * GH, nameof(batch), "The scratch of a backward pass");
        var wih = parameters.Slice(0, g.InputWeightLength);
        var whh = parameters.Slice(g.InputWeightLength, g.HiddenWeightLength);
        var xs = kept.Slice(0, batch * T * I);
        var hs = kept.Slice(g.StatesAt(batch), batch * (T + 1) * H);
        var gates = kept.Slice(g.GatesAt(batch), batch * T * GH);
        var extra = kept.Slice(g.ExtraAt(batch));

        // The steps go backward in windows of W steps, W·batch ≥ 64 rows (one step for a batch of 64, every step for one
        // sequence): the weight gradients are products over a window's rows, taken while its pre-activation gradients are
        // still in L1/L2. Scratch: those gradients for a window (input side, and for GRU the hidden side), dh, dc, a
        // temporary, the window's dx; W_ih's gradient turned around and W_ihᵀ when the inputs are few.
        bool gru = g.Cell == LayerKind.GRU;
        bool few = I < 16;
        int window = Window(T, batch);
        int stepFloats = window * batch * GH;
        var scratch = Scratch.Get(ref t_backward, (gru ? 2 : 1) * stepFloats + 4 * batch * H + window * batch * I + 2 * I * GH);
        var dAll = scratch.Slice(0, stepFloats);
        var dHPAll = gru ? scratch.Slice(stepFloats, stepFloats) : dAll;
        int at = (gru ? 2 : 1) * stepFloats;
        var dh = scratch.Slice(at, batch * H);
        var dhNext = scratch.Slice(at + batch * H, batch * H);
        var dcNext = scratch.Slice(at + 2 * batch * H, batch * H);
        var tmp = scratch.Slice(at + 3 * batch * H, batch * H);
        var dxs = scratch.Slice(at + 4 * batch * H, window * batch * I);
        var turned = scratch.Slice(at + 4 * batch * H + dxs.Length, I * GH);
        var wihT = scratch.Slice(at + 4 * batch * H + dxs.Length + I * GH, I * GH);
        dhNext.Clear();
        dcNext.Clear();

        var gih = gradients.Slice(0, g.InputWeightLength);
        var ghh = gradients.Slice(g.InputWeightLength, g.HiddenWeightLength);
        var gbih = gradients.Slice(g.InputWeightLength + g.HiddenWeightLength, GH);
        var gbhh = gradients.Slice(g.InputWeightLength + g.HiddenWeightLength + GH, GH);
        gbih.Clear();
        gbhh.Clear();
        // With few input features the products with W_ih are narrow (I columns): dW_ih is computed turned around, as xᵀ·dA
        // [I, GH] on the broadcast kernel, and dx on the dot kernel with W_ihᵀ, whose dots run over all the gates.
        if (few && !dx.IsEmpty) Transpose(wih, wihT, GH, I);

        for (int t = T - 1; t >= 0; t--)
        {
            // Windows are counted from the last step: step t is in the one of steps [first, end), which sit in order in dAll.
            int end = T - (T - 1 - t) / window * window, first = Math.Max(0, end - window);
            var dA = dAll.Slice((t - first) * batch * GH, batch * GH);
            var dHP = gru ? dHPAll.Slice((t - first) * batch * GH, batch * GH) : dA;
            // dh = the gradient arriving from the next step + the output's gradient at this step.
            if (g.ReturnSequences)
                for (int b = 0; b < batch; b++) TensorPrimitives.Add(dhNext.Slice(b * H, H), dy.Slice((b * T + t) * H, H), dh.Slice(b * H, H));
            else if (t == T - 1)
                TensorPrimitives.Add(dhNext, dy.Slice(0, batch * H), dh);
            else
                dhNext.CopyTo(dh);
            // A padding step's output gradient is ignored: its output is a constant zero.
            if (!lengths.IsEmpty && g.ReturnSequences)
                for (int b = 0; b < batch; b++)
                    if (t >= lengths[b]) dhNext.Slice(b * H, H).CopyTo(dh.Slice(b * H, H));
            var h = hs.Slice((t + 1) * batch * H, batch * H);
            var hPrev = hs.Slice(t * batch * H, batch * H);
            var a = gates.Slice(t * batch * GH, batch * GH);
            switch (g.Cell)
            {
                case LayerKind.SimpleRNN:
                    // dA = dh⊙(1 − h²)
                    TensorPrimitives.Multiply(h, h, dA);
                    TensorPrimitives.Subtract(1f, dA, dA);
                    TensorPrimitives.Multiply(dA, dh, dA);
                    ClearPaddingRows(dA, lengths, t, batch, GH);
                    Elementwise.FlushSubnormals(dA); // see below
                    Gemm.MultiplyAccumulate(dA, GH, 1, whh, dhNext, batch, H, GH, accumulate: false);
                    break;
                case LayerKind.LSTM:
                {
                    var cs = extra.Slice(0, batch * (T + 1) * H);
                    var c = cs.Slice((t + 1) * batch * H, batch * H);
                    var cPrev = cs.Slice(t * batch * H, batch * H);
                    // tanh(c) for the whole step at once, as 2σ(2c) − 1.
                    TensorPrimitives.Multiply(c, 2f, tmp);
                    Activations.SigmoidInPlace(tmp);
                    for (int b = 0; b < batch; b++)
                    {
                        if (!lengths.IsEmpty && t >= lengths[b])
                            dA.Slice(b * GH, GH).Clear(); // the cell gradient passes through a padding step unchanged
                        else
                            LstmCellBackward(a.Slice(b * GH, GH), tmp.Slice(b * H, H), cPrev.Slice(b * H, H), dh.Slice(b * H, H), dcNext.Slice(b * H, H), dA.Slice(b * GH, GH), H);
                    }
                    Elementwise.FlushSubnormals(dA); // see below
                    Gemm.MultiplyAccumulate(dA, GH, 1, whh, dhNext, batch, H, GH, accumulate: false);
                    break;
                }
                case LayerKind.GRU:
                {
                    var hn = extra.Slice(t * batch * H, batch * H);
                    for (int b = 0; b < batch; b++)
                    {
                        if (!lengths.IsEmpty && t >= lengths[b])
                        {
                            dA.Slice(b * GH, GH).Clear();
                            dHP.Slice(b * GH, GH).Clear();
                            dh.Slice(b * H, H).CopyTo(dhNext.Slice(b * H, H));
                            continue;
                        }
                        GruCellBackward(a.Slice(b * GH, GH), hn.Slice(b * H, H), hPrev.Slice(b * H, H), dh.Slice(b * H, H), dA.Slice(b * GH, GH), dHP.Slice(b * GH, GH), dhNext.Slice(b * H, H), H);
                    }
                    Elementwise.FlushSubnormals(dA); // see below
                    Elementwise.FlushSubnormals(dHP);
                    Gemm.MultiplyAccumulate(dHP, GH, 1, whh, dhNext, batch, H, GH, accumulate: true);
                    break;
                }
            }
            // Through a padding step the state's gradient passes unchanged (its rows of dA are zero).
            if (!lengths.IsEmpty && g.Cell != LayerKind.GRU)
                for (int b = 0; b < batch; b++)
                    if (t >= lengths[b]) dh.Slice(b * H, H).CopyTo(dhNext.Slice(b * H, H));
            // A gradient that vanishes over the steps would go on in subnormal floats, a hundred times slower on x86: what
            // reaches the previous step is flushed to zero below 2⁻¹²⁶ (and so were the pre-activation gradients, above).
            Elementwise.FlushSubnormals(dhNext);
            if (g.Cell == LayerKind.LSTM) Elementwise.FlushSubnormals(dcNext);

            if (t == first)
                WindowGradients(g, first, end - first, batch, xs, hs, dAll, dHPAll, gih, ghh, gbih, gbhh, turned, wih, wihT, dxs, dx, sum: end < T);
        }
        if (few) Transpose(turned, gih, I, GH);
        if (!gru) gbih.CopyTo(gbhh);
    }

    // Rows per window of steps: forward projects a window's inputs in one product, backward takes its weight gradients in one.
    private const int WindowRows = 64;

    // Steps per window: the fewest whose rows (steps × batch) reach WindowRows, at most all of them.
    private static int Window(int steps, int batch) => Math.Min(steps, (WindowRows + batch - 1) / Math.Max(1, batch));

    // The weight and bias gradients of `count` steps from `first` (their rows of dA and dHP, step-major from row 0), added
    // to the gradients (or, for the window taken first, written), and those steps' input gradient.
    private static void WindowGradients(RecurrentGeometry g, int first, int count, int batch, ReadOnlySpan<float> xs, ReadOnlySpan<float> hs,
        ReadOnlySpan<float> dA, ReadOnlySpan<float> dHP, Span<float> gih, Span<float> ghh, Span<float> gbih, Span<float> gbhh, Span<float> turned,
        ReadOnlySpan<float> wih, ReadOnlySpan<float> wihT, Span<float> dxs, Span<float> dx, bool sum)
    {
        int T = g.Steps, I = g.Inputs, H = g.Hidden, GH = g.GateWidth, rows = count * batch;
        dA = dA.Slice(0, rows * GH);
        dHP = dHP.Slice(0, rows * GH);
        var x = xs.Slice(first * batch * I, rows * I);
        if (I < 16)
            Gemm.MultiplyAccumulate(x, 1, I, dA, turned, I, GH, rows, sum); // dW_ihᵀ += xᵀ·dA
        else
            Gemm.MultiplyAccumulate(dA, 1, GH, x, gih, GH, I, rows, sum); // dW_ih += dAᵀ·x
        Gemm.MultiplyAccumulate(dHP, 1, GH, hs.Slice(first * batch * H, rows * H), ghh, GH, H, rows, sum); // dW_hh += dHPᵀ·hₜ₋₁
        Gemm.ColumnSums(dA, gbih, rows, GH, GH, accumulate: true);
        if (g.Cell == LayerKind.GRU) Gemm.ColumnSums(dHP, gbhh, rows, GH, GH, accumulate: true);
        if (dx.IsEmpty) return;
        if (I < 16)
            Gemm.MultiplyTransposed(dA, wihT, default, dxs, rows, I, GH); // dx = dA·W_ih
        else
            Gemm.MultiplyAccumulate(dA, GH, 1, wih, dxs, rows, I, GH, accumulate: false);
        for (int s = 0; s < count; s++)
            for (int b = 0; b < batch; b++)
                dxs.Slice((s * batch + b) * I, I).CopyTo(dx.Slice((b * T + first + s) * I, I));
    }

    // LSTM, after the sigmoid pass over i, f, σ(2·g_pre), o: g = 2σ − 1 (kept), c = f⊙cₜ₋₁ + i⊙g, and 2c for the tanh.
    private static void LstmCell(Span<float> a, ReadOnlySpan<float> cPrev, Span<float> c, Span<float> twiceC, int batch, int H)
    {
        if (Vector512.IsHardwareAccelerated) LstmCell<Width512, Vector512<float>>(a, cPrev, c, twiceC, batch, H);
        else if (Vector256.IsHardwareAccelerated) LstmCell<Width256, Vector256<float>>(a, cPrev, c, twiceC, batch, H);
        else LstmCell<Width128, Vector128<float>>(a, cPrev, c, twiceC, batch, H);
    }

    internal static void LstmCell<TWidth, TVector>(Span<float> a, ReadOnlySpan<float> cPrev, Span<float> c, Span<float> twiceC, int batch, int H)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int GH = 4 * H, lanes = TWidth.Count;
        var two = TWidth.Broadcast(2f);
        var minusOne = TWidth.Broadcast(-1f);
        for (int b = 0; b < batch; b++)
        {
            ref float i = ref a[b * GH];
            ref float f = ref Unsafe.Add(ref i, H);
            ref float gg = ref Unsafe.Add(ref i, 2 * H);
            ref float cp = ref Unsafe.AsRef(in cPrev[b * H]);
            ref float cb = ref c[b * H];
            ref float c2 = ref twiceC[b * H];
            int j = 0;
            for (; j + lanes <= H; j += lanes)
            {
                nuint k = (nuint)j;
                var gj = TWidth.MultiplyAdd(two, TWidth.Load(ref gg, k), minusOne);
                TWidth.Store(gj, ref gg, k);
                var cj = TWidth.MultiplyAdd(TWidth.Load(ref f, k), TWidth.Load(ref cp, k), TWidth.Multiply(TWidth.Load(ref i, k), gj));
                TWidth.Store(cj, ref cb, k);
                TWidth.Store(TWidth.Add(cj, cj), ref c2, k);
            }
            for (; j < H; j++)
            {
                float gj = Unsafe.Add(ref gg, j) = MathF.FusedMultiplyAdd(2f, Unsafe.Add(ref gg, j), -1f);
                float cj = Unsafe.Add(ref cb, j) = MathF.FusedMultiplyAdd(Unsafe.Add(ref f, j), Unsafe.Add(ref cp, j), Unsafe.Add(ref i, j) * gj);
                Unsafe.Add(ref c2, j) = cj + cj;
            }
        }
    }

    // LSTM: h = o⊙tanh(c), with tanh(c) = 2σ(2c) − 1 from the sigmoid pass.
    private static void LstmOutput(ReadOnlySpan<float> a, ReadOnlySpan<float> sigmoidTwiceC, Span<float> h, int batch, int H)
    {
        if (Vector512.IsHardwareAccelerated) LstmOutput<Width512, Vector512<float>>(a, sigmoidTwiceC, h, batch, H);
        else if (Vector256.IsHardwareAccelerated) LstmOutput<Width256, Vector256<float>>(a, sigmoidTwiceC, h, batch, H);
        else LstmOutput<Width128, Vector128<float>>(a, sigmoidTwiceC, h, batch, H);
    }

    internal static void LstmOutput<TWidth, TVector>(ReadOnlySpan<float> a, ReadOnlySpan<float> sigmoidTwiceC, Span<float> h, int batch, int H)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int GH = 4 * H, lanes = TWidth.Count;
        var two = TWidth.Broadcast(2f);
        var minusOne = TWidth.Broadcast(-1f);
        for (int b = 0; b < batch; b++)
        {
            ref float o = ref Unsafe.AsRef(in a[b * GH + 3 * H]);
            ref float u = ref Unsafe.AsRef(in sigmoidTwiceC[b * H]);
            ref float hb = ref h[b * H];
            int j = 0;
            for (; j + lanes <= H; j += lanes)
                TWidth.Store(TWidth.Multiply(TWidth.Load(ref o, (nuint)j), TWidth.MultiplyAdd(two, TWidth.Load(ref u, (nuint)j), minusOne)), ref hb, (nuint)j);
            for (; j < H; j++) Unsafe.Add(ref hb, j) = Unsafe.Add(ref o, j) * MathF.FusedMultiplyAdd(2f, Unsafe.Add(ref u, j), -1f);
        }
    }

    // GRU: r and z take the hidden side's pre-activations; the input side's W_in·x + b_in is set aside for the candidate.
    private static void GruGates(Span<float> a, ReadOnlySpan<float> hp, Span<float> inputSide, int batch, int H)
    {
        int GH = 3 * H;
        for (int b = 0; b < batch; b++)
        {
            var row = a.Slice(b * GH, GH);
            TensorPrimitives.Add(row.Slice(0, 2 * H), hp.Slice(b * GH, 2 * H), row.Slice(0, 2 * H));
            row.Slice(2 * H, H).CopyTo(inputSide.Slice(b * H, H));
        }
    }

    // GRU: W_in·x + b_in + r⊙(W_hn·h + b_hn), n's pre-activation, and W_hn·h + b_hn kept for backward.
    private static void GruCandidate(ReadOnlySpan<float> a, ReadOnlySpan<float> hp, Span<float> candidate, Span<float> hn, int batch, int H)
    {
        int GH = 3 * H;
        for (int b = 0; b < batch; b++)
        {
            var r = a.Slice(b * GH, H);
            var hn2 = hp.Slice(b * GH + 2 * H, H);
            var n = candidate.Slice(b * H, H);
            TensorPrimitives.FusedMultiplyAdd(r, hn2, n, n);
            hn2.CopyTo(hn.Slice(b * H, H));
        }
    }

    // GRU: n = 2σ − 1 (kept in the n block), hₜ = n + z⊙(hₜ₋₁ − n).
    private static void GruState(Span<float> a, ReadOnlySpan<float> sigmoidCandidate, ReadOnlySpan<float> hPrev, Span<float> h, int batch, int H)
    {
        if (Vector512.IsHardwareAccelerated) GruState<Width512, Vector512<float>>(a, sigmoidCandidate, hPrev, h, batch, H);
        else if (Vector256.IsHardwareAccelerated) GruState<Width256, Vector256<float>>(a, sigmoidCandidate, hPrev, h, batch, H);
        else GruState<Width128, Vector128<float>>(a, sigmoidCandidate, hPrev, h, batch, H);
    }

    internal static void GruState<TWidth, TVector>(Span<float> a, ReadOnlySpan<float> sigmoidCandidate, ReadOnlySpan<float> hPrev, Span<float> h, int batch, int H)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int GH = 3 * H, lanes = TWidth.Count;
        var two = TWidth.Broadcast(2f);
        var minusOne = TWidth.Broadcast(-1f);
        for (int b = 0; b < batch; b++)
        {
            ref float z = ref a[b * GH + H];
            ref float n = ref a[b * GH + 2 * H];
            ref float u = ref Unsafe.AsRef(in sigmoidCandidate[b * H]);
            ref float hp = ref Unsafe.AsRef(in hPrev[b * H]);
            ref float hb = ref h[b * H];
            int j = 0;
            for (; j + lanes <= H; j += lanes)
            {
                nuint k = (nuint)j;
                var nj = TWidth.MultiplyAdd(two, TWidth.Load(ref u, k), minusOne);
                TWidth.Store(nj, ref n, k);
                TWidth.Store(TWidth.MultiplyAdd(TWidth.Load(ref z, k), TWidth.Subtract(TWidth.Load(ref hp, k), nj), nj), ref hb, k);
            }
            for (; j < H; j++)
            {
                float nj = Unsafe.Add(ref n, j) = MathF.FusedMultiplyAdd(2f, Unsafe.Add(ref u, j), -1f);
                Unsafe.Add(ref hb, j) = MathF.FusedMultiplyAdd(Unsafe.Add(ref z, j), Unsafe.Add(ref hp, j) - nj, nj);
            }
        }
    }

    /// <summary>Zeroes the padding steps of <paramref name="batch"/> sequences of <paramref name="steps"/> rows of <paramref name="width"/>; nothing without lengths.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, the sequences would hold more than <see cref="int.MaxValue"/> floats, or a length is outside 0 to the steps.</exception>
    /// <exception cref="ArgumentException">Y is shorter than the sequences, or the lengths do not give one length a sequence.</exception>
    public static void ClearPadding(Span<float> y, ReadOnlySpan<int> lengths, int batch, int steps, int width)
    {
        if (lengths.IsEmpty) return;
        Sizes.Need(y.Length, Sizes.Product(batch, nameof(batch), steps, nameof(steps), width, nameof(width)), nameof(y), "{0} sequences of {1} steps of {2}", batch, steps, width);
        Guard.Lengths(lengths, batch, steps);
        for (int b = 0; b < batch; b++)
            y.Slice((b * steps + lengths[b]) * width, (steps - lengths[b]) * width).Clear();
    }

    // Zeroes the rows of step t's gradient that belong to padding.
    private static void ClearPaddingRows(Span<float> rows, ReadOnlySpan<int> lengths, int t, int batch, int width)
    {
        if (lengths.IsEmpty) return;
        for (int b = 0; b < batch; b++)
            if (t >= lengths[b]) rows.Slice(b * width, width).Clear();
    }

    // t[k, r] = m[r, k] for an r×k matrix m; t's rows `stride` apart (by default, packed). Blocks of 8×8 go through
    // registers where the CPU has AVX (a sample's W_hh is transposed at every call, so this is on the one-sequence path).
    private static void Transpose(ReadOnlySpan<float> m, Span<float> t, int rows, int cols, int stride = 0)
    {
        if (stride == 0) stride = rows;
        int r0 = 0;
        if (System.Runtime.Intrinsics.X86.Avx.IsSupported)
        {
            ref float rm = ref MemoryMarshal.GetReference(m);
            ref float rt = ref MemoryMarshal.GetReference(t);
            for (; r0 + 8 <= rows; r0 += 8)
            {
                int k0 = 0;
                for (; k0 + 8 <= cols; k0 += 8)
                    Gemm.Transpose8x8(ref Unsafe.Add(ref rm, r0 * cols + k0), cols, ref Unsafe.Add(ref rt, k0 * stride + r0), stride);
                for (int r = r0; r < r0 + 8; r++)
                    for (int k = k0; k < cols; k++)
                        t[k * stride + r] = m[r * cols + k];
            }
        }
        for (int r = r0; r < rows; r++)
            for (int k = 0; k < cols; k++)
                t[k * stride + r] = m[r * cols + k];
    }

    // One LSTM step of one sample, backward: from the gates (i, f, g, o), σ(2cₜ), cₜ₋₁ and dh, the pre-activation
    // gradients into dRow, and dc (in: from the next step) becomes dcₜ₋₁. One pass, every gate at once.
    private static void LstmCellBackward(ReadOnlySpan<float> gates, ReadOnlySpan<float> sigmoidTwiceC, ReadOnlySpan<float> cPrev, ReadOnlySpan<float> dh,
        Span<float> dc, Span<float> dRow, int H)
    {
        if (Vector512.IsHardwareAccelerated) LstmCellBackward<Width512, Vector512<float>>(gates, sigmoidTwiceC, cPrev, dh, dc, dRow, H);
        else if (Vector256.IsHardwareAccelerated) LstmCellBackward<Width256, Vector256<float>>(gates, sigmoidTwiceC, cPrev, dh, dc, dRow, H);
        else LstmCellBackward<Width128, Vector128<float>>(gates, sigmoidTwiceC, cPrev, dh, dc, dRow, H);
    }

    internal static void LstmCellBackward<TWidth, TVector>(ReadOnlySpan<float> gates, ReadOnlySpan<float> sigmoidTwiceC, ReadOnlySpan<float> cPrev, ReadOnlySpan<float> dh,
        Span<float> dc, Span<float> dRow, int H)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        ref float rg = ref MemoryMarshal.GetReference(gates);
        ref float ru = ref MemoryMarshal.GetReference(sigmoidTwiceC);
        ref float rc = ref MemoryMarshal.GetReference(cPrev);
        ref float rh = ref MemoryMarshal.GetReference(dh);
        ref float rdc = ref MemoryMarshal.GetReference(dc);
        ref float rd = ref MemoryMarshal.GetReference(dRow);
        nuint h = (nuint)H;
        int j = 0, lanes = TWidth.Count;
        var one = TWidth.Broadcast(1f);
        var two = TWidth.Broadcast(2f);
        for (; j + lanes <= H; j += lanes)
        {
            nuint k = (nuint)j;
            var i = TWidth.Load(ref rg, k);
            var f = TWidth.Load(ref rg, h + k);
            var gg = TWidth.Load(ref rg, 2 * h + k);
            var o = TWidth.Load(ref rg, 3 * h + k);
            var tc = TWidth.Subtract(TWidth.Multiply(TWidth.Load(ref ru, k), two), one);
            var d = TWidth.Load(ref rh, k);
            var dcv = TWidth.MultiplyAdd(TWidth.Multiply(d, o), TWidth.Subtract(one, TWidth.Multiply(tc, tc)), TWidth.Load(ref rdc, k));
            TWidth.Store(TWidth.Multiply(TWidth.Multiply(TWidth.Multiply(dcv, gg), i), TWidth.Subtract(one, i)), ref rd, k);
            TWidth.Store(TWidth.Multiply(TWidth.Multiply(TWidth.Multiply(dcv, TWidth.Load(ref rc, k)), f), TWidth.Subtract(one, f)), ref rd, h + k);
            TWidth.Store(TWidth.Multiply(TWidth.Multiply(dcv, i), TWidth.Subtract(one, TWidth.Multiply(gg, gg))), ref rd, 2 * h + k);
            TWidth.Store(TWidth.Multiply(TWidth.Multiply(TWidth.Multiply(d, tc), o), TWidth.Subtract(one, o)), ref rd, 3 * h + k);
            TWidth.Store(TWidth.Multiply(dcv, f), ref rdc, k);
        }
        for (; j < H; j++)
        {
            float i = gates[j], f = gates[H + j], gg = gates[2 * H + j], o = gates[3 * H + j];
            float tc = 2f * sigmoidTwiceC[j] - 1f, d = dh[j];
            float dcv = MathF.FusedMultiplyAdd(d * o, 1f - tc * tc, dc[j]);
            dRow[j] = dcv * gg * i * (1f - i);
            dRow[H + j] = dcv * cPrev[j] * f * (1f - f);
            dRow[2 * H + j] = dcv * i * (1f - gg * gg);
            dRow[3 * H + j] = d * tc * o * (1f - o);
            dc[j] = dcv * f;
        }
    }

    // One GRU step of one sample, backward: the input side's pre-activation gradients (r, z, n) into dRow, the hidden
    // side's (r, z, and W_hn·h + b_hn) into dHidden, and the direct path dh⊙z into dhPrev. One pass.
    private static void GruCellBackward(ReadOnlySpan<float> gates, ReadOnlySpan<float> hn, ReadOnlySpan<float> hPrev, ReadOnlySpan<float> dh,
        Span<float> dRow, Span<float> dHidden, Span<float> dhPrev, int H)
    {
        if (Vector512.IsHardwareAccelerated) GruCellBackward<Width512, Vector512<float>>(gates, hn, hPrev, dh, dRow, dHidden, dhPrev, H);
        else if (Vector256.IsHardwareAccelerated) GruCellBackward<Width256, Vector256<float>>(gates, hn, hPrev, dh, dRow, dHidden, dhPrev, H);
        else GruCellBackward<Width128, Vector128<float>>(gates, hn, hPrev, dh, dRow, dHidden, dhPrev, H);
    }

    internal static void GruCellBackward<TWidth, TVector>(ReadOnlySpan<float> gates, ReadOnlySpan<float> hn, ReadOnlySpan<float> hPrev, ReadOnlySpan<float> dh,
        Span<float> dRow, Span<float> dHidden, Span<float> dhPrev, int H)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        ref float rg = ref MemoryMarshal.GetReference(gates);
        ref float rn = ref MemoryMarshal.GetReference(hn);
        ref float rp = ref MemoryMarshal.GetReference(hPrev);
        ref float rh = ref MemoryMarshal.GetReference(dh);
        ref float rd = ref MemoryMarshal.GetReference(dRow);
        ref float rdh = ref MemoryMarshal.GetReference(dHidden);
        ref float rdp = ref MemoryMarshal.GetReference(dhPrev);
        nuint h = (nuint)H;
        int j = 0, lanes = TWidth.Count;
        var one = TWidth.Broadcast(1f);
        for (; j + lanes <= H; j += lanes)
        {
            nuint k = (nuint)j;
            var r = TWidth.Load(ref rg, k);
            var z = TWidth.Load(ref rg, h + k);
            var n = TWidth.Load(ref rg, 2 * h + k);
            var d = TWidth.Load(ref rh, k);
            var dan = TWidth.Multiply(TWidth.Multiply(d, TWidth.Subtract(one, z)), TWidth.Subtract(one, TWidth.Multiply(n, n)));
            var dar = TWidth.Multiply(TWidth.Multiply(TWidth.Multiply(dan, TWidth.Load(ref rn, k)), r), TWidth.Subtract(one, r));
            var daz = TWidth.Multiply(TWidth.Multiply(TWidth.Multiply(d, TWidth.Subtract(TWidth.Load(ref rp, k), n)), z), TWidth.Subtract(one, z));
            TWidth.Store(dar, ref rd, k);
            TWidth.Store(daz, ref rd, h + k);
            TWidth.Store(dan, ref rd, 2 * h + k);
            TWidth.Store(dar, ref rdh, k);
            TWidth.Store(daz, ref rdh, h + k);
            TWidth.Store(TWidth.Multiply(dan, r), ref rdh, 2 * h + k);
            TWidth.Store(TWidth.Multiply(d, z), ref rdp, k);
        }
        for (; j < H; j++)
        {
            float r = gates[j], z = gates[H + j], n = gates[2 * H + j], d = dh[j];
            float dan = d * (1f - z) * (1f - n * n);
            float dar = dan * hn[j] * r * (1f - r);
            float daz = d * (hPrev[j] - n) * z * (1f - z);
            dRow[j] = dHidden[j] = dar;
            dRow[H + j] = dHidden[H + j] = daz;
            dRow[2 * H + j] = dan;
            dHidden[2 * H + j] = dan * r;
            dhPrev[j] = d * z;
        }
    }
}
