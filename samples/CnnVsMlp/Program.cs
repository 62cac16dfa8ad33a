using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using GenNets;
using GenNets.Data;
using GenNets.Training;

namespace CnnVsMlpSample;

/// <summary>
/// Trains a convolutional network and a multilayer perceptron on the same Fashion-MNIST images with the same
/// budget (epochs, batch size, optimizer, schedule, seed), and shows test accuracy per epoch for both, their
/// parameter counts and training times, and a PNG of the two accuracy curves.
///
///   dotnet run -c Release --project samples/CnnVsMlp                the committed 10,000/2,000 subset
///   dotnet run -c Release --project samples/CnnVsMlp -- --full      the full 60,000/10,000 set (Debian's dataset-fashion-mnist)
/// Options: --data DIR, --epochs N, --batch N, --lr X, --seed N, --plot FILE.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        try
        {
            return Run(Options.Parse(args));
        }
        catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException)
        {
            Console.Error.WriteLine("error: " + e.Message);
            return 1;
        }
    }

    private static int Run(Options options)
    {
        string directory = FashionMnist.Choose(options.DataDirectory, options.Full, Path.Combine(AppContext.BaseDirectory, "data"));
        var (train, test) = FashionMnist.Load(directory);
        Console.WriteLine($"Fashion-MNIST from {directory}: {train.Count:N0} training and {test.Count:N0} test images");
        Console.WriteLine($"Budget for both: {options.Epochs} epochs, batch {options.BatchSize}, Adam lr {options.LearningRate.ToString(CultureInfo.InvariantCulture)} with a cosine schedule, seed {options.Seed}, {Environment.ProcessorCount} threads\n");

        var mlp = Train("MLP", new Mlp(options.Seed), train, test, options);
        var cnn = Train("CNN", new Cnn(options.Seed), train, test, options);

        Console.WriteLine("Test accuracy per epoch:");
        Console.WriteLine("| epoch | MLP | CNN |");
        Console.WriteLine("| ---: | ---: | ---: |");
        for (int e = 0; e < options.Epochs; e++)
            Console.WriteLine($"| {e + 1} | {Percent(mlp.History[e].ValidationAccuracy)} | {Percent(cnn.History[e].ValidationAccuracy)} |");
        Console.WriteLine();
        Console.WriteLine("| network | parameters | training time | time per epoch | final test accuracy | best test accuracy |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in new[] { mlp, cnn })
            Console.WriteLine($"| {r.Name} | {r.Parameters:N0} | {r.Time.TotalSeconds:F1} s | {r.Time.TotalSeconds / options.Epochs:F2} s | " +
                $"{Percent(r.History[^1].ValidationAccuracy)} | {Percent(r.History.Max(h => h.ValidationAccuracy))} |");

        Plot(options.Plot, mlp, cnn, train.Count);
        Console.WriteLine($"\nwrote {options.Plot}");
        return 0;
    }

    private sealed record Result(string Name, int Parameters, TimeSpan Time, IReadOnlyList<EpochResult> History);

    private static Result Train<T>(string name, T network, Dataset train, Dataset test, Options options) where T : INetwork
    {
        Console.WriteLine(network.Summary());
        var trainer = new Trainer<T>(network, new Adam(options.LearningRate)) { Schedule = new CosineSchedule(0.05f) };
        var progress = new Progress(name);
        var clock = Stopwatch.StartNew();
        var history = trainer.Fit(train, options.Epochs, options.BatchSize, validation: test, progress: progress, seed: options.Seed);
        clock.Stop();
        Console.WriteLine($"{name}: {options.Epochs} epochs in {clock.Elapsed.TotalSeconds:F1} s, final test accuracy {Percent(history[^1].ValidationAccuracy)}\n");
        return new Result(name, network.ParameterCount, clock.Elapsed, history);
    }

    private static string Percent(float? accuracy) => accuracy is float a ? (100 * a).ToString("F2", CultureInfo.InvariantCulture) + " %" : "—";

    private static void Plot(string path, Result mlp, Result cnn, int images)
    {
        var plot = new ScottPlot.Plot();
        foreach (var r in new[] { mlp, cnn })
        {
            double[] epochs = r.History.Select(h => (double)h.Epoch).ToArray();
            double[] accuracy = r.History.Select(h => 100.0 * (h.ValidationAccuracy ?? 0)).ToArray();
            var line = plot.Add.Scatter(epochs, accuracy);
            line.LegendText = $"{r.Name}: {r.Parameters:N0} parameters, {r.Time.TotalSeconds:F0} s";
            line.LineWidth = 2;
            line.MarkerSize = 6;
        }
        plot.Title($"Fashion-MNIST test accuracy, CNN vs MLP ({images:N0} training images)");
        plot.XLabel("epoch");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(1);
        plot.YLabel("test accuracy (%)");
        plot.ShowLegend(ScottPlot.Alignment.LowerRight);
        plot.SavePng(path, 900, 560);
    }

    /// <summary>One line per epoch, rewritten as batches go by when the output is a terminal.</summary>
    private sealed class Progress(string name) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Completed is { } e)
            {
                if (!Console.IsOutputRedirected) Console.Write("\r");
                Console.WriteLine($"{name} epoch {e.Epoch,2}/{value.Epochs}  loss {e.TrainLoss:F4}  test loss {e.ValidationLoss:F4}  test acc {Percent(e.ValidationAccuracy)}  {e.Elapsed.TotalSeconds:F1} s");
            }
            else if (!Console.IsOutputRedirected && value.Batch % 20 == 0)
                Console.Write($"\r{name} epoch {value.Epoch,2}/{value.Epochs}  batch {value.Batch}/{value.Batches}  loss {value.Loss:F4}   ");
        }
    }

    private sealed record Options(string? DataDirectory, bool Full, int Epochs, int BatchSize, float LearningRate, int Seed, string Plot)
    {
        public static Options Parse(string[] args)
        {
            var o = new Options(null, false, 10, 64, 1e-3f, 42, "cnn-vs-mlp.png");
            bool epochsGiven = false;
            for (int i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
                switch (args[i])
                {
                    case "--data": o = o with { DataDirectory = Next() }; break;
                    case "--full": o = o with { Full = true, Epochs = epochsGiven ? o.Epochs : 15 }; break;
                    case "--epochs": o = o with { Epochs = ParseInt(Next(), "--epochs") }; epochsGiven = true; break;
                    case "--batch": o = o with { BatchSize = ParseInt(Next(), "--batch") }; break;
                    case "--lr": o = o with { LearningRate = float.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                    case "--seed": o = o with { Seed = ParseInt(Next(), "--seed") }; break;
                    case "--plot": o = o with { Plot = Next() }; break;
                    default: throw new ArgumentException($"Unknown option '{args[i]}'. Options: --data DIR, --full, --epochs N, --batch N, --lr X, --seed N, --plot FILE.");
                }
            }
            return o;
        }

        private static int ParseInt(string text, string name)
            => int.TryParse(text, out int v) && v > 0 ? v : throw new ArgumentException($"{name} takes a positive whole number, not '{text}'.");
    }
}
