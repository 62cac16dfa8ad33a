using System;
using System.Linq;
using GenNets.Generators.Layers;
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

    // The generator names the runtime's LayerKind by each spec's Kind: every kind a spec can be must be a member, and every
    // member (but Add, which only the shape engine makes) must have an attribute that reads into it.
    [Fact]
    public void LayerKinds_AreTheRuntimes()
    {
        var dense = new DenseSpec(0, null, 1, ActivationKind.Identity, 0);
        LayerSpec[] specs =
        [
            dense, new DropoutSpec(0, 0.5f), new Conv2DSpec(0, null, 1, 3, 3, 1, 1, 0, ActivationKind.Identity, 0), new PoolSpec(0, true, 2, 0),
            new PoolSpec(0, false, 2, 0), new GlobalAvgPoolSpec(0), new FlattenSpec(0), new LayerNormSpec(0, null), new BatchNormSpec(0, null, ActivationKind.Identity),
            new AddSpec(0, ActivationKind.Identity), new EmbeddingSpec(0, null, 4), new PositionalEncodingSpec(0, null, false, 0), new SelfAttentionSpec(0, null, 2, false),
            .. Enum.GetValues<RecurrentCell>().Select(c => new RecurrentSpec(0, null, c, 1, false, 0f)),
        ];
        Assert.Equal(Enum.GetNames<GenNets.LayerKind>().Order(), specs.Select(s => s.Kind).Order());
        Assert.Equal(specs.Length - 1 + 3, LayerRegistry.Readers.Count); // all but Add, and [Residual], [Sequential] and [TransformerEncoder]
    }
}
