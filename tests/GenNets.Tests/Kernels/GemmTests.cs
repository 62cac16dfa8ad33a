using GenNets.Kernels;
using Xunit;

namespace GenNets.Tests.Kernels;

public class GemmTests
{
    // Sizes chosen to hit every path: full register blocks, odd rows, k tails, column tails.
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 1, 1, 1 }, { 1, 4, 8 }, { 1, 10, 128 }, { 2, 4, 16 }, { 3, 5, 7 }, { 7, 13, 33 }, { 64, 10, 128 }, { 5, 37, 70 }, { 64, 256, 784 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MultiplyTransposed_MatchesReference(int m, int n, int k)
    {
        float[] a = Check.Random(m * k, 1), b = Check.Random(n * k, 2), bias = Check.Random(n, 3);
        var c = new float[m * n];
        Gemm.MultiplyTransposed(a, b, bias, c, m, n, k);
        var expected = Reference.MultiplyTransposed(Check.ToDouble(a), Check.ToDouble(b), Check.ToDouble(bias), m, n, k);
        Check.Close(expected, c, 1e-5, 1e-5 * k, "C");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MultiplyAccumulate_InputGradientForm_MatchesReference(int m, int n, int k)
    {
        // C [m, n] = A [m, k] · B [k, n], A row-major.
        float[] a = Check.Random(m * k, 4), b = Check.Random(k * n, 5);
        var c = new float[m * n];
        Gemm.MultiplyAccumulate(a, k, 1, b, c, m, n, k, accumulate: false);
        Check.Close(Reference.Multiply(Check.ToDouble(a), Check.ToDouble(b), m, n, k), c, 1e-5, 1e-5 * k, "C");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MultiplyAccumulate_WeightGradientForm_AccumulatesTransposedProduct(int m, int n, int k)
    {
        // C [m, n] += Aᵀ·B where A is stored [k, m] (read with strides (1, m)) and B is [k, n].
        float[] at = Check.Random(k * m, 6), b = Check.Random(k * n, 7), c = Check.Random(m * n, 8);
        var expected = Check.ToDouble(c);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                for (int p = 0; p < k; p++)
                    expected[i * n + j] += (double)at[p * m + i] * b[p * n + j];
        Gemm.MultiplyAccumulate(at, 1, m, b, c, m, n, k, accumulate: true);
        Check.Close(expected, c, 1e-5, 1e-5 * k, "C");
    }

    [Fact]
    public void ColumnSums_SumEachColumn()
    {
        float[] a = [1, 2, 3, 4, 5, 6];
        var sums = new float[] { 9, 9, 9 };
        Gemm.ColumnSums(a, sums, 2, 3);
        Assert.Equal([5f, 7f, 9f], sums);
    }

    [Fact]
    public void MultiplyTransposed_TooShortOutput_ThrowsWithSizes()
    {
        var ex = Assert.Throws<System.ArgumentException>(() => Gemm.MultiplyTransposed(new float[6], new float[6], default, new float[3], 2, 2, 3));
        Assert.Contains("C 3", ex.Message);
    }
}
