using System.Collections.Generic;
using GenNets.Generators.Model;
using GenNets.Generators.Parsing;

namespace GenNets.Generators.Layers;

/// <summary>
/// The layer attributes GenNets reads, each with its kind's reader. A new kind of layer is its family's file (the spec
/// record with its reader, shape rule and emitter) and one line here.
/// </summary>
internal static class LayerRegistry
{
    /// <summary>The readers, by the attribute class's name (in the GenNets namespace).</summary>
    public static readonly IReadOnlyDictionary<string, System.Func<AttributeReading, LayerSpec>> Readers = new Dictionary<string, System.Func<AttributeReading, LayerSpec>>
    {
        ["DenseAttribute"] = DenseSpec.Read,
        ["DropoutAttribute"] = DropoutSpec.Read,
        ["Conv2DAttribute"] = Conv2DSpec.Read,
        ["MaxPool2DAttribute"] = PoolSpec.ReadMax,
        ["AvgPool2DAttribute"] = PoolSpec.ReadAverage,
        ["GlobalAvgPoolAttribute"] = GlobalAvgPoolSpec.Read,
        ["FlattenAttribute"] = FlattenSpec.Read,
        ["SimpleRNNAttribute"] = RecurrentSpec.ReadSimpleRnn,
        ["LSTMAttribute"] = RecurrentSpec.ReadLstm,
        ["GRUAttribute"] = RecurrentSpec.ReadGru,
        ["ResidualAttribute"] = ResidualSpec.ReadResidual,
        ["SequentialAttribute"] = ResidualSpec.ReadSequential,
        ["LayerNormAttribute"] = LayerNormSpec.Read,
        ["BatchNormAttribute"] = BatchNormSpec.Read,
        ["EmbeddingAttribute"] = EmbeddingSpec.Read,
        ["PositionalEncodingAttribute"] = PositionalEncodingSpec.Read,
        ["SelfAttentionAttribute"] = SelfAttentionSpec.Read,
        ["TransformerEncoderAttribute"] = TransformerEncoder.Read,
    };
}
