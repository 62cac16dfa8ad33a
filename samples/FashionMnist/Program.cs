using System;
using System.Diagnostics;
using System.IO;
using GenNets;
using GenNets.Data;
using GenNets.Training;

namespace FashionMnistSample;

/// <summary>
/// Trains the 784-256-128-10 MLP on Fashion-MNIST, prints loss and accuracy per epoch and a confusion
/// matrix, and saves the weights as safetensors.
///
///   dotnet run --project samples/FashionMnist                 the committed 10,000/2,000 subset
///   dotnet run --project samples/FashionMnist -- --full       the full 60,000/10,000 set (Debian's dataset-fashion-mnist)
///   dotnet run --project samples/FashionMnist -- --data DIR   the four IDX files in DIR
/// Options: --epochs N, --batch N, --lr X, --seed N, --out FILE.
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

        var model = new FashionMlp(seed: options.Seed);
        Console.WriteLine(model.Summary());
        Console.WriteLine($"weights {FashionMlp.ParameterBytes / 1024.0:F1} KiB; training at batch {options.BatchSize} with Adam needs " +
            $"{(2 * FashionMlp.ParameterBytes + FashionMlp.AdamStateBytes + options.BatchSize * FashionMlp.TrainingBytesPerSample) / 1024.0 / 1024.0:F1} MiB");
        Console.WriteLine();

        var trainer = new Trainer<FashionMlp>(model, new Adam(options.LearningRate)) { Schedule = new CosineSchedule(0.05f) };
        var clock = Stopwatch.StartNew();
        var history = trainer.Fit(train, options.Epochs, options.BatchSize, validation: test, progress: new ConsoleProgressBar(), seed: options.Seed);
        clock.Stop();
        Console.WriteLine($"\ntrained {options.Epochs} epochs in {clock.Elapsed.TotalSeconds:F1} s; final test accuracy {history[^1].ValidationAccuracy:P2}\n");

        var confusion = trainer.Evaluate(test).Confusion!;
        Console.WriteLine("Confusion matrix on the test set (rows: actual class, columns: predicted):");
        Console.WriteLine(confusion.Format(FashionMnist.ClassNames));

        model.Save(options.Output);
        var reloaded = new FashionMlp(seed: options.Seed + 1);
        reloaded.Load(options.Output);
        var check = Trainer<FashionMlp>.Evaluation(reloaded, test);
        Console.WriteLine($"saved {options.Output} ({new FileInfo(options.Output).Length:N0} bytes); reloaded, it scores {check.Accuracy:P2} on the test set");
        return 0;
    }

    private sealed record Options(string? DataDirectory, bool Full, int Epochs, int BatchSize, float LearningRate, int Seed, string Output)
    {
        public static Options Parse(string[] args)
        {
            var o = new Options(null, false, 10, 64, 1e-3f, 42, "fashion-mlp.safetensors");
            for (int i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
                o = args[i] switch
                {
                    "--data" => o with { DataDirectory = Next() },
                    "--full" => o with { Full = true, Epochs = o.Epochs == 10 ? 20 : o.Epochs },
                    "--epochs" => o with { Epochs = ParseInt(Next(), "--epochs") },
                    "--batch" => o with { BatchSize = ParseInt(Next(), "--batch") },
                    "--lr" => o with { LearningRate = float.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture) },
                    "--seed" => o with { Seed = ParseInt(Next(), "--seed") },
                    "--out" => o with { Output = Next() },
                    _ => throw new ArgumentException($"Unknown option '{args[i]}'. Options: --data DIR, --full, --epochs N, --batch N, --lr X, --seed N, --out FILE."),
                };
            }
            return o;
        }

        private static int ParseInt(string text, string name)
            => int.TryParse(text, out int v) && v > 0 ? v : throw new ArgumentException($"{name} takes a positive whole number, not '{text}'.");
    }
}
