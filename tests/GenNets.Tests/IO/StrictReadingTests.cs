using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using GenNets.IO;
using Xunit;

namespace GenNets.Tests.IO;

/// <summary>
/// Hand-made files that break one rule of the safetensors format each: Load must reject every one with an
/// <see cref="InvalidDataException"/> naming the file and the problem, and leave the weights bit for bit as they were.
/// </summary>
public sealed class StrictReadingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gennets-strict-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly byte[] GoodData = TinyWeights.Data(TinyWeights.Parameters(seed: 7));

    private static string Entry(string name, string dtype, string shape, string offsets) =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":{offsets}}}";

    private const string W0 = "\"0.weight\":{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[0,24]}";
    private const string B0 = "\"0.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[24,36]}";
    private const string W1 = "\"1.weight\":{\"dtype\":\"F32\",\"shape\":[1,3],\"data_offsets\":[36,48]}";
    private const string B1 = "\"1.bias\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[48,52]}";

    private static byte[] Padded(string header)
    {
        while (header.Length % 8 != 0) header += " ";
        return Encoding.UTF8.GetBytes(header);
    }

    private static byte[] With(string header, int dataLength = TinyWeights.DataLength)
    {
        var data = new byte[dataLength];
        GoodData.AsSpan(0, Math.Min(dataLength, GoodData.Length)).CopyTo(data);
        return TinyWeights.File(Padded(header), data);
    }

    private static byte[] WithDeclaredLength(int change)
    {
        byte[] header = Padded("{" + TinyWeights.Entries + "}");
        return TinyWeights.File(header, GoodData, (ulong)(header.Length + change));
    }

    private static byte[] Raw(byte[] header) => TinyWeights.File(header, GoodData);

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>Each case: the file's bytes and a part of the message it must produce (null: any message naming the file).</summary>
    private static readonly Dictionary<string, (byte[] Bytes, string? Expected)> Cases = new()
    {
        ["duplicate tensor key"] = (With($"{{{W0},{B0},{W1},{B1},{B1}}}"), "holds the key '1.bias' more than once"),
        ["duplicate tensor key, other data"] = (With($"{{{W0},{B0},{W1},{Entry("1.bias", "F32", "[1]", "[52,56]")},{B1}}}", 56), "holds the key '1.bias' more than once"),
        ["duplicate __metadata__"] = (With($"{{\"__metadata__\":{{\"a\":\"1\"}},\"__metadata__\":{{\"a\":\"2\"}},{TinyWeights.Entries}}}"), "holds the key '__metadata__' more than once"),
        ["duplicate metadata key"] = (With($"{{\"__metadata__\":{{\"a\":\"1\",\"a\":\"2\"}},{TinyWeights.Entries}}}"), "__metadata__ holds the key 'a' more than once"),
        ["duplicate dtype field"] = (With($"{{\"0.weight\":{{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[3,2],\"data_offsets\":[0,24]}},{B0},{W1},{B1}}}"), "holds dtype more than once"),
        ["duplicate shape field"] = (With($"{{\"0.weight\":{{\"dtype\":\"F32\",\"shape\":[6],\"shape\":[3,2],\"data_offsets\":[0,24]}},{B0},{W1},{B1}}}"), "holds shape more than once"),
        ["gap between tensors"] = (With($"{{{W0},{B0},{W1},{Entry("1.bias", "F32", "[1]", "[52,56]")}}}", 56), "bytes [48, 52) of the data belong to no tensor"),
        ["gap at the start"] = (With($"{{{Entry("0.weight", "F32", "[3,2]", "[4,28]")},{Entry("0.bias", "F32", "[3]", "[28,40]")},{Entry("1.weight", "F32", "[1,3]", "[40,52]")},{Entry("1.bias", "F32", "[1]", "[52,56]")}}}", 56), "bytes [0, 4) of the data belong to no tensor"),
        ["overlap"] = (With($"{{{W0},{B0},{Entry("1.weight", "F32", "[1,3]", "[32,44]")},{Entry("1.bias", "F32", "[1]", "[44,48]")}}}", 48), "tensors '0.bias' [24, 36) and '1.weight' [32, 44) overlap"),
        ["two tensors on the same bytes"] = (With($"{{{W0},{B0},{W1},{Entry("1.bias", "F32", "[1]", "[44,48]")}}}", 48), "overlap"),
        ["trailing data bytes"] = (With("{" + TinyWeights.Entries + "}", 56), "bytes [52, 56) belong to no tensor"),
        ["data truncated"] = (With("{" + TinyWeights.Entries + "}", 50), "only 50 bytes; the file is truncated"),
        ["text after the JSON"] = (Raw(Utf8("{" + TinyWeights.Entries + "}x")), "is 0x78; only spaces may pad the header"),
        ["newline after the JSON"] = (Raw(Utf8("{" + TinyWeights.Entries + "}\n")), "is 0x0A; only spaces may pad the header"),
        ["second JSON object after the first"] = (Raw(Utf8("{" + TinyWeights.Entries + "} {}")), "is 0x7B; only spaces may pad the header"),
        ["NUL padding"] = (Raw(Utf8("{" + TinyWeights.Entries + "}\0\0\0")), "is 0x00; only spaces may pad the header"),
        ["leading space"] = (Raw(Utf8(" {" + TinyWeights.Entries + "}")), "does not begin with '{' but with byte 0x20"),
        ["header is an array"] = (Raw(Utf8("[1,2,3]")), "does not begin with '{'"),
        ["empty header"] = (TinyWeights.File([], GoodData), "the header length is 0"),
        ["header length minus 1"] = (WithDeclaredLength(-1), null),
        ["header length minus 2"] = (WithDeclaredLength(-2), null),
        ["header length minus 3"] = (WithDeclaredLength(-3), null),
        ["header length minus 4"] = (WithDeclaredLength(-4), null),
        ["header length minus 8"] = (WithDeclaredLength(-8), null),
        ["header length plus 1"] = (WithDeclaredLength(1), null),
        ["header length plus 4"] = (WithDeclaredLength(4), null),
        ["object dtype"] = (With($"{{\"0.weight\":{{\"dtype\":{{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[0,24]}}}},{B0},{W1},{B1}}}"), "the dtype of tensor '0.weight' is an object, not a string"),
        ["number dtype"] = (With($"{{{Entry("0.weight", "F32", "[3,2]", "[0,24]").Replace("\"F32\"", "32")},{B0},{W1},{B1}}}"), "the dtype of tensor '0.weight' is 32, not a string"),
        ["null dtype"] = (With($"{{{Entry("0.weight", "F32", "[3,2]", "[0,24]").Replace("\"F32\"", "null")},{B0},{W1},{B1}}}"), "is null, not a string"),
        ["unknown dtype"] = (With($"{{{Entry("0.weight", "Q7", "[3,2]", "[0,24]")},{B0},{W1},{B1}}}"), "unknown dtype 'Q7'"),
        ["missing dtype"] = (With($"{{\"0.weight\":{{\"shape\":[3,2],\"data_offsets\":[0,24]}},{B0},{W1},{B1}}}"), "tensor '0.weight' has no dtype"),
        ["missing shape"] = (With($"{{\"0.weight\":{{\"dtype\":\"F32\",\"data_offsets\":[0,24]}},{B0},{W1},{B1}}}"), "tensor '0.weight' has no shape"),
        ["missing offsets"] = (With($"{{\"0.weight\":{{\"dtype\":\"F32\",\"shape\":[3,2]}},{B0},{W1},{B1}}}"), "tensor '0.weight' has no data_offsets"),
        ["entry is an array"] = (With($"{{\"0.weight\":[0,24],{B0},{W1},{B1}}}"), "the entry of tensor '0.weight' is an array, not an object"),
        ["negative offset"] = (With($"{{{Entry("0.weight", "F32", "[3,2]", "[-4,20]")},{B0},{W1},{B1}}}"), "the data_offsets of tensor '0.weight' holds -4, which is not a whole number"),
        ["offset beyond long"] = (With($"{{{Entry("0.weight", "F32", "[3,2]", "[0,18446744073709551615]")},{B0},{W1},{B1}}}"), "holds 18446744073709551615, which is not a whole number"),
        ["huge offsets past the data"] = (With($"{{{W0},{B0},{W1},{Entry("1.bias", "F32", "[1]", "[9223372036854775800,9223372036854775804]")}}}"), "bytes [48, 9223372036854775800) of the data belong to no tensor"),
        ["fractional offset"] = (With($"{{{Entry("0.weight", "F32", "[3,2]", "[0,24.0]")},{B0},{W1},{B1}}}"), "holds 24.0, which is not a whole number"),
        ["exponent offset"] = (With($"{{{Entry("0.weight", "F32", "[3,2]", "[0,2.4e1]")},{B0},{W1},{B1}}}"), "holds 2.4e1, which is not a whole number"),
        ["string offset"] = (With($"{{{Entry("0.weight", "F32", "[3,2]", "[0,\"24\"]")},{B0},{W1},{B1}}}"), "holds a string, which is not a whole number"),
        ["three offsets"] = (With($"{{{Entry("0.weight", "F32", "[3,2]", "[0,24,24]")},{B0},{W1},{B1}}}"), "has 3 data_offsets"),
        ["offsets end before they begin"] = (With($"{{{Entry("0.weight", "F32", "[3,2]", "[24,0]")},{B0},{W1},{B1}}}"), "data_offsets [24, 0], which end before they begin"),
        ["offsets not an array"] = (With($"{{{Entry("0.weight", "F32", "[3,2]", "{\"b\":0}")},{B0},{W1},{B1}}}"), "the data_offsets of tensor '0.weight' is an object, not an array"),
        ["negative dimension"] = (With($"{{{Entry("0.weight", "F32", "[-3,-2]", "[0,24]")},{B0},{W1},{B1}}}"), "the shape of tensor '0.weight' holds -3"),
        ["dimension beyond int"] = (With($"{{{Entry("0.weight", "F32", "[2147483648]", "[0,24]")},{B0},{W1},{B1}}}"), "holds 2147483648, which is not a whole number from 0 to 2147483647"),
        ["fractional dimension"] = (With($"{{{Entry("0.weight", "F32", "[3,2.0]", "[0,24]")},{B0},{W1},{B1}}}"), "holds 2.0"),
        ["element count overflows"] = (With($"{{{TinyWeights.Entries},{Entry("x", "F32", "[2147483647,2147483647,2147483647]", "[52,52]")}}}"), "tensor 'x' has shape [2147483647, 2147483647, 2147483647], whose size in bytes overflows a 64-bit count"),
        ["byte count overflows"] = (With($"{{{TinyWeights.Entries},{Entry("x", "F64", "[2147483647,2147483647,2]", "[52,52]")}}}"), "whose size in bytes overflows"),
        ["size does not match offsets"] = (With($"{{{Entry("0.weight", "F32", "[3,2]", "[0,20]")},{Entry("0.bias", "F32", "[3]", "[20,36]")},{W1},{B1}}}"), "needs 24 bytes, but its data_offsets [0, 20] span 20"),
        ["invalid UTF-8 in a name"] = (Raw([.. Utf8("{\"0.weight\xFF"), 0xFF, .. Utf8("\":{}}")]), "not valid UTF-8 (the first bad byte is byte"),
        ["overlong UTF-8 in a name"] = (Raw([.. Utf8("{\"a"), 0xC0, 0xAF, .. Utf8("\":{}}")]), "the first bad byte is byte 3 of the header"),
        ["invalid UTF-8 in metadata"] = (Raw([.. Utf8("{\"__metadata__\":{\"k\":\""), 0xC3, .. Utf8("\"}}")]), "not valid UTF-8"),
        ["lone surrogate escape in a name"] = (With($"{{{W0},{B0},{W1},\"1.bias\\ud800\":{{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[48,52]}}}}"), "holds a string that is not valid text"),
        ["metadata value is a number"] = (With($"{{\"__metadata__\":{{\"epochs\":3}},{TinyWeights.Entries}}}"), "__metadata__ value 'epochs' is 3, not a string"),
        ["metadata value is an object"] = (With($"{{\"__metadata__\":{{\"epochs\":{{}}}},{TinyWeights.Entries}}}"), "__metadata__ value 'epochs' is an object, not a string"),
        ["metadata is a string"] = (With($"{{\"__metadata__\":\"x\",{TinyWeights.Entries}}}"), "__metadata__ is a string, not an object of strings"),
        ["comment in the JSON"] = (With($"{{/* c */{TinyWeights.Entries}}}"), "not valid JSON"),
        ["trailing comma"] = (With($"{{{TinyWeights.Entries},}}"), "not valid JSON"),
        ["unclosed object"] = (With($"{{{TinyWeights.Entries}"), "not valid JSON"),
        ["deep nesting in an ignored field"] = (With($"{{\"0.weight\":{{\"x\":{new string('[', 100)}{new string(']', 100)},\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[0,24]}},{B0},{W1},{B1}}}"), "not valid JSON"),
        ["dtype that does not convert to float"] = (With($"{{{Entry("0.weight", "I32", "[3,2]", "[0,24]")},{B0},{W1},{B1}}}"), "tensor '0.weight' of layer 0 (Dense 2→3) has dtype I32"),
        ["extra empty tensor"] = (With($"{{{TinyWeights.Entries},{Entry("2.weight", "F32", "[0,3]", "[52,52]")}}}"), "tensor '2.weight' [0, 3] is not part of this network"),
        ["shorter than the length"] = ([1, 2, 3], "is 3 bytes long"),
        ["empty file"] = ([], "is 0 bytes long"),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void CraftedFile_IsRejected_NamingFileAndProblem_WeightsUnchanged(string name)
    {
        var (bytes, expected) = Cases[name];
        string path = Path.Combine(_dir, "crafted.safetensors");
        File.WriteAllBytes(path, bytes);
        float[] parameters = TinyWeights.Parameters(seed: 1);
        float[] before = (float[])parameters.Clone();

        var ex = Assert.Throws<InvalidDataException>(() => Weights.Load(path, parameters, TinyWeights.Layout));

        Assert.Contains(path, ex.Message);
        if (expected is not null) Assert.Contains(expected, ex.Message);
        Assert.True(TinyWeights.BitEqual(before, parameters), "the weights changed");
    }

    /// <summary>Valid files of other shapes than the writer's own: each must load exactly.</summary>
    private static readonly Dictionary<string, byte[]> ValidCases = new()
    {
        ["padded with spaces to 8 bytes"] = With("{" + TinyWeights.Entries + "}"),
        ["not padded"] = Raw(Utf8("{" + TinyWeights.Entries + "}")),
        ["padded with many spaces"] = Raw(Utf8("{" + TinyWeights.Entries + "}" + new string(' ', 61))),
        ["whitespace between tokens"] = Raw(Utf8("{\n  " + TinyWeights.Entries.Replace(",\"", ",\n  \"").Replace(":", " : ") + "\n}")),
        ["keys in another order"] = With($"{{{B1},{W1},\"__metadata__\":{{\"format\":\"pt\"}},{B0},{W0}}}"),
        ["ignored extra field"] = With($"{{\"0.weight\":{{\"dtype\":\"F32\",\"note\":{{\"a\":[1,2,{{}}]}},\"shape\":[3,2],\"data_offsets\":[0,24]}},{B0},{W1},{B1}}}"),
        ["escaped name"] = With($"{{\"0.w\\u0065ight\":{{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[0,24]}},{B0},{W1},{B1}}}"),
        ["empty metadata"] = With($"{{\"__metadata__\":{{}},{TinyWeights.Entries}}}"),
    };

    public static TheoryData<string> ValidCaseNames => new(ValidCases.Keys);

    [Theory]
    [MemberData(nameof(ValidCaseNames))]
    public void ValidFile_Loads(string name)
    {
        string path = Path.Combine(_dir, "valid.safetensors");
        File.WriteAllBytes(path, ValidCases[name]);
        float[] parameters = new float[TinyWeights.Count];
        Weights.Load(path, parameters, TinyWeights.Layout);
        Assert.True(TinyWeights.BitEqual(TinyWeights.Parameters(seed: 7), parameters));
    }

    [Fact]
    public void DataInAnotherOrderThanTheHeader_Loads()
    {
        // Data laid out 1.bias, 1.weight, 0.bias, 0.weight; header in layout order.
        float[] values = TinyWeights.Parameters(seed: 3);
        byte[] data = [.. TinyWeights.Data(values[12..13]), .. TinyWeights.Data(values[9..12]), .. TinyWeights.Data(values[6..9]), .. TinyWeights.Data(values[0..6])];
        string header = "{" + Entry("0.weight", "F32", "[3,2]", "[28,52]") + "," + Entry("0.bias", "F32", "[3]", "[16,28]") + "," +
                        Entry("1.weight", "F32", "[1,3]", "[4,16]") + "," + Entry("1.bias", "F32", "[1]", "[0,4]") + "}";
        string path = Path.Combine(_dir, "order.safetensors");
        File.WriteAllBytes(path, TinyWeights.File(header, data));
        float[] parameters = new float[TinyWeights.Count];
        Weights.Load(path, parameters, TinyWeights.Layout);
        Assert.True(TinyWeights.BitEqual(values, parameters));
        using var file = SafeTensors.Read(path);
        Assert.Equal(["1.bias", "1.weight", "0.bias", "0.weight"], file.Tensors.Select(t => t.Name));
    }

    [Fact]
    public void EmptyTensorsAndScalars_AreValid()
    {
        string header = "{" + Entry("e", "F32", "[0,5]", "[0,0]") + "," + Entry("s", "F64", "[]", "[0,8]") + "," + Entry("f", "F32", "[0]", "[8,8]") + "}";
        using var file = SafeTensors.Read(TinyWeights.File(header, BitConverter.GetBytes(2.5)), "scalars");
        Assert.True(file.TryGet("s", out var s));
        float[] value = new float[1];
        file.ReadAsFloat(s, value);
        Assert.Equal(2.5f, value[0]);
        Assert.True(file.TryGet("e", out var e));
        Assert.Equal(0, e.Length);
    }

    [Fact]
    public void HeaderLongerThanTheFormatAllows_IsRejectedWithoutReadingIt()
    {
        // A sparse file 100 MB long whose header length is one byte over the limit.
        string path = Path.Combine(_dir, "big.safetensors");
        using (var stream = new FileStream(path, FileMode.CreateNew))
        {
            stream.Write(BitConverter.GetBytes(SafeTensors.MaxHeaderLength + 1));
            stream.SetLength(SafeTensors.MaxHeaderLength + 100);
        }
        float[] parameters = TinyWeights.Parameters(seed: 1);
        var ex = Assert.Throws<InvalidDataException>(() => Weights.Load(path, parameters, TinyWeights.Layout));
        Assert.Contains("100000001 bytes, more than the format's limit of 100000000", ex.Message);
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void NonRegularFiles_AreRefusedWithoutReadingThem()
    {
        float[] parameters = TinyWeights.Parameters(seed: 1);
        float[] before = (float[])parameters.Clone();
        if (File.Exists("/dev/zero"))
        {
            var zero = Assert.Throws<IOException>(() => Weights.Load("/dev/zero", parameters, TinyWeights.Layout));
            Assert.Contains("'/dev/zero' is a character device, not a regular file", zero.Message);
        }
        var directory = Assert.Throws<IOException>(() => Weights.Load(_dir, parameters, TinyWeights.Layout));
        Assert.Contains($"'{_dir}' is a directory, not a regular file", directory.Message);
        if (OperatingSystem.IsLinux())
        {
            string fifo = Path.Combine(_dir, "pipe.safetensors");
            Assert.Equal(0, Native.mkfifo(fifo, Convert.ToUInt32("600", 8)));
            var pipe = Assert.Throws<IOException>(() => Weights.Load(fifo, parameters, TinyWeights.Layout));
            Assert.Contains("is a named pipe, not a regular file", pipe.Message);
        }
        Assert.True(TinyWeights.BitEqual(before, parameters));
    }
}

internal static class Native
{
    [System.Runtime.InteropServices.DllImport("libc")]
    internal static extern int mkfifo(string path, uint mode);
}
