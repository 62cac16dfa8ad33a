using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GenNets.Kernels;

/// <summary>Argument checks for generated code, with messages that give the numbers.</summary>
public static class Guard
{
    /// <summary>Checks a single sample's input and output lengths.</summary>
    /// <exception cref="ArgumentException">A span's length is not the network's.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Sample(int inputLength, int inputSize, int outputLength, int outputSize)
    {
        if (inputLength != inputSize) Throw($"The input holds {inputLength} values; the network takes {inputSize} per sample.", "input");
        if (outputLength != outputSize) Throw($"The output span holds {outputLength} values; the network produces {outputSize} per sample.", "output");
    }

    /// <summary>Checks a batch's input and output lengths. Sizes multiply in 64 bits: no batch size wraps past a check.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1.</exception>
    /// <exception cref="ArgumentException">A span's length is not the batch's.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Batch(int inputLength, int inputSize, int outputLength, int outputSize, int batchSize)
    {
        Inputs(inputLength, inputSize, batchSize);
        if (outputLength != (long)batchSize * outputSize)
            Throw($"The outputs span holds {outputLength} values; {batchSize} samples of {outputSize} outputs need {(long)batchSize * outputSize}.", "outputs");
    }

    /// <summary>Checks a batch's input length. Sizes multiply in 64 bits: no batch size wraps past a check.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1.</exception>
    /// <exception cref="ArgumentException">The inputs' length is not the batch's.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Inputs(int inputLength, int inputSize, int batchSize)
    {
        if (batchSize <= 0) ThrowRange($"The batch size must be positive, but is {batchSize}.", "batchSize", batchSize);
        if (inputLength != (long)batchSize * inputSize)
            Throw($"The inputs hold {inputLength} values; {batchSize} samples of {inputSize} inputs need {(long)batchSize * inputSize}.", "inputs");
    }

    /// <summary>
    /// Checks that training buffers of <paramref name="floatsPerSample"/> floats a sample (the largest a network keeps) can
    /// be allocated for <paramref name="batchSize"/> samples: the batch is positive and the product fits a .NET array.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1, or too large for the network's buffers.</exception>
    public static void Capacity(int batchSize, long floatsPerSample)
    {
        if (batchSize <= 0) ThrowRange($"The batch size must be positive, but is {batchSize}.", "batchSize", batchSize);
        if (floatsPerSample > 0 && batchSize > Array.MaxLength / floatsPerSample)
            ThrowRange($"A batch of {batchSize} samples needs a buffer of {batchSize} × {floatsPerSample} = {(long)batchSize * floatsPerSample} floats, " +
                $"more than a .NET array holds ({Array.MaxLength}); the largest batch this network can train on is {Array.MaxLength / floatsPerSample}.", "batchSize", batchSize);
    }

    /// <summary>Checks sequence lengths, when given: one per sample, each from 0 to the declared steps.</summary>
    /// <exception cref="ArgumentException">There is not one length per sample.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A length is negative or above <paramref name="steps"/>.</exception>
    public static void Lengths(ReadOnlySpan<int> lengths, int batchSize, int steps)
    {
        if (lengths.IsEmpty) return;
        if (lengths.Length != batchSize) Throw($"A batch of {batchSize} sequences needs {batchSize} lengths, but {lengths.Length} were given.", "lengths");
        for (int s = 0; s < batchSize; s++)
            if ((uint)lengths[s] > (uint)steps)
                throw new ArgumentOutOfRangeException("lengths", lengths[s], $"Sequence {s} has length {lengths[s]}; lengths must be between 0 and the declared {steps} steps.");
    }

    /// <summary>True when every value is finite (a vectorised sum first; the exact check only when the sum is not finite).</summary>
    public static bool AllFinite(ReadOnlySpan<float> values)
    {
        return Elementwise.AllFinite(values);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Throw(string message, string parameter) => throw new ArgumentException(message, parameter);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowRange(string message, string parameter, int actual) => throw new ArgumentOutOfRangeException(parameter, actual, message);
}

/// <summary>Per-thread scratch for generated inference: allocated once per thread and grown only when a larger batch arrives.</summary>
public static class Scratch
{
    /// <summary>
    /// A span of <paramref name="length"/> floats from <paramref name="buffer"/>, replacing it with a larger one if needed.
    /// The span starts on a 64-byte boundary (the buffer is pinned and allocated a little larger), so that no 512-bit
    /// load of a row that starts at a multiple of 16 floats in it splits a cache line. A new buffer is zeroed.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Span<float> Get(ref float[]? buffer, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        int offset = buffer is null ? 0 : AlignedOffset(buffer);
        if (buffer is null || buffer.Length - offset < length)
        {
            buffer = GC.AllocateArray<float>((int)Math.Min((long)length + Alignment - 1, Array.MaxLength), pinned: true);
            offset = AlignedOffset(buffer);
        }
        return buffer.AsSpan(offset, length);
    }

    private const int Alignment = 16; // floats in 64 bytes

    // Floats from the start of a pinned buffer to its first 64-byte boundary (0 for an empty one).
    private static unsafe int AlignedOffset(float[] buffer) =>
        buffer.Length == 0 ? 0 : (int)((64 - ((nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer)) & 63)) & 63) / sizeof(float);
}
