using System;
using GenNets.Data;
using Xunit;

namespace GenNets.Tests.Data;

// Wrong arguments to Dataset name the argument and the numbers, and sizes that would wrap an int are refused.
public sealed class DatasetArgumentTests
{
    private static Dataset Three() => Dataset.WithLabels([1, 2, 3, 4, 5, 6], 2, [0, 1, 2]);

    [Fact]
    public void StepCountWhoseLabelCountOverflowsAnInt_IsRefusedWithTheTrueCount()
    {
        // 3 samples x int.MaxValue steps = 6442450941 labels (in int arithmetic that wrapped to 2147483645).
        var ex = Assert.Throws<ArgumentException>(() => Dataset.WithStepLabels(new float[3], 1, new int[13], int.MaxValue));
        Assert.Equal("labels", ex.ParamName);
        Assert.Contains("3 samples of 2147483647 steps (6442450941 labels) but 13 labels", ex.Message);
    }

    [Fact]
    public void TargetSizeWhoseTargetCountOverflowsAnInt_IsRefusedWithTheTrueCount()
    {
        var ex = Assert.Throws<ArgumentException>(() => Dataset.WithTargets(new float[4], 2, new float[2], int.MaxValue));
        Assert.Equal("targets", ex.ParamName);
        Assert.Contains("2 samples of 2147483647 targets each (4294967294 floats) but the targets hold 2 floats", ex.Message);
    }

    [Fact]
    public void ZeroSteps_NameTheStepsArgument()
        => Assert.Equal("steps", Assert.Throws<ArgumentOutOfRangeException>(() => Dataset.WithStepLabels(new float[2], 1, [0, 0], 0)).ParamName);

    [Fact]
    public void NegativeLabel_NamesSampleAndValue()
    {
        var ex = Assert.Throws<ArgumentException>(() => Dataset.WithLabels(new float[4], 2, [0, -3]));
        Assert.Equal("labels", ex.ParamName);
        Assert.Contains("Label -3 of sample 1 is negative", ex.Message);
    }

    [Fact]
    public void MismatchedLengths_NameTheNumbers()
    {
        Assert.Contains("7 floats, which is not a whole number of samples of 2", Assert.Throws<ArgumentException>(() => Dataset.WithLabels(new float[7], 2, [0, 0, 0])).Message);
        Assert.Contains("There are 3 samples but 2 labels", Assert.Throws<ArgumentException>(() => Dataset.WithLabels(new float[6], 2, [0, 0])).Message);
        Assert.Equal("featureSize", Assert.Throws<ArgumentOutOfRangeException>(() => Dataset.WithLabels(new float[6], 0, [0])).ParamName);
        Assert.Equal("features", Assert.Throws<ArgumentNullException>(() => Dataset.WithTargets(null!, 1, [1f], 1)).ParamName);
    }

    [Fact]
    public void SliceWhoseEndWrapsPastIntMaxValue_IsRefused()
    {
        var data = Three();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => data.Slice(2, int.MaxValue));
        Assert.Equal("count", ex.ParamName);
        Assert.Contains("Samples 2 to 2147483649 are outside a data set of 3 samples", ex.Message);
        Assert.Equal("start", Assert.Throws<ArgumentOutOfRangeException>(() => data.Slice(4, 0)).ParamName);
        Assert.Equal("start", Assert.Throws<ArgumentOutOfRangeException>(() => data.Slice(-1, 1)).ParamName);
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => data.Take(-1)).ParamName);
        var tail = data.Slice(1, 2);
        Assert.Equal([3f, 4f, 5f, 6f], tail.Features);
        Assert.Equal([1, 2], tail.Labels!);
        Assert.Equal(0, data.Slice(3, 0).Count);
        Assert.Equal(3, data.Take(int.MaxValue).Count);
    }

    [Fact]
    public void GetFeatures_OutsideTheSamples_NamesTheIndex()
    {
        var data = Three();
        Assert.Equal([5f, 6f], data.GetFeatures(2).ToArray());
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => data.GetFeatures(3));
        Assert.Equal("index", ex.ParamName);
        Assert.Contains("3 samples, 0 to 2", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => data.GetFeatures(-1));
    }
}
