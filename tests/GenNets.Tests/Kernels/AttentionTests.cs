using System;
using System.Runtime.Intrinsics;
using GenNets.Kernels;
using Xunit;

namespace GenNets.Tests.Kernels;

/// <summary>
/// Multi-head attention: the double-precision twin's gradient against central finite differences; the fast forward,
/// backward and cached step at every vector width against the twin, with head sizes that leave a partial vector; the
/// softmax with scores near ±1e4; causality (later rows change nothing before them, bit for bit); generation step by
/// step against the forward pass; batch splits; argument checks; no allocation once warm. Also GELU's tanh
/// approximation, the transformer's MLP activation.
/// </summary>
public class AttentionTests
{
    private static double Loss(double[] y, double[] w)
    {
        double s = 0;
        for (int i = 0; i < y.Length; i++) s += w[i] * y[i];
        return s;
    }

    // (batch, positions, model, heads): one head; dh = 4 (below every width); dh = 3, 5 and 16; one position.
    public static TheoryData<int, int, int, int, bool> Shapes()
    {
        var data = new TheoryData<int, int, int, int, bool>();
        foreach (bool causal in new[] { false, true })
        {
            data.Add(1, 4, 5, 1, causal);
            data.Add(2, 3, 12, 3, causal);
            data.Add(1, 5, 6, 2, causal);
            data.Add(2, 4, 10, 2, causal);
            data.Add(1, 1, 4, 2, causal);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ReferenceBackward_MatchesFiniteDifferences(int batch, int positions, int model, int heads, bool causal)
    {
        double[] qkv = Check.ToDouble(Check.Random(batch * positions * 3 * model, 11, 1.5f)), w = Check.ToDouble(Check.Random(batch * positions * model, 12));
        var g = Reference.AttentionBackward(qkv, w, batch, positions, model, heads, causal);
        var fd = Check.FiniteDifferences(x => Loss(Reference.Attention(x, batch, positions, model, heads, causal), w), qkv);
        Check.Close(fd, g, 1e-6, 1e-8, "dqkv");
    }

    [Fact]
    public void Reference_OfOnePositionIsItsValue_AndCausalFirstRowSeesOnlyItself()
    {
        // One key: its probability is 1, the output its v. Causal: row 0 of any sequence is its own v.
        double[] qkv = Check.ToDouble(Check.Random(3 * 4 * 6, 13));
        var y = Reference.Attention(qkv, 1, 3, 6, 2, causal: true);
        for (int c = 0; c < 6; c++) Assert.Equal(qkv[12 + c], y[c], 15);
        var single = Reference.Attention(qkv.AsSpan(0, 18), 1, 1, 6, 3, causal: false);
        for (int c = 0; c < 6; c++) Assert.Equal(qkv[12 + c], single[c], 15);
    }

    // ---------------------------------------------------------------- the fast kernels against the twin

    public static TheoryData<int, int, int, int, int, bool> WidthsAndShapes()
    {
        var data = new TheoryData<int, int, int, int, int, bool>();
        foreach (int bits in new[] { 128, 256, 512 })
            foreach (bool causal in new[] { false, true })
            {
                data.Add(bits, 1, 32, 64, 4, causal); // the benchmark's shape
                data.Add(bits, 3, 5, 12, 3, causal);  // dh = 4
                data.Add(bits, 2, 7, 8, 1, causal);
                data.Add(bits, 1, 17, 20, 5, causal); // positions past a whole vector at every width
                data.Add(bits, 2, 3, 15, 3, causal);  // dh = 5
                data.Add(bits, 2, 1, 4, 2, causal);
                // Blocks of eight queries and keys with a partial last block or none whole: T = 1, 7, 9, 33.
                data.Add(bits, 1, 1, 5, 1, causal);   // one position, dh = 5
                data.Add(bits, 3, 7, 48, 2, causal);  // dh = 24
                data.Add(bits, 1, 9, 10, 2, causal);  // dh = 5
                data.Add(bits, 3, 33, 64, 4, causal); // dh = 16
                data.Add(bits, 1, 33, 21, 3, causal); // dh = 7
            }
        return data;
    }

    private static void Forward(int bits, float[] qkv, float[] output, float[] probabilities, int batch, int positions, int model, int heads, bool causal)
    {
        switch (bits)
        {
            case 512: Attention.Forward<Width512, Vector512<float>>(qkv, output, probabilities, batch, positions, model, heads, causal); break;
            case 256: Attention.Forward<Width256, Vector256<float>>(qkv, output, probabilities, batch, positions, model, heads, causal); break;
            default: Attention.Forward<Width128, Vector128<float>>(qkv, output, probabilities, batch, positions, model, heads, causal); break;
        }
    }

    private static void Backward(int bits, float[] qkv, float[] probabilities, float[] dy, float[] dqkv, int batch, int positions, int model, int heads, bool causal)
    {
        switch (bits)
        {
            case 512: Attention.Backward<Width512, Vector512<float>>(qkv, probabilities, dy, dqkv, batch, positions, model, heads, causal); break;
            case 256: Attention.Backward<Width256, Vector256<float>>(qkv, probabilities, dy, dqkv, batch, positions, model, heads, causal); break;
            default: Attention.Backward<Width128, Vector128<float>>(qkv, probabilities, dy, dqkv, batch, positions, model, heads, causal); break;
        }
    }

    private static void Step(int bits, float[] qkvRow, float[] keys, float[] values, int position, float[] output, int model, int heads)
    {
        switch (bits)
        {
            case 512: Attention.Step<Width512, Vector512<float>>(qkvRow, keys, values, position, output, model, heads); break;
            case 256: Attention.Step<Width256, Vector256<float>>(qkvRow, keys, values, position, output, model, heads); break;
            default: Attention.Step<Width128, Vector128<float>>(qkvRow, keys, values, position, output, model, heads); break;
        }
    }

    [Theory]
    [MemberData(nameof(WidthsAndShapes))]
    public void FastKernels_AtEveryWidth_MatchReference(int bits, int batch, int positions, int model, int heads, bool causal)
    {
        int rows = batch * positions;
        float[] qkv = Check.Random(rows * 3 * model, 21, 2f), dy = Check.Random(rows * model, 22);
        float[] output = new float[rows * model], probabilities = new float[batch * heads * positions * positions], dqkv = new float[rows * 3 * model];
        Array.Fill(probabilities, float.NaN); // every entry must be written, the masked ones as 0
        Array.Fill(dqkv, float.NaN);          // overwritten, not added to
        Forward(bits, qkv, output, probabilities, batch, positions, model, heads, causal);
        var q = Check.ToDouble(qkv);
        Check.Close(Reference.Attention(q, batch, positions, model, heads, causal), output, 1e-5, 2e-6, $"output at {bits} bits");
        var expectedP = Reference.AttentionProbabilities(q, batch, positions, model, heads, causal);
        Check.Close(expectedP, probabilities, 1e-5, 1e-7, $"probabilities at {bits} bits");
        for (int i = 0; i < expectedP.Length; i++)
            if (expectedP[i] == 0) Assert.True(probabilities[i] == 0f, $"masked probability {i} is {probabilities[i]}, not 0");
        Backward(bits, qkv, probabilities, dy, dqkv, batch, positions, model, heads, causal);
        Check.Close(Reference.AttentionBackward(q, Check.ToDouble(dy), batch, positions, model, heads, causal), dqkv, 1e-4, 1e-5, $"dqkv at {bits} bits");

        // Inference (no probabilities kept) gives the same bits.
        var inferred = new float[rows * model];
        Forward(bits, qkv, inferred, [], batch, positions, model, heads, causal);
        Assert.Equal(output, inferred);
    }

    [Theory]
    [InlineData(1, 32, 64, 4, false)]
    [InlineData(3, 5, 12, 3, true)]
    public void PublicEntryPoints_MatchReference(int batch, int positions, int model, int heads, bool causal)
    {
        int rows = batch * positions;
        float[] qkv = Check.Random(rows * 3 * model, 23), dy = Check.Random(rows * model, 24);
        float[] output = new float[rows * model], probabilities = new float[batch * heads * positions * positions], dqkv = new float[rows * 3 * model];
        Attention.Forward(qkv, output, probabilities, batch, positions, model, heads, causal);
        Attention.Backward(qkv, probabilities, dy, dqkv, batch, positions, model, heads, causal);
        var q = Check.ToDouble(qkv);
        Check.Close(Reference.Attention(q, batch, positions, model, heads, causal), output, 1e-5, 2e-6, "output");
        Check.Close(Reference.AttentionBackward(q, Check.ToDouble(dy), batch, positions, model, heads, causal), dqkv, 1e-4, 1e-5, "dqkv");
    }

    [Theory]
    [InlineData(128)]
    [InlineData(256)]
    [InlineData(512)]
    public void HugeScores_StayFinite_AndMatchReference(int bits)
    {
        // q and k near ±50 with dh = 16: scores q·k/4 reach about ±1e4; v and dy stay near 1.
        const int batch = 2, positions = 9, model = 32, heads = 2;
        int rows = batch * positions;
        float[] qkv = Check.Random(rows * 3 * model, 31), dy = Check.Random(rows * model, 32);
        var big = Check.Random(rows * 3 * model, 33, 60f);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < 2 * model; c++) qkv[r * 3 * model + c] = big[r * 3 * model + c];
        var q = Check.ToDouble(qkv);
        var expectedP = Reference.AttentionProbabilities(q, batch, positions, model, heads, false);
        foreach (bool causal in new[] { false, true })
        {
            float[] output = new float[rows * model], probabilities = new float[batch * heads * positions * positions], dqkv = new float[rows * 3 * model];
            Forward(bits, qkv, output, probabilities, batch, positions, model, heads, causal);
            Backward(bits, qkv, probabilities, dy, dqkv, batch, positions, model, heads, causal);
            Assert.All(output, v => Assert.True(float.IsFinite(v)));
            Assert.All(probabilities, v => Assert.True(float.IsFinite(v) && v >= 0 && v <= 1));
            Assert.All(dqkv, v => Assert.True(float.IsFinite(v)));
            // A score's float rounding is about 1e4·6e-8 ≈ 1e-3, so probabilities near ½ may move by that much.
            Check.Close(Reference.Attention(q, batch, positions, model, heads, causal), output, 0, 2e-3, $"output, causal {causal}");
            Check.Close(Reference.AttentionProbabilities(q, batch, positions, model, heads, causal), probabilities, 0, 2e-3, $"probabilities, causal {causal}");
        }
        // The scores really are that large: the softmax is nearly one-hot.
        int certain = 0;
        foreach (double p in expectedP) if (p > 0.999) certain++;
        Assert.True(certain > batch * heads * positions / 2, $"only {certain} rows nearly one-hot");
    }

    [Fact]
    public void ExactScores_OfPlusAndMinus1e4_GiveExactOneAndZero()
    {
        // dh = 1, so a score is q·k: query 0 scores 1e4 and −1e4, query 1 the reverse.
        float[] qkv = [100, 100, 1, -100, -100, 2];
        float[] output = new float[2], probabilities = new float[4];
        Attention.Forward(qkv, output, probabilities, 1, 2, 1, 1, causal: false);
        Assert.Equal(new float[] { 1, 0, 0, 1 }, probabilities);
        Assert.Equal(new float[] { 1, 2 }, output);
        Check.Close(Reference.AttentionProbabilities(Check.ToDouble(qkv), 1, 2, 1, 1, false), probabilities, 0, 0, "probabilities");
    }

    [Theory]
    [InlineData(128)]
    [InlineData(256)]
    [InlineData(512)]
    public void Causal_LaterRowsChangeNothingBefore_BitForBit(int bits)
    {
        const int batch = 2, positions = 19, model = 12, heads = 3;
        int rows = batch * positions, width = 3 * model;
        float[] qkv = Check.Random(rows * width, 41), dy = Check.Random(rows * model, 42);
        float[] before = new float[rows * model], pBefore = new float[batch * heads * positions * positions], gBefore = new float[rows * width];
        Forward(bits, qkv, before, pBefore, batch, positions, model, heads, true);
        Backward(bits, qkv, pBefore, dy, gBefore, batch, positions, model, heads, true);
        foreach (int cut in new[] { 0, 7, 16 })
        {
            var changed = (float[])qkv.Clone();
            var other = Check.Random(rows * width, 43 + (ulong)cut, 3f);
            for (int n = 0; n < batch; n++)
                for (int t = cut + 1; t < positions; t++)
                    for (int c = 0; c < width; c++) changed[(n * positions + t) * width + c] = other[(n * positions + t) * width + c];
            float[] after = new float[rows * model], pAfter = new float[pBefore.Length];
            Forward(bits, changed, after, pAfter, batch, positions, model, heads, true);
            for (int n = 0; n < batch; n++)
                for (int t = 0; t <= cut; t++)
                    for (int c = 0; c < model; c++)
                    {
                        int at = (n * positions + t) * model + c;
                        Assert.True(before[at] == after[at], $"cut {cut}: output of sample {n} position {t} column {c} changed");
                    }
        }
        // The gradient of a loss on the first rows only reaches the qkv of those rows.
        var early = (float[])dy.Clone();
        for (int n = 0; n < batch; n++)
            for (int t = 5; t < positions; t++)
                for (int c = 0; c < model; c++) early[(n * positions + t) * model + c] = 0;
        var g = new float[rows * width];
        Backward(bits, qkv, pBefore, early, g, batch, positions, model, heads, true);
        for (int n = 0; n < batch; n++)
            for (int t = 5; t < positions; t++)
                for (int c = 0; c < width; c++) Assert.True(g[(n * positions + t) * width + c] == 0f, $"gradient reached sample {n} position {t}");
    }

    [Theory]
    [InlineData(128, 9, 12, 3)]
    [InlineData(256, 9, 12, 3)]
    [InlineData(512, 9, 12, 3)]
    [InlineData(128, 33, 64, 4)]
    [InlineData(256, 33, 64, 4)]
    [InlineData(512, 33, 64, 4)]
    [InlineData(512, 5, 7, 1)]
    public void Step_EqualsForwardRowByRow(int bits, int positions, int model, int heads)
    {
        const int capacity = 40;
        float[] qkv = Check.Random(positions * 3 * model, 51);
        float[] expected = new float[positions * model];
        Forward(bits, qkv, expected, [], 1, positions, model, heads, true);
        float[] keys = new float[capacity * model], values = new float[capacity * model], output = new float[model];
        Array.Fill(keys, float.NaN); // rows past the position are never read
        Array.Fill(values, float.NaN);
        for (int t = 0; t < positions; t++)
        {
            Step(bits, qkv.AsSpan(t * 3 * model, 3 * model).ToArray(), keys, values, t, output, model, heads);
            for (int c = 0; c < model; c++)
            {
                Assert.True(expected[t * model + c] == output[c], $"position {t} column {c}: forward {expected[t * model + c]:R}, step {output[c]:R}");
                Assert.Equal(qkv[t * 3 * model + model + c], keys[t * model + c]);
                Assert.Equal(qkv[t * 3 * model + 2 * model + c], values[t * model + c]);
            }
        }
    }

    [Fact]
    public void PublicStep_MatchesReference()
    {
        const int positions = 6, model = 8, heads = 2;
        float[] qkv = Check.Random(positions * 3 * model, 52);
        var expected = Reference.Attention(Check.ToDouble(qkv), 1, positions, model, heads, true);
        float[] keys = new float[positions * model], values = new float[positions * model], output = new float[model];
        for (int t = 0; t < positions; t++)
        {
            Attention.Step(qkv.AsSpan(t * 3 * model, 3 * model), keys, values, t, output, model, heads);
            Check.Close(expected.AsSpan(t * model, model), output, 1e-5, 2e-6, $"step {t}");
        }
    }

    [Theory]
    [InlineData(6, false)]
    [InlineData(9, true)]
    public void BatchSplit_GivesTheBitsOfTheWhole(int positions, bool causal)
    {
        const int batch = 5, model = 12, heads = 3;
        int per = positions * 3 * model, outPer = positions * model, pPer = heads * positions * positions;
        float[] qkv = Check.Random(batch * per, 61), dy = Check.Random(batch * outPer, 62);
        float[] y = new float[batch * outPer], p = new float[batch * pPer], g = new float[batch * per];
        Attention.Forward(qkv, y, p, batch, positions, model, heads, causal);
        Attention.Backward(qkv, p, dy, g, batch, positions, model, heads, causal);
        float[] y2 = new float[y.Length], p2 = new float[p.Length], g2 = new float[g.Length];
        foreach (var (start, count) in new[] { (0, 2), (2, 1), (3, 2) })
        {
            Attention.Forward(qkv.AsSpan(start * per, count * per), y2.AsSpan(start * outPer, count * outPer), p2.AsSpan(start * pPer, count * pPer), count, positions, model, heads, causal);
            Attention.Backward(qkv.AsSpan(start * per, count * per), p2.AsSpan(start * pPer, count * pPer), dy.AsSpan(start * outPer, count * outPer),
                g2.AsSpan(start * per, count * per), count, positions, model, heads, causal);
        }
        Assert.Equal(y, y2);
        Assert.Equal(p, p2);
        Assert.Equal(g, g2);
    }

    [Fact]
    public void NoAllocation_OnceWarm()
    {
        const int batch = 2, positions = 32, model = 64, heads = 4;
        int rows = batch * positions;
        float[] qkv = Check.Random(rows * 3 * model, 71), dy = Check.Random(rows * model, 72);
        float[] y = new float[rows * model], p = new float[batch * heads * positions * positions], g = new float[rows * 3 * model];
        float[] keys = new float[positions * model], values = new float[positions * model], o = new float[model];
        Assert.Equal(0, Check.SteadyStateAllocation(() => Attention.Forward(qkv, y, p, batch, positions, model, heads, true)));
        Assert.Equal(0, Check.SteadyStateAllocation(() => Attention.Forward(qkv, y, [], batch, positions, model, heads, false)));
        Assert.Equal(0, Check.SteadyStateAllocation(() => Attention.Backward(qkv, p, dy, g, batch, positions, model, heads, true)));
        Assert.Equal(0, Check.SteadyStateAllocation(() => Attention.Step(qkv.AsSpan(0, 3 * model), keys, values, positions - 1, o, model, heads)));
    }

    [Fact]
    public void Arguments_AreChecked_WithTheirNumbers()
    {
        float[] qkv = new float[2 * 3 * 10], y = new float[20], p = new float[8];
        var e = Assert.Throws<ArgumentException>(() => Attention.Forward(qkv, y, p, 1, 2, 10, 3, false));
        Assert.Contains("model = 10", e.Message);
        Assert.Contains("heads = 3", e.Message);
        Assert.Throws<ArgumentException>(() => Attention.Backward(qkv, p, y, qkv, 1, 2, 10, 4, false));
        Assert.Throws<ArgumentException>(() => Attention.Step(qkv, y, y, 0, y, 10, 4));
        var shortQkv = Assert.Throws<ArgumentException>(() => Attention.Forward(qkv.AsSpan(0, 59), y, p, 1, 2, 10, 2, false));
        Assert.Equal("qkv", shortQkv.ParamName);
        Assert.Contains("60", shortQkv.Message);
        var shortP = Assert.Throws<ArgumentException>(() => Attention.Forward(qkv, y, p.AsSpan(0, 7), 1, 2, 10, 2, false));
        Assert.Equal("probabilities", shortP.ParamName);
        Assert.Throws<ArgumentException>(() => Attention.Backward(qkv, [], y, qkv, 1, 2, 10, 2, false));
        var shortCache = Assert.Throws<ArgumentException>(() => Attention.Step(qkv.AsSpan(0, 30), y, y.AsSpan(0, 19), 1, y, 10, 2));
        Assert.Equal("values", shortCache.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Attention.Forward(qkv, y, p, 1, 0, 10, 2, false));
        Assert.Throws<ArgumentOutOfRangeException>(() => Attention.Step(qkv, y, y, -1, y, 10, 2));
        // No samples: nothing to do.
        Attention.Forward([], [], [], 0, 4, 8, 2, true);
    }

    // ---------------------------------------------------------------- GELU's tanh approximation

    [Fact]
    public void GELUTanhReference_DerivativeMatchesFiniteDifferences()
    {
        for (double z = -8; z <= 8; z += 0.37)
        {
            double fd = (Reference.GELUTanh(z + 1e-6) - Reference.GELUTanh(z - 1e-6)) / 2e-6;
            Assert.True(Math.Abs(fd - Reference.GELUTanhDerivative(z)) < 1e-8, $"z = {z}: {fd} vs {Reference.GELUTanhDerivative(z)}");
        }
        // Known values: PyTorch's gelu(1, approximate='tanh') = 0.8411920, gelu(−1) = −0.1588080.
        Assert.Equal(0.841192, Reference.GELUTanh(1), 6);
        Assert.Equal(-0.158808, Reference.GELUTanh(-1), 6);
        Assert.Equal(0, Reference.GELUTanh(0));
    }

    public static TheoryData<int, int> WidthsAndLengths()
    {
        var data = new TheoryData<int, int>();
        foreach (int bits in new[] { 128, 256, 512 })
            foreach (int n in new[] { 0, 1, 7, 17, 33, 100 }) data.Add(bits, n);
        return data;
    }

    [Theory]
    [MemberData(nameof(WidthsAndLengths))]
    public void GELUTanh_AtEveryWidth_MatchesReference(int bits, int n)
    {
        float[] z = Check.Random(n, 81, 7f), dy = Check.Random(n, 82), y = new float[n + 2], dz = new float[n + 2];
        if (n > 3) { z[0] = 0; z[1] = -12; z[2] = 12; z[3] = 1e-3f; }
        y[n] = y[n + 1] = dz[n] = dz[n + 1] = -123f;
        switch (bits)
        {
            case 512: Activations.GELUTanh<Width512, Vector512<float>>(z, y); Activations.GELUTanhBackward<Width512, Vector512<float>>(z, dy, dz); break;
            case 256: Activations.GELUTanh<Width256, Vector256<float>>(z, y); Activations.GELUTanhBackward<Width256, Vector256<float>>(z, dy, dz); break;
            default: Activations.GELUTanh<Width128, Vector128<float>>(z, y); Activations.GELUTanhBackward<Width128, Vector128<float>>(z, dy, dz); break;
        }
        var expected = new double[n];
        var expectedDz = new double[n];
        for (int i = 0; i < n; i++)
        {
            expected[i] = Reference.GELUTanh(z[i]);
            expectedDz[i] = dy[i] * Reference.GELUTanhDerivative(z[i]);
        }
        // The absolute floor: far below zero the twin's own 1 + tanh u cancels (u ≈ −15 leaves 2e-13 of a 1), so
        // there it is the less accurate of the two; the values are below 1e-12 anyway.
        Check.Close(expected, y.AsSpan(0, n), 2e-6, 1e-12, $"y at {bits} bits");
        Check.Close(expectedDz, dz.AsSpan(0, n), 2e-6, 1e-7, $"dz at {bits} bits");
        Assert.True(y[n] == -123f && y[n + 1] == -123f && dz[n] == -123f && dz[n + 1] == -123f, "written past the end");
    }

    [Fact]
    public void GELUTanh_PublicAndInPlace()
    {
        float[] z = Check.Random(45, 83, 5f), dy = Check.Random(45, 84), y = new float[45], dz = new float[45];
        Activations.GELUTanh(z, y);
        Activations.GELUTanhBackward(z, dy, dz);
        var inPlace = (float[])dy.Clone();
        Activations.GELUTanhBackward(z, inPlace, inPlace);
        Assert.Equal(dz, inPlace);
        var zInPlace = (float[])z.Clone();
        Activations.GELUTanh(zInPlace, zInPlace);
        Assert.Equal(y, zInPlace);
        for (int i = 0; i < z.Length; i++) Assert.Equal(Reference.GELUTanh(z[i]), y[i], 5);
        Assert.Throws<ArgumentException>(() => Activations.GELUTanh(z, y.AsSpan(0, 44)));
        Assert.Throws<ArgumentException>(() => Activations.GELUTanhBackward(z, dy.AsSpan(0, 44), dz));
    }
}
