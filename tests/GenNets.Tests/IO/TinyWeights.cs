using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using GenNets.IO;

namespace GenNets.Tests.IO;

/// <summary>A four-tensor parameter layout (13 floats) and helpers to write safetensors files for it byte by byte.</summary>
internal static class TinyWeights
{
    public static readonly ParameterTensor[] Layout =
    [
        new("0.weight", "layer 0 (Dense 2→3)", 0, [3, 2], true),
        new("0.bias", "layer 0 (Dense 2→3)", 6, [3], false),
        new("1.weight", "layer 1 (Dense 3→1)", 9, [1, 3], true),
        new("1.bias", "layer 1 (Dense 3→1)", 12, [1], false),
    ];

    public const int Count = 13;

    /// <summary>The valid header's entries, data in layout order: 52 bytes of data.</summary>
    public const string Entries =
        "\"0.weight\":{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[0,24]}," +
        "\"0.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[24,36]}," +
        "\"1.weight\":{\"dtype\":\"F32\",\"shape\":[1,3],\"data_offsets\":[36,48]}," +
        "\"1.bias\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[48,52]}";

    public const int DataLength = 52;

    /// <summary>Seeded parameters, with a NaN and a negative zero so that comparisons must be bitwise.</summary>
    public static float[] Parameters(int seed)
    {
        var random = new Random(seed);
        var p = new float[Count];
        for (int i = 0; i < p.Length; i++) p[i] = (float)(random.NextDouble() * 4 - 2);
        p[3] = float.NaN;
        p[7] = -0f;
        return p;
    }

    /// <summary>The data section holding <paramref name="values"/> as F32 in layout order.</summary>
    public static byte[] Data(float[] values)
    {
        var bytes = new byte[4 * values.Length];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        return bytes;
    }

    /// <summary>A file: the 8-byte length of <paramref name="header"/> (or <paramref name="declaredLength"/>), the header, the data.</summary>
    public static byte[] File(byte[] header, byte[] data, ulong? declaredLength = null)
    {
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    public static byte[] File(string header, byte[] data) => File(Encoding.UTF8.GetBytes(header), data);

    public static bool BitEqual(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
        => MemoryMarshal.AsBytes(a).SequenceEqual(MemoryMarshal.AsBytes(b));
}
