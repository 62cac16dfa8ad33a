using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using System.Linq;
using GenNets.Data;
using Xunit;

namespace GenNets.Tests.Data;

// IDX files whose header promises more (or less) than the file holds: each must fail from the header alone, or after
// reading at most what the header declares, with the file and the numbers in the message.
public sealed class IdxHostileInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gennets-idx-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    private static byte[] Header(params int[] dims)
    {
        var header = new byte[4 + 4 * dims.Length];
        header[2] = 0x08;
        header[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * i), dims[i]);
        return header;
    }

    private string WriteFile(string name, byte[] header, byte[] data)
    {
        using var file = File.Create(PathOf(name));
        using Stream stream = name.EndsWith(".gz") ? new GZipStream(file, CompressionLevel.Fastest) : file;
        stream.Write(header);
        stream.Write(data);
        return PathOf(name);
    }

    // Reads the file, expecting a failure, and returns the message and the bytes this thread allocated meanwhile.
    private static (string Message, long Allocated) FailingRead(string path)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<InvalidDataException>(() => Idx.Read(path));
        return (ex.Message, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Gzip_HeaderDeclaringMnistButHoldingTenBytes_FailsWithTheNumbers_WithoutAllocatingTheDeclaredSize()
    {
        string path = WriteFile("bomb.idx.gz", Header(60000, 28, 28), new byte[10]);
        var (message, allocated) = FailingRead(path);
        Assert.Contains("bomb.idx.gz: the header says 60000x28x28 (47040000 bytes of data) but the gzip stream holds only 10 bytes", message);
        Assert.True(allocated < 4_000_000, $"allocated {allocated} bytes for a file declaring 47040000");
    }

    [Theory]
    [InlineData("huge.idx")]
    [InlineData("huge.idx.gz")]
    public void HeaderWhoseSizeOverflowsALong_IsRejectedBeforeAnyDataIsRead(string name)
    {
        string path = WriteFile(name, Header(65536, 65536, 65536, 65536), []);
        var (message, allocated) = FailingRead(path);
        Assert.Contains($"{name}: the header declares dimensions 65536x65536x65536x65536, more than {long.MaxValue} bytes of data, more than one array can hold ({Array.MaxLength} bytes)", message);
        Assert.True(allocated < 1_000_000, $"allocated {allocated} bytes");
    }

    [Fact]
    public void HeaderLargerThanOneArray_NamesTheProduct()
    {
        // 50000 x 50000 = 2.5e9 fits a long but not one .NET array; the file holds exactly that many bytes by its length
        // check alone, which is never reached.
        string path = WriteFile("big.idx", Header(50000, 50000), new byte[3]);
        var (message, allocated) = FailingRead(path);
        Assert.Contains("big.idx: the header declares dimensions 50000x50000, 2500000000 bytes of data, more than one array can hold", message);
        Assert.True(allocated < 1_000_000, $"allocated {allocated} bytes");
    }

    [Fact]
    public void ZeroItemsOfAnOverflowingItemSize_AreRejected()
    {
        string path = WriteFile("empty.idx", Header(0, 65536, 65536, 65536, 65536), []);
        Assert.Contains("empty.idx: the header declares dimensions 0x65536x65536x65536x65536, items of more than", FailingRead(path).Message);
    }

    [Fact]
    public void ZeroItems_ReadAsAnEmptyArray()
    {
        string path = WriteFile("none.idx.gz", Header(0, 28, 28), []);
        var array = Idx.Read(path);
        Assert.Equal(0, array.Count);
        Assert.Equal(784, array.ItemSize);
        Assert.Empty(array.Data);
    }

    [Fact]
    public void NegativeDimension_IsNamed()
    {
        string path = WriteFile("neg.idx", Header(3, -2), new byte[6]);
        Assert.Contains("neg.idx: dimension 1 of 2 is -2", FailingRead(path).Message);
    }

    [Fact]
    public void NoDimensions_IsRejected()
    {
        string path = WriteFile("rank0.idx", Header(), []);
        Assert.Contains("rank0.idx: the header declares 0 dimensions", FailingRead(path).Message);
    }

    [Theory]
    [InlineData("short.idx", "short.idx: the header says 10x4 (40 bytes of data) but 33 bytes follow the header")]
    [InlineData("short.idx.gz", "short.idx.gz: the header says 10x4 (40 bytes of data) but the gzip stream holds only 33 bytes after the header")]
    public void TruncatedData_NamesDeclaredAndFoundBytes(string name, string expected)
        => Assert.Contains(expected, FailingRead(WriteFile(name, Header(10, 4), new byte[33])).Message);

    [Theory]
    [InlineData("long.idx", "long.idx: the header says 10x4 (40 bytes of data) but 45 bytes follow the header")]
    [InlineData("long.idx.gz", "long.idx.gz: the header says 10x4 (40 bytes of data) but the gzip stream holds more after them (at least 45 bytes after the header)")]
    public void ExtraDataAfterTheDeclaredSize_IsRejected(string name, string expected)
        => Assert.Contains(expected, FailingRead(WriteFile(name, Header(10, 4), new byte[45])).Message);

    [Fact]
    public void Gzip_ExtraDataIsNoticedWithoutDecompressingItAll()
    {
        // 4 MB of zeros after a header declaring 40 bytes: rejected after reading 40 bytes and a small probe.
        string path = WriteFile("tail.idx.gz", Header(10, 4), new byte[4_000_000]);
        var (message, allocated) = FailingRead(path);
        Assert.Contains("tail.idx.gz: the header says 10x4 (40 bytes of data) but the gzip stream holds more after them", message);
        Assert.True(allocated < 1_000_000, $"allocated {allocated} bytes");
    }

    [Fact]
    public void TruncatedHeader_InGzip_NamesTheSizes()
    {
        byte[] header = Header(60000, 28, 28);
        string path = WriteFile("head.idx.gz", header.AsSpan(0, 9).ToArray(), []);
        Assert.Contains("head.idx.gz: the header declares 3 dimensions (16 header bytes) but the decompressed file holds 9 bytes", FailingRead(path).Message);
    }

    [Fact]
    public void Write_InconsistentArray_IsRefusedAndLeavesTheOldFile()
    {
        var good = new IdxArray([2, 2], [1, 2, 3, 4]);
        Idx.Write(PathOf("w.idx"), good);
        byte[] before = File.ReadAllBytes(PathOf("w.idx"));
        var ex = Assert.Throws<ArgumentException>(() => Idx.Write(PathOf("w.idx"), new IdxArray([3, 2], [1, 2, 3, 4])));
        Assert.Equal("array", ex.ParamName);
        Assert.Contains("3x2 describe 6 bytes but the data holds 4", ex.Message);
        Assert.Equal(before, File.ReadAllBytes(PathOf("w.idx")));
        Assert.Throws<ArgumentException>(() => Idx.Write(PathOf("w.idx"), new IdxArray([], [])));
        Assert.Throws<ArgumentException>(() => Idx.Write(PathOf("w.idx"), new IdxArray([-1], [])));
        Assert.Equal([PathOf("w.idx")], Directory.GetFiles(_dir)); // no temporary file left behind
        Assert.Equal(good.Data, Idx.Read(PathOf("w.idx")).Data);
    }

    [Fact]
    public void LoadLabelled_NegativeLimit_IsAnArgumentError()
    {
        Idx.Write(PathOf("i.idx"), new IdxArray([2, 2], new byte[4]));
        Idx.Write(PathOf("l.idx"), new IdxArray([2], [0, 1]));
        Assert.Equal("limit", Assert.Throws<ArgumentOutOfRangeException>(() => Idx.LoadLabelled(PathOf("i.idx"), PathOf("l.idx"), limit: -1)).ParamName);
        Assert.Equal(1, Idx.LoadLabelled(PathOf("i.idx"), PathOf("l.idx"), limit: 1).Count);
    }

    [Fact]
    public void LoadLabelled_ImagesWithoutPixels_NameTheFile()
    {
        Idx.Write(PathOf("i.idx"), new IdxArray([2, 0], []));
        Idx.Write(PathOf("l.idx"), new IdxArray([2], [0, 1]));
        Assert.Contains("i.idx: images of dimensions 2x0 hold no pixels", Assert.Throws<InvalidDataException>(() => Idx.LoadLabelled(PathOf("i.idx"), PathOf("l.idx"))).Message);
    }

    [Fact]
    public void LargerGzipFile_ReadsBackWhole()
    {
        // Larger than the first buffer the reader allocates, so the buffer grows while reading.
        var data = Enumerable.Range(0, 3_000_000).Select(i => (byte)(i * 7 + i / 1000)).ToArray();
        Idx.Write(PathOf("grow.idx.gz"), new IdxArray([3000, 1000], data));
        var back = Idx.Read(PathOf("grow.idx.gz"));
        Assert.Equal([3000, 1000], back.Dimensions);
        Assert.True(data.AsSpan().SequenceEqual(back.Data));
    }
}
