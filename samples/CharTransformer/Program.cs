using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using GenNets;
using GenNets.Data;
using GenNets.Generation;
using GenNets.Training;

namespace CharTransformerSample;

/// <summary>
/// Character-level language models on the King James Bible (Genesis to 1 Kings, 1.39 million characters): a small causal
/// transformer and an LSTM, trained with the same budget (epochs, batch, windows, optimizer, schedule, seed) on the same
/// windows of 64 characters, each position labelled with the character after it. Prints the validation loss in bits per
/// character after every epoch, a table, and draws both validation curves in one PNG; then the transformer continues a
/// prompt (GenNets.Generation: sampling with temperature and top-k, through a key/value cache).
///
///   dotnet run -c Release --project samples/CharTransformer                  the full run
///   dotnet run -c Release --project samples/CharTransformer -- --quick       a run of seconds (the first 100,000 characters, 2 epochs)
/// Options: --data FILE, --limit N (the first N characters only), --epochs N, --batch N, --lr X, --seed N, --plot FILE,
/// --sample N (characters the trained transformer writes at the end, 400 by default), --quick.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        try
        {
            var options = Options.Parse(args);
            string path = options.DataFile ?? Path.Combine(AppContext.BaseDirectory, "data", "kjv-genesis-to-1-kings.txt");
            int[] ids = Text.Load(path, options.Limit);
            // The last tenth is the validation text: the end of 1 Kings in the full run, never seen in training.
            int split = ids.Length - ids.Length / 10;
            var train = Text.Windows(ids.AsSpan(0, split));
            var validation = Text.Windows(ids.AsSpan(split));
            if (train.Count == 0 || validation.Count == 0)
                throw new ArgumentException($"{ids.Length:N0} characters are too few for windows of {Corpus.Window} in both the training and the validation text.");
            Console.WriteLine($"{Path.GetFileName(path)}: {ids.Length:N0} characters, {Corpus.Vocabulary} distinct; {split:N0} for training " +
                $"({train.Count:N0} windows of {Corpus.Window}), {ids.Length - split:N0} for validation ({validation.Count:N0} windows)");
            Console.WriteLine($"Budget for both: {options.Epochs} epochs, batch {options.BatchSize}, AdamW lr {Number(options.LearningRate)} " +
                $"(weight decay 0.01, gradient norm clipped at 1, {WarmupSteps(train, options)} warm-up steps, cosine schedule), seed {options.Seed}, " +
                $"{Environment.ProcessorCount} threads\n");

            var transformer = new CharTransformer(options.Seed);
            var results = new List<Result>
            {
                Train("transformer", transformer, train, validation, options),
                Train("LSTM", new CharLstm(options.Seed), train, validation, options),
            };

            Console.WriteLine("| network | parameters | time per epoch | final validation bits per character |");
            Console.WriteLine("| --- | ---: | ---: | ---: |");
            foreach (var r in results)
                Console.WriteLine($"| {r.Name} | {r.Parameters:N0} | {r.TimePerEpoch.TotalSeconds:F1} s | {Number(Bits(r.History[^1].ValidationLoss))} |");

            Plot(options.Plot, results, split);
            Console.WriteLine($"\nwrote {options.Plot}");

            // The trained transformer continues a prompt character by character, each new character one position's work
            // through its key/value cache; when the window of 64 is full, the last 32 characters are read in again.
            const string prompt = "And God said";
            var sampling = new SamplingOptions(Temperature: 0.8f, TopK: 10, Seed: (ulong)options.Seed);
            int[] generated = transformer.Generate(Text.Encode(prompt), options.SampleLength, sampling);
            Console.WriteLine($"\nthe transformer continues \"{prompt}\" ({options.SampleLength} characters, temperature 0.8, top 10):\n");
            Console.WriteLine(prompt + Text.Decode(generated));
            return 0;
        }
        catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException)
        {
            Console.Error.WriteLine("error: " + e.Message);
            return 1;
        }
    }

    /// <summary>A network's run: its history, and the mean time of an epoch (training and validation).</summary>
    private sealed record Result(string Name, int Parameters, TimeSpan TimePerEpoch, IReadOnlyList<EpochResult> History);

    private static Result Train<T>(string name, T network, Dataset train, Dataset validation, Options options) where T : INetwork
    {
        Console.WriteLine($"{name}: {network.ParameterCount:N0} parameters");
        var trainer = new Trainer<T>(network, new AdamW(options.LearningRate, weightDecay: 0.01f) { MaxGradientNorm = 1f })
        {
            Schedule = new CosineSchedule(0.05f),
            WarmupSteps = WarmupSteps(train, options),
        };
        var clock = Stopwatch.StartNew();
        var history = trainer.Fit(train, options.Epochs, options.BatchSize, validation: validation, progress: new Progress(name), seed: options.Seed);
        clock.Stop();
        Console.WriteLine($"{name}: {history.Count} epochs in {clock.Elapsed.TotalSeconds:F1} s (validation included), " +
            $"final validation {Number(Bits(history[^1].ValidationLoss))} bits per character\n");
        return new Result(name, network.ParameterCount, clock.Elapsed / history.Count, history);
    }

    // A tenth of the first epoch, at least 20 steps (and never more than an epoch): the same for both networks.
    private static int WarmupSteps(Dataset train, Options options)
    {
        int steps = (train.Count + options.BatchSize - 1) / options.BatchSize;
        return Math.Min(steps, Math.Max(20, steps / 10));
    }

    // Cross-entropy in nats per character, as bits per character.
    private static float Bits(float? nats) => (float)((nats ?? float.NaN) / Math.Log(2));

    /// <summary>Both networks' validation bits per character after each epoch (solid), and their training ones (dashed).</summary>
    private static void Plot(string path, IReadOnlyList<Result> results, int trainCharacters)
    {
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < results.Count; i++)
        {
            var r = results[i];
            double[] epochs = r.History.Select(h => (double)h.Epoch).ToArray();
            var validation = plot.Add.ScatterLine(epochs, r.History.Select(h => (double)Bits(h.ValidationLoss)).ToArray());
            validation.Color = palette.GetColor(i);
            validation.LineWidth = 2.5f;
            validation.MarkerSize = 7;
            validation.LegendText = $"{r.Name} ({r.Parameters:N0} parameters), validation: final {Number(Bits(r.History[^1].ValidationLoss))}";
            var training = plot.Add.ScatterLine(epochs, r.History.Select(h => (double)Bits(h.TrainLoss)).ToArray());
            training.Color = palette.GetColor(i);
            training.LineWidth = 1.5f;
            training.LinePattern = ScottPlot.LinePattern.Dashed;
            training.MarkerSize = 0;
            training.LegendText = $"{r.Name}, training (mean over the epoch)";
        }
        plot.Title($"Character-level language models on {trainCharacters:N0} characters of the King James Bible");
        plot.XLabel("epoch");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(1);
        plot.YLabel("bits per character");
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        plot.SavePng(path, 900, 560);
    }

    private static string Number(float value) => value.ToString("F3", CultureInfo.InvariantCulture);

    /// <summary>One line per epoch, in bits per character; the running training loss rewritten as batches go by on a terminal.</summary>
    private sealed class Progress(string name) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Completed is { } e)
            {
                if (!Console.IsOutputRedirected) Console.Write("\r");
                Console.WriteLine($"{name} epoch {e.Epoch}/{value.Epochs}: training {Number(Bits(e.TrainLoss))} bits/char, " +
                    $"validation {Number(Bits(e.ValidationLoss))} bits/char, lr {e.LearningRate.ToString("G3", CultureInfo.InvariantCulture)}, {e.Elapsed.TotalSeconds:F1} s");
                return;
            }
            if (!Console.IsOutputRedirected && value.Batch % 5 == 0)
                Console.Write($"\r{name} epoch {value.Epoch}/{value.Epochs}  batch {value.Batch}/{value.Batches}  {Number(Bits(value.Loss))} bits/char   ");
        }
    }

    private sealed record Options(string? DataFile, int Limit, int Epochs, int BatchSize, float LearningRate, int Seed, string Plot, int SampleLength)
    {
        public static Options Parse(string[] args)
        {
            var o = new Options(null, int.MaxValue, 0, 32, 3e-3f, 42, "char-transformer.png", 400);
            bool quick = false;
            for (int i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
                switch (args[i])
                {
                    case "--quick": quick = true; break;
                    case "--data": o = o with { DataFile = Next() }; break;
                    case "--limit": o = o with { Limit = ParseInt(Next(), "--limit") }; break;
                    case "--epochs": o = o with { Epochs = ParseInt(Next(), "--epochs") }; break;
                    case "--batch": o = o with { BatchSize = ParseInt(Next(), "--batch") }; break;
                    case "--lr": o = o with { LearningRate = ParseRate(Next()) }; break;
                    case "--seed": o = o with { Seed = ParseInt(Next(), "--seed") }; break;
                    case "--plot": o = o with { Plot = Next() }; break;
                    case "--sample": o = o with { SampleLength = ParseInt(Next(), "--sample") }; break;
                    default:
                        throw new ArgumentException($"Unknown option '{args[i]}'. Options: --data FILE, --limit N, --epochs N, --batch N, --lr X, --seed N, --plot FILE, --sample N, --quick.");
                }
            }
            // --quick: the first 100,000 characters for 2 epochs, unless --limit or --epochs say otherwise.
            if (quick && o.Limit == int.MaxValue) o = o with { Limit = 100_000 };
            return o.Epochs > 0 ? o : o with { Epochs = quick ? 2 : 5 };
        }

        private static float ParseRate(string text)
            => float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && v > 0 && float.IsFinite(v) ? v
                : throw new ArgumentException($"--lr takes a positive number, not '{text}'.");

        private static int ParseInt(string text, string name)
            => int.TryParse(text, out int v) && v > 0 ? v : throw new ArgumentException($"{name} takes a positive whole number, not '{text}'.");
    }
}

/// <summary>The text as character ids, and the windows the networks train on.</summary>
public static class Text
{
    /// <summary>
    /// The ids of the first <paramref name="limit"/> characters of the file (carriage returns dropped, so that a checkout
    /// with Windows line ends reads the same), every character checked against <see cref="Corpus.Characters"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">The file holds a character outside the vocabulary.</exception>
    public static int[] Load(string path, int limit)
    {
        string characters = Corpus.Characters;
        if (characters.Length != Corpus.Vocabulary || characters.Distinct().Count() != characters.Length)
            throw new InvalidOperationException($"Corpus.Characters holds {characters.Distinct().Count()} distinct characters in {characters.Length}; Corpus.Vocabulary says {Corpus.Vocabulary}.");
        var index = new Dictionary<char, int>();
        for (int i = 0; i < characters.Length; i++) index[characters[i]] = i;
        string text = File.ReadAllText(path).Replace("\r", "", StringComparison.Ordinal);
        int count = Math.Min(limit, text.Length), line = 1;
        var ids = new int[count];
        for (int i = 0; i < count; i++)
        {
            char c = text[i];
            if (!index.TryGetValue(c, out ids[i]))
                throw new InvalidDataException($"{path}, line {line}: the character U+{(int)c:X4} ('{c}') is not in the vocabulary (Corpus.Characters).");
            if (c == '\n') line++;
        }
        return ids;
    }

    /// <summary>
    /// Consecutive windows of <see cref="Corpus.Window"/> characters, not overlapping, each character's label the one after
    /// it: a language model's inputs and targets at every position.
    /// </summary>
    /// <summary>The ids of a text's characters; a character outside <see cref="Corpus.Characters"/> is refused by name.</summary>
    public static int[] Encode(string text) => text.Select(c => Corpus.Characters.IndexOf(c) is int id and >= 0 ? id
        : throw new ArgumentException($"The character '{c}' is not in the vocabulary of {Corpus.Vocabulary}.", nameof(text))).ToArray();

    /// <summary>The text of a sequence of ids.</summary>
    public static string Decode(IEnumerable<int> ids) => new(ids.Select(id => Corpus.Characters[id]).ToArray());

    public static Dataset Windows(ReadOnlySpan<int> ids)
    {
        const int T = Corpus.Window;
        int count = Math.Max(0, (ids.Length - 1) / T);
        var inputs = new float[count * T];
        var labels = new int[count * T];
        for (int w = 0; w < count; w++)
            for (int t = 0; t < T; t++)
            {
                inputs[w * T + t] = ids[w * T + t];
                labels[w * T + t] = ids[w * T + t + 1];
            }
        return Dataset.WithStepLabels(inputs, T, labels, T);
    }
}
