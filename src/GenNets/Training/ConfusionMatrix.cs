using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace GenNets.Training;

/// <summary>Counts of (actual, predicted) class pairs, with accuracy, per-class recall and precision, and a readable table.</summary>
public sealed class ConfusionMatrix
{
    private readonly long[] _counts;

    /// <summary>An empty matrix for <paramref name="classes"/> classes.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="classes"/> is below 1, or its square exceeds a .NET array.</exception>
    public ConfusionMatrix(int classes)
    {
        if (classes <= 0) throw new ArgumentOutOfRangeException(nameof(classes), classes, "There must be at least one class.");
        if ((long)classes * classes > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(classes), classes, $"A matrix of {classes} × {classes} counts exceeds a .NET array ({Array.MaxLength}).");
        Classes = classes;
        _counts = new long[classes * classes];
    }

    /// <summary>Number of classes.</summary>
    public int Classes { get; }

    /// <summary>Samples counted.</summary>
    public long Total { get; private set; }

    /// <summary>How often class <paramref name="actual"/> was predicted as <paramref name="predicted"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A class is outside 0 to <see cref="Classes"/> − 1.</exception>
    public long this[int actual, int predicted] => _counts[CheckClass(actual, nameof(actual)) * Classes + CheckClass(predicted, nameof(predicted))];

    private int CheckClass(int c, string name)
        => (uint)c < (uint)Classes ? c : throw new ArgumentOutOfRangeException(name, c, $"Classes are 0..{Classes - 1}.");

    /// <summary>Counts one prediction.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A class is outside 0 to <see cref="Classes"/> − 1.</exception>
    public void Add(int actual, int predicted)
    {
        if ((uint)actual >= (uint)Classes || (uint)predicted >= (uint)Classes)
            throw new ArgumentOutOfRangeException(nameof(actual), $"Classes are 0..{Classes - 1}; got actual {actual}, predicted {predicted}.");
        _counts[actual * Classes + predicted]++;
        Total++;
    }

    /// <summary>Fraction predicted right.</summary>
    public double Accuracy
    {
        get
        {
            long right = 0;
            for (int c = 0; c < Classes; c++) right += this[c, c];
            return Total == 0 ? 0 : (double)right / Total;
        }
    }

    /// <summary>Of the samples of class <paramref name="c"/>, the fraction predicted as <paramref name="c"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="c"/> is outside 0 to <see cref="Classes"/> − 1.</exception>
    public double Recall(int c)
    {
        CheckClass(c, nameof(c));
        long row = 0;
        for (int p = 0; p < Classes; p++) row += this[c, p];
        return row == 0 ? 0 : (double)this[c, c] / row;
    }

    /// <summary>Of the predictions of class <paramref name="c"/>, the fraction right.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="c"/> is outside 0 to <see cref="Classes"/> − 1.</exception>
    public double Precision(int c)
    {
        CheckClass(c, nameof(c));
        long column = 0;
        for (int a = 0; a < Classes; a++) column += this[a, c];
        return column == 0 ? 0 : (double)this[c, c] / column;
    }

    /// <summary>
    /// The harmonic mean of <see cref="Precision"/> and <see cref="Recall"/> of class <paramref name="c"/>: 2PR / (P + R), and 0
    /// when both are 0 (as scikit-learn's <c>f1_score</c> with <c>zero_division=0</c>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="c"/> is outside 0 to <see cref="Classes"/> − 1.</exception>
    public double F1(int c)
    {
        double p = Precision(c), r = Recall(c);
        return p + r == 0 ? 0 : 2 * p * r / (p + r);
    }

    /// <summary>The mean of <see cref="Precision"/> over the classes that occur (macro average; see <see cref="MacroF1"/>).</summary>
    public double MacroPrecision => Mean(Precision);

    /// <summary>The mean of <see cref="Recall"/> over the classes that occur (macro average; see <see cref="MacroF1"/>).</summary>
    public double MacroRecall => Mean(Recall);

    /// <summary>
    /// The mean of <see cref="F1"/> over the classes that occur as an actual or a predicted class, as scikit-learn's
    /// <c>average='macro'</c> (whose labels are those in the true values and the predictions); 0 when nothing was counted.
    /// </summary>
    public double MacroF1 => Mean(F1);

    private double Mean(Func<int, double> metric)
    {
        double sum = 0;
        int occurring = 0;
        for (int c = 0; c < Classes; c++)
        {
            long seen = 0;
            for (int k = 0; k < Classes; k++) seen += _counts[c * Classes + k] + _counts[k * Classes + c];
            if (seen == 0) continue;
            sum += metric(c);
            occurring++;
        }
        return occurring == 0 ? 0 : sum / occurring;
    }

    /// <summary>
    /// The matrix as aligned text: rows are actual classes, columns predicted (by index), with each class's precision, recall and
    /// F1, then the accuracy and the macro averages.
    /// </summary>
    public string Format(IReadOnlyList<string>? classNames = null)
    {
        var inv = CultureInfo.InvariantCulture;
        int nameWidth = 4;
        for (int c = 0; c < Classes; c++) nameWidth = Math.Max(nameWidth, Name(classNames, c).Length + 4);
        int cell = 5;
        foreach (long v in _counts) cell = Math.Max(cell, v.ToString(inv).Length + 1);
        var sb = new StringBuilder();
        sb.Append(' ', nameWidth);
        for (int p = 0; p < Classes; p++) sb.Append(p.ToString(inv).PadLeft(cell));
        sb.Append("  precision  recall      F1\n");
        for (int a = 0; a < Classes; a++)
        {
            sb.Append((a.ToString(inv) + " " + Name(classNames, a)).PadRight(nameWidth));
            for (int p = 0; p < Classes; p++) sb.Append(this[a, p].ToString(inv).PadLeft(cell));
            sb.Append(Precision(a).ToString("P1", inv).PadLeft(11)).Append(Recall(a).ToString("P1", inv).PadLeft(8)).Append(F1(a).ToString("F3", inv).PadLeft(8)).Append('\n');
        }
        sb.Append("accuracy ").Append(Accuracy.ToString("P2", inv)).Append(" of ").Append(Total.ToString("N0", inv))
          .Append("; macro precision ").Append(MacroPrecision.ToString("P2", inv)).Append(", recall ").Append(MacroRecall.ToString("P2", inv))
          .Append(", F1 ").Append(MacroF1.ToString("F3", inv));
        return sb.ToString();
    }

    private static string Name(IReadOnlyList<string>? names, int c) => names is not null && c < names.Count ? names[c] : "class " + c.ToString(CultureInfo.InvariantCulture);
}
