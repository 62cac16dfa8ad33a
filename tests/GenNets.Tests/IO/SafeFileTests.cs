using System;
using System.IO;
using System.Linq;
using System.Text;
using GenNets.Data;
using GenNets.IO;
using Xunit;

namespace GenNets.Tests.IO;

/// <summary>SafeFile.Replace itself, and Idx.Write getting the same guarantees as saving weights.</summary>
public sealed class SafeFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gennets-safefile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    private string[] Entries() => Directory.GetFileSystemEntries(_dir).Select(e => Path.GetFileName(e)!).Order(StringComparer.Ordinal).ToArray();

    private static IdxArray Array(int seed) => new([2, 3], Enumerable.Range(seed, 6).Select(i => (byte)i).ToArray());

    private static void AssertHolds(IdxArray expected, string path)
    {
        var read = Idx.Read(path);
        Assert.Equal(expected.Dimensions, read.Dimensions);
        Assert.Equal(expected.Data, read.Data);
    }

    [Fact]
    public void Replace_WritesWhatTheCallbackWrites_AndLeavesOnlyTheFile()
    {
        SafeFile.Replace(PathOf("a.bin"), s => s.Write([1, 2, 3]));
        SafeFile.Replace(PathOf("a.bin"), s => s.Write([4, 5]));
        Assert.Equal([4, 5], File.ReadAllBytes(PathOf("a.bin")));
        Assert.Equal(["a.bin"], Entries());
    }

    [Fact]
    public void CallbackThatThrows_PassesThrough_KeepsTheEarlierFile_AndRemovesTheTemporary()
    {
        File.WriteAllBytes(PathOf("a.bin"), [9, 9, 9]);
        var ex = Assert.Throws<FormatException>(() => SafeFile.Replace(PathOf("a.bin"), s => { s.Write([1, 2]); throw new FormatException("bad value"); }));
        Assert.Equal("bad value", ex.Message);
        Assert.Equal([9, 9, 9], File.ReadAllBytes(PathOf("a.bin")));
        Assert.Equal(["a.bin"], Entries());
    }

    [Fact]
    public void CallbackIOException_IsRephrasedWithTheUsersPath()
    {
        File.WriteAllBytes(PathOf("a.bin"), [9, 9, 9]);
        var ex = Assert.Throws<IOException>(() => SafeFile.Replace(PathOf("a.bin"), s => { s.Write([1]); throw new IOException("the disk is full."); }, "a report"));
        Assert.Equal($"Cannot save a report to '{PathOf("a.bin")}': writing failed (the disk is full); nothing was changed.", ex.Message);
        Assert.Equal([9, 9, 9], File.ReadAllBytes(PathOf("a.bin")));
        Assert.Equal(["a.bin"], Entries());
    }

    [Fact]
    public void CallbackThatClosesTheStream_IsRefused_AndNothingChanges()
    {
        File.WriteAllBytes(PathOf("a.bin"), [9, 9, 9]);
        var ex = Assert.Throws<InvalidOperationException>(() => SafeFile.Replace(PathOf("a.bin"), s => { s.Write([1]); s.Dispose(); }));
        Assert.Contains($"'{PathOf("a.bin")}'", ex.Message);
        Assert.Contains("leaveOpen", ex.Message);
        Assert.Equal([9, 9, 9], File.ReadAllBytes(PathOf("a.bin")));
        Assert.Equal(["a.bin"], Entries());
    }

    [Fact]
    public void BadArguments_AreRefused()
    {
        Assert.Throws<ArgumentNullException>(() => SafeFile.Replace(null!, _ => { }));
        Assert.Throws<ArgumentException>(() => SafeFile.Replace("", _ => { }));
        Assert.Throws<ArgumentNullException>(() => SafeFile.Replace(PathOf("a.bin"), null!));
        var ex = Assert.Throws<ArgumentException>(() => SafeFile.Replace("a\0b", _ => { }));
        Assert.Equal("path", ex.ParamName);
        Assert.Empty(Entries());
    }

    [Theory]
    [InlineData("w", 250)]
    [InlineData("w", 255)]
    [InlineData("g", 250)]
    public void Idx_LongFileName_Writes(string kind, int bytes)
    {
        string ending = kind == "g" ? ".idx.gz" : ".idx";
        string name = new string('i', bytes - ending.Length) + ending;
        Assert.Equal(bytes, Encoding.UTF8.GetByteCount(name));
        Idx.Write(PathOf(name), Array(1));
        Idx.Write(PathOf(name), Array(2));
        AssertHolds(Array(2), PathOf(name));
        Assert.Equal([name], Entries());
    }

    [Theory]
    [InlineData("data.idx")]
    [InlineData("data.idx.gz")]
    public void Idx_SymbolicLink_IsFollowed_AndStaysALink(string name)
    {
        Directory.CreateDirectory(PathOf("real"));
        Idx.Write(PathOf("real/" + name), Array(1));
        File.CreateSymbolicLink(PathOf("link-" + name), "real/" + name);

        Idx.Write(PathOf("link-" + name), Array(2));

        Assert.Equal("real/" + name, new FileInfo(PathOf("link-" + name)).LinkTarget);
        AssertHolds(Array(2), PathOf("real/" + name));
        Assert.Equal(["link-" + name, "real"], Entries());
        Assert.Equal([name], Directory.GetFileSystemEntries(PathOf("real")).Select(Path.GetFileName));
    }

    [Fact]
    public void Idx_ExistingFile_KeepsItsMode()
    {
        if (OperatingSystem.IsWindows()) return;
        var mode = (UnixFileMode)Convert.ToInt32("640", 8);
        Idx.Write(PathOf("m.idx"), Array(1));
        File.SetUnixFileMode(PathOf("m.idx"), mode);
        Idx.Write(PathOf("m.idx"), Array(2));
        Assert.Equal(mode, File.GetUnixFileMode(PathOf("m.idx")));
        AssertHolds(Array(2), PathOf("m.idx"));
    }

    [Fact]
    public void Idx_DeviceAndDirectory_AreRefused_NamingThePath()
    {
        // Never the machine's /dev/null itself: a writer that regressed would replace it for everyone. A link to it is
        // safe (a regressed writer replaces the link), and a private null device in the test directory when allowed.
        if (File.Exists("/dev/null"))
        {
            File.CreateSymbolicLink(PathOf("null.idx"), "/dev/null");
            var link = Assert.Throws<IOException>(() => Idx.Write(PathOf("null.idx"), Array(1)));
            Assert.Equal($"Cannot save an IDX file to '{PathOf("null.idx")}': it links to '/dev/null', which is a character device, not a regular file; nothing was written.", link.Message);
            Assert.Equal("/dev/null", new FileInfo(PathOf("null.idx")).LinkTarget);
            File.Delete(PathOf("null.idx"));
        }
        if (NullDevice.TryMake(PathOf("device.idx")))
        {
            var device = Assert.Throws<IOException>(() => Idx.Write(PathOf("device.idx"), Array(1)));
            Assert.Equal($"Cannot save an IDX file to '{PathOf("device.idx")}': it is a character device, not a regular file; nothing was written.", device.Message);
            Assert.Contains("character device", Assert.Throws<IOException>(() => Idx.Write(PathOf("device.idx"), Array(1))).Message);
            File.Delete(PathOf("device.idx"));
        }
        Directory.CreateDirectory(PathOf("dir.idx"));
        var dir = Assert.Throws<IOException>(() => Idx.Write(PathOf("dir.idx"), Array(1)));
        Assert.Equal($"Cannot save an IDX file to '{PathOf("dir.idx")}': it is a directory, not a regular file; nothing was written.", dir.Message);
        Assert.Equal(["dir.idx"], Entries());
        Assert.Empty(Directory.GetFileSystemEntries(PathOf("dir.idx")));
    }

    [Fact]
    public void Idx_FailedWrite_KeepsOtherFiles_AndLeavesNoTemporaryFile()
    {
        // A 256-byte name: the short temporary file is written, then the rename to the name fails.
        string name = new string('x', 256 - ".idx".Length) + ".idx";
        Idx.Write(PathOf("keep.idx"), Array(1));
        byte[] before = File.ReadAllBytes(PathOf("keep.idx"));
        var ex = Assert.ThrowsAny<IOException>(() => Idx.Write(PathOf(name), Array(2)));
        Assert.StartsWith($"Cannot save an IDX file to '{PathOf(name)}':", ex.Message);
        Assert.DoesNotContain(".gntmp", ex.Message);
        Assert.Equal(["keep.idx"], Entries());
        Assert.Equal(before, File.ReadAllBytes(PathOf("keep.idx")));
    }

    [Fact]
    public void Idx_MissingDirectory_NamesTheUsersPath()
    {
        string path = PathOf("no/such/d.idx");
        var ex = Assert.Throws<DirectoryNotFoundException>(() => Idx.Write(path, Array(1)));
        Assert.Equal($"Cannot save an IDX file to '{path}': the directory '{PathOf("no/such")}' does not exist; nothing was changed.", ex.Message);
    }
}
