using System;
using System.Linq;
using System.Runtime.Intrinsics;
using GenNets.Kernels;
using Xunit;

namespace GenNets.Tests.Kernels;

/// <summary>
/// Every vector width's instantiation of the kernels against the plain reference, on this machine whatever width it
/// would choose: a width it lacks runs in software, slowly but with the same arithmetic. Shapes leave tails at every
/// width (1, 7, 15, 17 and 33 columns; 1 to 5 rows left for a block of six; k not a multiple of any width).
/// </summary>
public class VectorWidthTests
{
    public static TheoryData<int, int, int, int> WidthsAndShapes()
    {
        var data = new TheoryData<int, int, int, int>();
        foreach (int bits in new[] { 128, 256, 512 })
            foreach (var (m, n, k) in new[] { (1, 1, 1), (1, 7, 9), (1, 130, 64), (1, 192, 64), (1, 100, 5), (2, 17, 33), (5, 33, 17), (7, 15, 40), (13, 48, 31), (64, 256, 70) })
                data.Add(bits, m, n, k);
        return data;
    }

    [Theory]
    [MemberData(nameof(WidthsAndShapes))]
    public void MultiplyTransposed_AtEveryWidth_MatchesReference(int bits, int m, int n, int k)
    {
        float[] a = Check.Random(m * k, 1), b = Check.Random(n * k, 2);
        var c = Check.Random(m * n, 3);
        var expected = Reference.MultiplyTransposed(Check.ToDouble(a), Check.ToDouble(b), default, m, n, k);
        for (int i = 0; i < expected.Length; i++) expected[i] += c[i];
        switch (bits)
        {
            case 512: Gemm.MultiplyTransposed<Width512, Vector512<float>>(a, b, c, m, n, k, reverse: true, accumulate: true); break;
            case 256: Gemm.MultiplyTransposed<Width256, Vector256<float>>(a, b, c, m, n, k, reverse: true, accumulate: true); break;
            default: Gemm.MultiplyTransposed<Width128, Vector128<float>>(a, b, c, m, n, k, reverse: true, accumulate: true); break;
        }
        Check.Close(expected, c, 1e-5, 1e-5 * k, $"C += A·Bᵀ at {bits} bits");
    }

    [Theory]
    [MemberData(nameof(WidthsAndShapes))]
    public void MultiplyAccumulate_AtEveryWidth_CoversItsColumnsAndLeavesTheRest(int bits, int m, int n, int k)
    {
        // C = A·B + bias with B's rows padded (the padding NaN, never to be read); a width takes whole vectors of columns
        // and says where it stopped, and must not touch a column after that.
        float[] a = Check.Random(m * k, 4), b = Check.Random(k * n, 5), bias = Check.Random(n, 6);
        int ldb = Gemm.PaddedStride(n);
        var padded = Enumerable.Repeat(float.NaN, k * ldb).ToArray();
        for (int p = 0; p < k; p++) Array.Copy(b, p * n, padded, p * ldb, n);
        var expected = Reference.Multiply(Check.ToDouble(a), Check.ToDouble(b), m, n, k);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) expected[i * n + j] += bias[j];
        var c = Enumerable.Repeat(-7f, m * n).ToArray();
        int done = bits switch
        {
            512 => Gemm.MultiplyAccumulate<Width512, Vector512<float>>(a, k, 1, padded, ldb, bias, c, m, n, k, accumulate: false, first: 0),
            256 => Gemm.MultiplyAccumulate<Width256, Vector256<float>>(a, k, 1, padded, ldb, bias, c, m, n, k, accumulate: false, first: 0),
            _ => Gemm.MultiplyAccumulate<Width128, Vector128<float>>(a, k, 1, padded, ldb, bias, c, m, n, k, accumulate: false, first: 0),
        };
        int lanes = bits / 32;
        Assert.Equal(n - n % lanes, done);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                if (j < done) Assert.True(Math.Abs(expected[i * n + j] - c[i * n + j]) <= 1e-5 + 1e-5 * k, $"C[{i}, {j}] at {bits} bits: {c[i * n + j]}, expected {expected[i * n + j]}");
                else Assert.Equal(-7f, c[i * n + j]);
    }

    [Theory]
    [MemberData(nameof(WidthsAndShapes))]
    public void MultiplyAccumulate_TransposedAAtEveryWidth_Accumulates(int bits, int m, int n, int k)
    {
        // The weight-gradient form: A stored [k, m] and read with strides (1, m); C += Aᵀ·B on whole vectors of columns.
        float[] at = Check.Random(k * m, 7), b = Check.Random(k * n, 8), c = Check.Random(m * n, 9);
        var expected = Check.ToDouble(c);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                for (int p = 0; p < k; p++)
                    expected[i * n + j] += (double)at[p * m + i] * b[p * n + j];
        int done = bits switch
        {
            512 => Gemm.MultiplyAccumulate<Width512, Vector512<float>>(at, 1, m, b, n, default, c, m, n, k, accumulate: true, first: 0),
            256 => Gemm.MultiplyAccumulate<Width256, Vector256<float>>(at, 1, m, b, n, default, c, m, n, k, accumulate: true, first: 0),
            _ => Gemm.MultiplyAccumulate<Width128, Vector128<float>>(at, 1, m, b, n, default, c, m, n, k, accumulate: true, first: 0),
        };
        for (int i = 0; i < m; i++)
            for (int j = 0; j < done; j++)
                Assert.True(Math.Abs(expected[i * n + j] - c[i * n + j]) <= 1e-5 + 1e-5 * k, $"C[{i}, {j}] at {bits} bits: {c[i * n + j]}, expected {expected[i * n + j]}");
    }

    public static TheoryData<int, int, int, int> WidthsAndStripShapes()
    {
        var data = new TheoryData<int, int, int, int>();
        foreach (int bits in new[] { 128, 256, 512 })
            foreach (var (m, n, k) in new[] { (1, 1, 1), (16, 6, 8), (17, 7, 9), (40, 13, 33), (64, 10, 128), (80, 11, 70), (33, 5, 1500) })
                data.Add(bits, m, n, k);
        return data;
    }

    [Theory]
    [MemberData(nameof(WidthsAndStripShapes))]
    public void MultiplyStrips_AtEveryWidth_MatchesReference(int bits, int m, int n, int k)
    {
        float[] x = Check.Random(m * k, 11), w = Check.Random(n * k, 12), bias = Check.Random(n, 13);
        var strips = new float[Gemm.StripLength(m, k)];
        var result = new float[Gemm.StripLength(m, n)];
        var y = new float[m * n];
        Gemm.PackStrips(x, strips, m, k);
        switch (bits)
        {
            case 512: Gemm.MultiplyStrips<Width512, Vector512<float>>(w, bias, strips, result, m, n, k); break;
            case 256: Gemm.MultiplyStrips<Width256, Vector256<float>>(w, bias, strips, result, m, n, k); break;
            default: Gemm.MultiplyStrips<Width128, Vector128<float>>(w, bias, strips, result, m, n, k); break;
        }
        Gemm.UnpackStrips(result, y, m, n);
        Check.Close(Reference.MultiplyTransposed(Check.ToDouble(x), Check.ToDouble(w), Check.ToDouble(bias), m, n, k), y, 1e-5, 1e-5 * k, $"Y at {bits} bits");
    }

    [Theory]
    [InlineData(128)]
    [InlineData(256)]
    [InlineData(512)]
    public void MultiplyAccumulate_OneRowReversed_GivesTheSameBits(int bits)
    {
        // A recurrent step of one sequence alternates the order of its column blocks; each column must not change a bit.
        foreach (int n in new[] { 16, 64, 100, 192, 256, 300 })
        {
            const int k = 64;
            float[] a = Check.Random(k, 31), b = Check.Random(k * n, 32), bias = Check.Random(n, 33);
            var forward = new float[n];
            var reversed = new float[n];
            foreach (var (c, reverse) in new[] { (forward, false), (reversed, true) })
            {
                int done = bits switch
                {
                    512 => Gemm.MultiplyAccumulate<Width512, Vector512<float>>(a, k, 1, b, n, bias, c, 1, n, k, accumulate: false, first: 0, reverse),
                    256 => Gemm.MultiplyAccumulate<Width256, Vector256<float>>(a, k, 1, b, n, bias, c, 1, n, k, accumulate: false, first: 0, reverse),
                    _ => Gemm.MultiplyAccumulate<Width128, Vector128<float>>(a, k, 1, b, n, bias, c, 1, n, k, accumulate: false, first: 0, reverse),
                };
                Assert.Equal(n - n % (bits / 32), done);
            }
            Assert.Equal(forward, reversed);
            var expected = Reference.Multiply(Check.ToDouble(a), Check.ToDouble(b), 1, n, k);
            for (int j = 0; j < n - n % (bits / 32); j++)
                Assert.True(Math.Abs(expected[j] + bias[j] - forward[j]) <= 1e-5 + 1e-5 * k, $"column {j} of {n} at {bits} bits");
        }
    }

    [Fact]
    public void VectorWidths_NameTheWidthThisMachineUses()
    {
        int expected = Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : 128;
        Assert.Equal(expected, VectorWidths.Bits);
        Assert.Contains($"Vector{expected}", VectorWidths.Description);
    }
}
