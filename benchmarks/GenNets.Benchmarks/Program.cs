using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

namespace GenNets.Benchmarks;

/// <summary>
/// dotnet run -c Release --project benchmarks/GenNets.Benchmarks             BenchmarkDotNet: the figures to publish
/// dotnet run -c Release --project benchmarks/GenNets.Benchmarks -- --quick  a few seconds per network, for routine use
/// Add --filter *Naive* (full mode) or --naive (quick mode) for the straightforward-C# comparison of the MLP; in quick mode,
/// network names (MLP, CNN, CNN-32-64, LSTM, GRU, RNN) pick the networks to run; in full mode the environment variable GENNETS_BENCH_NETWORKS
/// (for example MLP,CNN) does.
/// In quick mode GenNets and ONNX Runtime take turns of a tenth of a second, so both see the same machine.
/// Both print one table: medians, GFLOP/s and share of the FP32 peak measured in the same run, and the ratio to ONNX Runtime.
/// </summary>
public static class Program
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Main(string[] args)
    {
        if (args.Contains("--winograd")) { WinogradBenchmarks.Interleaved(); return; }
        bool quick = args.Contains("--quick");
        // In quick mode, network names among the arguments pick the networks (all by default).
        var picked = Networks.Names.Where(args.Contains).ToArray();
        var results = quick ? Quick(args.Contains("--naive"), picked.Length == 0 ? Networks.Names : picked) : Full(args.Where(a => a != "--quick").ToArray());
        double peak1 = results.TryGetValue(("Peak", 1, "Peak"), out double p1) ? PeakBenchmark.Flops / p1 : double.NaN;
        double peak2 = results.TryGetValue(("Peak", 2, "Peak"), out double p2) ? 2 * PeakBenchmark.Flops / p2 : double.NaN;
        Print(results, peak1, peak2);
    }

    // (network, threads, measure) -> median nanoseconds
    private static Dictionary<(string, int, string), double> Full(string[] args)
    {
        var config = DefaultConfig.Instance.WithOptions(ConfigOptions.DisableOptimizationsValidator);
        var summaries = BenchmarkSwitcher.FromTypes([typeof(PeakBenchmark), typeof(EngineBenchmarks), typeof(MlpBenchmarks), typeof(WinogradBenchmarks)]).Run(args.Length == 0 ? ["--filter", "*"] : args, config);
        var results = new Dictionary<(string, int, string), double>();
        foreach (var report in summaries.SelectMany(s => s.Reports))
        {
            if (report.ResultStatistics is not { } stats) continue;
            var c = report.BenchmarkCase;
            string method = c.Descriptor.WorkloadMethod.Name;
            string network = c.Parameters.Items.FirstOrDefault(p => p.Name == "Network")?.Value as string ?? (method.StartsWith("Peak", StringComparison.Ordinal) ? "Peak" : "MLP");
            int threads = c.Parameters.Items.FirstOrDefault(p => p.Name == "Threads")?.Value is int t ? t : method == "PeakTwoThreads" ? 2 : 1;
            results[(network, threads, method == "PeakTwoThreads" ? "Peak" : method)] = stats.Median;
        }
        return results;
    }

    private static Dictionary<(string, int, string), double> Quick(bool naive, string[] networks)
    {
        var results = new Dictionary<(string, int, string), double>();
        var peak = new PeakBenchmark();
        results[("Peak", 1, "Peak")] = Median(() => peak.Peak(), 0.5);
        results[("Peak", 2, "Peak")] = Median(() => peak.PeakTwoThreads(), 0.5);
        foreach (string name in networks)
            foreach (int threads in new[] { 1, 2 })
            {
                using var w = new Workload(name, Networks.Create(name), threads);
                (results[(name, threads, "GenNetsSingle")], results[(name, threads, "OrtSingle")]) = Medians(w.GenNetsSingle, w.OrtSingle, 2);
                (results[(name, threads, "GenNetsBatch")], results[(name, threads, "OrtBatch")]) = Medians(w.GenNetsBatch, w.OrtBatch, 2);
                results[(name, threads, "GenNetsTrain")] = Median(w.GenNetsTrain, 1.5);
            }
        if (naive)
        {
            var mlp = new MlpBenchmarks();
            mlp.Setup();
            results[("MLP", 1, "NaiveInference")] = Median(() => mlp.NaiveInference(), 1);
            results[("MLP", 1, "GenNetsInference")] = Median(() => mlp.GenNetsInference(), 1);
            results[("MLP", 1, "NaiveTrainStep")] = Median(() => mlp.NaiveTrainStep(), 1.5);
            results[("MLP", 1, "GenNetsTrainStep")] = Median(() => mlp.GenNetsTrainStep(), 1.5);
        }
        return results;
    }

    /// <summary>Median of single timed calls over about <paramref name="seconds"/> after a warm-up, in nanoseconds.</summary>
    private static double Median(Action call, double seconds)
    {
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < seconds / 3) call();
        var times = new List<double>();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds || times.Count < 20)
        {
            long start = Stopwatch.GetTimestamp();
            call();
            times.Add((Stopwatch.GetTimestamp() - start) * 1e9 / Stopwatch.Frequency);
        }
        times.Sort();
        return times[times.Count / 2];
    }

    /// <summary>
    /// Medians of single timed calls of <paramref name="a"/> and <paramref name="b"/>, taken in turns of a tenth of a
    /// second each (a, b, a, b, …) for about <paramref name="seconds"/> in all, in nanoseconds. On a shared machine whose
    /// speed drifts from one second to the next, both engines then see the same machine, so their ratio is steadier than
    /// that of two runs one after the other. The first calls of each turn are not timed: an engine's worker threads may
    /// still be spinning from the other's turn (ONNX Runtime's do, by default).
    /// </summary>
    private static (double, double) Medians(Action a, Action b, double seconds)
    {
        var timesA = new List<double>();
        var timesB = new List<double>();
        void Turn(Action call, List<double> times)
        {
            for (int i = 0; i < 3; i++) call();
            var turn = Stopwatch.StartNew();
            do
            {
                long start = Stopwatch.GetTimestamp();
                call();
                times.Add((Stopwatch.GetTimestamp() - start) * 1e9 / Stopwatch.Frequency);
            }
            while (turn.Elapsed.TotalSeconds < 0.1);
        }
        Turn(a, []);
        Turn(b, []);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds || timesA.Count < 20 || timesB.Count < 20)
        {
            Turn(a, timesA);
            Turn(b, timesB);
        }
        timesA.Sort();
        timesB.Sort();
        return (timesA[timesA.Count / 2], timesB[timesB.Count / 2]);
    }

    private static void Print(Dictionary<(string, int, string), double> r, double peak1, double peak2)
    {
        Console.WriteLine();
        Console.WriteLine($"CPU: {CpuName()}; GenNets' kernels use {GenNets.Kernels.VectorWidths.Description}");
        Console.WriteLine($"FP32 peak measured in this run with {PeakBenchmark.Width} (the widest this CPU accelerates): {peak1.ToString("F1", Inv)} GFLOP/s on 1 thread, {peak2.ToString("F1", Inv)} on 2");
        Console.WriteLine();
        Console.WriteLine("| network | measure | threads | GenNets | ONNX Runtime | GenNets speed-up | GenNets GFLOP/s | share of peak |");
        Console.WriteLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (string network in r.Keys.Select(k => k.Item1).Where(n => n != "Peak").Distinct())
            foreach (var (measure, gen, ort, samples, passes, unit) in new[]
            {
                ("1 sample", "GenNetsSingle", "OrtSingle", 1, 1, "µs"),
                ("batch 64 inference", "GenNetsBatch", "OrtBatch", Workload.Batch, 1, "ms"),
                ("batch 64 training step", "GenNetsTrain", "", Workload.Batch, 3, "ms"),
            })
                foreach (int threads in new[] { 1, 2 })
                {
                    if (!r.TryGetValue((network, threads, gen), out double g)) continue;
                    long flops = Networks.Create(network).ForwardFlopsPerSample * samples * passes;
                    double gflops = flops / g;
                    double peak = threads == 1 ? peak1 : peak2;
                    string Fmt(double ns) => unit == "µs" ? (ns / 1e3).ToString("F1", Inv) + " µs" : (ns / 1e6).ToString("F3", Inv) + " ms";
                    string ortText = r.TryGetValue((network, threads, ort), out double o) ? Fmt(o) : "—";
                    string ratio = r.ContainsKey((network, threads, ort)) ? (o / g).ToString("F2", Inv) + "×" : "—";
                    Console.WriteLine($"| {network} | {measure} | {threads} | {Fmt(g)} | {ortText} | {ratio} | {gflops.ToString("F1", Inv)} | {(gflops / peak).ToString("P0", Inv)} |");
                }
        if (r.TryGetValue(("MLP", 1, "NaiveInference"), out double ni) && r.TryGetValue(("MLP", 1, "GenNetsInference"), out double gi))
            Console.WriteLine($"\nMLP, 1 thread: one sample {(gi / 1e3).ToString("F2", Inv)} µs vs {(ni / 1e3).ToString("F2", Inv)} µs straightforward C# ({(ni / gi).ToString("F2", Inv)}×)");
        if (r.TryGetValue(("MLP", 1, "NaiveTrainStep"), out double nt) && r.TryGetValue(("MLP", 1, "GenNetsTrainStep"), out double gt))
            Console.WriteLine($"MLP, 1 thread: training step {(gt / 1e3).ToString("F0", Inv)} µs vs {(nt / 1e3).ToString("F0", Inv)} µs straightforward C# ({(nt / gt).ToString("F2", Inv)}×)");
    }

    // The CPU as the OS names it (Linux: /proc/cpuinfo's model name, family and model), else the architecture.
    private static string CpuName()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                var lines = File.ReadLines("/proc/cpuinfo").TakeWhile(l => l.Length > 0).ToArray();
                string Field(string name) => lines.FirstOrDefault(l => l.StartsWith(name + "\t", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
                return $"{Field("model name")} (family {Field("cpu family")}, model {Field("model")}), {Environment.ProcessorCount} logical CPUs";
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return $"{System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}, {Environment.ProcessorCount} logical CPUs";
    }
}
