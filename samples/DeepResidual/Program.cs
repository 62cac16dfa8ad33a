using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using GenNets;
using GenNets.Data;
using GenNets.Training;

namespace DeepResidualSample;

/// <summary>
/// Part 1, the ResNet paper's claim (He et al., 2016, figures 1 and 6): plain convolutional networks of 8, 20 and 56
/// layers, and residual networks of the same layers, trained with the same budget (epochs, batch size, optimizer,
/// schedule, seed, data). The deeper plain networks train worse; the residual ones do not. Prints a table and draws the
/// six training-loss curves in one PNG.
/// Part 2, --resnet: a ResNet trained with random crops and flips, to beyond 94% test accuracy on the full set.
///
///   dotnet run -c Release --project samples/DeepResidual                     part 1 on the committed 10,000/2,000 subset
///   dotnet run -c Release --project samples/DeepResidual -- --resnet --full  part 2 on the full 60,000/10,000 set
/// Options: --data DIR, --full, --depths 8,20,56, --epochs N, --batch N, --lr X, --seed N, --limit N (the first N training
/// images only), --plot FILE (part 1); --resnet, --out FILE (part 2, which takes the others but --depths and --plot too).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        try
        {
            var options = Options.Parse(args);
            string directory = FashionMnist.Choose(options.DataDirectory, options.Full, Path.Combine(AppContext.BaseDirectory, "data"));
            var (train, test) = FashionMnist.Load(directory, options.Limit);
            Console.WriteLine($"Fashion-MNIST from {directory}: {train.Count:N0} training and {test.Count:N0} test images");
            return options.ResNet ? TrainResNet(options, train, test) : CompareDepths(options, train, test);
        }
        catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException)
        {
            Console.Error.WriteLine("error: " + e.Message);
            return 1;
        }
    }

    // ---- Part 1: plain against residual, at three depths ----

    private static int CompareDepths(Options options, Dataset train, Dataset test)
    {
        Console.WriteLine($"Budget for all: {options.Epochs} epochs, batch {options.BatchSize}, SGD lr {Text(options.LearningRate)} " +
            $"(momentum 0.9, weight decay 1e-4, {WarmupSteps(train, options)} warm-up steps, cosine schedule), seed {options.Seed}, {Environment.ProcessorCount} threads\n");
        var results = new List<Result>();
        foreach (int depth in options.Depths)
        {
            results.Add(depth switch
            {
                8 => Train("plain", 8, new Plain8Layers(options.Seed), train, test, options),
                20 => Train("plain", 20, new Plain20Layers(options.Seed), train, test, options),
                _ => Train("plain", 56, new Plain56Layers(options.Seed), train, test, options),
            });
            results.Add(depth switch
            {
                8 => Train("residual", 8, new ResNet8(options.Seed), train, test, options),
                20 => Train("residual", 20, new ResNet20(options.Seed), train, test, options),
                _ => Train("residual", 56, new ResNet56(options.Seed), train, test, options),
            });
        }

        Console.WriteLine("| depth | network | parameters | training time | final training loss | training accuracy | test accuracy |");
        Console.WriteLine("| ---: | --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in results)
            Console.WriteLine($"| {r.Depth} | {r.Kind} | {r.Parameters:N0} | {r.Time.TotalSeconds:F1} s | {r.History[^1].TrainLoss.ToString("F4", CultureInfo.InvariantCulture)} | " +
                $"{Percent(r.History[^1].TrainAccuracy)} | {Percent(r.History[^1].ValidationAccuracy)} |");

        PlotLosses(options.Plot, results, train.Count, options);
        Console.WriteLine($"\nwrote {options.Plot}");
        return 0;
    }

    /// <summary>A network's run: its history, and the training loss of every step.</summary>
    private sealed record Result(string Kind, int Depth, int Parameters, TimeSpan Time, IReadOnlyList<EpochResult> History, IReadOnlyList<double> StepLosses, int StepsPerEpoch);

    private static Result Train<T>(string kind, int depth, T network, Dataset train, Dataset test, Options options) where T : INetwork
    {
        string name = $"{kind}-{depth}";
        Console.WriteLine($"{name}: {network.ParameterCount:N0} parameters");
        var trainer = new Trainer<T>(network, new Sgd(options.LearningRate, momentum: 0.9f, weightDecay: 1e-4f))
        {
            Schedule = new CosineSchedule(),
            WarmupSteps = WarmupSteps(train, options),
        };
        var progress = new Progress(name);
        var clock = Stopwatch.StartNew();
        var history = trainer.Fit(train, options.Epochs, options.BatchSize, validation: test, progress: progress, seed: options.Seed);
        clock.Stop();
        Console.WriteLine($"{name}: {options.Epochs} epochs in {clock.Elapsed.TotalSeconds:F1} s, final training loss {Text(history[^1].TrainLoss)}, test accuracy {Percent(history[^1].ValidationAccuracy)}\n");
        return new Result(kind, depth, network.ParameterCount, clock.Elapsed, history, progress.StepLosses, progress.StepsPerEpoch);
    }

    // Half an epoch of warm-up, as the paper warms its 110-layer network up: the same for every network.
    private static int WarmupSteps(Dataset train, Options options) => Math.Max(1, (train.Count + options.BatchSize - 1) / options.BatchSize / 2);

    /// <summary>
    /// The six training-loss curves, as the paper's figures 1 and 6 draw training error: the mean loss over each tenth
    /// of an epoch (steps are noisy), plain dashed and residual solid, one colour per depth.
    /// </summary>
    private static void PlotLosses(string path, IReadOnlyList<Result> results, int images, Options options)
    {
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var depths = results.Select(r => r.Depth).Distinct().ToList();
        double highest = 0;
        foreach (var r in results)
        {
            int window = Math.Max(1, r.StepsPerEpoch / 10);
            var xs = new List<double>();
            var ys = new List<double>();
            for (int start = 0; start + window <= r.StepLosses.Count; start += window)
            {
                double sum = 0;
                for (int i = start; i < start + window; i++) sum += r.StepLosses[i];
                xs.Add((start + window / 2.0) / r.StepsPerEpoch);
                ys.Add(sum / window);
            }
            highest = Math.Max(highest, ys.DefaultIfEmpty(0).Max());
            var line = plot.Add.ScatterLine(xs.ToArray(), ys.ToArray());
            line.Color = palette.GetColor(depths.IndexOf(r.Depth));
            line.LineWidth = r.Kind == "plain" ? 2 : 2.5f;
            line.LinePattern = r.Kind == "plain" ? ScottPlot.LinePattern.Dashed : ScottPlot.LinePattern.Solid;
            line.LegendText = $"{r.Kind}-{r.Depth}: final loss {Text(r.History[^1].TrainLoss)}, test {Percent(r.History[^1].ValidationAccuracy)}";
        }
        plot.Title($"Plain (dashed) and residual (solid) networks: training loss on {images:N0} Fashion-MNIST images");
        plot.XLabel("epoch");
        plot.YLabel("training loss (mean over each tenth of an epoch)");
        plot.Axes.SetLimitsY(0, 1.05 * Math.Min(highest, 2.5)); // the first steps' losses, far above ln 10, would flatten the rest
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        plot.SavePng(path, 900, 560);
    }

    // ---- Part 2: a ResNet to beyond 94% ----

    private static int TrainResNet(Options options, Dataset train, Dataset test)
    {
        var model = new FashionResNet(options.Seed);
        Console.WriteLine(model.Summary());
        int warmup = (train.Count + options.BatchSize - 1) / options.BatchSize; // one epoch
        Console.WriteLine($"\n{options.Epochs} epochs, batch {options.BatchSize}, SGD lr {Text(options.LearningRate)} (Nesterov momentum 0.9, weight decay 5e-4, " +
            $"{warmup} warm-up steps, cosine schedule), random crops (padding 4) and horizontal flips, seed {options.Seed}, {Environment.ProcessorCount} threads\n");
        var trainer = new Trainer<FashionResNet>(model, new Sgd(options.LearningRate, momentum: 0.9f, weightDecay: 5e-4f, nesterov: true))
        {
            Schedule = new CosineSchedule(),
            WarmupSteps = warmup,
            Augmentation = new ImageAugmentation(1, 28, 28, padding: 4, flipHorizontal: true),
        };
        var clock = Stopwatch.StartNew();
        TimeSpan? reached = null;
        int reachedEpoch = 0;
        foreach (var epoch in trainer.Epochs(train, options.Epochs, options.BatchSize, validation: test, progress: new Progress("resnet"), seed: options.Seed))
            if (reached is null && epoch.ValidationAccuracy >= 0.94f)
            {
                reached = clock.Elapsed;
                reachedEpoch = epoch.Epoch;
            }
        clock.Stop();
        var last = trainer.History[^1];
        Console.WriteLine($"\ntrained {options.Epochs} epochs in {clock.Elapsed.TotalMinutes:F1} min ({clock.Elapsed.TotalSeconds:F0} s, test passes included); " +
            $"final test accuracy {Percent(last.ValidationAccuracy)}, best {Percent(trainer.History.Max(h => h.ValidationAccuracy))}");
        Console.WriteLine(reached is { } t
            ? $"94% first reached after epoch {reachedEpoch}, {t.TotalMinutes:F1} min in"
            : "94% not reached");

        model.Save(options.Output);
        var reloaded = new FashionResNet(seed: options.Seed + 1);
        reloaded.Load(options.Output);
        var check = Trainer<FashionResNet>.Evaluation(reloaded, test);
        Console.WriteLine($"saved {options.Output} ({new FileInfo(options.Output).Length:N0} bytes); reloaded, it scores {Percent(check.Accuracy)} on the test set");
        return 0;
    }

    // ---- Output ----

    private static string Text(float value) => value.ToString("G4", CultureInfo.InvariantCulture);

    private static string Percent(float? accuracy) => accuracy is float a ? (100 * a).ToString("F2", CultureInfo.InvariantCulture) + " %" : "—";

    /// <summary>
    /// Keeps every step's training loss (from the epoch's running mean the trainer reports after each batch), and prints
    /// one line per epoch, rewritten as batches go by when the output is a terminal.
    /// </summary>
    private sealed class Progress(string name) : IProgress<TrainingProgress>
    {
        private double _sum; // the epoch's losses so far

        public List<double> StepLosses { get; } = [];

        public int StepsPerEpoch { get; private set; }

        public void Report(TrainingProgress value)
        {
            if (value.Completed is { } e)
            {
                if (!Console.IsOutputRedirected) Console.Write("\r");
                Console.WriteLine($"{name} epoch {e.Epoch,2}/{value.Epochs}  loss {e.TrainLoss:F4}  train acc {Percent(e.TrainAccuracy)}  test loss {e.ValidationLoss:F4}  " +
                    $"test acc {Percent(e.ValidationAccuracy)}  lr {Text(e.LearningRate)}  {e.Elapsed.TotalSeconds:F1} s");
                return;
            }
            if (value.Batch == 1) _sum = 0;
            double sum = (double)value.Loss * value.Batch;
            StepLosses.Add(sum - _sum);
            _sum = sum;
            StepsPerEpoch = value.Batches;
            if (!Console.IsOutputRedirected && value.Batch % 10 == 0)
                Console.Write($"\r{name} epoch {value.Epoch,2}/{value.Epochs}  batch {value.Batch}/{value.Batches}  loss {value.Loss:F4}   ");
        }
    }

    private sealed record Options(string? DataDirectory, bool Full, bool ResNet, int[] Depths, int Epochs, int BatchSize, float LearningRate, int Seed,
        string Plot, string Output, int Limit)
    {
        public static Options Parse(string[] args)
        {
            var o = new Options(null, false, false, [8, 20, 56], 0, 128, 0.1f, 42, "deep-residual.png", "fashion-resnet.safetensors", int.MaxValue);
            for (int i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
                o = args[i] switch
                {
                    "--data" => o with { DataDirectory = Next() },
                    "--full" => o with { Full = true },
                    "--resnet" => o with { ResNet = true },
                    "--limit" => o with { Limit = ParseInt(Next(), "--limit") },
                    "--depths" => o with { Depths = ParseDepths(Next()) },
                    "--epochs" => o with { Epochs = ParseInt(Next(), "--epochs") },
                    "--batch" => o with { BatchSize = ParseInt(Next(), "--batch") },
                    "--lr" => o with { LearningRate = ParseRate(Next()) },
                    "--seed" => o with { Seed = ParseInt(Next(), "--seed") },
                    "--plot" => o with { Plot = Next() },
                    "--out" => o with { Output = Next() },
                    _ => throw new ArgumentException($"Unknown option '{args[i]}'. Options: --data DIR, --full, --depths 8,20,56, --epochs N, --batch N, --lr X, " +
                        "--seed N, --limit N, --plot FILE; --resnet, --out FILE."),
                };
            }
            return o.Epochs > 0 ? o : o with { Epochs = o.ResNet ? 15 : 6 };
        }

        private static int[] ParseDepths(string text)
        {
            var depths = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(d => int.TryParse(d, out int v) && v is 8 or 20 or 56 ? v : throw new ArgumentException($"--depths takes 8, 20 or 56 (6n + 2 layers, n = 1, 3, 9), not '{d}'."))
                .Distinct().ToArray();
            return depths.Length > 0 ? depths : throw new ArgumentException("--depths needs at least one depth.");
        }

        private static float ParseRate(string text)
            => float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && v > 0 && float.IsFinite(v) ? v
                : throw new ArgumentException($"--lr takes a positive number, not '{text}'.");

        private static int ParseInt(string text, string name)
            => int.TryParse(text, out int v) && v > 0 ? v : throw new ArgumentException($"{name} takes a positive whole number, not '{text}'.");
    }
}
