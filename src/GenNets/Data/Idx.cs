using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;

namespace GenNets.Data;

/// <summary>An IDX array of unsigned bytes: its dimensions and its data, row-major.</summary>
public sealed record IdxArray(int[] Dimensions, byte[] Data)
{
    /// <summary>Number of items along the first dimension.</summary>
    public int Count => Dimensions.Length == 0 ? 0 : Dimensions[0];

    /// <summary>Bytes per item: the product of the remaining dimensions.</summary>
    public int ItemSize
    {
        get
        {
            int size = 1;
            for (int i = 1; i < Dimensions.Length; i++) size *= Dimensions[i];
            return size;
        }
    }
}

/// <summary>Reads and writes IDX files (the MNIST format), gzip-compressed or plain.</summary>
public static class Idx
{
    private const byte UnsignedByte = 0x08;

    /// <summary>Reads an IDX file of unsigned bytes, checking the header against the data.</summary>
    public static IdxArray Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"IDX file '{path}' does not exist.", path);
        byte[] bytes = ReadMaybeGzip(path);
        string name = Path.GetFileName(path);
        if (bytes.Length < 4 || bytes[0] != 0 || bytes[1] != 0)
            throw new InvalidDataException($"{name}: not an IDX file (the first two bytes must be zero).");
        if (bytes[2] != UnsignedByte)
            throw new InvalidDataException($"{name}: element type 0x{bytes[2]:X2} is not supported; only unsigned bytes (0x08) are.");
        int rank = bytes[3];
        if (rank < 1 || bytes.Length < 4 + 4 * rank)
            throw new InvalidDataException($"{name}: the header declares {rank} dimensions but the file holds {bytes.Length} bytes.");
        var dims = new int[rank];
        long expected = 1;
        for (int i = 0; i < rank; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * i));
            if (dims[i] < 0) throw new InvalidDataException($"{name}: dimension {i} is {dims[i]}.");
            expected *= dims[i];
        }
        int headerLength = 4 + 4 * rank;
        long actual = bytes.Length - headerLength;
        if (actual != expected)
            throw new InvalidDataException($"{name}: the header says {string.Join("x", dims)} ({expected} bytes of data) but {actual} bytes follow the header.");
        return new IdxArray(dims, bytes.AsSpan(headerLength).ToArray());
    }

    /// <summary>Writes an IDX file of unsigned bytes, gzip-compressed (smallest size) when the name ends in .gz.</summary>
    public static void Write(string path, IdxArray array)
    {
        using var file = File.Create(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionLevel.SmallestSize) : file;
        Span<byte> header = stackalloc byte[4 + 4 * array.Dimensions.Length];
        header[2] = UnsignedByte;
        header[3] = (byte)array.Dimensions.Length;
        for (int i = 0; i < array.Dimensions.Length; i++) BinaryPrimitives.WriteInt32BigEndian(header.Slice(4 + 4 * i), array.Dimensions[i]);
        stream.Write(header);
        stream.Write(array.Data);
    }

    /// <summary>
    /// Loads images and their labels as a labelled data set, pixels scaled by <paramref name="scale"/>
    /// (1/255 maps bytes to [0, 1]); at most <paramref name="limit"/> samples.
    /// </summary>
    public static Dataset LoadLabelled(string imagesPath, string labelsPath, float scale = 1f / 255f, int limit = int.MaxValue)
    {
        var images = Read(imagesPath);
        var labels = Read(labelsPath);
        if (labels.Dimensions.Length != 1)
            throw new InvalidDataException($"{Path.GetFileName(labelsPath)}: labels must be one-dimensional, but have dimensions {string.Join("x", labels.Dimensions)}.");
        if (images.Count != labels.Count)
            throw new InvalidDataException($"{Path.GetFileName(imagesPath)} holds {images.Count} samples but {Path.GetFileName(labelsPath)} holds {labels.Count} labels.");
        int count = Math.Min(images.Count, limit), size = images.ItemSize;
        var features = new float[(long)count * size];
        for (long i = 0; i < features.Length; i++) features[i] = images.Data[i] * scale;
        var y = new int[count];
        for (int i = 0; i < count; i++) y[i] = labels.Data[i];
        return Dataset.WithLabels(features, size, y);
    }

    private static byte[] ReadMaybeGzip(string path)
    {
        using var file = File.OpenRead(path);
        int b0 = file.ReadByte(), b1 = file.ReadByte();
        file.Position = 0;
        using var memory = new MemoryStream();
        try
        {
            if (b0 == 0x1F && b1 == 0x8B)
                using (var gzip = new GZipStream(file, CompressionMode.Decompress)) gzip.CopyTo(memory);
            else
                file.CopyTo(memory);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{Path.GetFileName(path)}: the gzip stream is corrupt or truncated after {memory.Length} bytes ({e.Message}).", e);
        }
        return memory.ToArray();
    }
}
