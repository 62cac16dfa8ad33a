using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;

namespace GenNets.Training;

/// <summary>
/// Progress on the console, switched on with one argument: <c>trainer.Fit(…, progress: new ConsoleProgressBar())</c>. It
/// draws a bar for the current epoch on one line and prints one line of results per epoch (loss, accuracy or MAE and R²,
/// the learning rate, the time). When the output is redirected (a log, CI) only the epoch lines are written.
/// </summary>
public sealed class ConsoleProgressBar : IProgress<TrainingProgress>
{
    private const int Width = 30;
    private readonly TextWriter _out;
    private readonly bool _interactive;
    private readonly Stopwatch _sinceDraw = Stopwatch.StartNew();

    /// <summary>Writes to the console; draws the bar only when the console's output is not redirected.</summary>
    public ConsoleProgressBar() : this(Console.Out, !Console.IsOutputRedirected) { }

    /// <summary>Writes to <paramref name="output"/>, drawing the bar when <paramref name="interactive"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="output"/> is null.</exception>
    public ConsoleProgressBar(TextWriter output, bool interactive)
    {
        _out = output ?? throw new ArgumentNullException(nameof(output));
        _interactive = interactive;
    }

    /// <summary>Draws the bar after a batch (at most ten times a second), or prints the epoch's line when it ends.</summary>
    public void Report(TrainingProgress value)
    {
        var inv = CultureInfo.InvariantCulture;
        if (value.Completed is { } e)
        {
            if (_interactive) _out.Write("\r" + new string(' ', 100) + "\r");
            _out.WriteLine(string.Create(inv, $"epoch {e.Epoch,2}/{value.Epochs}  loss {e.TrainLoss:F4}{Metrics(e)}  lr {e.LearningRate:G3}  {e.Elapsed.TotalSeconds,5:F1} s"));
            return;
        }
        if (!_interactive || (_sinceDraw.ElapsedMilliseconds < 100 && value.Batch != value.Batches)) return;
        _sinceDraw.Restart();
        int filled = (int)((long)Width * value.Batch / value.Batches);
        _out.Write(string.Create(inv, $"\repoch {value.Epoch,2}/{value.Epochs} [{new string('#', filled)}{new string('.', Width - filled)}] {value.Batch}/{value.Batches}  loss {value.Loss:F4}"));
    }

    private static string Metrics(EpochResult e)
    {
        var inv = CultureInfo.InvariantCulture;
        string text = e.TrainAccuracy is float ta ? string.Create(inv, $"  train acc {ta,6:P1}") : "";
        if (e.Validation is not { } v) return text;
        text += string.Create(inv, $"  val loss {v.Loss:F4}");
        if (v.Accuracy is float va) text += string.Create(inv, $"  val acc {va,6:P2}");
        if (v.Confusion is { } c) text += string.Create(inv, $"  val F1 {c.MacroF1:F3}");
        if (v.MeanAbsoluteError is float mae) text += string.Create(inv, $"  val MAE {mae:G4}");
        if (v.R2 is float r2) text += string.Create(inv, $"  val R² {r2:F4}");
        return text;
    }
}
