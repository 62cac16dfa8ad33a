using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using GenNets;
using GenNets.Training;

namespace LongDependenciesSample;

/// <summary>
/// The adding problem (Hochreiter and Schmidhuber, 1997): a sequence of (value, marker) pairs with values uniform in
/// [0, 1) and exactly two markers, one in each half; the target is the sum of the two marked values. Always answering 1
/// scores a mean squared error of 1/6 ≈ 0.167. A plain RNN must carry the first marked value across half the sequence,
/// which its vanishing gradients prevent once sequences get long; LSTM and GRU gates keep it. Each cell is trained on
/// each length with the same budget (steps, batch, optimizer, clipping, seed) on fresh random sequences, then scored on
/// a fixed test set; the sample prints a table and writes a PNG of final test error against sequence length.
///
///   dotnet run -c Release --project samples/LongDependencies                    all lengths, 4,000 steps each
///   dotnet run -c Release --project samples/LongDependencies -- --lengths 10,50 --steps 300
/// Options: --lengths L1,L2,… (from 10, 25, 50, 100, 200), --cells SimpleRNN,LSTM,GRU, --steps N, --batch N, --lr X, --clip X,
/// --seed N, --plot FILE.
/// </summary>
public static class Program
{
    private const double Baseline = 1.0 / 6.0; // the error of always answering 1
    private const int TestSequences = 2000;

    public static int Main(string[] args)
    {
        try
        {
            return Run(Options.Parse(args));
        }
        catch (Exception e) when (e is ArgumentException or IOException)
        {
            Console.Error.WriteLine("error: " + e.Message);
            return 1;
        }
    }

    private static int Run(Options options)
    {
        Console.WriteLine($"The adding problem: {options.Steps:N0} training steps of {options.BatchSize} fresh sequences per network, Adam lr " +
            $"{options.LearningRate.ToString(CultureInfo.InvariantCulture)}, gradient norm clipped at {options.Clip.ToString(CultureInfo.InvariantCulture)}, " +
            $"seed {options.Seed}, {Environment.ProcessorCount} threads; test on {TestSequences:N0} sequences. Always answering 1 scores {Baseline:F3}.\n");
        var results = new List<Result>();
        foreach (int length in options.Lengths)
            foreach (string cell in options.Cells)
            {
                var result = Train(cell, length, options);
                results.Add(result);
                Console.WriteLine($"{cell,-9} T = {length,3}: test MSE {result.TestError:F4}  ({result.Time.TotalSeconds:F1} s, {result.Parameters:N0} parameters)");
            }

        Console.WriteLine();
        Console.WriteLine("Test mean squared error after training (baseline 0.167; solved: under 0.01):");
        Console.WriteLine("| steps T | " + string.Join(" | ", options.Cells) + " |");
        Console.WriteLine("| ---: |" + string.Concat(options.Cells.Select(_ => " ---: |")));
        foreach (int length in options.Lengths)
            Console.WriteLine($"| {length} | " + string.Join(" | ", options.Cells.Select(c => Format(results.Single(r => r.Cell == c && r.Length == length).TestError))) + " |");

        Plot(options.Plot, results, options);
        Console.WriteLine($"\nwrote {options.Plot}");
        return 0;
    }

    private static string Format(double error) => error.ToString("F4", CultureInfo.InvariantCulture) + (error < 0.01 ? " (solved)" : error > 0.1 ? " (baseline)" : "");

    private sealed record Result(string Cell, int Length, int Parameters, double TestError, TimeSpan Time);

    private static Result Train(string cell, int length, Options options)
    {
        var network = Networks.Create(cell, length, options.Seed);
        var optimizer = new Adam(options.LearningRate) { MaxGradientNorm = options.Clip };
        int batch = options.BatchSize, inputSize = network.InputSize;
        var x = new float[batch * inputSize];
        var y = new float[batch];
        // Training sequences are drawn fresh for every step; the test set is fixed (and the same for every cell).
        var random = new SeededRandom((ulong)options.Seed * 7919 + (ulong)length);
        var (testX, testY) = Sequences(TestSequences, length, new SeededRandom(12345 + (ulong)length));
        var clock = Stopwatch.StartNew();
        for (int step = 0; step < options.Steps; step++)
        {
            Fill(x, y, batch, length, ref random);
            try { network.TrainStep(x, y, batch, optimizer); } // clipped by the optimizer, applied whole or not at all
            catch (TrainingDivergedException e) { throw new TrainingDivergedException($"{cell} over {length} steps diverged at step {step + 1}: {e.Message} Lower --lr.", e.Tensor, e); }
        }
        clock.Stop();
        return new Result(cell, length, network.ParameterCount, TestError(network, testX, testY), clock.Elapsed);
    }

    private static double TestError(INetwork network, float[] x, float[] y)
    {
        var predictions = new float[y.Length];
        network.Forward(x, predictions, y.Length);
        double sum = 0;
        for (int i = 0; i < y.Length; i++) sum += (predictions[i] - (double)y[i]) * (predictions[i] - y[i]);
        return sum / y.Length;
    }

    private static (float[] X, float[] Y) Sequences(int count, int length, SeededRandom random)
    {
        var x = new float[count * length * 2];
        var y = new float[count];
        Fill(x, y, count, length, ref random);
        return (x, y);
    }

    // Each sequence: `length` steps of (value, marker); one marker in each half; the target is the sum of the marked values.
    private static void Fill(float[] x, float[] y, int count, int length, ref SeededRandom random)
    {
        int half = length / 2;
        for (int s = 0; s < count; s++)
        {
            var sequence = x.AsSpan(s * length * 2, length * 2);
            for (int t = 0; t < length; t++)
            {
                sequence[2 * t] = (float)random.NextDouble();
                sequence[2 * t + 1] = 0f;
            }
            int first = random.NextInt(half), second = half + random.NextInt(length - half);
            sequence[2 * first + 1] = 1f;
            sequence[2 * second + 1] = 1f;
            y[s] = sequence[2 * first] + sequence[2 * second];
        }
    }

    private static void Plot(string path, List<Result> results, Options options)
    {
        var plot = new ScottPlot.Plot();
        double[] lengths = options.Lengths.Select(l => (double)l).ToArray();
        foreach (string cell in options.Cells)
        {
            double[] errors = options.Lengths.Select(l => Math.Log10(Math.Max(1e-5, results.Single(r => r.Cell == cell && r.Length == l).TestError))).ToArray();
            var line = plot.Add.Scatter(lengths, errors);
            line.LegendText = cell;
            line.LineWidth = 2;
            line.MarkerSize = 8;
        }
        var baseline = plot.Add.HorizontalLine(Math.Log10(Baseline));
        baseline.LegendText = "always answering 1 (0.167)";
        baseline.LinePattern = ScottPlot.LinePattern.Dashed;
        var solved = plot.Add.HorizontalLine(Math.Log10(0.01));
        solved.LegendText = "solved (0.01)";
        solved.LinePattern = ScottPlot.LinePattern.Dotted;
        plot.Title($"The adding problem: test error after {options.Steps:N0} steps of {options.BatchSize}");
        plot.XLabel("sequence length T");
        plot.YLabel("test mean squared error (log scale)");
        // The values are log10 of the error: label each decade with the error itself.
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            IntegerTicksOnly = true,
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            LabelFormatter = v => Math.Pow(10, v).ToString("G3", CultureInfo.InvariantCulture),
        };
        plot.ShowLegend(ScottPlot.Alignment.LowerRight);
        plot.SavePng(path, 900, 560);
    }

    private sealed record Options(int[] Lengths, string[] Cells, int Steps, int BatchSize, float LearningRate, float Clip, int Seed, string Plot)
    {
        public static Options Parse(string[] args)
        {
            var o = new Options(Networks.Lengths, Networks.Cells, 4000, 64, 2e-3f, 1f, 42, "long-dependencies.png");
            for (int i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
                switch (args[i])
                {
                    case "--lengths":
                        o = o with { Lengths = Next().Split(',').Select(v => Networks.Lengths.Contains(ParseInt(v, "--lengths")) ? int.Parse(v, CultureInfo.InvariantCulture)
                            : throw new ArgumentException($"No network over {v} steps; lengths: {string.Join(", ", Networks.Lengths)}.")).ToArray() };
                        break;
                    case "--cells":
                        o = o with { Cells = Next().Split(',').Select(c => Networks.Cells.FirstOrDefault(k => string.Equals(k, c, StringComparison.OrdinalIgnoreCase))
                            ?? throw new ArgumentException($"Unknown cell '{c}'; cells: {string.Join(", ", Networks.Cells)}.")).ToArray() };
                        break;
                    case "--steps": o = o with { Steps = ParseInt(Next(), "--steps") }; break;
                    case "--batch": o = o with { BatchSize = ParseInt(Next(), "--batch") }; break;
                    case "--lr": o = o with { LearningRate = ParseFloat(Next(), "--lr") }; break;
                    case "--clip": o = o with { Clip = ParseFloat(Next(), "--clip") }; break;
                    case "--seed": o = o with { Seed = ParseInt(Next(), "--seed") }; break;
                    case "--plot": o = o with { Plot = Next() }; break;
                    default: throw new ArgumentException($"Unknown option '{args[i]}'. Options: --lengths L1,L2, --cells C1,C2, --steps N, --batch N, --lr X, --clip X, --seed N, --plot FILE.");
                }
            }
            return o;
        }

        private static int ParseInt(string text, string name)
            => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v > 0 ? v : throw new ArgumentException($"{name} takes a positive whole number, not '{text}'.");

        private static float ParseFloat(string text, string name)
            => float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && v > 0 && float.IsFinite(v) ? v : throw new ArgumentException($"{name} takes a positive number, not '{text}'.");
    }
}
