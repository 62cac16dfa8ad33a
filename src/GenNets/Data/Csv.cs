using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace GenNets.Data;

/// <summary>
/// Reads numeric CSV files into data sets (invariant culture). Blank lines are skipped; every other row, and the header
/// row when there is one, must have the same number of columns. Every value must be a finite number that a
/// <see cref="float"/> can hold (NaN, infinities and values beyond ±3.4e38 are refused). Errors in the file are
/// <see cref="InvalidDataException"/>s naming the file, the line and, where it applies, the column (both from 1).
/// </summary>
public static class Csv
{
    /// <summary>Rows of features with one integer class label in column <paramref name="labelColumn"/> (−1: the last).</summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="labelColumn">The label's column from 0, or from the end when negative (−1: the last).</param>
    /// <param name="hasHeader">Whether the first line is a header row (its width is checked; its names are not read).</param>
    /// <param name="separator">The column separator.</param>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty, or <paramref name="separator"/> is a character numbers are written with.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="labelColumn"/> names no column of the file.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">
    /// The file holds no data rows, only one column, a row (or header) of another width than the first data row, a value
    /// that is not a finite float, a label that is not a non-negative whole number, or more values than one array holds.
    /// </exception>
    /// <exception cref="IOException">The file could not be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    public static Dataset LoadLabelled(string path, int labelColumn = -1, bool hasHeader = true, char separator = ',')
    {
        var rows = ReadRows(path, hasHeader, separator, out int width);
        string name = Path.GetFileName(path);
        int label = labelColumn < 0 ? width + labelColumn : labelColumn;
        if (label < 0 || label >= width) throw new ArgumentOutOfRangeException(nameof(labelColumn), labelColumn, $"{name} has {width} columns.");
        if (width < 2) throw new InvalidDataException($"{name} has a single column: there are no features beside the label.");
        int featureCount = width - 1;
        var features = new float[Size(name, rows.Count, featureCount)];
        var labels = new int[rows.Count];
        for (int r = 0; r < rows.Count; r++)
        {
            var (line, values) = rows[r];
            double v = values[label];
            if (v != Math.Floor(v) || v < 0 || v > int.MaxValue)
                throw new InvalidDataException($"{name} line {line}, column {label + 1}: the label {v.ToString(CultureInfo.InvariantCulture)} is not a class number.");
            labels[r] = (int)v;
            for (int c = 0, f = 0; c < width; c++)
                if (c != label) features[(long)r * featureCount + f++] = (float)values[c];
        }
        return Dataset.WithLabels(features, featureCount, labels);
    }

    /// <summary>Rows of features followed by <paramref name="targetColumns"/> float targets in the last columns.</summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="targetColumns">How many of the last columns are targets; at least one column must remain a feature.</param>
    /// <param name="hasHeader">Whether the first line is a header row (its width is checked; its names are not read).</param>
    /// <param name="separator">The column separator.</param>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty, or <paramref name="separator"/> is a character numbers are written with.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="targetColumns"/> is not positive or leaves no feature column.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">
    /// The file holds no data rows, a row (or header) of another width than the first data row, a value that is not a
    /// finite float, or more values than one array holds.
    /// </exception>
    /// <exception cref="IOException">The file could not be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    public static Dataset LoadTargets(string path, int targetColumns, bool hasHeader = true, char separator = ',')
    {
        var rows = ReadRows(path, hasHeader, separator, out int width);
        string name = Path.GetFileName(path);
        if (targetColumns <= 0 || targetColumns >= width)
            throw new ArgumentOutOfRangeException(nameof(targetColumns), targetColumns, $"{name} has {width} columns; targets must leave at least one feature.");
        int featureCount = width - targetColumns;
        var features = new float[Size(name, rows.Count, featureCount)];
        var targets = new float[Size(name, rows.Count, targetColumns)];
        for (int r = 0; r < rows.Count; r++)
        {
            var values = rows[r].Values;
            for (int c = 0; c < featureCount; c++) features[(long)r * featureCount + c] = (float)values[c];
            for (int c = 0; c < targetColumns; c++) targets[(long)r * targetColumns + c] = (float)values[featureCount + c];
        }
        return Dataset.WithTargets(features, featureCount, targets, targetColumns);
    }

    // rows * columns floats, refused when one array cannot hold them.
    private static long Size(string name, int rows, int columns)
    {
        long size = (long)rows * columns; // both are ints: the product fits a long
        if (size > Array.MaxLength)
            throw new InvalidDataException($"{name}: {rows} rows of {columns} values make {size} values, more than one array can hold ({Array.MaxLength}).");
        return size;
    }

    private static List<(int Line, double[] Values)> ReadRows(string path, bool hasHeader, char separator, out int width)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (char.IsAsciiDigit(separator) || separator is '.' or '-' or '+' or 'e' or 'E')
            throw new ArgumentException($"The separator '{separator}' is a character numbers are written with.", nameof(separator));
        if (!File.Exists(path)) throw new FileNotFoundException($"CSV file '{path}' does not exist.", path);
        string name = Path.GetFileName(path);
        var rows = new List<(int, double[])>();
        width = -1;
        int headerWidth = -1, lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (hasHeader && lineNumber == 1)
            {
                headerWidth = line.Split(separator).Length;
                continue;
            }
            if (line.Trim().Length == 0) continue;
            string[] cells = line.Split(separator);
            if (width < 0)
            {
                width = cells.Length;
                if (headerWidth >= 0 && headerWidth != width)
                    throw new InvalidDataException($"{name} line 1: the header has {headerWidth} columns, but the first data row (line {lineNumber}) has {width}.");
            }
            else if (cells.Length != width)
                throw new InvalidDataException($"{name} line {lineNumber}: {cells.Length} columns, but earlier rows have {width}.");
            var values = new double[cells.Length];
            for (int c = 0; c < cells.Length; c++)
            {
                if (!double.TryParse(cells[c].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                    throw new InvalidDataException($"{name} line {lineNumber}, column {c + 1}: '{cells[c]}' is not a number.");
                if (!float.IsFinite((float)v)) // NaN, ±Infinity, and values beyond a float's ±3.4e38 (1e400 parses as infinity)
                    throw new InvalidDataException($"{name} line {lineNumber}, column {c + 1}: '{cells[c]}' is not a finite number a float can hold (at most ±3.4e38).");
                values[c] = v;
            }
            rows.Add((lineNumber, values));
        }
        if (rows.Count == 0) throw new InvalidDataException($"{name} holds no data rows.");
        return rows;
    }
}
