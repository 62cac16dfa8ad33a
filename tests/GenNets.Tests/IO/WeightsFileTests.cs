using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using System.Text;
using GenNets.IO;
using GenNets.Tests.Networks;
using Xunit;

namespace GenNets.Tests.IO;

public sealed class WeightsFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gennets-weights-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    [Fact]
    public void SaveThenLoad_RoundTripsBitForBit()
    {
        var a = new FashionMlp(seed: 1);
        a.Save(PathOf("m.safetensors"), new System.Collections.Generic.Dictionary<string, string> { ["epochs"] = "3" });
        var b = new FashionMlp(seed: 2);
        b.Load(PathOf("m.safetensors"));
        Assert.True(a.Parameters.SequenceEqual(b.Parameters));
        using (var file = SafeTensors.Read(PathOf("m.safetensors"))) Assert.Equal("3", file.Metadata["epochs"]);
        Assert.Equal(["m.safetensors"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void FileWrittenAsPyTorchWritesIt_LoadsWithConversions()
    {
        // A file laid out byte by byte as the safetensors library writes it: header keys sorted, padded with spaces to
        // a multiple of 8, tensors little-endian. Layer 0 of XorNet in F16 and BF16, layer 1 in F64 and F32.
        var net = new XorNet();
        float[] w0 = [0.5f, -1.25f, 2f, 0.125f, -0.75f, 1.5f, 3f, -2f, 0.25f, 0.5f, -0.5f, 1f, 1.75f, -3f, 0.375f, 2.5f];
        float[] b0 = [1, -1, 0.5f, -0.5f, 2, -2, 0.25f, -0.25f];
        float[] w1 = [0.1f, -0.2f, 0.3f, -0.4f, 0.5f, -0.6f, 0.7f, -0.8f];
        float[] b1 = [0.05f];
        var data = new MemoryStream();
        var entries = new System.Collections.Generic.List<string>();
        void Add(string name, string dtype, int[] shape, float[] values)
        {
            long begin = data.Length;
            var buffer = new byte[8];
            foreach (float v in values)
            {
                int size = dtype switch { "F16" => 2, "BF16" => 2, "F64" => 8, _ => 4 };
                switch (dtype)
                {
                    case "F16": BinaryPrimitives.WriteHalfLittleEndian(buffer, (Half)v); break;
                    case "BF16": BinaryPrimitives.WriteUInt16LittleEndian(buffer, (ushort)(BitConverter.SingleToInt32Bits(v) >> 16)); break;
                    case "F64": BinaryPrimitives.WriteDoubleLittleEndian(buffer, v); break;
                    default: BinaryPrimitives.WriteSingleLittleEndian(buffer, v); break;
                }
                data.Write(buffer, 0, size);
            }
            entries.Add($"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{begin},{data.Length}]}}");
        }
        Add("0.bias", "BF16", [8], b0);
        Add("0.weight", "F16", [8, 2], w0);
        Add("1.bias", "F64", [1], b1);
        Add("1.weight", "F32", [1, 8], w1);
        string header = "{\"__metadata__\":{\"format\":\"pt\"}," + string.Join(",", entries) + "}";
        while (header.Length % 8 != 0) header += " ";
        using (var file = File.Create(PathOf("torch.safetensors")))
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            file.Write(length);
            file.Write(Encoding.UTF8.GetBytes(header));
            data.Position = 0;
            data.CopyTo(file);
        }

        net.Load(PathOf("torch.safetensors"));
        Assert.Equal(w0, net.Parameters.Slice(XorNet.Layer0WeightOffset, 16).ToArray());      // exact in F16
        Assert.Equal(b0, net.Parameters.Slice(XorNet.Layer0BiasOffset, 8).ToArray());        // exact in BF16
        Assert.Equal(w1, net.Parameters.Slice(XorNet.Layer1WeightOffset, 8).ToArray());
        Assert.Equal(b1, net.Parameters.Slice(XorNet.Layer1BiasOffset, 1).ToArray());
    }

    [Fact]
    public void OtherArchitecture_FailsNamingTensorsAndShapes_AndKeepsWeights()
    {
        new Regressor(seed: 1).Save(PathOf("other.safetensors"));
        var net = new FashionMlp(seed: 3);
        float[] before = net.Parameters.ToArray();
        var ex = Assert.Throws<InvalidDataException>(() => net.Load(PathOf("other.safetensors")));
        Assert.Contains("'0.weight'", ex.Message);
        Assert.Contains("[17, 13], expected [256, 784]", ex.Message);
        Assert.Contains("'3.weight' of layer 3 (Dense 128→10) is missing", ex.Message);
        Assert.True(before.AsSpan().SequenceEqual(net.Parameters));
    }

    [Fact]
    public void ExtraTensor_IsRejected()
    {
        var net = new XorNet(seed: 1);
        var tensors = net.ParameterTensors.Select(t => (t.Name, t.Shape, (ReadOnlyMemory<float>)net.Parameters.Slice(t.Offset, t.Length).ToArray())).ToList();
        tensors.Add(("2.weight", new[] { 3 }, new float[3]));
        SafeTensors.Write(PathOf("extra.safetensors"), tensors);
        var ex = Assert.Throws<InvalidDataException>(() => net.Load(PathOf("extra.safetensors")));
        Assert.Contains("'2.weight' [3] is not part of this network", ex.Message);
    }

    [Theory]
    [InlineData(4)]      // shorter than the length prefix
    [InlineData(20)]     // inside the header
    [InlineData(-10)]    // inside the data
    public void TruncatedFile_FailsClearly_AndKeepsWeights(int keep)
    {
        var source = new XorNet(seed: 1);
        source.Save(PathOf("full.safetensors"));
        byte[] bytes = File.ReadAllBytes(PathOf("full.safetensors"));
        int length = keep >= 0 ? keep : bytes.Length + keep;
        File.WriteAllBytes(PathOf("cut.safetensors"), bytes.AsSpan(0, length).ToArray());
        var net = new XorNet(seed: 2);
        float[] before = net.Parameters.ToArray();
        var ex = Assert.Throws<InvalidDataException>(() => net.Load(PathOf("cut.safetensors")));
        Assert.Contains("cut.safetensors", ex.Message);
        Assert.True(before.AsSpan().SequenceEqual(net.Parameters));
        if (keep < 0) Assert.Contains("truncated", ex.Message);
    }

    [Theory]
    [InlineData("not json at all!", "does not begin with '{' but with byte 0x6E")]
    [InlineData("{not json at all", "not valid JSON")]
    [InlineData("[1, 2, 3]       ", "not a JSON object")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", "needs 8 bytes")]
    [InlineData("{\"a\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,4]}}", "unknown dtype 'Q7'")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "the shape of tensor 'a' holds -1, which is not a whole number")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", "data_offsets")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}", "overlap")]
    public void CorruptHeader_FailsNamingTheProblem(string header, string expected)
    {
        while (header.Length % 8 != 0) header += " ";
        var bytes = new byte[8 + header.Length + 8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        Encoding.UTF8.GetBytes(header).CopyTo(bytes, 8);
        File.WriteAllBytes(PathOf("bad.safetensors"), bytes);
        var ex = Assert.Throws<InvalidDataException>(() => SafeTensors.Read(PathOf("bad.safetensors")).Dispose());
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void HugeHeaderLength_FailsWithTheNumbers()
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1UL << 40);
        File.WriteAllBytes(PathOf("huge.safetensors"), bytes);
        var ex = Assert.Throws<InvalidDataException>(() => SafeTensors.Read(PathOf("huge.safetensors")).Dispose());
        Assert.Contains("1099511627776", ex.Message);
        Assert.Contains("only 8 bytes", ex.Message);
    }

    [Fact]
    public void FailedSave_LeavesTheEarlierFileIntact_AndNoTemporaryFile()
    {
        var net = new XorNet(seed: 1);
        net.Save(PathOf("keep.safetensors"));
        byte[] before = File.ReadAllBytes(PathOf("keep.safetensors"));
        Assert.Throws<ArgumentException>(() => SafeTensors.Write(PathOf("keep.safetensors"), [("x", new[] { 4 }, new float[3])]));
        Assert.Equal(before, File.ReadAllBytes(PathOf("keep.safetensors")));
        Assert.Equal(["keep.safetensors"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void MissingFile_NamesThePath()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => new XorNet().Load(PathOf("nope.safetensors")));
        Assert.Contains("nope.safetensors", ex.Message);
    }
}
