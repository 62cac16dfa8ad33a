using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Microsoft.Win32.SafeHandles;

namespace GenNets.IO;

/// <summary>One tensor's entry in a safetensors header.</summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="DType">Its element type as the format names it (F32, F16, BF16, F64, …).</param>
/// <param name="Shape">Its shape.</param>
/// <param name="Begin">Offset of its first byte within the data section.</param>
/// <param name="End">Offset just past its last byte within the data section.</param>
public sealed record SafeTensorInfo(string Name, string DType, int[] Shape, long Begin, long End)
{
    /// <summary>Number of elements: the product of <see cref="Shape"/>.</summary>
    /// <exception cref="OverflowException">The product does not fit a <see cref="long"/> (never for an entry read by <see cref="SafeTensors"/>, which rejects such shapes).</exception>
    public long Length
    {
        get
        {
            long n = 1;
            foreach (int d in Shape) n = checked(n * d);
            return n;
        }
    }
}

/// <summary>
/// A validated safetensors file: its header, and access to its data. One read from a path keeps the file open (and reads
/// tensor data from it on demand) until disposed; one parsed from bytes holds them.
/// </summary>
public sealed class SafeTensorsFile : IDisposable
{
    private readonly byte[]? _bytes;
    private readonly SafeFileHandle? _handle;
    private readonly long _dataStart;
    private readonly Dictionary<string, SafeTensorInfo> _byName;

    internal SafeTensorsFile(string source, byte[]? bytes, SafeFileHandle? handle, long dataStart, List<SafeTensorInfo> tensors, Dictionary<string, string> metadata)
    {
        Source = source;
        _bytes = bytes;
        _handle = handle;
        _dataStart = dataStart;
        Tensors = tensors;
        Metadata = metadata;
        _byName = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
        foreach (var t in tensors) _byName.Add(t.Name, t);
    }

    /// <summary>Where the file came from, for messages.</summary>
    public string Source { get; }

    /// <summary>The tensors, in the order of their data.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }

    /// <summary>The header's <c>__metadata__</c>.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Finds a tensor by name.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    public bool TryGet(string name, out SafeTensorInfo info) => _byName.TryGetValue(name, out info!);

    /// <summary>Whether <see cref="ReadAsFloat"/> can decode <paramref name="dtype"/>: F32, F64, F16 and BF16.</summary>
    public static bool CanReadAsFloat(string dtype) => dtype is "F32" or "F64" or "F16" or "BF16";

    /// <summary>Decodes a tensor to float: F32 as is; F64, F16 and BF16 converted. Reads the file through a bounded buffer (F32 straight into <paramref name="destination"/>).</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> does not hold exactly the tensor's elements, or <paramref name="tensor"/> is not one of this file's.</exception>
    /// <exception cref="InvalidDataException">The tensor's dtype cannot be read as float, or the file shrank since it was validated.</exception>
    /// <exception cref="IOException">Reading the file failed.</exception>
    /// <exception cref="ObjectDisposedException">The file was disposed.</exception>
    public void ReadAsFloat(SafeTensorInfo tensor, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (!_byName.TryGetValue(tensor.Name, out var own) || own != tensor)
            throw new ArgumentException($"Tensor '{tensor.Name}' is not an entry of {Source}.", nameof(tensor));
        if (destination.Length != tensor.Length)
            throw new ArgumentException($"Tensor '{tensor.Name}' has {tensor.Length} elements; the destination holds {destination.Length}.", nameof(destination));
        if (!CanReadAsFloat(tensor.DType))
            throw new InvalidDataException($"weights file '{Source}': tensor '{tensor.Name}' has dtype {tensor.DType}; only F32, F64, F16 and BF16 can be read as float.");
        ObjectDisposedException.ThrowIf(_handle is { IsClosed: true }, this);

        long position = _dataStart + tensor.Begin;
        if (tensor.DType == "F32" && BitConverter.IsLittleEndian)
        {
            ReadExactly(MemoryMarshal.AsBytes(destination), position, tensor);
            return;
        }
        int size = SafeTensors.ElementSize(tensor.DType);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int perChunk = buffer.Length / size;
            for (int start = 0; start < destination.Length; start += perChunk)
            {
                int n = Math.Min(perChunk, destination.Length - start);
                var data = buffer.AsSpan(0, n * size);
                ReadExactly(data, position + (long)start * size, tensor);
                var target = destination.Slice(start, n);
                switch (tensor.DType)
                {
                    case "F32":
                        for (int i = 0; i < n; i++) target[i] = BinaryPrimitives.ReadSingleLittleEndian(data.Slice(4 * i));
                        break;
                    case "F64":
                        for (int i = 0; i < n; i++) target[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(data.Slice(8 * i));
                        break;
                    case "F16":
                        for (int i = 0; i < n; i++) target[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(data.Slice(2 * i));
                        break;
                    default: // BF16
                        for (int i = 0; i < n; i++) target[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(2 * i)) << 16);
                        break;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void ReadExactly(Span<byte> destination, long position, SafeTensorInfo tensor)
    {
        if (_bytes is not null)
        {
            _bytes.AsSpan(checked((int)position), destination.Length).CopyTo(destination);
            return;
        }
        while (destination.Length > 0)
        {
            int n = RandomAccess.Read(_handle!, destination, position);
            if (n == 0)
                throw new InvalidDataException($"weights file '{Source}' ended at byte {position} while tensor '{tensor.Name}' was read; it shrank after it was checked.");
            destination = destination.Slice(n);
            position += n;
        }
    }

    /// <summary>Closes the file (nothing to do for one parsed from bytes).</summary>
    public void Dispose() => _handle?.Dispose();
}

/// <summary>
/// Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header
/// mapping each tensor name to its dtype, shape and data offsets, then the tensors' bytes.
/// </summary>
/// <remarks>
/// Reading is strict, as the format's specification asks: the header is at most 100,000,000 bytes of UTF-8 JSON that begins
/// with <c>{</c> and may be padded with spaces only; keys are unique; every entry has a string dtype, a shape of whole numbers
/// and two whole-number data offsets; and the tensors tile the data section exactly — no gap, no overlap, no byte left over.
/// Anything else is an <see cref="InvalidDataException"/> naming the file, the tensor and the numbers. Fields of an entry
/// other than dtype, shape and data_offsets are ignored, as the reference implementation ignores them.
/// </remarks>
public static class SafeTensors
{
    /// <summary>The format's limit on the header's length in bytes.</summary>
    public const long MaxHeaderLength = 100_000_000;

    private static readonly Dictionary<string, int> ElementSizes = new(StringComparer.Ordinal)
    {
        ["F64"] = 8, ["F32"] = 4, ["F16"] = 2, ["BF16"] = 2, ["I64"] = 8, ["I32"] = 4, ["I16"] = 2, ["I8"] = 1, ["U8"] = 1, ["BOOL"] = 1,
        ["U16"] = 2, ["U32"] = 4, ["U64"] = 8, ["F8_E4M3"] = 1, ["F8_E5M2"] = 1,
    };

    internal static int ElementSize(string dtype) => ElementSizes[dtype];

    /// <summary>
    /// Opens and validates a file: the header in full, and every offset, size and shape against the data section, before
    /// any tensor data is read; only the header is read into memory. Dispose the result to close the file.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or not a valid path.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="FileNotFoundException">Nothing exists at <paramref name="path"/>.</exception>
    /// <exception cref="IOException"><paramref name="path"/> is not a regular file (a directory, a device, a pipe), or reading failed.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    /// <exception cref="InvalidDataException">The file is not valid safetensors; the message says where and why.</exception>
    public static SafeTensorsFile Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string file = $"weights file '{path}'";
        var type = FileTypes.Of(path);
        switch (type)
        {
            case FileType.Missing:
                throw new FileNotFoundException($"Weights file '{path}' does not exist.", path);
            case FileType.Regular or FileType.Inaccessible:
                break;
            case FileType.Unknown:
                // Only where the type cannot be asked for: an empty file, or a device or pipe (which report size 0 and
                // might never end or block when opened).
                throw new InvalidDataException($"{file} is empty (0 bytes) or not a regular file; a safetensors file holds at least an 8-byte header length.");
            default:
                throw new IOException($"Weights file '{path}' is {FileTypes.Describe(type)}, not a regular file; nothing was read.");
        }

        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"Weights file '{path}' does not exist.", path, e);
        }
        try
        {
            long size = RandomAccess.GetLength(handle);
            var (dataStart, tensors, metadata) = ReadLayout(file, size, (span, offset) => ReadFully(handle, span, offset, file));
            return new SafeTensorsFile(path, null, handle, dataStart, tensors, metadata);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Parses and validates a file already in memory; <paramref name="source"/> names it in messages.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="bytes"/> or <paramref name="source"/> is null.</exception>
    /// <exception cref="InvalidDataException">The bytes are not valid safetensors; the message says where and why.</exception>
    public static SafeTensorsFile Read(byte[] bytes, string source)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(source);
        string file = $"weights file '{source}'";
        var (dataStart, tensors, metadata) = ReadLayout(file, bytes.Length, (span, offset) => bytes.AsSpan((int)offset, span.Length).CopyTo(span));
        return new SafeTensorsFile(source, bytes, null, dataStart, tensors, metadata);
    }

    private delegate void ReadAt(Span<byte> destination, long offset);

    private static void ReadFully(SafeFileHandle handle, Span<byte> destination, long offset, string file)
    {
        while (destination.Length > 0)
        {
            int n = RandomAccess.Read(handle, destination, offset);
            if (n == 0) throw new InvalidDataException($"{file} ended at byte {offset}, before its header did; it shrank while it was read.");
            destination = destination.Slice(n);
            offset += n;
        }
    }

    private static (long DataStart, List<SafeTensorInfo> Tensors, Dictionary<string, string> Metadata) ReadLayout(string file, long size, ReadAt read)
    {
        if (size < 8)
            throw new InvalidDataException($"{file} is {size} bytes long; a safetensors file holds at least an 8-byte header length.");
        Span<byte> prefix = stackalloc byte[8];
        read(prefix, 0);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > (ulong)(size - 8))
            throw new InvalidDataException($"{file}: the header is said to be {headerLength} bytes, but only {size - 8} bytes follow the length; the file is truncated or not safetensors.");
        if (headerLength > MaxHeaderLength)
            throw new InvalidDataException($"{file}: the header is said to be {headerLength} bytes, more than the format's limit of {MaxHeaderLength}.");
        var header = new byte[headerLength];
        read(header, 8);
        long dataStart = 8 + (long)headerLength;
        long dataLength = size - dataStart;

        var tensors = new List<SafeTensorInfo>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        ParseHeader(header, file, tensors, metadata);
        CheckTiling(tensors, dataLength, file);
        return (dataStart, tensors, metadata);
    }

    private static void ParseHeader(ReadOnlySpan<byte> header, string file, List<SafeTensorInfo> tensors, Dictionary<string, string> metadata)
    {
        if (header.Length == 0)
            throw new InvalidDataException($"{file}: the header length is 0; the header must be a JSON object.");
        if (header[0] != (byte)'{')
            throw new InvalidDataException($"{file}: the header does not begin with '{{' but with byte 0x{header[0]:X2}; it is not a JSON object, or the header length is wrong.");
        if (!Utf8.IsValid(header))
            throw new InvalidDataException($"{file}: the header is not valid UTF-8 (the first bad byte is byte {FirstInvalidUtf8(header)} of the header).");

        var reader = new Utf8JsonReader(header);
        try
        {
            reader.Read();
            var keys = new HashSet<string>(StringComparer.Ordinal);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string name = GetString(ref reader, file);
                if (!keys.Add(name))
                    throw new InvalidDataException($"{file}: the header holds the key '{name}' more than once.");
                reader.Read();
                if (name == "__metadata__") ReadMetadata(ref reader, metadata, file);
                else tensors.Add(ReadTensor(ref reader, name, file));
            }
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file}: the header is not valid JSON ({e.Message}).", e);
        }

        long end = reader.BytesConsumed;
        for (long i = end; i < header.Length; i++)
            if (header[(int)i] != (byte)' ')
                throw new InvalidDataException($"{file}: the header's JSON object ends at byte {end} of its {header.Length}, and byte {i} after it is 0x{header[(int)i]:X2}; only spaces may pad the header.");
    }

    private static long FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        int i = 0;
        while (i < bytes.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(bytes.Slice(i), out _, out int consumed) != OperationStatus.Done) return i;
            i += consumed;
        }
        return i;
    }

    private static string GetString(ref Utf8JsonReader reader, string file)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException e)
        {
            // An escape such as "\ud800" that is not a whole UTF-16 character.
            throw new InvalidDataException($"{file}: the header holds a string that is not valid text ({e.Message}), near byte {reader.TokenStartIndex} of the header.", e);
        }
    }

    private static string Describe(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.Number => Encoding.UTF8.GetString(reader.ValueSpan),
        JsonTokenType.String => "a string",
        JsonTokenType.True => "true",
        JsonTokenType.False => "false",
        JsonTokenType.Null => "null",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        _ => reader.TokenType.ToString(),
    };

    private static void ReadMetadata(ref Utf8JsonReader reader, Dictionary<string, string> metadata, string file)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new InvalidDataException($"{file}: __metadata__ is {Describe(ref reader)}, not an object of strings.");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string key = GetString(ref reader, file);
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
                throw new InvalidDataException($"{file}: __metadata__ value '{key}' is {Describe(ref reader)}, not a string.");
            if (!metadata.TryAdd(key, GetString(ref reader, file)))
                throw new InvalidDataException($"{file}: __metadata__ holds the key '{key}' more than once.");
        }
    }

    private static SafeTensorInfo ReadTensor(ref Utf8JsonReader reader, string name, string file)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new InvalidDataException($"{file}: the entry of tensor '{name}' is {Describe(ref reader)}, not an object.");
        string? dtype = null;
        List<long>? shape = null;
        List<long>? offsets = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string field = GetString(ref reader, file);
            reader.Read();
            bool duplicate = false;
            switch (field)
            {
                case "dtype":
                    duplicate = dtype is not null;
                    if (reader.TokenType != JsonTokenType.String)
                        throw new InvalidDataException($"{file}: the dtype of tensor '{name}' is {Describe(ref reader)}, not a string.");
                    dtype = GetString(ref reader, file);
                    break;
                case "shape":
                    duplicate = shape is not null;
                    shape = ReadWholeNumbers(ref reader, name, "shape", int.MaxValue, file);
                    break;
                case "data_offsets":
                    duplicate = offsets is not null;
                    offsets = ReadWholeNumbers(ref reader, name, "data_offsets", long.MaxValue, file);
                    break;
                default:
                    reader.Skip();
                    break;
            }
            if (duplicate)
                throw new InvalidDataException($"{file}: the entry of tensor '{name}' holds {field} more than once.");
        }
        if (dtype is null) throw new InvalidDataException($"{file}: tensor '{name}' has no dtype.");
        if (!ElementSizes.TryGetValue(dtype, out int elementSize)) throw new InvalidDataException($"{file}: tensor '{name}' has the unknown dtype '{dtype}'.");
        if (shape is null) throw new InvalidDataException($"{file}: tensor '{name}' has no shape.");
        if (offsets is null) throw new InvalidDataException($"{file}: tensor '{name}' has no data_offsets.");
        if (offsets.Count != 2)
            throw new InvalidDataException($"{file}: tensor '{name}' has {offsets.Count} data_offsets; it needs two, [begin, end].");
        if (offsets[1] < offsets[0])
            throw new InvalidDataException($"{file}: tensor '{name}' has data_offsets [{offsets[0]}, {offsets[1]}], which end before they begin.");
        var dims = shape.ConvertAll(d => (int)d).ToArray();
        long bytes;
        try
        {
            long count = 1;
            foreach (int d in dims) count = checked(count * d);
            bytes = checked(count * elementSize);
        }
        catch (OverflowException)
        {
            throw new InvalidDataException($"{file}: tensor '{name}' has shape {ParameterTensor.FormatShape(dims)}, whose size in bytes overflows a 64-bit count.");
        }
        if (offsets[1] - offsets[0] != bytes)
            throw new InvalidDataException($"{file}: tensor '{name}' of dtype {dtype} and shape {ParameterTensor.FormatShape(dims)} needs {bytes} bytes, but its data_offsets [{offsets[0]}, {offsets[1]}] span {offsets[1] - offsets[0]}.");
        return new SafeTensorInfo(name, dtype, dims, offsets[0], offsets[1]);
    }

    private static List<long> ReadWholeNumbers(ref Utf8JsonReader reader, string name, string field, long max, string file)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new InvalidDataException($"{file}: the {field} of tensor '{name}' is {Describe(ref reader)}, not an array.");
        var values = new List<long>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long v) || v < 0 || v > max)
            {
                string what = Describe(ref reader);
                throw new InvalidDataException($"{file}: the {field} of tensor '{name}' holds {what}, which is not a whole number from 0 to {max}.");
            }
            values.Add(v);
        }
        return values;
    }

    /// <summary>The tensors must tile the data section exactly, in any order: no gap, no overlap, nothing past or after them.</summary>
    private static void CheckTiling(List<SafeTensorInfo> tensors, long dataLength, string file)
    {
        tensors.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long covered = 0;
        SafeTensorInfo? previous = null;
        foreach (var t in tensors)
        {
            if (t.Begin < covered)
                throw new InvalidDataException($"{file}: tensors '{previous!.Name}' [{previous.Begin}, {previous.End}) and '{t.Name}' [{t.Begin}, {t.End}) overlap.");
            if (t.Begin > covered)
                throw new InvalidDataException($"{file}: bytes [{covered}, {t.Begin}) of the data belong to no tensor (a gap before tensor '{t.Name}'); the tensors must cover the data exactly.");
            covered = t.End;
            previous = t;
        }
        if (covered > dataLength)
            throw new InvalidDataException($"{file}: tensor '{previous!.Name}' lies at bytes [{previous.Begin}, {previous.End}) of the data, but the data holds only {dataLength} bytes; the file is truncated.");
        if (covered < dataLength)
            throw new InvalidDataException($"{file}: the data holds {dataLength} bytes, but the tensors cover only the first {covered}; bytes [{covered}, {dataLength}) belong to no tensor (or the header length is wrong).");
    }

    /// <summary>
    /// Writes F32 tensors (and optional metadata) to <paramref name="path"/>: to a temporary file in the same directory first,
    /// flushed to disk, then renamed over it, so that a failed or killed save never destroys an earlier file.
    /// </summary>
    /// <remarks>
    /// The file is replaced through <see cref="SafeFile.Replace"/>: a symbolic link is followed and stays a link, an existing
    /// file keeps its Unix permissions, anything that is not a regular file (a directory, /dev/null, a pipe) is refused, and
    /// the temporary file has a short name (so any name the directory can hold works) and is removed when the save fails.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> or <paramref name="tensors"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or not a valid path; a tensor's shape does not match
    /// its data, is negative, or it has no or a repeated or reserved name; metadata holds a null value; or the header would
    /// exceed <see cref="MaxHeaderLength"/>.</exception>
    /// <exception cref="IOException">The path names something other than a regular file, or writing or renaming failed (for example
    /// <see cref="DirectoryNotFoundException"/>, <see cref="PathTooLongException"/>, a full disk); the message names
    /// <paramref name="path"/>, and any earlier file there is unchanged.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory does not allow creating the temporary file or renaming it over the target.</exception>
    public static void Write(string path, IReadOnlyList<(string Name, int[] Shape, ReadOnlyMemory<float> Data)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var header = BuildHeader(tensors, metadata);
        SafeFile.Replace(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
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
        }, "weights");
    }

    private static byte[] BuildHeader(IReadOnlyList<(string Name, int[] Shape, ReadOnlyMemory<float> Data)> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        long offset = 0;
        var names = new HashSet<string>(StringComparer.Ordinal);
        var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata)
                {
                    if (k is null || v is null) throw new ArgumentException($"Metadata '{k}' has a null key or value.", nameof(metadata));
                    json.WriteString(k, v);
                }
                json.WriteEndObject();
            }
            foreach (var (name, shape, data) in tensors)
            {
                if (name is null) throw new ArgumentException("A tensor has no name.", nameof(tensors));
                if (name == "__metadata__") throw new ArgumentException("A tensor may not be named '__metadata__'; the format reserves it.", nameof(tensors));
                if (!names.Add(name)) throw new ArgumentException($"Two tensors are named '{name}'.", nameof(tensors));
                if (shape is null) throw new ArgumentException($"Tensor '{name}' has no shape.", nameof(tensors));
                long length = 1;
                foreach (int d in shape)
                {
                    if (d < 0) throw new ArgumentException($"Tensor '{name}' has the negative dimension {d} in shape {ParameterTensor.FormatShape(shape)}.", nameof(tensors));
                    length = checked(length * d);
                }
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
        // Pad the header with spaces to a multiple of 8 so that the data is aligned, as the reference implementation does.
        while (header.Length % 8 != 0) header.WriteByte((byte)' ');
        if (header.Length > MaxHeaderLength)
            throw new ArgumentException($"The header would be {header.Length} bytes, more than the format's limit of {MaxHeaderLength}.", nameof(tensors));
        return header.ToArray();
    }
}
