using System;
using GenNets.Kernels;
using Xunit;

namespace GenNets.Tests.Kernels;

/// <summary>
/// Token embeddings and positional encodings: the embedding's forward and scatter-add backward against the twin (and the
/// twin against finite differences); ids that are not whole numbers in the vocabulary, named by sample, position and
/// value; the sinusoidal table at hand-computed entries and against the formula; adding a table per sample, per row,
/// and a learned table's gradient.
/// </summary>
public class EmbeddingTests
{
    private static int[] Ids(int count, int vocabulary, ulong seed)
    {
        var random = new SeededRandom(seed);
        var ids = new int[count];
        for (int i = 0; i < count; i++) ids[i] = (int)(random.NextDouble() * vocabulary);
        ids[0] = vocabulary - 1; // both ends of the vocabulary, and repeats
        if (count > 1) ids[1] = 0;
        if (count > 2) ids[2] = 0;
        return ids;
    }

    private static float[] AsFloats(int[] ids) => Array.ConvertAll(ids, i => (float)i);

    [Fact]
    public void ReferenceBackward_MatchesFiniteDifferences()
    {
        const int vocabulary = 5, dimension = 3;
        int[] ids = [4, 0, 0, 2, 4, 4];
        double[] table = Check.ToDouble(Check.Random(vocabulary * dimension, 1)), w = Check.ToDouble(Check.Random(ids.Length * dimension, 2));
        var g = Reference.EmbeddingBackward(ids, w, vocabulary, dimension);
        var fd = Check.FiniteDifferences(t =>
        {
            var y = Reference.Embedding(ids, t, vocabulary, dimension);
            double s = 0;
            for (int i = 0; i < y.Length; i++) s += w[i] * y[i];
            return s;
        }, table);
        Check.Close(fd, g, 1e-7, 1e-9, "dtable");
        Assert.Equal(0, g[3]); // id 1 never appears
    }

    [Theory]
    [InlineData(3, 7, 11, 5)]
    [InlineData(1, 1, 1, 1)]
    [InlineData(4, 16, 65, 33)]
    public void ForwardAndBackward_MatchReference(int batch, int positions, int vocabulary, int dimension)
    {
        int rows = batch * positions;
        int[] ids = Ids(rows, vocabulary, 3);
        float[] table = Check.Random(vocabulary * dimension, 4), dy = Check.Random(rows * dimension, 5);
        var y = new float[rows * dimension];
        Embedding.Forward(AsFloats(ids), table, y, rows, positions, vocabulary, dimension);
        Check.Close(Reference.Embedding(ids, Check.ToDouble(table), vocabulary, dimension), y, 0, 0, "y");

        // Backward adds to what is there.
        var start = Check.Random(vocabulary * dimension, 6);
        var gradient = (float[])start.Clone();
        Embedding.Backward(AsFloats(ids), dy, gradient, rows, vocabulary, dimension);
        var expected = Reference.EmbeddingBackward(ids, Check.ToDouble(dy), vocabulary, dimension);
        for (int i = 0; i < expected.Length; i++) expected[i] += start[i];
        Check.Close(expected, gradient, 1e-6, 1e-6, "table gradient");

        // Row order, every time: the same bits again.
        var again = (float[])start.Clone();
        Embedding.Backward(AsFloats(ids), dy, again, rows, vocabulary, dimension, positions);
        Assert.Equal(gradient, again);
    }

    [Fact]
    public void IdOutsideTheVocabulary_IsNamedBySamplePositionAndValue()
    {
        const int positions = 8, vocabulary = 65, dimension = 2, rows = 3 * positions;
        float[] table = new float[vocabulary * dimension], y = new float[rows * dimension];
        var ids = new float[rows];
        ids[2 * positions + 5] = 70;
        var e = Assert.Throws<ArgumentException>(() => Embedding.Forward(ids, table, y, rows, positions, vocabulary, dimension));
        Assert.Equal("Token id 70 at position 5 of sample 2 is outside the vocabulary of 65 (ids 0 to 64).", e.Message.Split(" (Parameter")[0]);
        Assert.Equal("ids", e.ParamName);

        ids[2 * positions + 5] = 0;
        ids[positions + 3] = 2.5f;
        e = Assert.Throws<ArgumentException>(() => Embedding.Forward(ids, table, y, rows, positions, vocabulary, dimension));
        Assert.Contains("Token id 2.5", e.Message);
        Assert.Contains("position 3 of sample 1", e.Message);
        Assert.Contains("not a whole number", e.Message);
        Assert.Contains("65", e.Message);

        ids[positions + 3] = -1;
        e = Assert.Throws<ArgumentException>(() => Embedding.Forward(ids, table, y, rows, positions, vocabulary, dimension));
        Assert.Contains("Token id -1 at position 3 of sample 1", e.Message);

        ids[positions + 3] = float.NaN;
        e = Assert.Throws<ArgumentException>(() => Embedding.Forward(ids, table, y, rows, positions, vocabulary, dimension));
        Assert.Contains("Token id NaN at position 3 of sample 1", e.Message);

        ids[positions + 3] = 65; // one past the end
        e = Assert.Throws<ArgumentException>(() => Embedding.Backward(ids, y, table, rows, vocabulary, dimension));
        Assert.Contains("Token id 65 in row 11", e.Message);
        e = Assert.Throws<ArgumentException>(() => Embedding.Backward(ids, y, table, rows, vocabulary, dimension, positions));
        Assert.Contains("Token id 65 at position 3 of sample 1", e.Message);
    }

    [Fact]
    public void IntIds_AreCheckedAndConverted()
    {
        int[] ids = [0, 4, 9, 3, 2, 1];
        var floats = new float[ids.Length];
        Embedding.ToFloats(ids, floats, 3, 10);
        Assert.Equal(new float[] { 0, 4, 9, 3, 2, 1 }, floats);
        Embedding.CheckIds(ids, 3, 10);
        ids[4] = 10;
        var e = Assert.Throws<ArgumentException>(() => Embedding.CheckIds(ids, 3, 10));
        Assert.Equal("Token id 10 at position 1 of sample 1 is outside the vocabulary of 10 (ids 0 to 9).", e.Message.Split(" (Parameter")[0]);
        ids[4] = -3;
        e = Assert.Throws<ArgumentException>(() => Embedding.ToFloats(ids, floats, 2, 10));
        Assert.Contains("Token id -3 at position 0 of sample 2", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Embedding.ToFloats([0], floats, 1, Embedding.LargestVocabulary + 1));
        Assert.Throws<ArgumentException>(() => Embedding.ToFloats([0, 1], floats.AsSpan(0, 1), 1, 10));
    }

    [Fact]
    public void Arguments_AreChecked()
    {
        float[] ids = [0, 1], table = new float[6], y = new float[6];
        Assert.Equal("table", Assert.Throws<ArgumentException>(() => Embedding.Forward(ids, table.AsSpan(0, 5), y, 2, 2, 3, 2)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Embedding.Forward(ids, table, y.AsSpan(0, 3), 2, 2, 3, 2)).ParamName);
        Assert.Equal("ids", Assert.Throws<ArgumentException>(() => Embedding.Forward(ids, table, y, 3, 2, 3, 2)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Embedding.Forward(ids, table, y, 2, 0, 3, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Embedding.Forward(ids, table, y, 2, 2, Embedding.LargestVocabulary + 1, 2));
    }

    // ---------------------------------------------------------------- positional encodings

    [Fact]
    public void Sinusoidal_HandComputedEntries()
    {
        const int positions = 5, dimension = 6;
        var pe = new float[positions * dimension];
        PositionalEncoding.Sinusoidal(pe, positions, dimension);
        for (int c = 0; c < dimension; c++) Assert.Equal(c % 2 == 0 ? 0f : 1f, pe[c]); // position 0: sin 0, cos 0
        Assert.Equal((float)Math.Sin(1), pe[dimension + 0]);
        Assert.Equal((float)Math.Cos(1), pe[dimension + 1]);
        // Columns 2 and 3: frequency 10000^(−2/6) = 1/21.5443469...
        Assert.Equal((float)Math.Sin(3 / 21.544346900318832), pe[3 * dimension + 2]);
        Assert.Equal((float)Math.Cos(3 / 21.544346900318832), pe[3 * dimension + 3]);
        // Columns 4 and 5: 10000^(−4/6) = 1/464.158883...
        Assert.Equal((float)Math.Sin(4 / 464.15888336127773), pe[4 * dimension + 4]);
    }

    [Theory]
    [InlineData(50, 16)]
    [InlineData(7, 5)] // odd: the last column is a sine
    [InlineData(1, 1)]
    [InlineData(0, 3)]
    public void Sinusoidal_MatchesReference(int positions, int dimension)
    {
        var pe = new float[positions * dimension];
        PositionalEncoding.Sinusoidal(pe, positions, dimension);
        var expected = Reference.SinusoidalEncoding(positions, dimension);
        Check.Close(expected, pe, 0, 6e-8, "PE");
        if (dimension % 2 == 1 && positions > 1)
            Assert.Equal((float)Math.Sin(1 / Math.Pow(10000, (dimension - 1.0) / dimension)), pe[dimension + dimension - 1]);
    }

    [Fact]
    public void Add_PerSample_InPlace_AndOneRow()
    {
        const int batch = 3, positions = 4, dimension = 5, n = positions * dimension;
        float[] x = Check.Random(batch * n, 11), table = Check.Random(n + 7, 12), y = new float[batch * n];
        PositionalEncoding.Add(x, table, y, batch, positions, dimension);
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < n; i++) Assert.Equal(x[b * n + i] + table[i], y[b * n + i]);
        var inPlace = (float[])x.Clone();
        PositionalEncoding.Add(inPlace, table, inPlace, batch, positions, dimension);
        Assert.Equal(y, inPlace);

        var row = new float[dimension];
        PositionalEncoding.AddRow(x.AsSpan(2 * dimension, dimension), table, row, 2, dimension);
        Assert.Equal(y.AsSpan(2 * dimension, dimension).ToArray(), row);
        Assert.Equal("table", Assert.Throws<ArgumentException>(() => PositionalEncoding.AddRow(x, table.AsSpan(0, 14), row, 2, dimension)).ParamName);
        Assert.Equal("table", Assert.Throws<ArgumentException>(() => PositionalEncoding.Add(x, table.AsSpan(0, n - 1), y, batch, positions, dimension)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => PositionalEncoding.Add(x, table, y.AsSpan(1), batch, positions, dimension)).ParamName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4)]
    public void LearnedBackward_SumsTheBatch_Overwriting(int batch)
    {
        const int positions = 3, dimension = 7, n = positions * dimension;
        float[] dy = Check.Random(batch * n, 21), gradient = Check.Random(n, 22);
        PositionalEncoding.LearnedBackward(dy, gradient, batch, positions, dimension);
        var expected = new double[n];
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < n; i++) expected[i] += dy[b * n + i];
        Check.Close(expected, gradient, 1e-6, 1e-7, "table gradient");
    }
}
