using System;

namespace GenNets.Threading;

/// <summary>One chunk's backward pass: chunk <paramref name="chunk"/> of <paramref name="chunks"/>, its parameter gradients into <paramref name="gradients"/>.</summary>
public delegate void ChunkAction(object network, int chunk, int chunks, Span<float> gradients, ReadOnlySpan<float> inputs);

/// <summary>
/// The backward pass of a batch cut into chunks, for networks whose gradients are sums over the batch computed chunk by
/// chunk (every generated network but one of dense layers alone, whose backward splits each layer's outputs instead).
/// The chunks go backward a group at a time, as many as there are threads: chunk 0 into the network's gradients, the
/// others each into a buffer of its own; then the group's buffers are added to the gradients in chunk order. The sum is
/// chunk 0 + chunk 1 + … in that order whatever the group's size, so the number of threads changes the memory and the
/// speed, never the result. The buffers are kept from call to call (allocated when more threads than before take part).
/// Not thread-safe: one network's training is not.
/// </summary>
public sealed class ChunkGradients
{
    private readonly int _parameterCount;
    private float[][] _buffers = [];
    // The run in progress: read by the parts, which WorkerPool hands only this object.
    private object? _network;
    private ChunkAction? _action;
    private float[]? _gradients;
    private int _chunks, _groupFirst, _groupCount, _from, _to;

    private static readonly PartAction s_backward = static (state, member, members, inputs, _) => ((ChunkGradients)state).Backward(member, inputs);
    private static readonly PartAction s_sum = static (state, slice, slices, _, _) => ((ChunkGradients)state).Sum(slice, slices);

    /// <summary>Gradients of a network of <paramref name="parameterCount"/> parameters.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="parameterCount"/> is below 1.</exception>
    public ChunkGradients(int parameterCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parameterCount, 1);
        _parameterCount = parameterCount;
    }

    /// <summary>
    /// Runs <paramref name="action"/> for each of <paramref name="chunks"/> chunks over <paramref name="threads"/> threads and
    /// sums the chunks' gradients into <paramref name="gradients"/> over the parameters [<paramref name="from"/>, <paramref name="to"/>)
    /// (those the action writes: a chunk's buffer holds what earlier runs wrote elsewhere).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="network"/>, <paramref name="action"/> or <paramref name="gradients"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A count is below 1, or the range is not within the parameters.</exception>
    /// <exception cref="ArgumentException"><paramref name="gradients"/> is not one gradient per parameter.</exception>
    public void Run(int chunks, int threads, object network, ChunkAction action, ReadOnlySpan<float> inputs, float[] gradients, int from, int to)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(action);
        ArgumentNullException.ThrowIfNull(gradients);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunks, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        if (gradients.Length != _parameterCount)
            throw new ArgumentException($"There are {gradients.Length} gradients for {_parameterCount} parameters.", nameof(gradients));
        if (from < 0 || to < from || to > _parameterCount)
            throw new ArgumentOutOfRangeException(nameof(to), $"The parameters [{from}, {to}) are not within the {_parameterCount} parameters.");
        int group = Math.Min(threads, chunks);
        if (_buffers.Length < group) Grow(group);
        (_network, _action, _gradients, _chunks, _from, _to) = (network, action, gradients, chunks, from, to);
        try
        {
            for (_groupFirst = 0; _groupFirst < chunks; _groupFirst += group)
            {
                _groupCount = Math.Min(group, chunks - _groupFirst);
                WorkerPool.Run(_groupCount, threads, this, s_backward, inputs, default);
                WorkerPool.Run(_groupCount, threads, this, s_sum, default, default);
            }
        }
        finally
        {
            (_network, _action, _gradients) = (null, null, null);
        }
    }

    // Chunk _groupFirst + member, into the gradients (chunk 0) or the member's own buffer.
    private void Backward(int member, ReadOnlySpan<float> inputs)
    {
        int chunk = _groupFirst + member;
        _action!(_network!, chunk, _chunks, chunk == 0 ? _gradients! : _buffers[member], inputs);
    }

    // Adds the group's chunk gradients to the gradients over one slice of the range, in chunk order.
    private void Sum(int slice, int slices)
    {
        int start = _from + WorkerPool.Start(_to - _from, slice, slices), length = _from + WorkerPool.Start(_to - _from, slice + 1, slices) - start;
        Span<float> total = _gradients.AsSpan(start, length);
        for (int member = _groupFirst == 0 ? 1 : 0; member < _groupCount; member++)
            Kernels.Elementwise.Add(new ReadOnlySpan<float>(_buffers[member], start, length), total);
    }

    private void Grow(int count)
    {
        var grown = new float[count][];
        for (int b = 0; b < count; b++) grown[b] = b < _buffers.Length ? _buffers[b] : new float[_parameterCount];
        _buffers = grown;
    }
}
