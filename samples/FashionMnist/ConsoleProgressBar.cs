using System;
using System.Diagnostics;
using GenNets.Training;

namespace FashionMnistSample;

/// <summary>
/// Draws a progress bar for the current epoch on one console line, and prints one line of results
/// per epoch. When the output is redirected (a log, CI) only the epoch lines are written.
/// </summary>
public sealed class ConsoleProgressBar : IProgress<TrainingProgress>
{
    private const int Width = 30;
    private readonly bool _interactive = !Console.IsOutputRedirected;
    private readonly Stopwatch _sinceDraw = Stopwatch.StartNew();

    public void Report(TrainingProgress value)
    {
        if (value.Completed is { } e)
        {
            if (_interactive) Console.Write("\r" + new string(' ', Console.WindowWidth > 0 ? Math.Min(Console.WindowWidth - 1, 100) : 100) + "\r");
            string train = e.TrainAccuracy is float ta ? $"{ta:P1}" : "-";
            string test = e.ValidationAccuracy is float va ? $"{va:P2}" : "-";
            string testLoss = e.ValidationLoss is float vl ? $"{vl:F4}" : "-";
            Console.WriteLine($"epoch {e.Epoch,2}/{value.Epochs}  loss {e.TrainLoss:F4}  train acc {train,6}  test loss {testLoss}  test acc {test,6}  {e.Elapsed.TotalSeconds,5:F1} s");
            return;
        }
        if (!_interactive || (_sinceDraw.ElapsedMilliseconds < 100 && value.Batch != value.Batches)) return;
        _sinceDraw.Restart();
        int filled = (int)((long)Width * value.Batch / value.Batches);
        Console.Write($"\repoch {value.Epoch,2}/{value.Epochs} [{new string('#', filled)}{new string('.', Width - filled)}] {value.Batch}/{value.Batches}  loss {value.Loss:F4}");
    }
}
