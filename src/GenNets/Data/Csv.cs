using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace GenNets.Data;

/// <summary>Reads numeric CSV files into data sets (invariant culture).</summary>
public static class Csv
{
    /// <summary>Rows of features with one integer class label in column <paramref name="labelColumn"/> (−1: the last).</summary>
    public static Dataset LoadLabelled(string path, int labelColumn = -1, bool hasHeader = true, char separator = ',')
    {
        var rows = ReadRows(path, hasHeader, separator, out int width);
        int label = labelColumn < 0 ? width + labelColumn : labelColumn;
        if (label < 0 || label >= width) throw new ArgumentOutOfRangeException(nameof(labelColumn), labelColumn, $"{path} has {width} columns.");
        var features = new float[rows.Count * (width - 1)];
        var labels = new int[rows.Count];
        for (int r = 0; r < rows.Count; r++)
        {
            var (line, values) = rows[r];
            double v = values[label];
            if (v != Math.Floor(v) || v < 0 || v > int.MaxValue)
                throw new InvalidDataException($"{Path.GetFileName(path)} line {line}, column {label + 1}: the label {v.ToString(CultureInfo.InvariantCulture)} is not a class number.");
            labels[r] = (int)v;
            for (int c = 0, f = 0; c < width; c++)
                if (c != label) features[r * (width - 1) + f++] = (float)values[c];
        }
        return Dataset.WithLabels(features, width - 1, labels);
    }

    /// <summary>Rows of features followed by <paramref name="targetColumns"/> float targets in the last columns.</summary>
    public static Dataset LoadTargets(string path, int targetColumns, bool hasHeader = true, char separator = ',')
    {
        var rows = ReadRows(path, hasHeader, separator, out int width);
        if (targetColumns <= 0 || targetColumns >= width)
            throw new ArgumentOutOfRangeException(nameof(targetColumns), targetColumns, $"{path} has {width} columns; targets must leave at least one feature.");
        int featureCount = width - targetColumns;
        var features = new float[rows.Count * featureCount];
        var targets = new float[rows.Count * targetColumns];
        for (int r = 0; r < rows.Count; r++)
        {
            var values = rows[r].Values;
            for (int c = 0; c < featureCount; c++) features[r * featureCount + c] = (float)values[c];
            for (int c = 0; c < targetColumns; c++) targets[r * targetColumns + c] = (float)values[featureCount + c];
        }
        return Dataset.WithTargets(features, featureCount, targets, targetColumns);
    }

    private static List<(int Line, double[] Values)> ReadRows(string path, bool hasHeader, char separator, out int width)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"CSV file '{path}' does not exist.", path);
        var rows = new List<(int, double[])>();
        width = -1;
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (hasHeader && lineNumber == 1) continue;
            if (line.Trim().Length == 0) continue;
            string[] cells = line.Split(separator);
            if (width < 0) width = cells.Length;
            else if (cells.Length != width)
                throw new InvalidDataException($"{Path.GetFileName(path)} line {lineNumber}: {cells.Length} columns, but earlier rows have {width}.");
            var values = new double[cells.Length];
            for (int c = 0; c < cells.Length; c++)
                if (!double.TryParse(cells[c].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out values[c]))
                    throw new InvalidDataException($"{Path.GetFileName(path)} line {lineNumber}, column {c + 1}: '{cells[c]}' is not a number.");
            rows.Add((lineNumber, values));
        }
        if (rows.Count == 0) throw new InvalidDataException($"{Path.GetFileName(path)} holds no data rows.");
        return rows;
    }
}
