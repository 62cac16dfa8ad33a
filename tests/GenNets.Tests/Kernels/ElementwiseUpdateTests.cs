using System;
using System.Linq;
using System.Runtime.Intrinsics;
using GenNets.Kernels;
using Xunit;

namespace GenNets.Tests.Kernels;

/// <summary>
/// The in-place updates of long spans (Kernels.Elementwise) at every width: each element bit for bit the scalar
/// expression (so a span cut into parts gives the bits of the whole), nothing past the end touched, and the
/// finiteness check finding one NaN or infinity anywhere.
/// </summary>
public class ElementwiseUpdateTests
{
    public static TheoryData<int, int> WidthsAndLengths()
    {
        var data = new TheoryData<int, int>();
        foreach (int bits in new[] { 128, 256, 512 })
            foreach (int n in new[] { 0, 1, 7, 15, 17, 63, 64, 65, 100, 1000 })
                data.Add(bits, n);
        return data;
    }

    private static void MultiplyAdd(int bits, float[] x, float a, Span<float> y, bool scaled)
    {
        switch (bits)
        {
            case 512: Elementwise.MultiplyAdd<Width512, Vector512<float>>(x.AsSpan(0, y.Length), a, y, scaled); break;
            case 256: Elementwise.MultiplyAdd<Width256, Vector256<float>>(x.AsSpan(0, y.Length), a, y, scaled); break;
            default: Elementwise.MultiplyAdd<Width128, Vector128<float>>(x.AsSpan(0, y.Length), a, y, scaled); break;
        }
    }

    [Theory]
    [MemberData(nameof(WidthsAndLengths))]
    public void MultiplyAddAndAdd_AtEveryWidth_GiveTheScalarBits(int bits, int n)
    {
        float[] x = Check.Random(n, 1, 10f), y0 = Check.Random(n + 3, 2, 10f);
        const float a = -0.0123f;
        var y = (float[])y0.Clone();
        MultiplyAdd(bits, x, a, y.AsSpan(0, n), scaled: true);
        for (int i = 0; i < n; i++) Assert.Equal(y0[i] + a * x[i], y[i]);
        for (int i = n; i < n + 3; i++) Assert.Equal(y0[i], y[i]);

        y = (float[])y0.Clone();
        MultiplyAdd(bits, x, 1f, y.AsSpan(0, n), scaled: false);
        for (int i = 0; i < n; i++) Assert.Equal(y0[i] + x[i], y[i]);
        for (int i = n; i < n + 3; i++) Assert.Equal(y0[i], y[i]);
    }

    [Theory]
    [MemberData(nameof(WidthsAndLengths))]
    public void Scale_AtEveryWidth_GivesTheScalarBits(int bits, int n)
    {
        float[] y0 = Check.Random(n + 3, 3, 10f);
        var y = (float[])y0.Clone();
        const float a = 0.9993f;
        switch (bits)
        {
            case 512: Elementwise.Scale<Width512, Vector512<float>>(y.AsSpan(0, n), a); break;
            case 256: Elementwise.Scale<Width256, Vector256<float>>(y.AsSpan(0, n), a); break;
            default: Elementwise.Scale<Width128, Vector128<float>>(y.AsSpan(0, n), a); break;
        }
        for (int i = 0; i < n; i++) Assert.Equal(y0[i] * a, y[i]);
        for (int i = n; i < n + 3; i++) Assert.Equal(y0[i], y[i]);
    }

    [Theory]
    [MemberData(nameof(WidthsAndLengths))]
    public void AllFinite_AtEveryWidth_FindsOneNaNOrInfinityAnywhere(int bits, int n)
    {
        Func<float[], bool> check = bits switch
        {
            512 => v => Elementwise.AllFinite<Width512, Vector512<float>>(v),
            256 => v => Elementwise.AllFinite<Width256, Vector256<float>>(v),
            _ => v => Elementwise.AllFinite<Width128, Vector128<float>>(v),
        };
        // Large finite values whose sum would overflow are still finite.
        var values = Enumerable.Repeat(float.MaxValue, n).ToArray();
        Assert.True(check(values));
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
            for (int at = 0; at < n; at += Math.Max(1, n / 7))
            {
                var v = Check.Random(n, 4);
                v[at] = bad;
                Assert.False(check(v), $"{bad} at {at} of {n}, {bits} bits");
            }
    }

    [Theory]
    [MemberData(nameof(WidthsAndLengths))]
    public void FlushSubnormals_AtEveryWidth_ZeroesOnlyTheSubnormals(int bits, int n)
    {
        // A mix of subnormals (both signs, the smallest and the largest), the smallest normal, ordinary values, zeros,
        // NaN and infinities, repeated over the length so every lane and the tail see each kind.
        float[] kinds = [float.Epsilon, -float.Epsilon, 1e-39f, -1.1754942e-38f, 1.17549435e-38f, -1.17549435e-38f, 0.5f, -3f, 0f, -0f,
            float.NaN, float.PositiveInfinity, float.NegativeInfinity, 1e-30f];
        var y = Enumerable.Range(0, n + 3).Select(i => kinds[i % kinds.Length]).ToArray();
        var before = (float[])y.Clone();
        switch (bits)
        {
            case 512: Elementwise.FlushSubnormals<Width512, Vector512<float>>(y.AsSpan(0, n)); break;
            case 256: Elementwise.FlushSubnormals<Width256, Vector256<float>>(y.AsSpan(0, n)); break;
            default: Elementwise.FlushSubnormals<Width128, Vector128<float>>(y.AsSpan(0, n)); break;
        }
        for (int i = 0; i < n + 3; i++)
        {
            float v = before[i];
            bool subnormal = v != 0 && float.IsSubnormal(v);
            if (i < n && subnormal) Assert.True(y[i] == 0f, $"{v} at {i} should be flushed to 0 at {bits} bits, got {y[i]}");
            else if (i < n && v == 0) Assert.True(y[i] == 0f, $"a zero at {i} stays zero (its sign need not) at {bits} bits, got {y[i]}");
            else Assert.True(BitConverter.SingleToInt32Bits(v) == BitConverter.SingleToInt32Bits(y[i]) || (float.IsNaN(v) && float.IsNaN(y[i])),
                $"{v} at {i} must pass unchanged at {bits} bits, got {y[i]}");
        }
    }

    [Fact]
    public void Add_OfDifferentLengths_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => Elementwise.Add(new float[3], new float[4]));
        Assert.Contains("3", e.Message);
        Assert.Contains("4", e.Message);
    }
}
