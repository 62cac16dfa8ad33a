using System;
using System.Collections.Generic;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using GenNets.Kernels;
using GenNets.Threading;

namespace GenNets.Training;

/// <summary>
/// Updates a network's flat parameter buffer from its gradient buffer, tensor by tensor so that
/// weight decay reaches weights and not biases. State (momentum, moments) is allocated on the first
/// step and has the parameter buffer's layout.
/// </summary>
public abstract class Optimizer
{
    /// <summary>Creates an optimizer with a base learning rate and L2 weight decay.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The learning rate is not a positive finite number, or the decay not a finite number ≥ 0.</exception>
    protected Optimizer(float learningRate, float weightDecay)
    {
        if (!(learningRate > 0) || !float.IsFinite(learningRate))
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be a positive finite number.");
        if (!(weightDecay >= 0) || !float.IsFinite(weightDecay))
            throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "Weight decay must be zero or a positive finite number.");
        _learningRate = learningRate;
        BaseLearningRate = learningRate;
        WeightDecay = weightDecay;
    }

    private float _learningRate;
    private float? _maxGradientNorm;
    private int _threads = WorkerPool.DefaultThreads;

    /// <summary>The learning rate the next step uses (a schedule changes it between epochs). A positive finite number.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a positive finite number.</exception>
    public float LearningRate
    {
        get => _learningRate;
        set => _learningRate = value > 0 && float.IsFinite(value) ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "The learning rate must be a positive finite number.");
    }

    /// <summary>The learning rate the optimizer was created with: schedules scale from it.</summary>
    public float BaseLearningRate { get; }

    /// <summary>L2 weight decay on tensors whose <see cref="ParameterTensor.Decays"/> is true.</summary>
    public float WeightDecay { get; }

    /// <summary>
    /// When set, each step first scales the gradients down so that their global L2 norm is at most this (as PyTorch's
    /// <c>clip_grad_norm_</c> before <c>step()</c>, or Keras's <c>clipnorm</c>); the scaled gradients stay in the gradient buffer.
    /// Null (the default): no clipping.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a positive finite number.</exception>
    public float? MaxGradientNorm
    {
        get => _maxGradientNorm;
        set => _maxGradientNorm = value is not float v || (v > 0 && float.IsFinite(v)) ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "The maximum gradient norm must be a positive finite number.");
    }

    /// <summary>Steps applied so far (a step refused for a non-finite gradient does not count).</summary>
    public long StepCount { get; private set; }

    /// <summary>Threads an update may be split over (element-wise work: the split never changes the result). At least 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int Threads
    {
        get => _threads;
        set => _threads = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Threads must be at least 1.");
    }

    /// <summary>
    /// Applies one update to <paramref name="network"/>'s parameters from its gradients, all of it or nothing: when any
    /// gradient is NaN or infinite, nothing changes (parameters, state, <see cref="StepCount"/>) and the exception names the tensor.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> is null.</exception>
    /// <exception cref="TrainingDivergedException">A gradient is not finite; nothing was changed.</exception>
    /// <exception cref="InvalidOperationException">This optimizer holds state for a network of another size.</exception>
    public void Step(INetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        Step(network.Parameters, network.Gradients, network.ParameterTensors);
    }

    /// <summary>Parameters per part below which an update is not split.</summary>
    private const int MinParametersPerPart = 32 * 1024;

    private IReadOnlyList<ParameterTensor>? _tensors; // the layout of the step in progress
    private static readonly PartAction UpdatePart = static (state, part, parts, gradients, parameters) =>
        ((Optimizer)state).UpdateRange(parameters, gradients, WorkerPool.Start(parameters.Length, part, parts), WorkerPool.Start(parameters.Length, part + 1, parts));

    /// <summary>
    /// Applies one update to <paramref name="parameters"/> from <paramref name="gradients"/>, laid out as <paramref name="tensors"/>:
    /// all of it or nothing, as <see cref="Step(INetwork)"/>. With <see cref="MaxGradientNorm"/> set, the gradients are scaled in place first.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="tensors"/> is null.</exception>
    /// <exception cref="ArgumentException">The spans differ in length, or a tensor lies outside them.</exception>
    /// <exception cref="TrainingDivergedException">A gradient is not finite; nothing was changed.</exception>
    /// <exception cref="InvalidOperationException">This optimizer holds state for a network of another size.</exception>
    public void Step(Span<float> parameters, Span<float> gradients, IReadOnlyList<ParameterTensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (gradients.Length != parameters.Length)
            throw new ArgumentException($"There are {parameters.Length} parameters but {gradients.Length} gradients.", nameof(gradients));
        if (parameters.IsEmpty) throw new ArgumentException("A network has at least one parameter.", nameof(parameters));
        for (int i = 0; i < tensors.Count; i++)
            if (tensors[i].Offset < 0 || (long)tensors[i].Offset + tensors[i].Length > parameters.Length)
                throw new ArgumentException($"Tensor '{tensors[i].Name}' spans [{tensors[i].Offset}, {(long)tensors[i].Offset + tensors[i].Length}) of a buffer of {parameters.Length} parameters.", nameof(tensors));
        if (!Kernels.Guard.AllFinite(gradients)) throw TrainingDivergedException.ForGradients(gradients, tensors);
        EnsureState(parameters.Length); // throws, before anything changes, for state of another size
        if (MaxGradientNorm is float max) GradientClipping.ClipByNorm(gradients, max);
        StepCount++;
        _tensors = tensors;
        int parts = Math.Max(1, Math.Min(Threads, parameters.Length / MinParametersPerPart));
        if (parts == 1) UpdateRange(parameters, gradients, 0, parameters.Length);
        else WorkerPool.Run(parts, parts, this, UpdatePart, gradients, parameters);
        _tensors = null;
    }

    // Updates the parameters in [from, to), tensor by tensor (each with its own decay).
    private void UpdateRange(Span<float> parameters, ReadOnlySpan<float> gradients, int from, int to)
    {
        var tensors = _tensors!;
        for (int i = 0; i < tensors.Count; i++) // an index loop: foreach over the interface would allocate an enumerator per step
        {
            var t = tensors[i];
            if (!t.Trainable) continue; // running statistics: the forward pass keeps them, the optimizer never touches them
            int start = Math.Max(t.Offset, from), end = Math.Min(t.Offset + t.Length, to);
            if (start < end)
                Update(parameters.Slice(start, end - start), gradients.Slice(start, end - start), start, t.Decays ? WeightDecay : 0f);
        }
    }

    /// <summary>Forgets all state, as a newly created optimizer.</summary>
    public virtual void Reset() => StepCount = 0;

    /// <summary>
    /// The per-parameter state buffers, by PyTorch's names (<c>momentum_buffer</c>; <c>exp_avg</c>, <c>exp_avg_sq</c>), each with the
    /// parameter buffer's layout; empty for an optimizer that keeps none. A checkpoint saves and restores them.
    /// </summary>
    protected virtual IEnumerable<(string Name, float[] Values)> NamedState() => [];

    /// <summary>The state buffers for <paramref name="parameterCount"/> parameters, allocated if this optimizer has taken no step yet.</summary>
    internal IReadOnlyList<(string Name, float[] Values)> CheckpointState(int parameterCount)
    {
        EnsureState(parameterCount);
        return [.. NamedState()];
    }

    /// <summary>Sets the step count and learning rate a checkpoint recorded (the buffers are restored in place).</summary>
    internal void RestoreCounters(long stepCount, float learningRate)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(stepCount);
        LearningRate = learningRate;
        StepCount = stepCount;
    }

    /// <summary>Allocates per-parameter state the first time, or checks its size.</summary>
    protected abstract void EnsureState(int parameterCount);

    /// <summary>Updates one tensor: <paramref name="offset"/> locates it in the state buffers.</summary>
    protected abstract void Update(Span<float> p, ReadOnlySpan<float> g, int offset, float decay);

    /// <summary>Allocates or checks a state buffer of the parameter buffer's length.</summary>
    protected static float[] State(ref float[]? buffer, int parameterCount)
    {
        if (buffer is null) return buffer = new float[parameterCount];
        if (buffer.Length != parameterCount)
            throw new InvalidOperationException($"This optimizer holds state for {buffer.Length} parameters and was given {parameterCount}: use one optimizer per network.");
        return buffer;
    }
}

/// <summary>
/// Stochastic gradient descent with optional momentum, as PyTorch's <c>SGD</c>:
/// g′ = g + λ·p; v = μ·v + g′; p −= lr·v (Nesterov: p −= lr·(g′ + μ·v)).
/// </summary>
public sealed class Sgd : Optimizer
{
    private float[]? _velocity;

    /// <summary>Creates SGD.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A rate, the decay or the momentum is out of its range (momentum in [0, 1)).</exception>
    public Sgd(float learningRate, float momentum = 0f, float weightDecay = 0f, bool nesterov = false) : base(learningRate, weightDecay)
    {
        if (!(momentum >= 0 && momentum < 1)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "Momentum must be in [0, 1).");
        Momentum = momentum;
        Nesterov = nesterov;
    }

    /// <summary>The momentum factor μ.</summary>
    public float Momentum { get; }

    /// <summary>Whether the Nesterov form is used.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc/>
    protected override void EnsureState(int parameterCount)
    {
        if (Momentum > 0) State(ref _velocity, parameterCount);
    }

    /// <inheritdoc/>
    protected override IEnumerable<(string Name, float[] Values)> NamedState()
    {
        if (_velocity is not null) yield return ("momentum_buffer", _velocity);
    }

    /// <inheritdoc/>
    protected override void Update(Span<float> p, ReadOnlySpan<float> g, int offset, float decay)
    {
        float lr = LearningRate;
        if (Momentum == 0)
        {
            // p −= lr·(g + λ·p), as p·(1 − lr·λ) − lr·g.
            // Kernels.Elementwise, not TensorPrimitives: its non-temporal stores would push the parameters out of the caches.
            if (decay != 0) Elementwise.Scale(p, 1f - lr * decay);
            Elementwise.MultiplyAdd(g, -lr, p);
            return;
        }
        var v = _velocity.AsSpan(offset, p.Length);
        if (Vector512.IsHardwareAccelerated) MomentumUpdate<Width512, Vector512<float>>(p, g, v, lr, Momentum, decay, Nesterov);
        else if (Vector256.IsHardwareAccelerated) MomentumUpdate<Width256, Vector256<float>>(p, g, v, lr, Momentum, decay, Nesterov);
        else MomentumUpdate<Width128, Vector128<float>>(p, g, v, lr, Momentum, decay, Nesterov);
    }

    /// <summary>
    /// The momentum update at one width, over p's length (unchecked; g and v at least as long): g′ = g + λ·p; v ← μ·v + g′;
    /// p ← p − lr·v, or p − lr·(g′ + μ·v) for Nesterov. The elements past the last whole vector take the same vector
    /// arithmetic on a zero-padded copy, so that a buffer split into parts (over threads) gives the bits of the whole.
    /// </summary>
    internal static void MomentumUpdate<TWidth, TVector>(Span<float> p, ReadOnlySpan<float> g, Span<float> v, float lr, float mu, float decay, bool nesterov)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int n = p.Length, i = 0;
        ref float rp = ref MemoryMarshal.GetReference(p);
        ref float rg = ref MemoryMarshal.GetReference(g);
        ref float rv = ref MemoryMarshal.GetReference(v);
        for (; i + TWidth.Count <= n; i += TWidth.Count) MomentumBlock<TWidth, TVector>(ref rp, ref rg, ref rv, (nuint)i, lr, mu, decay, nesterov);
        if (i == n) return;
        const int L = Activations.WidestLanes;
        Span<float> t = stackalloc float[3 * L];
        p.Slice(i).CopyTo(t);
        g.Slice(i, n - i).CopyTo(t.Slice(L));
        v.Slice(i, n - i).CopyTo(t.Slice(2 * L));
        MomentumBlock<TWidth, TVector>(ref t[0], ref t[L], ref t[2 * L], 0, lr, mu, decay, nesterov);
        t.Slice(0, n - i).CopyTo(p.Slice(i));
        t.Slice(2 * L, n - i).CopyTo(v.Slice(i));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MomentumBlock<TWidth, TVector>(ref float p, ref float g, ref float v, nuint i, float lr, float mu, float decay, bool nesterov)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        var vmu = TWidth.Broadcast(mu);
        var pi = TWidth.Load(ref p, i);
        var gi = TWidth.MultiplyAdd(TWidth.Broadcast(decay), pi, TWidth.Load(ref g, i));
        var vi = TWidth.MultiplyAdd(vmu, TWidth.Load(ref v, i), gi);
        TWidth.Store(vi, ref v, i);
        var step = nesterov ? TWidth.MultiplyAdd(vmu, vi, gi) : vi;
        TWidth.Store(TWidth.MultiplyAdd(TWidth.Broadcast(-lr), step, pi), ref p, i);
    }

    /// <inheritdoc/>
    public override void Reset()
    {
        base.Reset();
        if (_velocity is not null) Array.Clear(_velocity);
    }
}

/// <summary>
/// Adam, as PyTorch's <c>Adam</c> (weight decay added to the gradient, L2 style); <see cref="AdamW"/> decouples it.
/// </summary>
public class Adam : Optimizer
{
    private float[]? _m, _v;

    /// <summary>Creates Adam.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A rate, the decay, a beta (in [0, 1)) or epsilon (positive) is out of its range.</exception>
    public Adam(float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0f)
        : base(learningRate, weightDecay)
    {
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta1 must be in [0, 1).");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta2 must be in [0, 1).");
        if (!(epsilon > 0) || !float.IsFinite(epsilon)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be a positive finite number.");
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
    }

    /// <summary>Decay of the first moment.</summary>
    public float Beta1 { get; }

    /// <summary>Decay of the second moment.</summary>
    public float Beta2 { get; }

    /// <summary>Added to the root of the second moment.</summary>
    public float Epsilon { get; }

    /// <summary>True for AdamW: decay shrinks the weights directly instead of joining the gradient.</summary>
    protected virtual bool Decoupled => false;

    /// <inheritdoc/>
    protected override void EnsureState(int parameterCount)
    {
        State(ref _m, parameterCount);
        State(ref _v, parameterCount);
    }

    /// <inheritdoc/>
    protected override IEnumerable<(string Name, float[] Values)> NamedState()
    {
        if (_m is not null) yield return ("exp_avg", _m);
        if (_v is not null) yield return ("exp_avg_sq", _v);
    }

    /// <inheritdoc/>
    protected override void Update(Span<float> p, ReadOnlySpan<float> g, int offset, float decay)
    {
        var m = _m.AsSpan(offset, p.Length);
        var v = _v.AsSpan(offset, p.Length);
        float b1 = Beta1, b2 = Beta2, eps = Epsilon, lr = LearningRate;
        float c1 = 1f / (1f - MathF.Pow(b1, StepCount));
        float c2 = 1f / (1f - MathF.Pow(b2, StepCount));
        // Decoupled (AdamW): p ← p·(1 − lr·λ) before the step. L2 (Adam): g ← g + λ·p.
        var k = new AdamConstants(b1, b2, eps, lr * c1, c2, Decoupled ? 1f - lr * decay : 1f, Decoupled ? 0f : decay);
        if (Vector512.IsHardwareAccelerated) AdamUpdate<Width512, Vector512<float>>(p, g, m, v, k);
        else if (Vector256.IsHardwareAccelerated) AdamUpdate<Width256, Vector256<float>>(p, g, m, v, k);
        else AdamUpdate<Width128, Vector128<float>>(p, g, m, v, k);
    }

    /// <summary>
    /// The constants of one Adam step: the betas and epsilon, the learning rate times the first moment's bias correction
    /// (<paramref name="StepSize"/>), the second moment's correction, the factor weights shrink by first (AdamW) and the
    /// L2 decay added to the gradient (Adam).
    /// </summary>
    internal readonly record struct AdamConstants(float Beta1, float Beta2, float Epsilon, float StepSize, float Correction2, float Shrink, float L2);

    /// <summary>
    /// The Adam update at one width, over p's length (unchecked; g, m and v at least as long): g′ = g + L2·p;
    /// m ← β₁·m + (1 − β₁)·g′; v ← β₂·v + (1 − β₂)·g′²; p ← p·shrink − step·m / (√(v·c₂) + ε). The elements past the
    /// last whole vector take the same vector arithmetic on a zero-padded copy, so that a buffer split into parts (over
    /// threads) gives the bits of the whole.
    /// </summary>
    internal static void AdamUpdate<TWidth, TVector>(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, AdamConstants k)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int n = p.Length, i = 0;
        ref float rp = ref MemoryMarshal.GetReference(p);
        ref float rg = ref MemoryMarshal.GetReference(g);
        ref float rm = ref MemoryMarshal.GetReference(m);
        ref float rv = ref MemoryMarshal.GetReference(v);
        for (; i + TWidth.Count <= n; i += TWidth.Count) AdamBlock<TWidth, TVector>(ref rp, ref rg, ref rm, ref rv, (nuint)i, k);
        if (i == n) return;
        const int L = Activations.WidestLanes;
        Span<float> t = stackalloc float[4 * L];
        p.Slice(i).CopyTo(t);
        g.Slice(i, n - i).CopyTo(t.Slice(L));
        m.Slice(i, n - i).CopyTo(t.Slice(2 * L));
        v.Slice(i, n - i).CopyTo(t.Slice(3 * L));
        AdamBlock<TWidth, TVector>(ref t[0], ref t[L], ref t[2 * L], ref t[3 * L], 0, k);
        t.Slice(0, n - i).CopyTo(p.Slice(i));
        t.Slice(2 * L, n - i).CopyTo(m.Slice(i));
        t.Slice(3 * L, n - i).CopyTo(v.Slice(i));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AdamBlock<TWidth, TVector>(ref float p, ref float g, ref float m, ref float v, nuint i, AdamConstants k)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        var pi = TWidth.Load(ref p, i);
        var gi = TWidth.MultiplyAdd(TWidth.Broadcast(k.L2), pi, TWidth.Load(ref g, i));
        var mi = TWidth.MultiplyAdd(TWidth.Broadcast(k.Beta1), TWidth.Load(ref m, i), TWidth.Multiply(TWidth.Broadcast(1 - k.Beta1), gi));
        var vi = TWidth.MultiplyAdd(TWidth.Broadcast(k.Beta2), TWidth.Load(ref v, i), TWidth.Multiply(TWidth.Multiply(TWidth.Broadcast(1 - k.Beta2), gi), gi));
        TWidth.Store(mi, ref m, i);
        TWidth.Store(vi, ref v, i);
        var denominator = TWidth.Add(TWidth.Sqrt(TWidth.Multiply(vi, TWidth.Broadcast(k.Correction2))), TWidth.Broadcast(k.Epsilon));
        // The denominator is at least ε and at most about 2⁶⁴: its reciprocal is normal, and with AVX-512 costs a quarter of
        // a division (the divider is the update's bottleneck, with the square root).
        var step = TWidth.Multiply(TWidth.Multiply(TWidth.Broadcast(k.StepSize), mi), TWidth.Reciprocal(denominator));
        TWidth.Store(TWidth.Subtract(TWidth.Multiply(pi, TWidth.Broadcast(k.Shrink)), step), ref p, i);
    }

    /// <inheritdoc/>
    public override void Reset()
    {
        base.Reset();
        if (_m is not null) Array.Clear(_m);
        if (_v is not null) Array.Clear(_v);
    }
}

/// <summary>AdamW: Adam with decoupled weight decay (p −= lr·λ·p), as PyTorch's <c>AdamW</c>; default λ = 0.01.</summary>
public sealed class AdamW : Adam
{
    /// <summary>Creates AdamW.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A rate, the decay, a beta (in [0, 1)) or epsilon (positive) is out of its range.</exception>
    public AdamW(float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0.01f)
        : base(learningRate, beta1, beta2, epsilon, weightDecay) { }

    /// <inheritdoc/>
    protected override bool Decoupled => true;
}

/// <summary>A learning-rate schedule: the factor applied to the base learning rate in each epoch.</summary>
public abstract class LearningRateSchedule
{
    /// <summary>The factor for epoch <paramref name="epoch"/> (from 0) of <paramref name="epochs"/>.</summary>
    public abstract float Factor(int epoch, int epochs);
}

/// <summary>Multiplies the learning rate by <see cref="Gamma"/> every <see cref="StepSize"/> epochs, as PyTorch's <c>StepLR</c>.</summary>
/// <exception cref="ArgumentOutOfRangeException">The step size is below 1, or gamma is not a positive finite number.</exception>
public sealed class StepSchedule(int stepSize, float gamma = 0.1f) : LearningRateSchedule
{
    /// <summary>Epochs between decays.</summary>
    public int StepSize { get; } = stepSize > 0 ? stepSize : throw new ArgumentOutOfRangeException(nameof(stepSize), stepSize, "The step size must be positive.");

    /// <summary>The decay factor.</summary>
    public float Gamma { get; } = gamma > 0 && float.IsFinite(gamma) ? gamma : throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "Gamma must be a positive finite number.");

    /// <inheritdoc/>
    public override float Factor(int epoch, int epochs) => MathF.Pow(Gamma, epoch / StepSize);
}

/// <summary>Cosine annealing from the base rate down to <see cref="MinimumFactor"/> × base over the run, as PyTorch's <c>CosineAnnealingLR</c>.</summary>
/// <exception cref="ArgumentOutOfRangeException">The minimum factor is outside [0, 1].</exception>
public sealed class CosineSchedule(float minimumFactor = 0f) : LearningRateSchedule
{
    /// <summary>The final learning rate as a fraction of the base rate.</summary>
    public float MinimumFactor { get; } = minimumFactor is >= 0 and <= 1 ? minimumFactor : throw new ArgumentOutOfRangeException(nameof(minimumFactor), minimumFactor, "The minimum factor must be in [0, 1].");

    /// <inheritdoc/>
    public override float Factor(int epoch, int epochs)
        => epochs <= 1 ? 1f : MinimumFactor + (1 - MinimumFactor) * 0.5f * (1 + MathF.Cos(MathF.PI * epoch / epochs));
}
