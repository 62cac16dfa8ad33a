using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using GenNets.IO;

namespace GenNets.Data;

/// <summary>An IDX array of unsigned bytes: its dimensions and its data, row-major.</summary>
public sealed record IdxArray(int[] Dimensions, byte[] Data)
{
    /// <summary>Number of items along the first dimension.</summary>
    public int Count => Dimensions.Length == 0 ? 0 : Dimensions[0];

    /// <summary>Bytes per item: the product of the remaining dimensions.</summary>
    /// <exception cref="OverflowException">The product of the remaining dimensions does not fit in an <see cref="int"/>
    /// (never for an array read by <see cref="Idx.Read"/>, which refuses such dimensions).</exception>
    public int ItemSize
    {
        get
        {
            int size = 1;
            for (int i = 1; i < Dimensions.Length; i++) size = checked(size * Dimensions[i]);
            return size;
        }
    }
}

/// <summary>
/// Reads and writes IDX files (the MNIST format), gzip-compressed or plain. Reading checks the header before any data:
/// the dimensions must describe an array that one .NET array can hold, and no more data is read or decompressed than
/// the header declares (plus a few kilobytes to notice extra data after it).
/// </summary>
public static class Idx
{
    private const byte UnsignedByte = 0x08;
    private const int InitialGzipCapacity = 1 << 20; // a gzip file's data is read into a buffer that grows as data arrives
    private const int TrailingProbe = 4096;          // bytes read past the declared data to report extra data

    /// <summary>Reads an IDX file of unsigned bytes, checking the header against the data.</summary>
    /// <param name="path">The file, gzip-compressed (recognised by its first two bytes) or plain.</param>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or not a valid path.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">
    /// The file is not an IDX file of unsigned bytes: a bad magic number or element type, no dimensions, a negative
    /// dimension, dimensions too large for one array, fewer or more data bytes than the header declares, or a corrupt
    /// gzip stream. The message names the file and the numbers.
    /// </exception>
    /// <exception cref="IOException">The file could not be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    public static IdxArray Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"IDX file '{path}' does not exist.", path);
        string name = Path.GetFileName(path);
        using var file = File.OpenRead(path);
        int b0 = file.ReadByte(), b1 = file.ReadByte();
        file.Position = 0;
        bool gzip = b0 == 0x1F && b1 == 0x8B;
        using Stream stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
        string where = gzip ? "the decompressed file" : "the file";
        try
        {
            Span<byte> magic = stackalloc byte[4];
            int got = ReadUpTo(stream, magic);
            if (got < 4 || magic[0] != 0 || magic[1] != 0)
                throw new InvalidDataException(got < 4
                    ? $"{name}: not an IDX file ({where} holds {got} bytes; the header alone takes at least 8)."
                    : $"{name}: not an IDX file (the first two bytes must be zero, but are 0x{magic[0]:X2} 0x{magic[1]:X2}).");
            if (magic[2] != UnsignedByte)
                throw new InvalidDataException($"{name}: element type 0x{magic[2]:X2} is not supported; only unsigned bytes (0x08) are.");
            int rank = magic[3];
            if (rank < 1) throw new InvalidDataException($"{name}: the header declares 0 dimensions; an IDX array has at least one.");
            int headerLength = 4 + 4 * rank;
            var dimBytes = new byte[4 * rank];
            got = ReadUpTo(stream, dimBytes);
            if (got < dimBytes.Length)
                throw new InvalidDataException($"{name}: the header declares {rank} dimensions ({headerLength} header bytes) but {where} holds {4 + got} bytes.");
            var dims = new int[rank];
            for (int i = 0; i < rank; i++)
            {
                dims[i] = BinaryPrimitives.ReadInt32BigEndian(dimBytes.AsSpan(4 * i));
                if (dims[i] < 0) throw new InvalidDataException($"{name}: dimension {i} of {rank} is {dims[i]}; dimensions cannot be negative.");
            }
            string shape = string.Join("x", dims);
            long? total = Product(dims, 0), itemSize = Product(dims, 1);
            if (total is not { } expected || expected > Array.MaxLength || itemSize is null || itemSize > Array.MaxLength)
                throw new InvalidDataException(total is { } t && t <= Array.MaxLength
                    ? $"{name}: the header declares dimensions {shape}, items of {(itemSize is { } s ? s.ToString() : "more than " + long.MaxValue)} bytes, more than one array can hold ({Array.MaxLength} bytes)."
                    : $"{name}: the header declares dimensions {shape}, {(total is { } u ? u.ToString() : "more than " + long.MaxValue)} bytes of data, more than one array can hold ({Array.MaxLength} bytes).");
            string says = $"{name}: the header says {shape} ({expected} bytes of data)";

            if (!gzip)
            {
                long follow = file.Length - headerLength; // known before reading any data
                if (follow != expected) throw new InvalidDataException($"{says} but {follow} bytes follow the header.");
                var data = new byte[expected];
                int read = ReadUpTo(stream, data);
                if (read != expected) throw new InvalidDataException($"{says} but only {read} bytes could be read after the header (the file shrank while being read).");
                return new IdxArray(dims, data);
            }

            // gzip: the uncompressed size is unknown until the stream ends, so read at most what the header declares into
            // a buffer that grows only as data arrives (a small file declaring a huge array allocates little).
            var buffer = new byte[Math.Min(expected, InitialGzipCapacity)];
            int filled = 0;
            while (true)
            {
                filled += ReadUpTo(stream, buffer.AsSpan(filled));
                if (filled < buffer.Length || buffer.Length == expected) break;
                Array.Resize(ref buffer, (int)Math.Min(expected, 2L * buffer.Length));
            }
            if (filled < expected)
                throw new InvalidDataException($"{says} but the gzip stream holds only {filled} bytes after the header.");
            int extra = ReadUpTo(stream, stackalloc byte[TrailingProbe]);
            if (extra > 0)
                throw new InvalidDataException($"{says} but the gzip stream holds more after them (at least {expected + extra} bytes after the header).");
            return new IdxArray(dims, buffer);
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(name + ":", StringComparison.Ordinal))
        {
            // Raised by the gzip decoder: the compressed stream is corrupt.
            throw new InvalidDataException($"{name}: the gzip stream is corrupt or truncated ({e.Message}).", e);
        }
    }

    /// <summary>
    /// Writes an IDX file of unsigned bytes, gzip-compressed (smallest size) when the name ends in .gz. The file is written
    /// beside its destination and moved into place when complete, so a failure leaves any earlier file as it was; a
    /// symbolic link is followed and stays a link, and an existing file keeps its permissions (see <see cref="SafeFile"/>).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="path"/>, <paramref name="array"/>, its dimensions or its data is null.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="path"/> is empty or not a valid path, or <paramref name="array"/> has no dimensions, more than 255,
    /// a negative one, or data whose length is not the product of its dimensions.
    /// </exception>
    /// <exception cref="IOException"><paramref name="path"/> names something other than a regular file (a directory, a
    /// device such as /dev/null, a pipe), or writing or renaming failed (including <see cref="DirectoryNotFoundException"/>
    /// and <see cref="PathTooLongException"/>); the message names <paramref name="path"/>, and any earlier file there is unchanged.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory does not allow creating a file in it or renaming one over the target.</exception>
    public static void Write(string path, IdxArray array)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(array);
        ArgumentNullException.ThrowIfNull(array.Dimensions, nameof(array) + ".Dimensions");
        ArgumentNullException.ThrowIfNull(array.Data, nameof(array) + ".Data");
        int[] dims = array.Dimensions;
        if (dims.Length is < 1 or > 255)
            throw new ArgumentException($"An IDX array has 1 to 255 dimensions, not {dims.Length}.", nameof(array));
        for (int i = 0; i < dims.Length; i++)
            if (dims[i] < 0) throw new ArgumentException($"Dimension {i} of the array is {dims[i]}; dimensions cannot be negative.", nameof(array));
        if (Product(dims, 0) != array.Data.Length)
            throw new ArgumentException($"The dimensions {string.Join("x", dims)} describe {(Product(dims, 0) is { } p ? p.ToString() : "more than " + long.MaxValue)} bytes but the data holds {array.Data.Length}.", nameof(array));

        bool compress = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
        SafeFile.Replace(path, file =>
        {
            if (!compress)
            {
                WriteTo(file);
                return;
            }
            using var gzip = new GZipStream(file, CompressionLevel.SmallestSize, leaveOpen: true);
            WriteTo(gzip);
        }, "an IDX file");

        void WriteTo(Stream stream)
        {
            Span<byte> header = stackalloc byte[4 + 4 * dims.Length];
            header[2] = UnsignedByte;
            header[3] = (byte)dims.Length;
            for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(header.Slice(4 + 4 * i), dims[i]);
            stream.Write(header);
            stream.Write(array.Data);
        }
    }

    /// <summary>
    /// Loads images and their labels as a labelled data set, pixels scaled by <paramref name="scale"/>
    /// (1/255 maps bytes to [0, 1]); at most <paramref name="limit"/> samples.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="imagesPath"/> or <paramref name="labelsPath"/> is null.</exception>
    /// <exception cref="ArgumentException">A path is empty or not a valid path.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is negative, or <paramref name="scale"/> is not finite.</exception>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="InvalidDataException">
    /// A file is not a valid IDX file (see <see cref="Read"/>), the labels are not one-dimensional, the images hold no
    /// pixels per sample, or the two files hold different numbers of samples. The message names the file(s).
    /// </exception>
    /// <exception cref="IOException">A file could not be read.</exception>
    /// <exception cref="UnauthorizedAccessException">A file may not be read.</exception>
    public static Dataset LoadLabelled(string imagesPath, string labelsPath, float scale = 1f / 255f, int limit = int.MaxValue)
    {
        ArgumentException.ThrowIfNullOrEmpty(imagesPath);
        ArgumentException.ThrowIfNullOrEmpty(labelsPath);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        if (!float.IsFinite(scale)) throw new ArgumentOutOfRangeException(nameof(scale), scale, "The pixel scale must be a finite number.");
        var images = Read(imagesPath);
        var labels = Read(labelsPath);
        if (labels.Dimensions.Length != 1)
            throw new InvalidDataException($"{Path.GetFileName(labelsPath)}: labels must be one-dimensional, but have dimensions {string.Join("x", labels.Dimensions)}.");
        if (images.Count != labels.Count)
            throw new InvalidDataException($"{Path.GetFileName(imagesPath)} holds {images.Count} samples but {Path.GetFileName(labelsPath)} holds {labels.Count} labels.");
        int count = Math.Min(images.Count, limit), size = images.ItemSize; // Read refused item sizes beyond one array
        if (size == 0)
            throw new InvalidDataException($"{Path.GetFileName(imagesPath)}: images of dimensions {string.Join("x", images.Dimensions)} hold no pixels.");
        var features = new float[(long)count * size]; // at most the bytes read, so within one array
        for (long i = 0; i < features.Length; i++) features[i] = images.Data[i] * scale;
        var y = new int[count];
        for (int i = 0; i < count; i++) y[i] = labels.Data[i];
        return Dataset.WithLabels(features, size, y);
    }

    // The product of dims[from..] (1 when empty, 0 when any is 0), or null when it overflows a long.
    private static long? Product(int[] dims, int from)
    {
        for (int i = from; i < dims.Length; i++)
            if (dims[i] == 0) return 0;
        long product = 1;
        for (int i = from; i < dims.Length; i++)
        {
            if (product > long.MaxValue / dims[i]) return null;
            product = checked(product * dims[i]);
        }
        return product;
    }

    // Reads until the span is full or the stream ends; returns the bytes read.
    private static int ReadUpTo(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }
}
