using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;

namespace GenNets.Benchmarks;

/// <summary>
/// This machine's single-core FP32 peak, measured in the same run as the networks: 12 independent
/// Vector256 FMA chains, enough to cover the FMA latency on two pipes.
/// </summary>
public class PeakBenchmark
{
    public const int Iterations = 100_000;
    /// <summary>FLOPs per call: 12 vectors × 8 lanes × 2 (multiply and add) per iteration.</summary>
    public const double Flops = Iterations * 12.0 * 8 * 2;

    /// <summary>The same loop on two threads at once: the machine's two-core peak is 2 × Flops over this time.</summary>
    [Benchmark(Description = "FP32 peak: 12 FMA chains on each of 2 threads")]
    public void PeakTwoThreads() => System.Threading.Tasks.Parallel.Invoke(() => Peak(), () => Peak());

    [Benchmark(Description = "FP32 peak: 12 FMA chains")]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public float Peak()
    {
        var m = Vector256.Create(0.999f);
        var a = Vector256.Create(1e-3f);
        Vector256<float> c0 = Vector256.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int i = 0; i < Iterations; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, m, a); c1 = Vector256.FusedMultiplyAdd(c1, m, a);
            c2 = Vector256.FusedMultiplyAdd(c2, m, a); c3 = Vector256.FusedMultiplyAdd(c3, m, a);
            c4 = Vector256.FusedMultiplyAdd(c4, m, a); c5 = Vector256.FusedMultiplyAdd(c5, m, a);
            c6 = Vector256.FusedMultiplyAdd(c6, m, a); c7 = Vector256.FusedMultiplyAdd(c7, m, a);
            c8 = Vector256.FusedMultiplyAdd(c8, m, a); c9 = Vector256.FusedMultiplyAdd(c9, m, a);
            c10 = Vector256.FusedMultiplyAdd(c10, m, a); c11 = Vector256.FusedMultiplyAdd(c11, m, a);
        }
        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }
}
