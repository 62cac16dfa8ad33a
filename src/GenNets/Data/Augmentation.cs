using System;

namespace GenNets.Data;

/// <summary>
/// A random change of a training sample (a crop, a flip, …) that gives the network new variants of the data each epoch. Each
/// sample's randomness comes from (seed, epoch, the sample's index in the data set) alone (<see cref="RandomFor"/>), so what a
/// sample becomes does not depend on the batch size, its place in the batch, the number of threads or a resume from a
/// checkpoint: the same seed and epoch always give the same samples, another epoch other ones. A
/// <see cref="Training.Trainer{TNetwork}"/> applies it to the training batches only, never to validation or evaluation.
/// </summary>
public abstract class Augmentation
{
    /// <summary>An augmentation of samples of <paramref name="featureSize"/> floats.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="featureSize"/> is not positive.</exception>
    protected Augmentation(int featureSize)
    {
        if (featureSize <= 0) throw new ArgumentOutOfRangeException(nameof(featureSize), featureSize, "The feature size must be positive.");
        FeatureSize = featureSize;
    }

    /// <summary>Floats per sample: the augmentation fits a data set of this <see cref="Dataset.FeatureSize"/>.</summary>
    public int FeatureSize { get; }

    /// <summary>
    /// The generator that augments sample <paramref name="index"/> of the data set in <paramref name="epoch"/> of a run with
    /// <paramref name="seed"/>: a SplitMix64 mix of the three, apart from the generator that shuffles the run's batches.
    /// </summary>
    public static SeededRandom RandomFor(int seed, int epoch, int index)
    {
        ulong h = SeededRandom.Mix(0x6A09E667F3BCC908UL + (uint)seed); // a constant of its own: not the shuffle's sequence
        h = SeededRandom.Mix(h + (uint)epoch);
        return new SeededRandom(SeededRandom.Mix(h + (uint)index));
    }

    /// <summary>
    /// Writes sample <paramref name="index"/> of the data set, <paramref name="source"/>, augmented for
    /// <paramref name="epoch"/> of a run with <paramref name="seed"/>, to <paramref name="destination"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epoch"/> or <paramref name="index"/> is negative.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="source"/> or <paramref name="destination"/> does not hold <see cref="FeatureSize"/> floats, or they overlap.
    /// </exception>
    public void Apply(ReadOnlySpan<float> source, Span<float> destination, int seed, int epoch, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        if (source.Length != FeatureSize)
            throw new ArgumentException($"The sample holds {source.Length} floats; the augmentation takes {FeatureSize}.", nameof(source));
        if (destination.Length != FeatureSize)
            throw new ArgumentException($"The destination holds {destination.Length} floats; the augmentation writes {FeatureSize}.", nameof(destination));
        if (source.Overlaps(destination))
            throw new ArgumentException("The destination overlaps the sample; augment into another buffer.", nameof(destination));
        var random = RandomFor(seed, epoch, index);
        Augment(source, destination, ref random);
    }

    /// <summary>
    /// Writes the samples of <paramref name="data"/> that <paramref name="indices"/> name, augmented for
    /// <paramref name="epoch"/> of a run with <paramref name="seed"/>, to the rows of <paramref name="destination"/>, one
    /// row of <see cref="FeatureSize"/> floats each: row i is what <see cref="Apply(ReadOnlySpan{float}, Span{float}, int, int, int)"/>
    /// makes of sample <paramref name="indices"/>[i], whatever the other rows. Everything is checked before anything is written.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="data"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epoch"/> is negative, or an index is not a sample of <paramref name="data"/>.</exception>
    /// <exception cref="ArgumentException">
    /// The data set's samples are not of <see cref="FeatureSize"/> floats, or <paramref name="destination"/> does not hold a row
    /// for each index.
    /// </exception>
    public void Apply(Dataset data, ReadOnlySpan<int> indices, Span<float> destination, int seed, int epoch)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        int size = FeatureSize;
        if (data.FeatureSize != size)
            throw new ArgumentException($"The data set's samples hold {data.FeatureSize} floats; the augmentation takes {size}.", nameof(data));
        if (destination.Length != (long)indices.Length * size)
            throw new ArgumentException($"The destination holds {destination.Length} floats, not {indices.Length} rows of {size}.", nameof(destination));
        for (int i = 0; i < indices.Length; i++)
            if ((uint)indices[i] >= (uint)data.Count)
                throw new ArgumentOutOfRangeException(nameof(indices), indices[i], $"Index {i} names sample {indices[i]}, outside the data set's {data.Count} samples.");
        var features = data.Features;
        for (int i = 0; i < indices.Length; i++)
        {
            var random = RandomFor(seed, epoch, indices[i]);
            Augment(features.AsSpan(indices[i] * size, size), destination.Slice(i * size, size), ref random);
        }
    }

    /// <summary>
    /// Writes <paramref name="source"/>, changed at random, to <paramref name="destination"/>: both hold
    /// <see cref="FeatureSize"/> floats and do not overlap. Every random choice must come from <paramref name="random"/>,
    /// which is the sample's own generator (<see cref="RandomFor"/>), and nothing should be allocated.
    /// </summary>
    protected abstract void Augment(ReadOnlySpan<float> source, Span<float> destination, ref SeededRandom random);
}

/// <summary>
/// The usual augmentation of small images (as for a ResNet on CIFAR-10 or Fashion-MNIST): a random crop of the original size
/// out of the image padded with <see cref="Padding"/> zeros on every side, that is a shift by (dy, dx), each uniform in
/// [−<see cref="Padding"/>, <see cref="Padding"/>], and with <see cref="FlipHorizontal"/> a mirror image half of the time.
/// The samples are images of (channels, height, width), row-major; every channel gets the same shift and flip.
/// </summary>
/// <example>
/// <code>
/// var trainer = new Trainer&lt;FashionResNet&gt;(model, new Sgd(0.1f, momentum: 0.9f))
/// {
///     Augmentation = new ImageAugmentation(1, 28, 28, padding: 4, flipHorizontal: true),
/// };
/// </code>
/// </example>
public sealed class ImageAugmentation : Augmentation
{
    /// <summary>An augmentation of images of <paramref name="channels"/> × <paramref name="height"/> × <paramref name="width"/>.</summary>
    /// <param name="channels">Channels of the image.</param>
    /// <param name="height">Rows of each channel.</param>
    /// <param name="width">Columns of each row.</param>
    /// <param name="padding">The largest shift of the random crop, in pixels, at most the height and the width; 0: no crop.</param>
    /// <param name="flipHorizontal">Whether to mirror the image left to right with probability ½.</param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A size is not positive, the image holds more than <see cref="int.MaxValue"/> floats, or <paramref name="padding"/> is
    /// negative or larger than the height or the width (a shift that large leaves nothing of the image).
    /// </exception>
    public ImageAugmentation(int channels, int height, int width, int padding = 0, bool flipHorizontal = false)
        : base(Size(channels, height, width))
    {
        if (padding < 0)
            throw new ArgumentOutOfRangeException(nameof(padding), padding, $"The padding cannot be negative; it is {padding}.");
        if (padding > height || padding > width)
            throw new ArgumentOutOfRangeException(nameof(padding), padding,
                $"A padding of {padding} is more than the {height}×{width} image: a shift that large leaves nothing of it.");
        Channels = channels;
        Height = height;
        Width = width;
        Padding = padding;
        FlipHorizontal = flipHorizontal;
    }

    // The floats of an image, checked before the base constructor takes them.
    private static int Size(int channels, int height, int width)
    {
        if (channels <= 0) throw new ArgumentOutOfRangeException(nameof(channels), channels, $"The image needs at least one channel; it has {channels}.");
        if (height <= 0) throw new ArgumentOutOfRangeException(nameof(height), height, $"The image height must be positive; it is {height}.");
        if (width <= 0) throw new ArgumentOutOfRangeException(nameof(width), width, $"The image width must be positive; it is {width}.");
        long size = (long)channels * height * width; // in long: the product of three ints can wrap
        if (size > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(width), width, $"An image of {channels}×{height}×{width} holds {size} floats, more than a sample can ({int.MaxValue}).");
        return (int)size;
    }

    /// <summary>Channels of the image.</summary>
    public int Channels { get; }

    /// <summary>Rows of each channel.</summary>
    public int Height { get; }

    /// <summary>Columns of each row.</summary>
    public int Width { get; }

    /// <summary>The largest shift of the random crop, in pixels, along each axis (0: no crop).</summary>
    public int Padding { get; }

    /// <summary>Whether half of the images are mirrored left to right.</summary>
    public bool FlipHorizontal { get; }

    /// <summary>The images and the changes, as in "1×28×28 images, padding 4, horizontal flips".</summary>
    public override string ToString()
        => $"{Channels}×{Height}×{Width} images, padding {Padding}{(FlipHorizontal ? ", horizontal flips" : "")}";

    /// <summary>
    /// Pixel (y, x) of each channel becomes pixel (y + dy, x + dx) of the original, or 0 outside it; then, if the flip is
    /// drawn, each row is reversed. The draws, in order: dy and dx when <see cref="Padding"/> is positive, then the flip.
    /// </summary>
    protected override void Augment(ReadOnlySpan<float> source, Span<float> destination, ref SeededRandom random)
    {
        int p = Padding, dy = 0, dx = 0;
        if (p > 0)
        {
            dy = random.NextInt(2 * p + 1) - p;
            dx = random.NextInt(2 * p + 1) - p;
        }
        bool flip = FlipHorizontal && (random.NextUInt64() >> 63) != 0;
        if (dy == 0 && dx == 0 && !flip)
        {
            source.CopyTo(destination);
            return;
        }
        int h = Height, w = Width, plane = h * w;
        int x0 = Math.Max(0, -dx), x1 = Math.Min(w, w - dx); // the columns of the result inside the original
        for (int c = 0; c < Channels; c++)
        {
            var from = source.Slice(c * plane, plane);
            var to = destination.Slice(c * plane, plane);
            for (int y = 0; y < h; y++)
            {
                var row = to.Slice(y * w, w);
                int sy = y + dy;
                if ((uint)sy >= (uint)h || x0 >= x1)
                {
                    row.Clear();
                    continue;
                }
                row[..x0].Clear();
                from.Slice(sy * w + x0 + dx, x1 - x0).CopyTo(row[x0..x1]);
                row[x1..].Clear();
                if (flip) row.Reverse();
            }
        }
    }
}
