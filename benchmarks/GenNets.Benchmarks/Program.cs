using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

namespace GenNets.Benchmarks;

/// <summary>
/// dotnet run -c Release --project benchmarks/GenNets.Benchmarks             full BenchmarkDotNet run
/// dotnet run -c Release --project benchmarks/GenNets.Benchmarks -- --quick  medians of timed calls, a few seconds
/// Both end with a table: median µs, GFLOP/s and share of the FP32 peak measured in the same run.
/// </summary>
public static class Program
{
    // FLOPs count a multiply-add as 2; a training step counts 3x the forward.
    private const double MlpForwardFlops = 2.0 * (784 * 256 + 256 * 128 + 128 * 10);

    private static readonly Dictionary<string, double> FlopsOf = new()
    {
        ["GenNetsInference"] = MlpForwardFlops,
        ["NaiveInference"] = MlpForwardFlops,
        ["GenNetsTrainStep"] = 3 * MlpForwardFlops * MlpBenchmarks.Batch,
        ["NaiveTrainStep"] = 3 * MlpForwardFlops * MlpBenchmarks.Batch,
        ["Peak"] = PeakBenchmark.Flops,
    };

    public static void Main(string[] args)
    {
        var medians = args.Contains("--quick") ? Quick() : Full(args);
        Print(medians);
    }

    private static Dictionary<string, double> Full(string[] args)
    {
        var config = DefaultConfig.Instance.WithOptions(ConfigOptions.DisableOptimizationsValidator);
        var summaries = BenchmarkSwitcher.FromTypes([typeof(PeakBenchmark), typeof(MlpBenchmarks)]).RunAll(config, args.Where(a => a != "--quick").ToArray());
        var medians = new Dictionary<string, double>();
        foreach (var report in summaries.SelectMany(s => s.Reports))
            if (report.ResultStatistics is { } stats)
                medians[report.BenchmarkCase.Descriptor.WorkloadMethod.Name] = stats.Median; // ns
        return medians;
    }

    private static Dictionary<string, double> Quick()
    {
        var mlp = new MlpBenchmarks();
        mlp.Setup();
        var peak = new PeakBenchmark();
        return new Dictionary<string, double>
        {
            ["Peak"] = Median(() => peak.Peak(), 30),
            ["GenNetsInference"] = Median(() => mlp.GenNetsInference(), 20000),
            ["NaiveInference"] = Median(() => mlp.NaiveInference(), 20000),
            ["GenNetsTrainStep"] = Median(() => mlp.GenNetsTrainStep(), 300),
            ["NaiveTrainStep"] = Median(() => mlp.NaiveTrainStep(), 100),
        };
    }

    /// <summary>Median of single timed calls after a warm-up, in nanoseconds.</summary>
    private static double Median(Action call, int count)
    {
        for (int i = 0; i < Math.Max(10, count / 10); i++) call();
        var times = new double[count];
        for (int i = 0; i < count; i++)
        {
            long start = Stopwatch.GetTimestamp();
            call();
            times[i] = (Stopwatch.GetTimestamp() - start) * 1e9 / Stopwatch.Frequency;
        }
        Array.Sort(times);
        return times[count / 2];
    }

    private static void Print(Dictionary<string, double> medians)
    {
        var inv = CultureInfo.InvariantCulture;
        double peak = medians.TryGetValue("Peak", out double p) ? PeakBenchmark.Flops / p : double.NaN; // GFLOP/s, since ns
        Console.WriteLine();
        Console.WriteLine($"FP32 peak measured in this run, 1 thread: {peak.ToString("F1", inv)} GFLOP/s");
        Console.WriteLine($"{"benchmark",-20} {"median µs",12} {"GFLOP/s",9} {"of peak",8}");
        foreach (var (name, ns) in medians.Where(m => m.Key != "Peak"))
        {
            double gflops = FlopsOf[name] / ns;
            Console.WriteLine($"{name,-20} {(ns / 1000).ToString("F2", inv),12} {gflops.ToString("F1", inv),9} {(gflops / peak).ToString("P0", inv),8}");
        }
        if (medians.ContainsKey("GenNetsInference") && medians.ContainsKey("NaiveInference"))
            Console.WriteLine($"inference: GenNets is {(medians["NaiveInference"] / medians["GenNetsInference"]).ToString("F2", inv)}x the naive speed");
        if (medians.ContainsKey("GenNetsTrainStep") && medians.ContainsKey("NaiveTrainStep"))
            Console.WriteLine($"training:  GenNets is {(medians["NaiveTrainStep"] / medians["GenNetsTrainStep"]).ToString("F2", inv)}x the naive speed");
    }
}
