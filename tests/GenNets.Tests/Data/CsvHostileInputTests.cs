using System;
using System.IO;
using GenNets.Data;
using Xunit;

namespace GenNets.Tests.Data;

// CSV values a float cannot hold and rows of the wrong width: each fails naming the file, the line and the column.
public sealed class CsvHostileInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gennets-csv-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string text)
    {
        string path = Path.Combine(_dir, "in.csv");
        File.WriteAllText(path, text);
        return path;
    }

    [Theory]
    [InlineData("a,b,y\n1,2,0\n3,NaN,1\n", "in.csv line 3, column 2: 'NaN' is not a finite number")]
    [InlineData("a,b,y\n1,2,0\n\n3,4,1\nInfinity,4,1\n", "in.csv line 5, column 1: 'Infinity' is not a finite number")]
    [InlineData("a,b,y\n-Infinity,2,0\n", "in.csv line 2, column 1: '-Infinity' is not a finite number")]
    [InlineData("a,b,y\n1,1e400,0\n", "in.csv line 2, column 2: '1e400' is not a finite number")]
    [InlineData("a,b,y\n1,-1e39,0\n", "in.csv line 2, column 2: '-1e39' is not a finite number a float can hold")]
    [InlineData("a,b,y\n1,2,NaN\n", "in.csv line 2, column 3: 'NaN' is not a finite number")]
    public void NonFiniteValues_AreRefused_NamingLineAndColumn(string text, string expected)
    {
        var ex = Assert.Throws<InvalidDataException>(() => Csv.LoadLabelled(Write(text)));
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void NonFiniteTarget_IsRefused()
    {
        var ex = Assert.Throws<InvalidDataException>(() => Csv.LoadTargets(Write("1,2,3\n4,5,nan\n"), 1, hasHeader: false));
        Assert.Contains("in.csv line 2, column 3: 'nan' is not a finite number", ex.Message);
    }

    [Fact]
    public void LargestFloat_IsAccepted()
    {
        var data = Csv.LoadTargets(Write("x,t\n3.4e38,-3.4e38\n"), 1);
        Assert.Equal([3.4e38f], data.Features);
        Assert.Equal([-3.4e38f], data.Targets!);
    }

    [Theory]
    [InlineData("a,b\n1,2,0\n3,4,1\n", "in.csv line 1: the header has 2 columns, but the first data row (line 2) has 3")]
    [InlineData("a,b,c,y\n1,2,0\n", "in.csv line 1: the header has 4 columns, but the first data row (line 2) has 3")]
    [InlineData("a,b\n\n1,2,0\n", "in.csv line 1: the header has 2 columns, but the first data row (line 3) has 3")]
    public void HeaderOfAnotherWidth_IsRefused(string text, string expected)
    {
        Assert.Contains(expected, Assert.Throws<InvalidDataException>(() => Csv.LoadLabelled(Write(text))).Message);
        Assert.Contains(expected, Assert.Throws<InvalidDataException>(() => Csv.LoadTargets(Write(text), 1)).Message);
    }

    [Fact]
    public void BlankLinesAndAMatchingHeader_AreFine()
    {
        var data = Csv.LoadLabelled(Write("a,b,y\n\n1,2,0\n\n3,4,1\n"));
        Assert.Equal([1f, 2f, 3f, 4f], data.Features);
        Assert.Equal([0, 1], data.Labels!);
    }

    [Theory]
    [InlineData("a,b,y\n1,2,0\n3,4\n", "in.csv line 3: 2 columns, but earlier rows have 3")]
    [InlineData("a,b,y\n1,2,0\n3,4,1\n5,6,7,1\n", "in.csv line 4: 4 columns, but earlier rows have 3")]
    public void RowOfAnotherWidth_NamesTheLine(string text, string expected)
        => Assert.Contains(expected, Assert.Throws<InvalidDataException>(() => Csv.LoadLabelled(Write(text))).Message);

    [Fact]
    public void HeaderOnly_HasNoDataRows()
        => Assert.Contains("in.csv holds no data rows", Assert.Throws<InvalidDataException>(() => Csv.LoadLabelled(Write("a,b,y\n"))).Message);

    [Fact]
    public void SingleColumn_HasNoFeatures()
        => Assert.Contains("in.csv has a single column", Assert.Throws<InvalidDataException>(() => Csv.LoadLabelled(Write("y\n1\n2\n"))).Message);

    [Fact]
    public void NegativeLabel_NamesLineAndColumn()
        => Assert.Contains("in.csv line 3, column 1: the label -1 is not a class number",
            Assert.Throws<InvalidDataException>(() => Csv.LoadLabelled(Write("y,a\n0,1\n-1,2\n"), labelColumn: 0)).Message);

    [Theory]
    [InlineData('.')]
    [InlineData('-')]
    [InlineData('5')]
    [InlineData('e')]
    public void SeparatorThatNumbersUse_IsAnArgumentError(char separator)
        => Assert.Equal("separator", Assert.Throws<ArgumentException>(() => Csv.LoadLabelled(Write("1.5,0\n"), separator: separator)).ParamName);

    [Fact]
    public void MissingFile_IsNamed()
    {
        string path = Path.Combine(_dir, "nope.csv");
        Assert.Equal(path, Assert.Throws<FileNotFoundException>(() => Csv.LoadTargets(path, 1)).FileName);
    }
}
