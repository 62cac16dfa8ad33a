namespace GenNets.Generators.Model;

/// <summary>
/// Stable diagnostic IDs, shared by the analyzers (which report them), the code fixes (which match on
/// them) and the tests. docs/diagnostics.md has an entry for each.
/// </summary>
internal static class DiagnosticIds
{
    // GN0001–GN0019: the declaration and the foundation's layers.
    public const string NotPartial = "GN0001";
    public const string MissingInput = "GN0002";
    public const string RepeatedInput = "GN0003";
    public const string InputNotFirst = "GN0004";
    public const string NonPositiveSize = "GN0005";
    public const string SoftmaxNotLast = "GN0006";
    public const string LossMismatch = "GN0007";
    public const string SplitAcrossPartials = "GN0008";
    public const string DropoutOutOfRange = "GN0009";
    public const string NetworkTooLarge = "GN0010";
    public const string RepeatedLoss = "GN0011";
    public const string UnsupportedDeclaration = "GN0012";
    public const string NoLayers = "GN0013";
    public const string InvalidEnumValue = "GN0014";
    public const string DuplicateTensorName = "GN0015";
    public const string SizeOverflow = "GN0016";
    public const string NonFiniteValue = "GN0017";
    public const string DerivedNetwork = "GN0018";
    public const string MemberCollision = "GN0019";

    // GN0020–GN0029: convolutional networks.
    public const string KernelLargerThanInput = "GN0020";
    public const string StrideLeavesInputUnused = "GN0021";
    public const string PoolingDoesNotDivide = "GN0022";
    public const string NeedsFlatten = "GN0023";
    public const string WrongInputRank = "GN0024";
    public const string SpatialSizeZero = "GN0025";
    public const string SameNeedsStrideOne = "GN0026";
    public const string NegativePadding = "GN0027";

    // GN0030–GN0039: recurrent networks.
    public const string LongSimpleRnn = "GN0030";
    public const string EveryStateKept = "GN0031";

    // GN0050–GN0059: residual networks, blocks and normalisation.
    public const string NotABlock = "GN0050";
    public const string RecursiveBlock = "GN0051";
    public const string BlockDeclaresInputOrLoss = "GN0052";
    public const string ResidualChangesRank = "GN0053";
    public const string ResidualCannotProject = "GN0054";
    public const string EmptyBlock = "GN0055";
    public const string BatchNormRank = "GN0056";
    public const string TooManyLayers = "GN0057";
    public const string HeadsDoNotDivide = "GN0058";
    public const string TokensNeedEmbedding = "GN0059";
    public const string AttentionNeedsPositions = "GN0060";
    public const string PositionalTableTooShort = "GN0061";
    public const string VocabularyTooSmall = "GN0062";
    public const string EmbeddingNeedsTokens = "GN0063";

    // GN0040–GN0049: the build itself (the generator reports these, not the analyzer).
    public const string RuntimeMismatch = "GN0040";
    public const string RuntimeMissing = "GN0041";

    /// <summary>docs/diagnostics.md in the repository: each diagnostic's help link is its section there (the heading "## GN0001" has the anchor "#gn0001").</summary>
    private const string HelpBase = "https://github.com/gennets/gennets/blob/main/docs/diagnostics.md";

    /// <summary>The help link of diagnostic <paramref name="id"/>.</summary>
    public static string HelpLink(string id) => HelpBase + "#" + id.ToLowerInvariant();

    /// <summary>Steps above which a SimpleRNN draws GN0030.</summary>
    public const int LongSequenceSteps = 100;

    /// <summary>The diagnostics that are warnings: a network with only these is still generated.</summary>
    public static bool IsWarning(string id) => id is NetworkTooLarge or StrideLeavesInputUnused or PoolingDoesNotDivide or LongSimpleRnn;

    /// <summary>The diagnostics that are suggestions (Info): the IDE shows them, builds do not.</summary>
    public static bool IsInfo(string id) => id is EveryStateKept;

    /// <summary>The diagnostics that stop a network from being generated.</summary>
    public static bool IsError(string id) => !IsWarning(id) && !IsInfo(id);

    /// <summary>Parameters above which GN0010 warns.</summary>
    public const long LargeNetworkParameters = 50_000_000;
}
