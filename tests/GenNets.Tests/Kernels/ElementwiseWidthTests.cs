using System;
using System.Linq;
using System.Runtime.Intrinsics;
using GenNets.Kernels;
using GenNets.Training;
using Xunit;

namespace GenNets.Tests.Kernels;

/// <summary>
/// Every vector width's instantiation of the element-wise kernels (activations forward and backward, the optimizers'
/// updates, dropout's mask, the squared errors) against the plain reference or the formula in double precision, on this
/// machine whatever width it would choose: a width it lacks runs in software, slowly but with the same arithmetic. The
/// lengths leave a partial last vector at every width (0, 1, 7, 15, 17, 33, 100), and a span cut into parts must give the
/// bits of the whole, as a split over threads does.
/// </summary>
public class ElementwiseWidthTests
{
    private static readonly int[] Lengths = [0, 1, 7, 15, 17, 33, 100];

    public static TheoryData<int, int> WidthsAndLengths()
    {
        var data = new TheoryData<int, int>();
        foreach (int bits in new[] { 128, 256, 512 })
            foreach (int n in Lengths) data.Add(bits, n);
        return data;
    }

    public static TheoryData<int> Widths() => [128, 256, 512];

    // Random values with some exact zeros, the boundary of ReLU's and LeakyReLU's branches.
    private static float[] WithZeros(int n, ulong seed, float scale = 1f)
    {
        var v = Check.Random(n, seed, scale);
        for (int i = 3; i < n; i += 5) v[i] = 0f;
        return v;
    }

    // A sentinel past the end of each output: a kernel must write its n values and nothing after them.
    private static float[] Padded(float[] values, int extra = 3)
    {
        var v = new float[values.Length + extra];
        values.CopyTo(v, 0);
        for (int i = values.Length; i < v.Length; i++) v[i] = -123f;
        return v;
    }

    private static void UntouchedPast(float[] padded, int n, string what)
    {
        for (int i = n; i < padded.Length; i++) Assert.True(padded[i] == -123f, $"{what}: element {i} past the {n} was written");
    }

    [Theory]
    [MemberData(nameof(WidthsAndLengths))]
    public void GELU_AtEveryWidth_MatchesReference_AndItsGradientFromTheOutputToo(int bits, int n)
    {
        // Exact GELU and both forms of its gradient: from z alone, and from z with the kept output (Φ = y/z), over
        // z from −12 to 12 with exact zeros, tiny values (|z| < 1e-30 takes Φ = ½) and a deep negative tail.
        float[] z = WithZeros(n, 51, 12f), dy = Check.Random(n, 52);
        if (n > 9) (z[6], z[7], z[8], z[9]) = (1e-35f, -3e-31f, -9.5f, 11f);
        float[] y = Padded(new float[n]), dzOwn = Padded(new float[n]), dzKept = Padded(new float[n]);
        switch (bits)
        {
            case 128:
                Activations.GELU<Width128, Vector128<float>>(z, y.AsSpan(0, n));
                Activations.GELUBackward<Width128, Vector128<float>>(z, dy, dzOwn.AsSpan(0, n));
                Activations.GELUBackwardFromOutput<Width128, Vector128<float>>(z, y.AsSpan(0, n), dy, dzKept.AsSpan(0, n));
                break;
            case 256:
                Activations.GELU<Width256, Vector256<float>>(z, y.AsSpan(0, n));
                Activations.GELUBackward<Width256, Vector256<float>>(z, dy, dzOwn.AsSpan(0, n));
                Activations.GELUBackwardFromOutput<Width256, Vector256<float>>(z, y.AsSpan(0, n), dy, dzKept.AsSpan(0, n));
                break;
            default:
                Activations.GELU<Width512, Vector512<float>>(z, y.AsSpan(0, n));
                Activations.GELUBackward<Width512, Vector512<float>>(z, dy, dzOwn.AsSpan(0, n));
                Activations.GELUBackwardFromOutput<Width512, Vector512<float>>(z, y.AsSpan(0, n), dy, dzKept.AsSpan(0, n));
                break;
        }
        double[] zd = Check.ToDouble(z), yRef = Reference.Activate(Activation.GELU, zd, 1);
        var dzRef = Reference.ActivateBackward(Activation.GELU, zd, yRef, Check.ToDouble(dy), 1);
        Check.Close(yRef, y.AsSpan(0, n), 1e-6, 1e-6, "y");
        Check.Close(dzRef, dzOwn.AsSpan(0, n), 1e-6, 1e-6, "dz from z");
        Check.Close(dzRef, dzKept.AsSpan(0, n), 1e-6, 1e-6, "dz from z and y");
        UntouchedPast(y, n, "y");
        UntouchedPast(dzOwn, n, "dz from z");
        UntouchedPast(dzKept, n, "dz from z and y");
    }

    [Theory]
    [MemberData(nameof(WidthsAndLengths))]
    public void ResidualSum_AtEveryWidth_IsTheSumThenReLU_BitForBit(int bits, int n)
    {
        // A residual block's sum, with and without the ReLU after it in the same pass: exactly Add then
        // Activations.ReLU, including a NaN (it passes) and a −0 sum (+0 out, as TensorPrimitives.Max gives).
        float[] x = WithZeros(n, 41), y = Check.Random(n, 42);
        if (n > 5)
        {
            x[1] = float.NaN;
            (x[4], y[4]) = (-0f, -0f);
            (x[5], y[5]) = (2f, -2f);
        }
        var plain = x.Zip(y, (a, b) => a + b).ToArray();
        var rectified = new float[n];
        Activations.ReLU(plain, rectified);
        foreach (bool relu in new[] { false, true })
        {
            var d = Padded(new float[n]);
            switch (bits)
            {
                case 128: Elementwise.Sum<Width128, Vector128<float>>(x, y, d.AsSpan(0, n), relu); break;
                case 256: Elementwise.Sum<Width256, Vector256<float>>(x, y, d.AsSpan(0, n), relu); break;
                default: Elementwise.Sum<Width512, Vector512<float>>(x, y, d.AsSpan(0, n), relu); break;
            }
            var expected = relu ? rectified : plain;
            for (int i = 0; i < n; i++)
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(d[i]), $"relu {relu}, element {i}: {expected[i]} expected, {d[i]} written");
            UntouchedPast(d, n, "sum");
        }
    }

    [Theory]
    [MemberData(nameof(WidthsAndLengths))]
    public void SkipJoinThroughReLU_AtEveryWidth_IsTheAddThenReLUBackward_BitForBit(int bits, int n)
    {
        // A skip's gradient joining at a ReLU layer's output: exactly Add then ReLUBackward, y's zeros and NaNs masking.
        float[] skip = Check.Random(n, 53), y = Array.ConvertAll(WithZeros(n, 54), v => Math.Max(v, 0f)), dy = Check.Random(n, 55);
        if (n > 3) y[2] = float.NaN;
        var expected = (float[])dy.Clone();
        Elementwise.Add(skip, expected);
        Activations.ReLUBackward(y, expected, expected);
        var d = Padded(dy);
        switch (bits)
        {
            case 128: Elementwise.AddThroughReLU<Width128, Vector128<float>>(skip, y, d.AsSpan(0, n)); break;
            case 256: Elementwise.AddThroughReLU<Width256, Vector256<float>>(skip, y, d.AsSpan(0, n)); break;
            default: Elementwise.AddThroughReLU<Width512, Vector512<float>>(skip, y, d.AsSpan(0, n)); break;
        }
        for (int i = 0; i < n; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(d[i]), $"element {i}: {expected[i]} expected, {d[i]} written");
        UntouchedPast(d, n, "dy");
    }

    [Fact]
    public void ResidualSum_RunsInPlaceOverEitherInput_AndRefusesAPartialOverlap()
    {
        float[] x = Check.Random(40, 43), y = Check.Random(40, 44);
        var expected = x.Zip(y, (a, b) => Math.Max(a + b, 0f)).ToArray();
        var overX = (float[])x.Clone();
        Elementwise.Add(overX, y, overX, relu: true);
        Assert.Equal(expected, overX);
        var overY = (float[])y.Clone();
        Elementwise.Add(x, overY, overY, relu: true);
        Assert.Equal(expected, overY);
        var buffer = Check.Random(41, 45);
        var e = Assert.Throws<ArgumentException>(() => Elementwise.Add(buffer.AsSpan(0, 40), y, buffer.AsSpan(1, 40), relu: true));
        Assert.Equal("destination", e.ParamName);
    }

    [Theory]
    [MemberData(nameof(WidthsAndLengths))]
    public void ReLUBackward_AtEveryWidth_MatchesReference(int bits, int n)
    {
        float[] y = Array.ConvertAll(WithZeros(n, 1), v => Math.Max(v, 0f)), dy = Check.Random(n, 2), dz = Padded(new float[n]);
        var expected = Reference.ActivateBackward(Activation.ReLU, Check.ToDouble(y), Check.ToDouble(y), Check.ToDouble(dy), 1);
        switch (bits)
        {
            case 512: Activations.ReLUBackward<Width512, Vector512<float>>(y, dy, dz); break;
            case 256: Activations.ReLUBackward<Width256, Vector256<float>>(y, dy, dz); break;
            default: Activations.ReLUBackward<Width128, Vector128<float>>(y, dy, dz); break;
        }
        Check.Close(expected, dz.AsSpan(0, n), 0, 0, $"ReLU dz at {bits} bits");
        UntouchedPast(dz, n, "ReLU dz");
    }

    [Theory]
    [MemberData(nameof(WidthsAndLengths))]
    public void LeakyReLU_AtEveryWidth_MatchesReference(int bits, int n)
    {
        float[] z = WithZeros(n, 3, 4f), y = Padded(new float[n]);
        switch (bits)
        {
            case 512: Activations.LeakyReLU<Width512, Vector512<float>>(z, y); break;
            case 256: Activations.LeakyReLU<Width256, Vector256<float>>(z, y); break;
            default: Activations.LeakyReLU<Width128, Vector128<float>>(z, y); break;
        }
        Check.Close(Reference.Activate(Activation.LeakyReLU, Check.ToDouble(z), 1), y.AsSpan(0, n), 1e-7, 0, $"LeakyReLU y at {bits} bits");
        UntouchedPast(y, n, "LeakyReLU y");

        // In place: y the same span as z.
        var inPlace = (float[])z.Clone();
        switch (bits)
        {
            case 512: Activations.LeakyReLU<Width512, Vector512<float>>(inPlace, inPlace); break;
            case 256: Activations.LeakyReLU<Width256, Vector256<float>>(inPlace, inPlace); break;
            default: Activations.LeakyReLU<Width128, Vector128<float>>(inPlace, inPlace); break;
        }
        Assert.Equal(y.Take(n), inPlace);
    }

    [Theory]
    [MemberData(nameof(WidthsAndLengths))]
    public void LeakyReLUBackward_AtEveryWidth_MatchesReference(int bits, int n)
    {
        var z = WithZeros(n, 4, 3f);
        float[] y = Array.ConvertAll(z, v => v > 0 ? v : Activations.LeakySlope * v), dy = Check.Random(n, 5), dz = Padded(new float[n]);
        var expected = Reference.ActivateBackward(Activation.LeakyReLU, Check.ToDouble(z), Check.ToDouble(y), Check.ToDouble(dy), 1);
        switch (bits)
        {
            case 512: Activations.LeakyReLUBackward<Width512, Vector512<float>>(y, dy, dz); break;
            case 256: Activations.LeakyReLUBackward<Width256, Vector256<float>>(y, dy, dz); break;
            default: Activations.LeakyReLUBackward<Width128, Vector128<float>>(y, dy, dz); break;
        }
        Check.Close(expected, dz.AsSpan(0, n), 1e-7, 0, $"LeakyReLU dz at {bits} bits");
        UntouchedPast(dz, n, "LeakyReLU dz");
    }

    private static void SigmoidInPlace(int bits, Span<float> x, float scale)
    {
        switch (bits)
        {
            case 512: Activations.SigmoidInPlace<Width512, Vector512<float>>(x, scale); break;
            case 256: Activations.SigmoidInPlace<Width256, Vector256<float>>(x, scale); break;
            default: Activations.SigmoidInPlace<Width128, Vector128<float>>(x, scale); break;
        }
    }

    [Theory]
    [MemberData(nameof(WidthsAndLengths))]
    public void SigmoidInPlace_AtEveryWidth_IsWithin2e7OfTheExactValue(int bits, int n)
    {
        // Arguments over [−100, 100]: both saturated ends and the clamp, at scales 1 and 2 (a recurrent layer's tanh).
        var z = Check.Random(n, 6, 100f);
        if (n > 2) { z[0] = 0f; z[n - 1] = float.NaN; }
        foreach (float scale in new[] { 1f, 2f })
        {
            var x = Padded(z);
            SigmoidInPlace(bits, x.AsSpan(0, n), scale);
            var expected = z.Select(v => 1 / (1 + Math.Exp(-(double)scale * v))).ToArray();
            if (n > 2) Assert.True(float.IsNaN(x[n - 1]), $"σ(NaN) at {bits} bits is {x[n - 1]}");
            if (n > 2) expected[n - 1] = x[n - 1] = 0;
            Check.Close(expected, x.AsSpan(0, n), 0, 2e-7, $"σ({scale}·z) at {bits} bits");
            UntouchedPast(x, n, "σ");
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void SigmoidInPlace_AtEveryWidth_PassesNaNAndSaturatesAtTheExtremes(int bits)
    {
        // A NaN must come out NaN (a diverging network must not look finite), infinities and huge values saturate to
        // 0 and 1, and the smallest normal reciprocal in the range is still right.
        float[] x = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 1e30f, -1e30f, 87.3f, -87.3f, 100f, -100f, 0f, -0f, float.NaN, 3f, -3f, 20f, -20f, float.NaN];
        var y = (float[])x.Clone();
        SigmoidInPlace(bits, y, 1f);
        for (int i = 0; i < x.Length; i++)
            if (float.IsNaN(x[i])) Assert.True(float.IsNaN(y[i]), $"σ(NaN) at {bits} bits gave {y[i]} (element {i})");
            else Assert.True(Math.Abs(y[i] - 1 / (1 + Math.Exp(-(double)x[i]))) <= 2e-7, $"σ({x[i]}) at {bits} bits gave {y[i]}");
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void SigmoidInPlace_AtEveryWidth_GivesTheSameBitsOverAnyCut(int bits)
    {
        // A recurrent layer may call it on a part of its rows: a value must not depend on where it falls.
        var z = Check.Random(100, 7, 20f);
        var whole = (float[])z.Clone();
        SigmoidInPlace(bits, whole, 1f);
        foreach (int cut in new[] { 1, 5, 13, 17, 50, 99 })
        {
            var parts = (float[])z.Clone();
            SigmoidInPlace(bits, parts.AsSpan(0, cut), 1f);
            SigmoidInPlace(bits, parts.AsSpan(cut), 1f);
            Assert.Equal(whole, parts);
        }
    }

    [Theory]
    [MemberData(nameof(WidthsAndLengths))]
    public void SigmoidBackward_AtEveryWidth_MatchesReference(int bits, int n)
    {
        float[] z = Check.Random(n, 8, 6f), dy = Check.Random(n, 9), dz = Padded(new float[n]);
        var y = Array.ConvertAll(z, v => (float)(1 / (1 + Math.Exp(-(double)v))));
        var expected = Reference.ActivateBackward(Activation.Sigmoid, Check.ToDouble(z), Check.ToDouble(y), Check.ToDouble(dy), 1);
        switch (bits)
        {
            case 512: Activations.SigmoidBackward<Width512, Vector512<float>>(y, dy, dz); break;
            case 256: Activations.SigmoidBackward<Width256, Vector256<float>>(y, dy, dz); break;
            default: Activations.SigmoidBackward<Width128, Vector128<float>>(y, dy, dz); break;
        }
        Check.Close(expected, dz.AsSpan(0, n), 4e-7, 1e-12, $"σ dz at {bits} bits");
        UntouchedPast(dz, n, "σ dz");
    }

    [Theory]
    [MemberData(nameof(WidthsAndLengths))]
    public void TanhNearZero_AtEveryWidth_TakesTheSeriesBelowAQuarterAndLeavesTheRest(int bits, int n)
    {
        // Magnitudes from 1e-30 up to 0.3, both signs: the series replaces y below 0.25 and leaves y (here 7) above.
        var z = new float[n];
        for (int i = 0; i < n; i++) z[i] = (float)((i % 2 == 0 ? 1 : -1) * Math.Pow(10, -30 + 29.5 * i / Math.Max(1, n - 1)));
        if (n > 3) z[n - 2] = 0.3f;
        if (n > 3) z[n - 3] = 0f;
        var y = Padded(Enumerable.Repeat(7f, n).ToArray());
        switch (bits)
        {
            case 512: Activations.TanhNearZero<Width512, Vector512<float>>(z, y); break;
            case 256: Activations.TanhNearZero<Width256, Vector256<float>>(z, y); break;
            default: Activations.TanhNearZero<Width128, Vector128<float>>(z, y); break;
        }
        var expected = z.Select(v => Math.Abs(v) < 0.25f ? Math.Tanh(v) : 7.0).ToArray();
        Check.Close(expected, y.AsSpan(0, n), 4e-7, 0, $"tanh near 0 at {bits} bits");
        UntouchedPast(y, n, "tanh");
    }

    [Theory]
    [MemberData(nameof(WidthsAndLengths))]
    public void TanhBackward_AtEveryWidth_MatchesReference(int bits, int n)
    {
        float[] z = Check.Random(n, 10, 3f), dy = Check.Random(n, 11), dz = Padded(new float[n]);
        var y = Array.ConvertAll(z, v => MathF.Tanh(v));
        var expected = Reference.ActivateBackward(Activation.Tanh, Check.ToDouble(z), Check.ToDouble(y), Check.ToDouble(dy), 1);
        switch (bits)
        {
            case 512: Activations.TanhBackward<Width512, Vector512<float>>(y, dy, dz); break;
            case 256: Activations.TanhBackward<Width256, Vector256<float>>(y, dy, dz); break;
            default: Activations.TanhBackward<Width128, Vector128<float>>(y, dy, dz); break;
        }
        // 1 − y² cancels where |y| nears 1: the error is relative to the terms, dy and dy·y².
        for (int i = 0; i < n; i++)
            Assert.True(Math.Abs(dz[i] - expected[i]) <= 3e-7 * Math.Abs(dy[i]) * (1 + (double)y[i] * y[i]), $"tanh dz[{i}] at {bits} bits: {dz[i]}, expected {expected[i]}");
        UntouchedPast(dz, n, "tanh dz");
    }

    private static void RunMomentum(int bits, Span<float> p, ReadOnlySpan<float> g, Span<float> v, float lr, float mu, float decay, bool nesterov)
    {
        switch (bits)
        {
            case 512: Sgd.MomentumUpdate<Width512, Vector512<float>>(p, g, v, lr, mu, decay, nesterov); break;
            case 256: Sgd.MomentumUpdate<Width256, Vector256<float>>(p, g, v, lr, mu, decay, nesterov); break;
            default: Sgd.MomentumUpdate<Width128, Vector128<float>>(p, g, v, lr, mu, decay, nesterov); break;
        }
    }

    private static void RunAdam(int bits, Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, Adam.AdamConstants k)
    {
        switch (bits)
        {
            case 512: Adam.AdamUpdate<Width512, Vector512<float>>(p, g, m, v, k); break;
            case 256: Adam.AdamUpdate<Width256, Vector256<float>>(p, g, m, v, k); break;
            default: Adam.AdamUpdate<Width128, Vector128<float>>(p, g, m, v, k); break;
        }
    }

    [Theory]
    [MemberData(nameof(WidthsAndLengths))]
    public void MomentumUpdate_AtEveryWidth_FollowsPyTorchsFormula(int bits, int n)
    {
        const float Lr = 0.1f, Mu = 0.9f, Decay = 0.01f;
        foreach (bool nesterov in new[] { false, true })
        {
            float[] p0 = Check.Random(n, 12, 2f), g = Check.Random(n, 13), v0 = Check.Random(n, 14);
            float[] p = Padded(p0), v = Padded(v0);
            RunMomentum(bits, p.AsSpan(0, n), g, v.AsSpan(0, n), Lr, Mu, Decay, nesterov);
            double[] expectedP = new double[n], expectedV = new double[n];
            for (int i = 0; i < n; i++)
            {
                double gi = g[i] + (double)Decay * p0[i];
                expectedV[i] = (double)Mu * v0[i] + gi;
                expectedP[i] = p0[i] - (double)Lr * (nesterov ? gi + Mu * expectedV[i] : expectedV[i]);
            }
            Check.Close(expectedV, v.AsSpan(0, n), 1e-6, 1e-7, $"v at {bits} bits (Nesterov {nesterov})");
            Check.Close(expectedP, p.AsSpan(0, n), 1e-6, 1e-7, $"p at {bits} bits (Nesterov {nesterov})");
            UntouchedPast(p, n, "p");
            UntouchedPast(v, n, "v");
        }
    }

    [Theory]
    [MemberData(nameof(WidthsAndLengths))]
    public void AdamUpdate_AtEveryWidth_FollowsItsFormula(int bits, int n)
    {
        const float Lr = 0.01f, B1 = 0.9f, B2 = 0.999f, Eps = 1e-8f, Decay = 0.1f;
        const int Step = 3;
        foreach (bool decoupled in new[] { false, true })
        {
            float[] p0 = Check.Random(n, 15, 2f), g = Check.Random(n, 16), m0 = Check.Random(n, 17, 0.1f);
            var v0 = Array.ConvertAll(Check.Random(n, 18, 0.1f), x => x * x);
            float[] p = Padded(p0), m = Padded(m0), v = Padded(v0);
            float c1 = 1f / (1f - MathF.Pow(B1, Step)), c2 = 1f / (1f - MathF.Pow(B2, Step));
            var k = new Adam.AdamConstants(B1, B2, Eps, Lr * c1, c2, decoupled ? 1f - Lr * Decay : 1f, decoupled ? 0f : Decay);
            RunAdam(bits, p.AsSpan(0, n), g, m.AsSpan(0, n), v.AsSpan(0, n), k);
            double[] expectedP = new double[n], expectedM = new double[n], expectedV = new double[n];
            for (int i = 0; i < n; i++)
            {
                double pi = p0[i], gi = g[i];
                if (decoupled) pi -= (double)Lr * Decay * pi;
                else gi += (double)Decay * pi;
                expectedM[i] = (double)B1 * m0[i] + (1 - (double)B1) * gi;
                expectedV[i] = (double)B2 * v0[i] + (1 - (double)B2) * gi * gi;
                double mHat = expectedM[i] / (1 - Math.Pow(B1, Step)), vHat = expectedV[i] / (1 - Math.Pow(B2, Step));
                expectedP[i] = pi - Lr * mHat / (Math.Sqrt(vHat) + Eps);
            }
            Check.Close(expectedM, m.AsSpan(0, n), 1e-6, 1e-8, $"m at {bits} bits (decoupled {decoupled})");
            Check.Close(expectedV, v.AsSpan(0, n), 1e-6, 1e-10, $"v at {bits} bits (decoupled {decoupled})");
            Check.Close(expectedP, p.AsSpan(0, n), 1e-6, 1e-7, $"p at {bits} bits (decoupled {decoupled})");
            UntouchedPast(p, n, "p");
            UntouchedPast(m, n, "m");
            UntouchedPast(v, n, "v");
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void OptimizerUpdates_AtEveryWidth_GiveTheSameBitsOverAnyCut(int bits)
    {
        // The optimizer splits its buffer over threads at points that depend on the thread count: the bits must not.
        float[] p0 = Check.Random(100, 19, 2f), g = Check.Random(100, 20), m0 = Check.Random(100, 21, 0.1f), v0 = Array.ConvertAll(Check.Random(100, 22, 0.1f), x => x * x);
        var k = new Adam.AdamConstants(0.9f, 0.999f, 1e-8f, 0.01f, 1.5f, 0.999f, 0.01f);
        float[] p = (float[])p0.Clone(), m = (float[])m0.Clone(), v = (float[])v0.Clone(), u = (float[])m0.Clone(), q = (float[])p0.Clone();
        RunAdam(bits, p, g, m, v, k);
        RunMomentum(bits, q, g, u, 0.1f, 0.9f, 0.01f, nesterov: true);
        foreach (int cut in new[] { 1, 5, 13, 17, 50, 99 })
        {
            float[] pc = (float[])p0.Clone(), mc = (float[])m0.Clone(), vc = (float[])v0.Clone(), uc = (float[])m0.Clone(), qc = (float[])p0.Clone();
            RunAdam(bits, pc.AsSpan(0, cut), g, mc, vc, k);
            RunAdam(bits, pc.AsSpan(cut), g.AsSpan(cut), mc.AsSpan(cut), vc.AsSpan(cut), k);
            RunMomentum(bits, qc.AsSpan(0, cut), g, uc, 0.1f, 0.9f, 0.01f, nesterov: true);
            RunMomentum(bits, qc.AsSpan(cut), g.AsSpan(cut), uc.AsSpan(cut), 0.1f, 0.9f, 0.01f, nesterov: true);
            Assert.Equal(p, pc);
            Assert.Equal(m, mc);
            Assert.Equal(v, vc);
            Assert.Equal(q, qc);
            Assert.Equal(u, uc);
        }
    }
    private static void DropoutForward(int bits, ReadOnlySpan<float> x, Span<float> y, Span<float> mask, float keepScale, uint threshold, ulong first)
    {
        switch (bits)
        {
            case 512: Dropout.Forward<Width512, Vector512<float>>(x, y, mask, keepScale, threshold, first); break;
            case 256: Dropout.Forward<Width256, Vector256<float>>(x, y, mask, keepScale, threshold, first); break;
            default: Dropout.Forward<Width128, Vector128<float>>(x, y, mask, keepScale, threshold, first); break;
        }
    }

    [Theory]
    [MemberData(nameof(WidthsAndLengths))]
    public void DropoutForward_AtEveryWidth_DrawsTheHashsMaskExactly(int bits, int n)
    {
        // The definition, element by element: dropped when the top 24 bits of Mix(first + i) fall below p·2²⁴. A first
        // near 2⁶⁴ wraps within the vector.
        foreach (var (probability, first) in new[] { (0.3f, 12345UL), (0.5f, ulong.MaxValue - 5), (0f, 7UL), (0.999f, 1UL << 40) })
        {
            float keepScale = 1f / (1f - probability);
            uint threshold = (uint)(probability * (1 << 24));
            var x = Check.Random(n, 23, 3f);
            float[] y = Padded(new float[n]), mask = Padded(new float[n]);
            DropoutForward(bits, x, y.AsSpan(0, n), mask.AsSpan(0, n), keepScale, threshold, first);
            for (int i = 0; i < n; i++)
            {
                float m = (uint)(SeededRandom.Mix(first + (ulong)i) >> 40) < threshold ? 0f : keepScale;
                Assert.True(mask[i] == m && y[i] == x[i] * m, $"element {i} at {bits} bits, p = {probability}: mask {mask[i]}, y {y[i]}; expected {m}, {x[i] * m}");
            }
            UntouchedPast(y, n, "y");
            UntouchedPast(mask, n, "mask");
        }
    }

    [Theory]
    [MemberData(nameof(WidthsAndLengths))]
    public void DropoutForward_AtEveryWidth_DropsAboutItsProbabilityInPlace(int bits, int n)
    {
        // In place over x, as the generated code may call it; over many elements the share dropped is near p.
        const float P = 0.25f;
        int count = 1000 + n;
        var x = Enumerable.Repeat(2f, count).ToArray();
        var mask = new float[count];
        DropoutForward(bits, x, x, mask, 1f / (1f - P), (uint)(P * (1 << 24)), 99);
        int dropped = mask.Count(m => m == 0f);
        Assert.InRange(dropped, (int)(count * P) - 60, (int)(count * P) + 60);
        for (int i = 0; i < count; i++) Assert.Equal(2f * mask[i], x[i]);
    }

    [Theory]
    [MemberData(nameof(WidthsAndLengths))]
    public void SquaredErrors_AtEveryWidth_MatchTheSumAndGradient(int bits, int n)
    {
        float[] o = Check.Random(n, 24, 3f), t = Check.Random(n, 25, 3f), g = Padded(new float[n]);
        double expectedTotal = 0;
        var expectedGradient = new double[n];
        for (int i = 0; i < n; i++)
        {
            double d = (double)o[i] - t[i];
            expectedTotal += d * d;
            expectedGradient[i] = 2 * d / n;
        }
        foreach (bool withGradient in new[] { true, false })
        {
            var gradient = withGradient ? g.AsSpan(0, n) : default;
            double total = bits switch
            {
                512 => Losses.SquaredErrors<Width512, Vector512<float>>(o, t, gradient),
                256 => Losses.SquaredErrors<Width256, Vector256<float>>(o, t, gradient),
                _ => Losses.SquaredErrors<Width128, Vector128<float>>(o, t, gradient),
            };
            Assert.True(Math.Abs(total - expectedTotal) <= 2.5e-7 * expectedTotal, $"Σ(o − t)² at {bits} bits: {total}, expected {expectedTotal}");
        }
        Check.Close(expectedGradient, g.AsSpan(0, n), 3e-7, 1e-12, $"MSE gradient at {bits} bits");
        UntouchedPast(g, n, "gradient");
    }
}
