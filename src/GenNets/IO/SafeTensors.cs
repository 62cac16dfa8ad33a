using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;

namespace GenNets.IO;

/// <summary>One tensor's entry in a safetensors header.</summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="DType">Its element type as the format names it (F32, F16, BF16, F64, …).</param>
/// <param name="Shape">Its shape.</param>
/// <param name="Begin">Offset of its first byte within the data section.</param>
/// <param name="End">Offset just past its last byte within the data section.</param>
public sealed record SafeTensorInfo(string Name, string DType, int[] Shape, long Begin, long End)
{
    /// <summary>Number of elements.</summary>
    public long Length
    {
        get
        {
            long n = 1;
            foreach (int d in Shape) n *= d;
            return n;
        }
    }
}

/// <summary>A parsed safetensors file held in memory: its header and its data section.</summary>
public sealed class SafeTensorsFile
{
    private readonly byte[] _bytes;
    private readonly long _dataStart;
    private readonly Dictionary<string, SafeTensorInfo> _byName;

    internal SafeTensorsFile(string source, byte[] bytes, long dataStart, List<SafeTensorInfo> tensors, Dictionary<string, string> metadata)
    {
        Source = source;
        _bytes = bytes;
        _dataStart = dataStart;
        Tensors = tensors;
        Metadata = metadata;
        _byName = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
        foreach (var t in tensors) _byName[t.Name] = t;
    }

    /// <summary>Where the file came from, for messages.</summary>
    public string Source { get; }

    /// <summary>The tensors, in the order of their data.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }

    /// <summary>The header's <c>__metadata__</c>.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Finds a tensor by name.</summary>
    public bool TryGet(string name, out SafeTensorInfo info) => _byName.TryGetValue(name, out info!);

    /// <summary>Decodes a tensor to float: F32 as is; F64, F16 and BF16 converted.</summary>
    public void ReadAsFloat(SafeTensorInfo tensor, Span<float> destination)
    {
        if (destination.Length != tensor.Length)
            throw new ArgumentException($"Tensor '{tensor.Name}' has {tensor.Length} elements; the destination holds {destination.Length}.", nameof(destination));
        var data = _bytes.AsSpan((int)(_dataStart + tensor.Begin), (int)(tensor.End - tensor.Begin));
        switch (tensor.DType)
        {
            case "F32":
                for (int i = 0; i < destination.Length; i++) destination[i] = BinaryPrimitives.ReadSingleLittleEndian(data.Slice(4 * i));
                break;
            case "F64":
                for (int i = 0; i < destination.Length; i++) destination[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(data.Slice(8 * i));
                break;
            case "F16":
                for (int i = 0; i < destination.Length; i++) destination[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(data.Slice(2 * i));
                break;
            case "BF16":
                for (int i = 0; i < destination.Length; i++) destination[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(2 * i)) << 16);
                break;
            default:
                throw new InvalidDataException($"{Source}: tensor '{tensor.Name}' has dtype {tensor.DType}; only F32, F64, F16 and BF16 can be read as float.");
        }
    }
}

/// <summary>
/// Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header
/// mapping each tensor name to its dtype, shape and data offsets, then the tensors' bytes.
/// </summary>
public static class SafeTensors
{
    private static readonly Dictionary<string, int> ElementSizes = new(StringComparer.Ordinal)
    {
        ["F64"] = 8, ["F32"] = 4, ["F16"] = 2, ["BF16"] = 2, ["I64"] = 8, ["I32"] = 4, ["I16"] = 2, ["I8"] = 1, ["U8"] = 1, ["BOOL"] = 1,
        ["U16"] = 2, ["U32"] = 4, ["U64"] = 8, ["F8_E4M3"] = 1, ["F8_E5M2"] = 1,
    };

    /// <summary>Reads and validates a file: every offset, size and shape is checked against the data.</summary>
    public static SafeTensorsFile Read(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (FileNotFoundException) { throw new FileNotFoundException($"Weights file '{path}' does not exist.", path); }
        return Read(bytes, path);
    }

    /// <summary>Parses a file already in memory; <paramref name="source"/> names it in messages.</summary>
    public static SafeTensorsFile Read(byte[] bytes, string source)
    {
        string file = $"weights file '{source}'";
        if (bytes.Length < 8)
            throw new InvalidDataException($"{file} is {bytes.Length} bytes long; a safetensors file has at least an 8-byte header length.");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8))
            throw new InvalidDataException($"{file}: the header is said to be {headerLength} bytes, but only {bytes.Length - 8} bytes follow the length; the file is truncated or not safetensors.");
        long dataStart = 8 + (long)headerLength;
        long dataLength = bytes.Length - dataStart;

        var tensors = new List<SafeTensorInfo>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            var reader = new Utf8JsonReader(bytes.AsSpan(8, (int)headerLength));
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw new InvalidDataException($"{file}: the header is not a JSON object.");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string name = reader.GetString()!;
                reader.Read();
                if (name == "__metadata__")
                {
                    ReadMetadata(ref reader, metadata, file);
                    continue;
                }
                tensors.Add(ReadTensor(ref reader, name, file));
            }
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file}: the header is not valid JSON ({e.Message}).", e);
        }

        foreach (var t in tensors)
        {
            long expected = t.Length * ElementSizes[t.DType];
            if (t.End - t.Begin != expected)
                throw new InvalidDataException($"{file}: tensor '{t.Name}' of dtype {t.DType} and shape {ParameterTensor.FormatShape(t.Shape)} needs {expected} bytes, but its data_offsets [{t.Begin}, {t.End}] span {t.End - t.Begin}.");
            if (t.Begin < 0 || t.End > dataLength)
                throw new InvalidDataException($"{file}: tensor '{t.Name}' lies at bytes [{t.Begin}, {t.End}) of the data, but the data holds only {dataLength} bytes; the file is truncated.");
        }
        var sorted = new List<SafeTensorInfo>(tensors);
        sorted.Sort((a, b) => a.Begin.CompareTo(b.Begin));
        for (int i = 1; i < sorted.Count; i++)
            if (sorted[i].Begin < sorted[i - 1].End)
                throw new InvalidDataException($"{file}: tensors '{sorted[i - 1].Name}' [{sorted[i - 1].Begin}, {sorted[i - 1].End}) and '{sorted[i].Name}' [{sorted[i].Begin}, {sorted[i].End}) overlap.");
        return new SafeTensorsFile(source, bytes, dataStart, sorted, metadata);
    }

    private static void ReadMetadata(ref Utf8JsonReader reader, Dictionary<string, string> metadata, string file)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new InvalidDataException($"{file}: __metadata__ is not an object.");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string key = reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
                throw new InvalidDataException($"{file}: __metadata__ value '{key}' is not a string.");
            metadata[key] = reader.GetString()!;
        }
    }

    private static SafeTensorInfo ReadTensor(ref Utf8JsonReader reader, string name, string file)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new InvalidDataException($"{file}: the entry of tensor '{name}' is not an object.");
        string? dtype = null;
        List<int>? shape = null;
        List<long>? offsets = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string field = reader.GetString()!;
            reader.Read();
            switch (field)
            {
                case "dtype":
                    dtype = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    break;
                case "shape":
                    shape = new List<int>();
                    foreach (long d in ReadIntegers(ref reader, name, "shape", file))
                    {
                        if (d < 0 || d > int.MaxValue)
                            throw new InvalidDataException($"{file}: tensor '{name}' has shape dimension {d}.");
                        shape.Add((int)d);
                    }
                    break;
                case "data_offsets":
                    offsets = ReadIntegers(ref reader, name, "data_offsets", file);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        if (dtype is null) throw new InvalidDataException($"{file}: tensor '{name}' has no dtype.");
        if (!ElementSizes.ContainsKey(dtype)) throw new InvalidDataException($"{file}: tensor '{name}' has the unknown dtype '{dtype}'.");
        if (shape is null) throw new InvalidDataException($"{file}: tensor '{name}' has no shape.");
        if (offsets is null || offsets.Count != 2 || offsets[1] < offsets[0])
            throw new InvalidDataException($"{file}: tensor '{name}' needs data_offsets [begin, end] with begin ≤ end.");
        return new SafeTensorInfo(name, dtype, shape.ToArray(), offsets[0], offsets[1]);
    }

    private static List<long> ReadIntegers(ref Utf8JsonReader reader, string name, string field, string file)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new InvalidDataException($"{file}: {field} of tensor '{name}' is not an array.");
        var values = new List<long>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long v))
                throw new InvalidDataException($"{file}: {field} of tensor '{name}' holds something other than whole numbers.");
            values.Add(v);
        }
        return values;
    }

    /// <summary>
    /// Writes F32 tensors (and optional metadata) to <paramref name="path"/>: to a temporary file beside it first, then renamed
    /// over it, so that a failed save never destroys an earlier file.
    /// </summary>
    public static void Write(string path, IReadOnlyList<(string Name, int[] Shape, ReadOnlyMemory<float> Data)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        long offset = 0;
        var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) json.WriteString(k, v);
                json.WriteEndObject();
            }
            foreach (var (name, shape, data) in tensors)
            {
                long length = 1;
                foreach (int d in shape) length *= d;
                if (length != data.Length)
                    throw new ArgumentException($"Tensor '{name}' of shape {ParameterTensor.FormatShape(shape)} needs {length} values; {data.Length} were given.", nameof(tensors));
                json.WriteStartObject(name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (int d in shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + 4 * length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += 4 * length;
            }
            json.WriteEndObject();
        }
        // Pad the header with spaces to a multiple of 8 so that the data is aligned.
        while (header.Length % 8 != 0) header.WriteByte((byte)' ');

        string full = Path.GetFullPath(path);
        string temporary = full + "." + Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture) + ".tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                Span<byte> length = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
                stream.Write(length);
                header.Position = 0;
                header.CopyTo(stream);
                var buffer = new byte[4 * 4096];
                foreach (var (_, _, data) in tensors)
                {
                    var span = data.Span;
                    for (int start = 0; start < span.Length; start += 4096)
                    {
                        int n = Math.Min(4096, span.Length - start);
                        for (int i = 0; i < n; i++) BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(4 * i), span[start + i]);
                        stream.Write(buffer, 0, 4 * n);
                    }
                }
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }
}
