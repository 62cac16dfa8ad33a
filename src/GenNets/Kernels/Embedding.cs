using System;
using System.Globalization;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace GenNets.Kernels;

/// <summary>
/// A token embedding: row r of the output is the table's row for token id r. A token network carries its ids through
/// its float input, one per position, so that it has the shape of any other network's; an id must be a whole number
/// in [0, vocabulary), and the vocabulary at most 2²⁴ (the whole numbers a float holds exactly).
/// </summary>
public static class Embedding
{
    /// <summary>The largest vocabulary whose ids a float holds exactly: 2²⁴.</summary>
    public const int LargestVocabulary = 1 << 24;

    /// <summary>
    /// y[r] = table[ids[r]] for the <paramref name="rows"/> rows (samples of <paramref name="positions"/> rows each).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">rows is negative; positions, vocabulary or dimension less than 1; vocabulary above <see cref="LargestVocabulary"/>; or a span would hold more than <see cref="int.MaxValue"/> values.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its shape, or an id is not a whole number in [0, vocabulary) (the message names its sample, position and value).</exception>
    public static void Forward(ReadOnlySpan<float> ids, ReadOnlySpan<float> table, Span<float> y, int rows, int positions, int vocabulary, int dimension)
    {
        Sizes.Positive(positions, nameof(positions));
        long tableLength = Table(vocabulary, dimension);
        Sizes.NotNegative(rows, nameof(rows));
        Sizes.Need(ids.Length, rows, nameof(ids), "one id per row ({0})", rows);
        Sizes.Need(table.Length, tableLength, nameof(table), "table [vocabulary = {0}, dimension = {1}]", vocabulary, dimension);
        Sizes.Need(y.Length, Sizes.Product(rows, nameof(rows), dimension, nameof(dimension)), nameof(y), "y [rows = {0}, dimension = {1}]", rows, dimension);
        for (int r = 0; r < rows; r++)
        {
            int id = Id(ids[r], r, positions, vocabulary);
            table.Slice(id * dimension, dimension).CopyTo(y.Slice(r * dimension, dimension));
        }
    }

    /// <summary>
    /// Adds row r of <paramref name="dy"/> into row ids[r] of <paramref name="tableGradient"/>, for r in order (so that
    /// rows sharing an id add up the same way every time). The ids are checked again; with <paramref name="positions"/>
    /// given, a bad id's message names its sample and position, else its row.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">rows or positions is negative; vocabulary or dimension less than 1; vocabulary above <see cref="LargestVocabulary"/>; or a span would hold more than <see cref="int.MaxValue"/> values.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its shape, or an id is not a whole number in [0, vocabulary).</exception>
    public static void Backward(ReadOnlySpan<float> ids, ReadOnlySpan<float> dy, Span<float> tableGradient, int rows, int vocabulary, int dimension, int positions = 0)
    {
        Sizes.NotNegative(positions, nameof(positions));
        long tableLength = Table(vocabulary, dimension);
        Sizes.NotNegative(rows, nameof(rows));
        Sizes.Need(ids.Length, rows, nameof(ids), "one id per row ({0})", rows);
        Sizes.Need(dy.Length, Sizes.Product(rows, nameof(rows), dimension, nameof(dimension)), nameof(dy), "dy [rows = {0}, dimension = {1}]", rows, dimension);
        Sizes.Need(tableGradient.Length, tableLength, nameof(tableGradient), "tableGradient [vocabulary = {0}, dimension = {1}]", vocabulary, dimension);
        for (int r = 0; r < rows; r++)
        {
            int id = Id(ids[r], r, positions, vocabulary);
            var target = tableGradient.Slice(id * dimension, dimension);
            TensorPrimitives.Add(target, dy.Slice(r * dimension, dimension), target);
        }
    }

    /// <summary>Checks that every id is in [0, vocabulary), naming the first that is not by its sample and position.</summary>
    /// <exception cref="ArgumentOutOfRangeException">positions or vocabulary is less than 1.</exception>
    /// <exception cref="ArgumentException">An id is outside the vocabulary.</exception>
    public static void CheckIds(ReadOnlySpan<int> ids, int positions, int vocabulary)
    {
        Sizes.Positive(positions, nameof(positions));
        Sizes.Positive(vocabulary, nameof(vocabulary));
        for (int r = 0; r < ids.Length; r++)
            if ((uint)ids[r] >= (uint)vocabulary) ThrowOutside(ids[r].ToString(CultureInfo.InvariantCulture), r, positions, vocabulary, whole: true);
    }

    /// <summary>Checks the ids as <see cref="CheckIds"/> does, then writes them as floats to <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">positions or vocabulary is less than 1, or vocabulary is above <see cref="LargestVocabulary"/>.</exception>
    /// <exception cref="ArgumentException">An id is outside the vocabulary, or <paramref name="destination"/> is shorter than <paramref name="ids"/>.</exception>
    public static void ToFloats(ReadOnlySpan<int> ids, Span<float> destination, int positions, int vocabulary)
    {
        Vocabulary(vocabulary);
        Sizes.AsLong(destination.Length, ids.Length, nameof(destination), nameof(ids));
        CheckIds(ids, positions, vocabulary);
        for (int r = 0; r < ids.Length; r++) destination[r] = ids[r];
    }

    // The id a float carries, or the exception naming it.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Id(float value, int row, int positions, int vocabulary)
    {
        // NaN fails every comparison; the vocabulary (at most 2²⁴) converts to float exactly.
        if (value >= 0 && value < vocabulary && value == MathF.Floor(value)) return (int)value;
        ThrowOutside(value.ToString("R", CultureInfo.InvariantCulture), row, positions, vocabulary, whole: value == MathF.Floor(value));
        return 0;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowOutside(string id, int row, int positions, int vocabulary, bool whole)
    {
        string where = positions > 0 ? $"at position {row % positions} of sample {row / positions}" : $"in row {row}";
        string range = $"the vocabulary of {vocabulary} (ids 0 to {vocabulary - 1})";
        throw new ArgumentException(whole
            ? $"Token id {id} {where} is outside {range}."
            : $"Token id {id} {where} is not a whole number: ids index {range}.", "ids");
    }

    // Checks vocabulary and dimension; returns the table's length.
    private static long Table(int vocabulary, int dimension)
    {
        Vocabulary(vocabulary);
        Sizes.Positive(dimension, nameof(dimension));
        return Sizes.Product(vocabulary, nameof(vocabulary), dimension, nameof(dimension));
    }

    private static void Vocabulary(int vocabulary)
    {
        Sizes.Positive(vocabulary, nameof(vocabulary));
        if (vocabulary > LargestVocabulary)
            throw new ArgumentOutOfRangeException(nameof(vocabulary), vocabulary,
                $"vocabulary is {vocabulary}, but ids travel as floats, which hold whole numbers exactly only up to 2^24 = {LargestVocabulary}.");
    }
}

/// <summary>
/// Position encodings added to a sequence's embeddings: the fixed sinusoidal table of "Attention Is All You Need", or a
/// learned table [positions, dimension] (its gradient the sum over the batch).
/// </summary>
public static class PositionalEncoding
{
    /// <summary>A new [<paramref name="positions"/>, <paramref name="dimension"/>] table of the sinusoids (<see cref="Sinusoidal"/>): what a generated network keeps in a static field.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is less than 1, or the table would hold more than <see cref="int.MaxValue"/> floats.</exception>
    public static float[] SinusoidalTable(int positions, int dimension)
    {
        Sizes.Positive(positions, nameof(positions));
        Sizes.Positive(dimension, nameof(dimension));
        var table = new float[Sizes.Product(positions, nameof(positions), dimension, nameof(dimension))];
        Sinusoidal(table, positions, dimension);
        return table;
    }

    /// <summary>
    /// table[t, 2i] = sin(t / 10000^(2i/d)) and table[t, 2i + 1] = cos(t / 10000^(2i/d)), computed in double and rounded
    /// once (an odd dimension's last column is a sine).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">positions is negative, dimension less than 1, or the table would hold more than <see cref="int.MaxValue"/> values.</exception>
    /// <exception cref="ArgumentException"><paramref name="table"/> is shorter than [positions, dimension].</exception>
    public static void Sinusoidal(Span<float> table, int positions, int dimension)
    {
        Sizes.Positive(dimension, nameof(dimension));
        Sizes.Need(table.Length, Sizes.Product(positions, nameof(positions), dimension, nameof(dimension)), nameof(table), "table [positions = {0}, dimension = {1}]", positions, dimension);
        for (int c = 0; c < dimension; c++)
        {
            double frequency = Math.Pow(10000.0, -(double)(c & ~1) / dimension);
            bool sine = (c & 1) == 0;
            for (int t = 0; t < positions; t++)
            {
                double angle = t * frequency;
                table[t * dimension + c] = (float)(sine ? Math.Sin(angle) : Math.Cos(angle));
            }
        }
    }

    /// <summary>y = x + table for each of the <paramref name="batch"/> samples [positions, dimension]; y may be x.</summary>
    /// <exception cref="ArgumentOutOfRangeException">batch is negative, positions or dimension less than 1, or a span would hold more than <see cref="int.MaxValue"/> values.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its shape.</exception>
    public static void Add(ReadOnlySpan<float> x, ReadOnlySpan<float> table, Span<float> y, int batch, int positions, int dimension)
    {
        int n = Sample(positions, dimension);
        Sizes.Need(table.Length, n, nameof(table), "table [positions = {0}, dimension = {1}]", positions, dimension);
        long all = Sizes.Product(batch, nameof(batch), positions, nameof(positions), dimension, nameof(dimension));
        Sizes.Need(x.Length, all, nameof(x), "x [batch = {0}, positions = {1}, dimension = {2}]", batch, positions, dimension);
        Sizes.Need(y.Length, all, nameof(y), "y [batch = {0}, positions = {1}, dimension = {2}]", batch, positions, dimension);
        var rows = table.Slice(0, n);
        for (int b = 0; b < batch; b++) TensorPrimitives.Add(x.Slice(b * n, n), rows, y.Slice(b * n, n));
    }

    /// <summary>y = x + table[position] for one position's row of <paramref name="dimension"/> values (generation); y may be x.</summary>
    /// <exception cref="ArgumentOutOfRangeException">position is negative, dimension less than 1, or the table's rows would hold more than <see cref="int.MaxValue"/> values.</exception>
    /// <exception cref="ArgumentException">A span is shorter than it needs (the table: position + 1 rows).</exception>
    public static void AddRow(ReadOnlySpan<float> x, ReadOnlySpan<float> table, Span<float> y, int position, int dimension)
    {
        Sizes.NotNegative(position, nameof(position));
        Sizes.Positive(dimension, nameof(dimension));
        long reach = (position + 1L) * dimension;
        Sizes.Fits(reach, nameof(table), "the table's rows 0 to position");
        Sizes.Need(table.Length, reach, nameof(table), "rows 0 to position = {0} of dimension = {1}", position, dimension);
        Sizes.Need(x.Length, dimension, nameof(x), "one row of dimension = {0}", dimension);
        Sizes.Need(y.Length, dimension, nameof(y), "one row of dimension = {0}", dimension);
        TensorPrimitives.Add(x.Slice(0, dimension), table.Slice(position * dimension, dimension), y.Slice(0, dimension));
    }

    /// <summary>
    /// The gradient of a learned table: tableGradient (overwritten) = Σ over the <paramref name="batch"/> samples of dy's
    /// [positions, dimension], added in sample order (0 for no samples).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">batch is negative, positions or dimension less than 1, or a span would hold more than <see cref="int.MaxValue"/> values.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its shape.</exception>
    public static void LearnedBackward(ReadOnlySpan<float> dy, Span<float> tableGradient, int batch, int positions, int dimension)
    {
        int n = Sample(positions, dimension);
        Sizes.Need(tableGradient.Length, n, nameof(tableGradient), "tableGradient [positions = {0}, dimension = {1}]", positions, dimension);
        long all = Sizes.Product(batch, nameof(batch), positions, nameof(positions), dimension, nameof(dimension));
        Sizes.Need(dy.Length, all, nameof(dy), "dy [batch = {0}, positions = {1}, dimension = {2}]", batch, positions, dimension);
        var target = tableGradient.Slice(0, n);
        if (batch == 0)
        {
            target.Clear();
            return;
        }
        dy.Slice(0, n).CopyTo(target);
        for (int b = 1; b < batch; b++) TensorPrimitives.Add(target, dy.Slice(b * n, n), target);
    }

    // positions·dimension, both at least 1.
    private static int Sample(int positions, int dimension)
    {
        Sizes.Positive(positions, nameof(positions));
        Sizes.Positive(dimension, nameof(dimension));
        return (int)Sizes.Product(positions, nameof(positions), dimension, nameof(dimension));
    }
}
