using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Tasks;
using GenNets.IO;
using Xunit;

namespace GenNets.Tests.IO;

/// <summary>Where Save writes, what it refuses, what it keeps, and what it leaves behind.</summary>
public sealed class SavingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gennets-save-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    private static void Save(string path, int seed) => Weights.Save(path, TinyWeights.Parameters(seed), TinyWeights.Layout);

    private static float[] Load(string path)
    {
        var parameters = new float[TinyWeights.Count];
        Weights.Load(path, parameters, TinyWeights.Layout);
        return parameters;
    }

    private string[] Entries() => Directory.GetFileSystemEntries(_dir).Select(e => Path.GetFileName(e)!).Order(StringComparer.Ordinal).ToArray();

    /// <summary>The documented temporary-name prefix of saves to a file named <paramref name="fileName"/>.</summary>
    private static string TemporaryPrefix(string fileName) => "." + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(fileName)), 0, 6) + ".";

    [Fact]
    public void SymbolicLink_IsFollowed_AndStaysALink()
    {
        Directory.CreateDirectory(PathOf("real"));
        Save(PathOf("real/model.safetensors"), seed: 1);
        File.CreateSymbolicLink(PathOf("link.safetensors"), "real/model.safetensors");

        Save(PathOf("link.safetensors"), seed: 2);

        Assert.Equal("real/model.safetensors", new FileInfo(PathOf("link.safetensors")).LinkTarget);
        Assert.True(TinyWeights.BitEqual(TinyWeights.Parameters(2), Load(PathOf("real/model.safetensors"))));
        Assert.Equal(["link.safetensors", "real"], Entries());
        Assert.Equal(["model.safetensors"], Directory.GetFileSystemEntries(PathOf("real")).Select(Path.GetFileName));
    }

    [Fact]
    public void DanglingSymbolicLink_CreatesItsTarget()
    {
        File.CreateSymbolicLink(PathOf("link.safetensors"), "target.safetensors");
        Save(PathOf("link.safetensors"), seed: 3);
        Assert.Equal("target.safetensors", new FileInfo(PathOf("link.safetensors")).LinkTarget);
        Assert.True(TinyWeights.BitEqual(TinyWeights.Parameters(3), Load(PathOf("target.safetensors"))));
    }

    [Theory]
    [InlineData("640")]
    [InlineData("444")]
    [InlineData("600")]
    [InlineData("755")]
    public void ExistingFile_KeepsItsMode(string octal)
    {
        if (OperatingSystem.IsWindows()) return;
        var mode = (UnixFileMode)Convert.ToInt32(octal, 8);
        Save(PathOf("m.safetensors"), seed: 1);
        File.SetUnixFileMode(PathOf("m.safetensors"), mode);

        Save(PathOf("m.safetensors"), seed: 2);

        Assert.Equal(mode, File.GetUnixFileMode(PathOf("m.safetensors")));
        Assert.True(TinyWeights.BitEqual(TinyWeights.Parameters(2), Load(PathOf("m.safetensors"))));
    }

    [Fact]
    public void DeviceNode_IsRefused_AndNotReplaced()
    {
        // A private null device in the test's folder, never the machine's /dev/null: a Save that broke this promise
        // would otherwise replace a device the whole machine uses.
        string device = PathOf("null");
        if (!NullDevice.TryMake(device)) return; // not root, or not Linux
        var ex = Assert.Throws<IOException>(() => Save(device, seed: 1));
        Assert.Equal($"Cannot save weights to '{device}': it is a character device, not a regular file; nothing was written.", ex.Message);
        // Still a device: it refuses to be loaded as weights, and nothing was left beside it.
        Assert.Contains("character device", Assert.Throws<IOException>(() => Load(device)).Message);
        Assert.Equal(["null"], Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void LinkToADevice_IsRefused_AndTheLinkKept()
    {
        if (!File.Exists("/dev/null")) return;
        File.CreateSymbolicLink(PathOf("null.safetensors"), "/dev/null");
        var ex = Assert.Throws<IOException>(() => Save(PathOf("null.safetensors"), seed: 1));
        Assert.Contains($"'{PathOf("null.safetensors")}': it links to '/dev/null', which is a character device", ex.Message);
        Assert.Equal("/dev/null", new FileInfo(PathOf("null.safetensors")).LinkTarget);
    }

    [Fact]
    public void DirectoryAndPipe_AreRefused()
    {
        Directory.CreateDirectory(PathOf("dir.safetensors"));
        var dir = Assert.Throws<IOException>(() => Save(PathOf("dir.safetensors"), seed: 1));
        Assert.Contains($"'{PathOf("dir.safetensors")}': it is a directory, not a regular file", dir.Message);
        if (OperatingSystem.IsLinux())
        {
            Assert.Equal(0, Native.mkfifo(PathOf("pipe.safetensors"), Convert.ToUInt32("600", 8)));
            var pipe = Assert.Throws<IOException>(() => Save(PathOf("pipe.safetensors"), seed: 1));
            Assert.Contains("it is a named pipe, not a regular file", pipe.Message);
            Assert.Equal(["dir.safetensors", "pipe.safetensors"], Entries());
        }
    }

    [Theory]
    [InlineData(250)]
    [InlineData(255)]
    public void LongFileName_Saves(int bytes)
    {
        string name = new string('w', bytes - ".safetensors".Length) + ".safetensors";
        Assert.Equal(bytes, Encoding.UTF8.GetByteCount(name));
        Save(PathOf(name), seed: 4);
        Save(PathOf(name), seed: 5);
        Assert.True(TinyWeights.BitEqual(TinyWeights.Parameters(5), Load(PathOf(name))));
        Assert.Equal([name], Entries());
    }

    [Fact]
    public void SaveThatFailsAfterWriting_LeavesNoTemporaryFile_AndNamesTheUsersPath()
    {
        // A 256-byte name: the short temporary file is written, then the rename to the name fails.
        string name = new string('x', 256 - ".safetensors".Length) + ".safetensors";
        Save(PathOf("other.safetensors"), seed: 1);
        byte[] other = File.ReadAllBytes(PathOf("other.safetensors"));
        var ex = Assert.ThrowsAny<IOException>(() => Save(PathOf(name), seed: 2));
        Assert.Contains(PathOf(name), ex.Message);
        Assert.DoesNotContain(".gntmp", ex.Message);
        Assert.Equal(["other.safetensors"], Entries());
        Assert.Equal(other, File.ReadAllBytes(PathOf("other.safetensors")));
    }

    [Fact]
    public void SaveThatFailsBeforeWriting_KeepsTheEarlierFile()
    {
        Save(PathOf("keep.safetensors"), seed: 1);
        byte[] before = File.ReadAllBytes(PathOf("keep.safetensors"));
        var ex = Assert.Throws<ArgumentException>(() => Weights.Save(PathOf("keep.safetensors"), new float[5], TinyWeights.Layout));
        Assert.Contains("lies outside the 5 parameters", ex.Message);
        Assert.Equal(before, File.ReadAllBytes(PathOf("keep.safetensors")));
        Assert.Equal(["keep.safetensors"], Entries());
    }

    [Fact]
    public void MissingDirectory_NamesTheUsersPath()
    {
        string path = PathOf("no/such/dir/m.safetensors");
        var ex = Assert.Throws<DirectoryNotFoundException>(() => Save(path, seed: 1));
        Assert.Equal($"Cannot save weights to '{path}': the directory '{PathOf("no/such/dir")}' does not exist; nothing was changed.", ex.Message);
    }

    [Fact]
    public void StaleTemporaryFiles_OfThisTarget_AreRemoved_OthersKept()
    {
        string prefix = TemporaryPrefix("m.safetensors");
        string stale = prefix + "0badf00d.gntmp", fresh = prefix + "12345678.gntmp", locked = prefix + "abcdef01.gntmp";
        string otherTarget = TemporaryPrefix("n.safetensors") + "0badf00d.gntmp", lookalike = prefix + "notours.gntmp";
        foreach (string name in new[] { stale, fresh, locked, otherTarget, lookalike }) File.WriteAllBytes(PathOf(name), [1, 2, 3]);
        var old = DateTime.UtcNow - TimeSpan.FromHours(1);
        foreach (string name in new[] { stale, locked, otherTarget, lookalike }) File.SetLastWriteTimeUtc(PathOf(name), old);

        // A save in progress elsewhere holds its temporary file open exclusively.
        using (new FileStream(PathOf(locked), FileMode.Open, FileAccess.Write, FileShare.None))
            Save(PathOf("m.safetensors"), seed: 1);

        string[] expected = [fresh, locked, otherTarget, lookalike, "m.safetensors"];
        Assert.Equal(expected.Order(StringComparer.Ordinal), Entries());
        Assert.True(TinyWeights.BitEqual(TinyWeights.Parameters(1), Load(PathOf("m.safetensors"))));
    }

    [Fact]
    public void TwoSavesAtOnce_BothSucceed_AndLeaveOneWholeFile()
    {
        string path = PathOf("shared.safetensors");
        Parallel.For(0, 2, i => { for (int k = 0; k < 20; k++) Save(path, seed: i); });
        float[] loaded = Load(path);
        Assert.True(TinyWeights.BitEqual(TinyWeights.Parameters(0), loaded) || TinyWeights.BitEqual(TinyWeights.Parameters(1), loaded));
        Assert.Equal(["shared.safetensors"], Entries());
    }
}
