using System;
using System.Collections.Generic;
using System.IO;

namespace GenNets.Data;

/// <summary>
/// Fashion-MNIST (Zalando Research, MIT licence): 28x28 grey images of clothing in ten classes, in
/// the four standard IDX files.
/// </summary>
public static class FashionMnist
{
    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package installs the full set.</summary>
    public const string DebianDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>The environment variable that may name a folder holding the set.</summary>
    public const string EnvironmentVariable = "FASHION_MNIST_DIR";

    /// <summary>The standard file names.</summary>
    public static IReadOnlyList<string> FileNames { get; } =
        ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"];

    /// <summary>The ten class names, by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>
    /// The folder holding the four files: <paramref name="directory"/> when given (it must hold them all), else the folder
    /// named by FASHION_MNIST_DIR, else Debian's install location; null when none has them.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException"><paramref name="directory"/> is given but does not exist.</exception>
    /// <exception cref="FileNotFoundException"><paramref name="directory"/> is given but lacks one of the four files (named).</exception>
    public static string? Locate(string? directory)
    {
        if (directory is not null)
        {
            if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"The Fashion-MNIST folder '{directory}' does not exist.");
            foreach (string f in FileNames)
                if (!File.Exists(Path.Combine(directory, f)))
                    throw new FileNotFoundException($"The Fashion-MNIST folder '{directory}' has no {f}.", Path.Combine(directory, f));
            return directory;
        }
        foreach (string? candidate in new[] { Environment.GetEnvironmentVariable(EnvironmentVariable), DebianDirectory })
            if (!string.IsNullOrEmpty(candidate) && Array.TrueForAll(FileNames.ToArrayOf(), f => File.Exists(Path.Combine(candidate, f))))
                return candidate;
        return null;
    }

    /// <summary>
    /// The folder a program should read: <paramref name="directory"/> when the user gave one; with <paramref name="full"/>,
    /// the full set (<see cref="Locate"/>), or an error saying how to install it; otherwise <paramref name="subset"/>.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException"><paramref name="full"/> is asked for but no folder holds the full set.</exception>
    public static string Choose(string? directory, bool full, string subset)
    {
        if (directory is not null) return directory;
        if (!full) return subset;
        return Locate(null) ?? throw new DirectoryNotFoundException(
            $"The full Fashion-MNIST set was not found. Install it with `apt-get install dataset-fashion-mnist`, set {EnvironmentVariable}, or pass --data DIR.");
    }

    /// <summary>Loads the training and test sets from <paramref name="directory"/>, pixels scaled to [0, 1].</summary>
    /// <exception cref="ArgumentNullException"><paramref name="directory"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="trainLimit"/> or <paramref name="testLimit"/> is negative.</exception>
    /// <exception cref="DirectoryNotFoundException"><paramref name="directory"/> does not exist.</exception>
    /// <exception cref="FileNotFoundException">The folder lacks one of the four files (named).</exception>
    /// <exception cref="InvalidDataException">A file is not a valid IDX file, or images and labels disagree (see <see cref="Idx.LoadLabelled"/>); the message names the file.</exception>
    /// <exception cref="IOException">A file could not be read.</exception>
    /// <exception cref="UnauthorizedAccessException">A file may not be read.</exception>
    public static (Dataset Train, Dataset Test) Load(string directory, int trainLimit = int.MaxValue, int testLimit = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentOutOfRangeException.ThrowIfNegative(trainLimit);
        ArgumentOutOfRangeException.ThrowIfNegative(testLimit);
        Locate(directory);
        var train = Idx.LoadLabelled(Path.Combine(directory, FileNames[0]), Path.Combine(directory, FileNames[1]), limit: trainLimit);
        var test = Idx.LoadLabelled(Path.Combine(directory, FileNames[2]), Path.Combine(directory, FileNames[3]), limit: testLimit);
        return (train, test);
    }

    private static string[] ToArrayOf(this IReadOnlyList<string> list)
    {
        var a = new string[list.Count];
        for (int i = 0; i < a.Length; i++) a[i] = list[i];
        return a;
    }
}
