using System;
using System.Linq;
using GenNets.Generators.Model;
using Xunit;

namespace GenNets.Generators.Tests;

/// <summary>
/// The generator cannot reference the runtime, so it mirrors the runtime's enums. These tests keep
/// the mirrors exact: same names, same values.
/// </summary>
public class EnumMirrorTests
{
    private static void SameMembers(Type runtime, Type mirror)
    {
        var expected = Enum.GetNames(runtime).Select(n => (n, Convert.ToInt32(Enum.Parse(runtime, n)))).ToArray();
        var actual = Enum.GetNames(mirror).Select(n => (n, Convert.ToInt32(Enum.Parse(mirror, n)))).ToArray();
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Activation_IsMirroredExactly() => SameMembers(typeof(GenNets.Activation), typeof(ActivationKind));

    [Fact]
    public void LossKind_IsMirroredExactly() => SameMembers(typeof(GenNets.LossKind), typeof(LossKindSpec));

    // SpecKind has one member the runtime has not: Residual, a block of layers that the shape engine expands into layers.
    [Fact]
    public void LayerKind_IsMirroredExactly()
    {
        var expected = Enum.GetNames(typeof(GenNets.LayerKind)).Select(n => (n, Convert.ToInt32(Enum.Parse(typeof(GenNets.LayerKind), n)))).ToArray();
        var actual = Enum.GetNames(typeof(SpecKind)).Where(n => n != nameof(SpecKind.Residual)).Select(n => (n, Convert.ToInt32(Enum.Parse(typeof(SpecKind), n)))).ToArray();
        Assert.Equal(expected, actual);
    }
}
