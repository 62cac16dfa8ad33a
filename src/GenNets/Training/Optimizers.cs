using System;
using System.Collections.Generic;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
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
            if (decay != 0) TensorPrimitives.Multiply(p, 1f - lr * decay, p);
            TensorPrimitives.MultiplyAdd(g, -lr, p, p);
            return;
        }
        var v = _velocity.AsSpan(offset, p.Length);
        float mu = Momentum;
        ref float rp = ref MemoryMarshal.GetReference(p);
        ref float rg = ref MemoryMarshal.GetReference(g);
        ref float rv = ref MemoryMarshal.GetReference(v);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vmu = Vector256.Create(mu);
            var vdecay = Vector256.Create(decay);
            var vlr = Vector256.Create(lr);
            for (; i + 8 <= p.Length; i += 8)
            {
                var pi = Vector256.LoadUnsafe(ref rp, (nuint)i);
                var gi = Vector256.FusedMultiplyAdd(vdecay, pi, Vector256.LoadUnsafe(ref rg, (nuint)i));
                var vi = Vector256.FusedMultiplyAdd(vmu, Vector256.LoadUnsafe(ref rv, (nuint)i), gi);
                vi.StoreUnsafe(ref rv, (nuint)i);
                var step = Nesterov ? Vector256.FusedMultiplyAdd(vmu, vi, gi) : vi;
                Vector256.FusedMultiplyAdd(-vlr, step, pi).StoreUnsafe(ref rp, (nuint)i);
            }
        }
        for (; i < p.Length; i++)
        {
            float gi = MathF.FusedMultiplyAdd(decay, p[i], g[i]);
            float vi = v[i] = MathF.FusedMultiplyAdd(mu, v[i], gi);
            p[i] = MathF.FusedMultiplyAdd(-lr, Nesterov ? MathF.FusedMultiplyAdd(mu, vi, gi) : vi, p[i]);
        }
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
        float shrink = Decoupled ? 1f - lr * decay : 1f;
        float l2 = Decoupled ? 0f : decay;
        ref float rp = ref MemoryMarshal.GetReference(p);
        ref float rg = ref MemoryMarshal.GetReference(g);
        ref float rm = ref MemoryMarshal.GetReference(m);
        ref float rv = ref MemoryMarshal.GetReference(v);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> vb1 = Vector256.Create(b1), vb2 = Vector256.Create(b2), va1 = Vector256.Create(1 - b1), va2 = Vector256.Create(1 - b2);
            Vector256<float> vc1 = Vector256.Create(lr * c1), vc2 = Vector256.Create(c2), veps = Vector256.Create(eps);
            Vector256<float> vshrink = Vector256.Create(shrink), vl2 = Vector256.Create(l2);
            for (; i + 8 <= p.Length; i += 8)
            {
                var pi = Vector256.LoadUnsafe(ref rp, (nuint)i);
                var gi = Vector256.FusedMultiplyAdd(vl2, pi, Vector256.LoadUnsafe(ref rg, (nuint)i));
                var mi = Vector256.FusedMultiplyAdd(vb1, Vector256.LoadUnsafe(ref rm, (nuint)i), va1 * gi);
                var vi = Vector256.FusedMultiplyAdd(vb2, Vector256.LoadUnsafe(ref rv, (nuint)i), va2 * gi * gi);
                mi.StoreUnsafe(ref rm, (nuint)i);
                vi.StoreUnsafe(ref rv, (nuint)i);
                (pi * vshrink - vc1 * mi / (Vector256.Sqrt(vi * vc2) + veps)).StoreUnsafe(ref rp, (nuint)i);
            }
        }
        for (; i < p.Length; i++)
        {
            float gi = MathF.FusedMultiplyAdd(l2, p[i], g[i]);
            float mi = m[i] = MathF.FusedMultiplyAdd(b1, m[i], (1 - b1) * gi);
            float vi = v[i] = MathF.FusedMultiplyAdd(b2, v[i], (1 - b2) * gi * gi);
            p[i] = p[i] * shrink - lr * c1 * mi / (MathF.Sqrt(vi * c2) + eps);
        }
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
