using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using GenNets.Data;
using GenNets.Training;
using Xunit;

namespace GenNets.Tests.Data;

public sealed class DataLoadingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gennets-data-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "GenNets.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("No GenNets.sln above " + AppContext.BaseDirectory);
    }

    [Theory]
    [InlineData("a.idx.gz")]
    [InlineData("a.idx")]
    public void Idx_WriteThenRead_RoundTrips(string name)
    {
        var array = new IdxArray([3, 2, 2], Enumerable.Range(0, 12).Select(i => (byte)(i * 20)).ToArray());
        Idx.Write(PathOf(name), array);
        var back = Idx.Read(PathOf(name));
        Assert.Equal(array.Dimensions, back.Dimensions);
        Assert.Equal(array.Data, back.Data);
    }

    [Fact]
    public void Idx_Truncated_NamesTheNumbers()
    {
        Idx.Write(PathOf("t.idx"), new IdxArray([10, 4], new byte[40]));
        byte[] bytes = File.ReadAllBytes(PathOf("t.idx"));
        File.WriteAllBytes(PathOf("t.idx"), bytes.AsSpan(0, bytes.Length - 7).ToArray());
        var ex = Assert.Throws<InvalidDataException>(() => Idx.Read(PathOf("t.idx")));
        Assert.Contains("t.idx: the header says 10x4 (40 bytes of data) but 33 bytes follow", ex.Message);
    }

    [Fact]
    public void Idx_CorruptGzip_FailsClearly()
    {
        Idx.Write(PathOf("c.idx.gz"), new IdxArray([100], Enumerable.Range(0, 100).Select(i => (byte)i).ToArray()));
        byte[] bytes = File.ReadAllBytes(PathOf("c.idx.gz"));
        File.WriteAllBytes(PathOf("c.idx.gz"), bytes.AsSpan(0, bytes.Length / 2).ToArray());
        var ex = Assert.Throws<InvalidDataException>(() => Idx.Read(PathOf("c.idx.gz")));
        Assert.Contains("c.idx.gz", ex.Message);
    }

    [Theory]
    [InlineData(new byte[] { 1, 0, 8, 1 }, "not an IDX file")]
    [InlineData(new byte[] { 0, 0, 13, 1, 0, 0, 0, 0 }, "element type 0x0D")]
    [InlineData(new byte[] { 0, 0, 8, 3, 0, 0 }, "declares 3 dimensions")]
    public void Idx_BadHeader_FailsNamingIt(byte[] bytes, string expected)
    {
        File.WriteAllBytes(PathOf("h.idx"), bytes);
        var ex = Assert.Throws<InvalidDataException>(() => Idx.Read(PathOf("h.idx")));
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Idx_ImagesAndLabelsDisagree_NamesBothCounts()
    {
        Idx.Write(PathOf("i.idx"), new IdxArray([3, 2], new byte[6]));
        Idx.Write(PathOf("l.idx"), new IdxArray([2], new byte[2]));
        var ex = Assert.Throws<InvalidDataException>(() => Idx.LoadLabelled(PathOf("i.idx"), PathOf("l.idx")));
        Assert.Contains("i.idx holds 3 samples but l.idx holds 2 labels", ex.Message);
    }

    [Fact]
    public void CommittedSubset_HasTheDocumentedContents()
    {
        string dir = Path.Combine(RepositoryRoot(), "samples", "FashionMnist", "data");
        var (train, test) = FashionMnist.Load(dir);
        Assert.Equal(10_000, train.Count);
        Assert.Equal(2_000, test.Count);
        Assert.Equal(784, train.FeatureSize);
        Assert.All(train.Features, v => Assert.InRange(v, 0f, 1f));
        Assert.Equal(Enumerable.Range(0, 10), train.Labels!.Distinct().Order());
        Assert.Equal(Enumerable.Range(0, 10), test.Labels!.Distinct().Order());
        Assert.Equal(10, FashionMnist.ClassNames.Count);
    }

    [Fact]
    public void Locate_IncompleteFolder_NamesTheMissingFile()
    {
        File.WriteAllBytes(PathOf("train-images-idx3-ubyte.gz"), []);
        var ex = Assert.Throws<FileNotFoundException>(() => FashionMnist.Locate(_dir));
        Assert.Contains("train-labels-idx1-ubyte.gz", ex.Message);
    }

    [Fact]
    public void Choose_PrefersTheUsersFolder_ThenTheSubset_AndSaysHowToGetTheFullSet()
    {
        Assert.Equal("mine", FashionMnist.Choose("mine", full: true, subset: "subset"));
        Assert.Equal("subset", FashionMnist.Choose(null, full: false, subset: "subset"));
        string? full = FashionMnist.Locate(null);
        if (full is not null)
            Assert.Equal(full, FashionMnist.Choose(null, full: true, subset: "subset"));
        else
            Assert.Contains("apt-get install dataset-fashion-mnist", Assert.Throws<DirectoryNotFoundException>(() => FashionMnist.Choose(null, full: true, subset: "subset")).Message);
    }

    [Fact]
    public void Csv_LabelledAndTargets_Parse()
    {
        File.WriteAllText(PathOf("l.csv"), "a,b,label\n1.5,2,0\n-3,4e-1,2\n");
        var labelled = Csv.LoadLabelled(PathOf("l.csv"));
        Assert.Equal([1.5f, 2f, -3f, 0.4f], labelled.Features);
        Assert.Equal([0, 2], labelled.Labels!);
        File.WriteAllText(PathOf("t.csv"), "1,2,3,4\n5,6,7,8\n");
        var targets = Csv.LoadTargets(PathOf("t.csv"), targetColumns: 2, hasHeader: false);
        Assert.Equal(2, targets.FeatureSize);
        Assert.Equal([3f, 4f, 7f, 8f], targets.Targets!);
    }

    [Theory]
    [InlineData("a,b\n1,2\n3\n", "line 3: 1 columns, but earlier rows have 2")]
    [InlineData("a,b\n1,x\n", "line 2, column 2: 'x' is not a number")]
    [InlineData("a,b\n1,0.5\n", "the label 0.5 is not a class number")]
    public void Csv_BadRows_NameLineAndColumn(string text, string expected)
    {
        File.WriteAllText(PathOf("bad.csv"), text);
        var ex = Assert.Throws<InvalidDataException>(() => Csv.LoadLabelled(PathOf("bad.csv")));
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void ConfusionMatrix_CountsAndFormats()
    {
        var m = new ConfusionMatrix(3);
        m.Add(0, 0); m.Add(0, 1); m.Add(1, 1); m.Add(2, 2); m.Add(2, 2); m.Add(2, 0);
        Assert.Equal(6, m.Total);
        Assert.Equal(4.0 / 6, m.Accuracy, 10);
        Assert.Equal(0.5, m.Recall(0), 10);
        Assert.Equal(0.5, m.Precision(1), 10);
        string text = m.Format(["cat", "dog", "emu"]);
        Assert.Contains("2 emu", text);
        Assert.Contains("66.67 %", text);
        Assert.Throws<ArgumentOutOfRangeException>(() => m.Add(3, 0));
    }
}
