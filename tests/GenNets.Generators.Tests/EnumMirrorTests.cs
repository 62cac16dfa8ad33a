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

    [Fact]
    public void LayerKind_IsMirroredExactly() => SameMembers(typeof(GenNets.LayerKind), typeof(SpecKind));
}
