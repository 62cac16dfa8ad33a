using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using GenNets.Generators.Model;
using Microsoft.CodeAnalysis;

namespace GenNets.Analyzers;

/// <summary>The one table of GenNets diagnostics. Each message gives the actual numbers.</summary>
internal static class Descriptors
{
    private const string Declaration = "GenNets.Declaration";
    private const string Shapes = "GenNets.Shapes";
    private const string Layers = "GenNets.Layers";
    private const string Loss = "GenNets.Loss";

    /// <summary>The help link of diagnostic <paramref name="id"/>: its section of docs/diagnostics.md.</summary>
    public static string HelpLink(string id) => DiagnosticIds.HelpLink(id);

    private static DiagnosticDescriptor Make(string id, string title, string message, string category, DiagnosticSeverity severity = DiagnosticSeverity.Error)
        => new(id, title, message, category, severity, isEnabledByDefault: true, helpLinkUri: HelpLink(id));

    public static readonly DiagnosticDescriptor NotPartial = Make(DiagnosticIds.NotPartial,
        "Network class must be partial",
        "Network class '{0}' must be declared partial so that GenNets can generate its members", Declaration);

    public static readonly DiagnosticDescriptor MissingInput = Make(DiagnosticIds.MissingInput,
        "Network has layers but no [Input]",
        "Network class '{0}' has {1} layer attribute(s) but no [Input]; declare the input shape first, for example [Input(784)]", Declaration);

    public static readonly DiagnosticDescriptor RepeatedInput = Make(DiagnosticIds.RepeatedInput,
        "[Input] declared more than once",
        "Network class '{0}' declares [Input] {1} times; a network has exactly one input", Declaration);

    public static readonly DiagnosticDescriptor InputNotFirst = Make(DiagnosticIds.InputNotFirst,
        "[Input] after layer attributes",
        "[Input] must come before the layers, but {0} layer attribute(s) precede it", Declaration);

    public static readonly DiagnosticDescriptor NonPositiveSize = Make(DiagnosticIds.NonPositiveSize,
        "Size must be positive",
        "{0} must be positive, but is {1}", Shapes);

    public static readonly DiagnosticDescriptor SoftmaxNotLast = Make(DiagnosticIds.SoftmaxNotLast,
        "Softmax on a layer that is not last",
        "Softmax is allowed only on the last layer, but layer {0} ({1}) is followed by {2} more layer(s)", Layers);

    public static readonly DiagnosticDescriptor LossMismatch = Make(DiagnosticIds.LossMismatch,
        "Loss does not fit the output",
        "{0} does not fit this network: {1}", Loss);

    public static readonly DiagnosticDescriptor SplitAcrossPartials = Make(DiagnosticIds.SplitAcrossPartials,
        "Layer attributes split across partial declarations",
        "The GenNets attributes of network '{0}' are spread over {1} or more partial declarations, so their order is undefined; keep them on one declaration", Declaration);

    public static readonly DiagnosticDescriptor DropoutOutOfRange = Make(DiagnosticIds.DropoutOutOfRange,
        "Dropout probability outside [0, 1)",
        "The dropout probability must be in [0, 1), but is {0}", Layers);

    public static readonly DiagnosticDescriptor NetworkTooLarge = Make(DiagnosticIds.NetworkTooLarge,
        "Network too large to generate sensibly",
        "Network '{0}' has {1} parameters ({2} MB of weights), more than the {3} GenNets is made for; training it on a CPU will be slow and its buffers large", Shapes, DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor RepeatedLoss = Make(DiagnosticIds.RepeatedLoss,
        "[Loss] declared more than once",
        "Network class '{0}' declares [Loss] {1} times; a network has one loss", Declaration);

    public static readonly DiagnosticDescriptor UnsupportedDeclaration = Make(DiagnosticIds.UnsupportedDeclaration,
        "Declaration cannot hold a network",
        "Network '{0}' cannot be generated: {1}", Declaration);

    public static readonly DiagnosticDescriptor NoLayers = Make(DiagnosticIds.NoLayers,
        "Network has an input but no layers",
        "Network '{0}' declares an [Input] but no layers; add at least one, for example [Dense(10)]", Declaration);

    public static readonly DiagnosticDescriptor InvalidEnumValue = Make(DiagnosticIds.InvalidEnumValue,
        "Value is not a member of its enum",
        "{0} is not a valid {1}", Declaration);

    public static readonly DiagnosticDescriptor DuplicateTensorName = Make(DiagnosticIds.DuplicateTensorName,
        "Two layers share tensor names",
        "Layer {0} names its tensors '{1}', which layer {2} already uses; tensor names in a weights file must be unique", Layers);

    public static readonly DiagnosticDescriptor SizeOverflow = Make(DiagnosticIds.SizeOverflow,
        "Network larger than a .NET array can hold",
        "Network '{0}' would need {1} floats in one buffer, more than a .NET array can hold", Shapes);

    public static readonly DiagnosticDescriptor DerivedNetwork = Make(DiagnosticIds.DerivedNetwork,
        "Network derives from another network",
        "Network class '{0}' derives from the network '{1}'; a network cannot extend another (each generated class would hide the other's members), so nothing is generated for '{0}': derive both from a common base class without GenNets attributes, or hold a '{1}' in a field", Declaration);

    public static readonly DiagnosticDescriptor MemberCollision = Make(DiagnosticIds.MemberCollision,
        "Member collides with a generated member",
        "GenNets generates '{1}' for network '{0}', but {3} already declares '{2}'; rename or remove that member, or the network gets no code", Declaration);

    public static readonly DiagnosticDescriptor KernelLargerThanInput = Make(DiagnosticIds.KernelLargerThanInput,
        "Convolution kernel larger than its padded input",
        "Layer {0} (Conv2D): the kernel's {1} {2} is larger than the input's {1} {3} with padding ({4}), so there is no window to compute", Shapes);

    public static readonly DiagnosticDescriptor StrideLeavesInputUnused = Make(DiagnosticIds.StrideLeavesInputUnused,
        "Stride leaves input unused",
        "Layer {0} (Conv2D): stride {1} over the padded {2} {3} with kernel {4} leaves the last {5} {6} of the input unused", Shapes, DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor PoolingDoesNotDivide = Make(DiagnosticIds.PoolingDoesNotDivide,
        "Pooling does not divide its input",
        "Layer {0} ({1}): windows of {2} with stride {3} do not tile the {4}×{5} input; the last {6} row(s) and {7} column(s) are dropped", Shapes, DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor NeedsFlatten = Make(DiagnosticIds.NeedsFlatten,
        "Dense layer on a 3-D tensor without [Flatten]",
        "Layer {0} (Dense) gets the (channels, height, width) tensor {1}; add [Flatten] before it to read it as a vector of {2}", Shapes);

    public static readonly DiagnosticDescriptor WrongInputRank = Make(DiagnosticIds.WrongInputRank,
        "Layer cannot take an input of this rank",
        "Layer {0} ({1}) needs a {4} input, but gets {2} ({3} axes){5}", Shapes);

    public static readonly DiagnosticDescriptor SpatialSizeZero = Make(DiagnosticIds.SpatialSizeZero,
        "Spatial size shrinks to zero",
        "Layer {0} ({1}): a window of {2} does not fit the {3}×{4} input, so the output would have no rows or columns", Shapes);

    public static readonly DiagnosticDescriptor SameNeedsStrideOne = Make(DiagnosticIds.SameNeedsStrideOne,
        "\"Same\" padding with a stride above 1",
        "Layer {0} (Conv2D): Padding = Same keeps the size only with stride 1, but the stride is {1}; give the padding as a number", Shapes);

    public static readonly DiagnosticDescriptor NegativePadding = Make(DiagnosticIds.NegativePadding,
        "Negative padding",
        "Layer {0} (Conv2D): the padding must be 0 or more, or Conv2DAttribute.Same, but is {1}; -1 is Same, and no other negative value is allowed", Shapes);

    public static readonly DiagnosticDescriptor NonFiniteValue = Make(DiagnosticIds.NonFiniteValue,
        "Value must be a finite number",
        "{0} must be a finite number, but is {1}", Layers);

    public static readonly DiagnosticDescriptor LongSimpleRnn = Make(DiagnosticIds.LongSimpleRnn,
        "SimpleRNN over a long sequence",
        "Layer {0} (SimpleRNN) runs over {1} steps; a plain RNN's gradients vanish or explode over more than about {2}, so it rarely learns dependencies that long: consider LSTM or GRU", Layers, DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor EveryStateKept = Make(DiagnosticIds.EveryStateKept,
        "Every state of a recurrent layer kept",
        "Layer {0} ({1}) returns its state at each of the {2} steps, and {3}; if one prediction per sequence is meant, set ReturnSequences = false to keep the last state only",
        Layers, DiagnosticSeverity.Info);

    public static readonly DiagnosticDescriptor NotABlock = Make(DiagnosticIds.NotABlock,
        "[Residual] of a class that is not a [Block]",
        "'{0}' is given to [Residual] or [Sequential] but is not marked [Block]; mark it [Block] so that its layer attributes form the block's layers", Layers);

    public static readonly DiagnosticDescriptor RecursiveBlock = Make(DiagnosticIds.RecursiveBlock,
        "Block uses itself",
        "Block '{0}' uses itself ({1}), so it would never end; a block may use other blocks, but not itself, directly or through another", Layers);

    public static readonly DiagnosticDescriptor BlockDeclaresInputOrLoss = Make(DiagnosticIds.BlockDeclaresInputOrLoss,
        "Block declares [Input] or [Loss]",
        "Block '{0}' declares [{1}]; a block takes its input shape from where it is used and has no loss of its own: remove it", Layers);

    public static readonly DiagnosticDescriptor ResidualChangesRank = Make(DiagnosticIds.ResidualChangesRank,
        "Residual block changes the rank",
        "In {0}, the block turns its input {1} ({3} axes) into {2} ({4} axes); a skip adds the input to the output, and no projection can change the number of axes", Shapes);

    public static readonly DiagnosticDescriptor ResidualCannotProject = Make(DiagnosticIds.ResidualCannotProject,
        "Residual block's skip cannot be projected",
        "In {0}, the block turns its input {1} into {2}, and {3}; make the block keep those sizes, or change them as a stride does", Shapes);

    public static readonly DiagnosticDescriptor EmptyBlock = Make(DiagnosticIds.EmptyBlock,
        "Block has no layers",
        "Block '{0}' has no layer attributes, so the residual would only add its input to itself; give the block its layers", Layers);

    public static readonly DiagnosticDescriptor BatchNormRank = Make(DiagnosticIds.BatchNormRank,
        "BatchNorm on an input it cannot normalise",
        "Layer {0} (BatchNorm) gets {1} ({2} axes); batch normalisation takes (channels, height, width) after a convolution or (features) after a dense layer: for (time, features) use [LayerNorm]", Shapes);

    public static readonly DiagnosticDescriptor TooManyLayers = Make(DiagnosticIds.TooManyLayers,
        "Too many layers after repeating blocks",
        "Network '{0}' would have {1} layers once its blocks are repeated, more than {2}; lower the Repeat", Shapes);

    public static readonly DiagnosticDescriptor HeadsDoNotDivide = Make(DiagnosticIds.HeadsDoNotDivide,
        "Attention heads do not divide the model's width",
        "Layer {0} ({1}) splits {2} features over {3} heads, which leaves {4}; each head takes features / heads, so use a number of heads that divides {2} (such as {5})", Shapes);

    public static readonly DiagnosticDescriptor TokensNeedEmbedding = Make(DiagnosticIds.TokensNeedEmbedding,
        "Token input not followed by an embedding",
        "Network '{0}' reads token ids ([TokenInput({1}, {2})]), but its first layer is {3}; ids are labels, not amounts: put an [Embedding(dimension)] first", Shapes);

    public static readonly DiagnosticDescriptor AttentionNeedsPositions = Make(DiagnosticIds.AttentionNeedsPositions,
        "Attention on an input without a positions axis",
        "Layer {0} ({1}) gets {2} ({3} axes); attention needs (positions, features), such as an [Embedding]'s output or an [Input(positions, features)]", Shapes);

    public static readonly DiagnosticDescriptor PositionalTableTooShort = Make(DiagnosticIds.PositionalTableTooShort,
        "Learned positional table shorter than the input",
        "Layer {0} (PositionalEncoding) has a learned table of {1} positions, but its input has {2}; set Length to at least {2} (or leave it 0)", Shapes);

    public static readonly DiagnosticDescriptor VocabularyTooSmall = Make(DiagnosticIds.VocabularyTooSmall,
        "Vocabulary below 2",
        "The token input of network '{0}' has a vocabulary of {1}; a vocabulary needs at least 2 ids to say anything", Shapes);

    public static readonly DiagnosticDescriptor EmbeddingNeedsTokens = Make(DiagnosticIds.EmbeddingNeedsTokens,
        "Embedding not right after a token input",
        "Layer {0} (Embedding) gets {1}, not token ids; an embedding looks ids up, so it must be the first layer after a [TokenInput(length, vocabulary)]", Shapes);

    public static readonly ImmutableArray<DiagnosticDescriptor> All = ImmutableArray.Create(
        NotPartial, MissingInput, RepeatedInput, InputNotFirst, NonPositiveSize, SoftmaxNotLast, LossMismatch, SplitAcrossPartials,
        DropoutOutOfRange, NetworkTooLarge, RepeatedLoss, UnsupportedDeclaration, NoLayers, InvalidEnumValue, DuplicateTensorName, SizeOverflow,
        KernelLargerThanInput, StrideLeavesInputUnused, PoolingDoesNotDivide, NeedsFlatten, WrongInputRank, SpatialSizeZero, SameNeedsStrideOne,
        NegativePadding, NonFiniteValue, DerivedNetwork, MemberCollision, LongSimpleRnn, EveryStateKept,
        NotABlock, RecursiveBlock, BlockDeclaresInputOrLoss, ResidualChangesRank, ResidualCannotProject, EmptyBlock, BatchNormRank, TooManyLayers,
        HeadsDoNotDivide, TokensNeedEmbedding, AttentionNeedsPositions, PositionalTableTooShort, VocabularyTooSmall, EmbeddingNeedsTokens,
        // Reported by the generator, which checks the runtime it writes code against; listed here so that the table is whole.
        RuntimeContract.Mismatch, RuntimeContract.Missing);

    private static readonly Dictionary<string, DiagnosticDescriptor> ById = All.ToDictionary(d => d.Id);

    public static DiagnosticDescriptor For(string id) => ById[id];
}
