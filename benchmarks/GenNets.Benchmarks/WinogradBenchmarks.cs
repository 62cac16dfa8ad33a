using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using BenchmarkDotNet.Attributes;
using GenNets.Kernels;

namespace GenNets.Benchmarks;

/// <summary>
/// A same-size 3×3 convolution (stride 1, padding 1) by the shifted-rows product (pad the sample, one
/// <see cref="Gemm.MultiplyIndirect"/> over the wide layout, drop the extra columns: what <see cref="Convolution"/>
/// does without Winograd) against <see cref="Winograd"/>'s F(2×2, 3×3) and F(4×4, 3×3), forward and input gradient
/// (the same product with the kernel turned and the channels swapped), on one thread.
/// BenchmarkDotNet: <c>--filter *Winograd*</c>. <c>--winograd</c> instead takes the three in turns in one process
/// (<see cref="Interleaved"/>), which a shared, noisy machine needs to compare them.
/// </summary>
public class WinogradBenchmarks
{
    [Params(1, 64)] public int Batch;
    [Params(16)] public int Channels;
    [Params(28)] public int Side;

    private Case _case = null!;

    [GlobalSetup]
    public void Setup() => _case = new Case(Channels, Channels, Side, Batch);

    [Benchmark(Baseline = true)] public void ShiftedForward() => _case.Shifted(gradient: false);
    [Benchmark] public void WinogradForward2() => _case.Winograd(gradient: false, tile: 2);
    [Benchmark] public void WinogradForward4() => _case.Winograd(gradient: false, tile: 4);
    [Benchmark] public void ShiftedInputGradient() => _case.Shifted(gradient: true);
    [Benchmark] public void WinogradInputGradient2() => _case.Winograd(gradient: true, tile: 2);
    [Benchmark] public void WinogradInputGradient4() => _case.Winograd(gradient: true, tile: 4);

    /// <summary>One geometry's data and buffers, and the two ways through it.</summary>
    private sealed class Case
    {
        private readonly Conv2DGeometry _g, _flippedGeometry;
        private readonly int _batch;
        private readonly float[] _x, _w, _flipped, _bias, _zeros, _y, _dy, _dx, _padded, _wide;
        private readonly int[] _offsets, _flippedOffsets;

        public Case(int inC, int outC, int side, int batch)
        {
            _g = new Conv2DGeometry(inC, side, side, outC, 3, 3, 1, 1, 1, side, side);
            _flippedGeometry = new Conv2DGeometry(outC, side, side, inC, 3, 3, 1, 1, 1, side, side);
            _batch = batch;
            var r = new SeededRandom(5);
            float[] Random(int n) => Enumerable.Range(0, n).Select(_ => (float)(2 * r.NextDouble() - 1)).ToArray();
            _x = Random(batch * _g.InputLength);
            _w = Random(_g.WeightLength);
            _bias = Random(outC);
            _zeros = new float[inC];
            _y = new float[batch * _g.OutputLength];
            _dy = Random(batch * _g.OutputLength);
            _dx = new float[batch * _g.InputLength];
            _flipped = new float[_g.WeightLength];
            for (int f = 0; f < outC; f++)
                for (int c = 0; c < inC; c++)
                    for (int k = 0; k < 9; k++)
                        _flipped[(c * outC + f) * 9 + 8 - k] = _w[(f * inC + c) * 9 + k];
            _offsets = Offsets(_g);
            _flippedOffsets = Offsets(_flippedGeometry);
            _padded = new float[Math.Max(_g.PaddedLength, _flippedGeometry.PaddedLength)];
            _wide = new float[Math.Max(outC, inC) * Math.Max(_g.WidePositions, _flippedGeometry.WidePositions)];
        }

        private static int[] Offsets(Conv2DGeometry g)
        {
            var offsets = new int[g.Patch];
            for (int c = 0, p = 0; c < g.InChannels; c++)
                for (int i = 0; i < 3; i++)
                    for (int j = 0; j < 3; j++)
                        offsets[p++] = (c * g.PaddedHeight + i) * g.PaddedWidth + j;
            return offsets;
        }

        // Pad, one product over the wide layout, drop the extra columns (with max(0, ·) on the forward pass).
        public void Shifted(bool gradient)
        {
            var g = gradient ? _flippedGeometry : _g;
            float[] x = gradient ? _dy : _x, w = gradient ? _flipped : _w, bias = gradient ? _zeros : _bias, y = gradient ? _dx : _y;
            int[] offsets = gradient ? _flippedOffsets : _offsets;
            int h = g.Height, width = g.Width, wp = g.PaddedWidth, hp = g.PaddedHeight, wide = g.WidePositions;
            Array.Clear(_padded);
            for (int n = 0; n < _batch; n++)
            {
                for (int c = 0; c < g.InChannels; c++)
                    for (int r = 0; r < h; r++)
                        Array.Copy(x, n * g.InputLength + (c * h + r) * width, _padded, (c * hp + r + 1) * wp + 1, width);
                Gemm.MultiplyIndirect(w, _padded, offsets, bias, _wide, g.OutChannels, wide, g.Patch);
                var target = y.AsSpan(n * g.OutputLength, g.OutputLength);
                for (int c = 0; c < g.OutChannels; c++)
                    for (int r = 0; r < g.OutHeight; r++)
                    {
                        var line = target.Slice((c * g.OutHeight + r) * g.OutWidth, g.OutWidth);
                        _wide.AsSpan(c * wide + r * wp, g.OutWidth).CopyTo(line);
                        if (!gradient) System.Numerics.Tensors.TensorPrimitives.Max(line, 0f, line);
                    }
            }
        }

        public void Winograd(bool gradient, int tile)
        {
            if (gradient) GenNets.Kernels.Winograd.InputGradient(_w, _dy, _dx, _batch, _g, tile);
            else GenNets.Kernels.Winograd.Forward(_x, _w, _bias, _y, _batch, _g, relu: true, tile);
        }
    }

    /// <summary>
    /// Medians of single timed calls of the shifted path, F(2×2) and F(4×4), taken in turns of a twentieth of a second
    /// each for a few seconds a geometry, forward and input gradient, printed as a table: the figures the dispatch in
    /// <see cref="Convolution"/> rests on.
    /// </summary>
    public static void Interleaved()
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"Kernels: {VectorWidths.Description}");
        Console.WriteLine("| inC→outC | side | batch | pass | shifted | F(2×2) | F(4×4) | shifted / F(4×4) |");
        Console.WriteLine("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |");
        foreach (var (inC, outC, side) in new[] { (16, 16, 28), (8, 16, 28), (16, 32, 14), (32, 32, 14), (64, 64, 7), (3, 16, 28) })
            foreach (int batch in new[] { 1, 64 })
                foreach (bool gradient in new[] { false, true })
                {
                    var c = new Case(inC, outC, side, batch);
                    var medians = Medians([() => c.Shifted(gradient), () => c.Winograd(gradient, 2), () => c.Winograd(gradient, 4)], batch == 1 ? 1.5 : 3);
                    string Fmt(double ns) => ns < 1e6 ? (ns / 1e3).ToString("F1", inv) + " µs" : (ns / 1e6).ToString("F2", inv) + " ms";
                    Console.WriteLine($"| {inC}→{outC} | {side} | {batch} | {(gradient ? "dX" : "forward")} | {Fmt(medians[0])} | {Fmt(medians[1])} | {Fmt(medians[2])} | {(medians[0] / medians[2]).ToString("F2", inv)} |");
                }
    }

    // Medians in nanoseconds of single timed calls, the calls taking turns of 50 ms each (the first three of a turn untimed).
    private static double[] Medians(Action[] calls, double seconds)
    {
        var times = calls.Select(_ => new List<double>()).ToArray();
        foreach (var call in calls) call();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds || times.Any(t => t.Count < 20))
            for (int i = 0; i < calls.Length; i++)
            {
                for (int k = 0; k < 3; k++) calls[i]();
                var turn = Stopwatch.StartNew();
                do
                {
                    long start = Stopwatch.GetTimestamp();
                    calls[i]();
                    times[i].Add((Stopwatch.GetTimestamp() - start) * 1e9 / Stopwatch.Frequency);
                }
                while (turn.Elapsed.TotalSeconds < 0.05);
            }
        return times.Select(t => { t.Sort(); return t[t.Count / 2]; }).ToArray();
    }
}
