using System;
using Xunit;

namespace GenNets.Tests;

/// <summary>Shared tolerance checks and test data.</summary>
internal static class Check
{
    /// <summary>Asserts |a − b| ≤ atol + rtol·|b| elementwise, naming the first index that fails.</summary>
    public static void Close(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double rtol, double atol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (!(Math.Abs(a - e) <= atol + rtol * Math.Abs(e)))
                Assert.Fail($"{what}[{i}]: expected {e:R}, got {a:R} (|diff| {Math.Abs(a - e):E3} > {atol + rtol * Math.Abs(e):E3}).");
        }
    }

    public static void Close(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double rtol, double atol, string what)
        => Close(expected, ToDouble(actual), rtol, atol, what);

    public static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var d = new double[values.Length];
        for (int i = 0; i < values.Length; i++) d[i] = values[i];
        return d;
    }

    public static float[] Random(int count, ulong seed, float scale = 1f)
    {
        var random = new SeededRandom(seed);
        var v = new float[count];
        for (int i = 0; i < count; i++) v[i] = (float)((2 * random.NextDouble() - 1) * scale);
        return v;
    }

    /// <summary>
    /// Bytes the calling thread allocates per window of <paramref name="iterations"/> calls of <paramref name="step"/>, once
    /// warmed up, in up to three windows: a one-time allocation (a per-thread buffer on the first part a thread happens to
    /// claim from the pool) lands in one window; an allocation per call shows in every window. Returns the smallest.
    /// </summary>
    public static long SteadyStateAllocation(Action step, int warmUp = 3, int iterations = 5)
    {
        for (int i = 0; i < warmUp; i++) step();
        long smallest = long.MaxValue;
        for (int window = 0; window < 3; window++) // always three, so that callers take a fixed number of steps
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < iterations; i++) step();
            smallest = Math.Min(smallest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return smallest;
    }

    /// <summary>
    /// Central finite differences of <paramref name="f"/> at <paramref name="x"/>, in double precision:
    /// (f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h for each i.
    /// </summary>
    public static double[] FiniteDifferences(Func<double[], double> f, double[] x, double h = 1e-6)
    {
        var g = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double keep = x[i];
            x[i] = keep + h;
            double plus = f(x);
            x[i] = keep - h;
            double minus = f(x);
            x[i] = keep;
            g[i] = (plus - minus) / (2 * h);
        }
        return g;
    }
}
