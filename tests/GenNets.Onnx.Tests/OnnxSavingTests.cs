using System;
using System.IO;
using System.Linq;
using System.Text;
using Xunit;

using GenNets.Tests;

namespace GenNets.Onnx.Tests;

/// <summary>ExportOnnx replaces files as safely as saving weights does: long names, links, refusals, failures.</summary>
public sealed class OnnxSavingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gennets-onnx-save-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    private string[] Entries() => Directory.GetFileSystemEntries(_dir).Select(e => Path.GetFileName(e)!).Order(StringComparer.Ordinal).ToArray();

    [Theory]
    [InlineData(250)]
    [InlineData(255)]
    public void LongFileName_Exports(int bytes)
    {
        string name = new string('o', bytes - ".onnx".Length) + ".onnx";
        Assert.Equal(bytes, Encoding.UTF8.GetByteCount(name));
        new PerPosition(seed: 1).ExportOnnx(PathOf(name));
        new PerPosition(seed: 2).ExportOnnx(PathOf(name));
        Assert.Equal(new PerPosition(seed: 2).ToOnnx(), File.ReadAllBytes(PathOf(name)));
        Assert.Equal([name], Entries());
    }

    [Fact]
    public void SymbolicLink_IsFollowed_AndStaysALink()
    {
        Directory.CreateDirectory(PathOf("real"));
        new PerPosition(seed: 1).ExportOnnx(PathOf("real/m.onnx"));
        File.CreateSymbolicLink(PathOf("link.onnx"), "real/m.onnx");

        new PerPosition(seed: 2).ExportOnnx(PathOf("link.onnx"));

        Assert.Equal("real/m.onnx", new FileInfo(PathOf("link.onnx")).LinkTarget);
        Assert.Equal(new PerPosition(seed: 2).ToOnnx(), File.ReadAllBytes(PathOf("real/m.onnx")));
        Assert.Equal(["link.onnx", "real"], Entries());
        Assert.Equal(["m.onnx"], Directory.GetFileSystemEntries(PathOf("real")).Select(Path.GetFileName));
    }

    [Fact]
    public void DeviceAndDirectory_AreRefused_NamingThePath()
    {
        // Never the machine's /dev/null itself: an export that regressed would replace it for everyone. A link to it is
        // safe (a regressed export replaces the link), and a private null device in the test directory when allowed.
        if (File.Exists("/dev/null"))
        {
            File.CreateSymbolicLink(PathOf("null.onnx"), "/dev/null");
            var link = Assert.Throws<IOException>(() => new PerPosition().ExportOnnx(PathOf("null.onnx")));
            Assert.Equal($"Cannot save the ONNX model to '{PathOf("null.onnx")}': it links to '/dev/null', which is a character device, not a regular file; nothing was written.", link.Message);
            Assert.Equal("/dev/null", new FileInfo(PathOf("null.onnx")).LinkTarget);
            File.Delete(PathOf("null.onnx"));
        }
        if (NullDevice.TryMake(PathOf("device.onnx")))
        {
            var device = Assert.Throws<IOException>(() => new PerPosition().ExportOnnx(PathOf("device.onnx")));
            Assert.Equal($"Cannot save the ONNX model to '{PathOf("device.onnx")}': it is a character device, not a regular file; nothing was written.", device.Message);
            Assert.Contains("character device", Assert.Throws<IOException>(() => new PerPosition().ExportOnnx(PathOf("device.onnx"))).Message);
            File.Delete(PathOf("device.onnx"));
        }
        Directory.CreateDirectory(PathOf("dir.onnx"));
        var dir = Assert.Throws<IOException>(() => new PerPosition().ExportOnnx(PathOf("dir.onnx")));
        Assert.Equal($"Cannot save the ONNX model to '{PathOf("dir.onnx")}': it is a directory, not a regular file; nothing was written.", dir.Message);
        Assert.Equal(["dir.onnx"], Entries());
    }

    [Fact]
    public void FailedExport_KeepsOtherFiles_AndLeavesNoTemporaryFile()
    {
        // A 256-byte name: the short temporary file is written, then the rename to the name fails.
        string name = new string('x', 256 - ".onnx".Length) + ".onnx";
        new PerPosition(seed: 1).ExportOnnx(PathOf("keep.onnx"));
        byte[] before = File.ReadAllBytes(PathOf("keep.onnx"));
        var ex = Assert.ThrowsAny<IOException>(() => new PerPosition(seed: 2).ExportOnnx(PathOf(name)));
        Assert.StartsWith($"Cannot save the ONNX model to '{PathOf(name)}':", ex.Message);
        Assert.DoesNotContain(".gntmp", ex.Message);
        Assert.Equal(["keep.onnx"], Entries());
        Assert.Equal(before, File.ReadAllBytes(PathOf("keep.onnx")));
    }

    [Fact]
    public void RefusedModel_KeepsTheEarlierFile()
    {
        new PerPosition(seed: 1).ExportOnnx(PathOf("keep.onnx"));
        byte[] before = File.ReadAllBytes(PathOf("keep.onnx"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PerPosition(seed: 2).ExportOnnx(PathOf("keep.onnx"), new OnnxExportOptions { Opset = 13 }));
        Assert.Equal(before, File.ReadAllBytes(PathOf("keep.onnx")));
        Assert.Equal(["keep.onnx"], Entries());
    }
}
