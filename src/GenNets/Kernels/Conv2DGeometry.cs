using System;

namespace GenNets.Kernels;

/// <summary>
/// The sizes of one 2-D convolution on a CHW sample, all known when the network is generated. Zero padding of
/// <see cref="PadTop"/> rows above and <see cref="PadLeft"/> columns left (the bottom and right padding are
/// whatever makes the output size come out; for "same" with an even kernel that is one more, as in PyTorch).
/// </summary>
public sealed class Conv2DGeometry
{
    /// <summary>Describes a convolution; the output size is (H + padding − K) / S + 1 per axis.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size or the stride is less than 1, a padding is negative, or the
    /// convolution's tensors or the buffers its kernels use would hold more than <see cref="int.MaxValue"/> floats (the
    /// largest size is named).</exception>
    /// <exception cref="ArgumentException">The output size is not one the input, kernel, stride and padding can give
    /// (named: <paramref name="outHeight"/> or <paramref name="outWidth"/>).</exception>
    public Conv2DGeometry(int inChannels, int height, int width, int outChannels, int kernelHeight, int kernelWidth,
        int stride, int padTop, int padLeft, int outHeight, int outWidth)
    {
        Sizes.Positive(inChannels, nameof(inChannels));
        Sizes.Positive(height, nameof(height));
        Sizes.Positive(width, nameof(width));
        Sizes.Positive(outChannels, nameof(outChannels));
        Sizes.Positive(kernelHeight, nameof(kernelHeight));
        Sizes.Positive(kernelWidth, nameof(kernelWidth));
        Sizes.Positive(stride, nameof(stride));
        Sizes.NotNegative(padTop, nameof(padTop));
        Sizes.NotNegative(padLeft, nameof(padLeft));
        Sizes.Positive(outHeight, nameof(outHeight));
        Sizes.Positive(outWidth, nameof(outWidth));
        // The last window may reach at most one row (column) further into the padding below (right) than above (left).
        // In long: none of these sums or products can wrap.
        long reachDown = (long)(outHeight - 1) * stride + kernelHeight, reachRight = (long)(outWidth - 1) * stride + kernelWidth;
        if (reachDown > height + 2L * padTop + 1 || reachRight > width + 2L * padLeft + 1)
            throw new ArgumentException($"Conv2D geometry: input [{inChannels}, {height}, {width}], {outChannels} filters {kernelHeight}×{kernelWidth}, stride {stride}, padding ({padTop}, {padLeft}), output {outHeight}×{outWidth} is not a valid convolution.",
                reachDown > height + 2L * padTop + 1 ? nameof(outHeight) : nameof(outWidth));
        CheckExtents(inChannels, height, width, outChannels, kernelHeight, kernelWidth, stride, padTop, padLeft, outHeight, outWidth, reachDown, reachRight);
        InChannels = inChannels; Height = height; Width = width; OutChannels = outChannels;
        KernelHeight = kernelHeight; KernelWidth = kernelWidth; Stride = stride; PadTop = padTop; PadLeft = padLeft;
        OutHeight = outHeight; OutWidth = outWidth;
        PaddedHeight = Math.Max(height + padTop, (outHeight - 1) * stride + kernelHeight);
        PaddedWidth = Math.Max(width + padLeft, (outWidth - 1) * stride + kernelWidth);
        // Stride 1 with no more padding on the right than on the left: each row's right padding is the next row's left
        // padding (the rows wrap), so a row is W + padLeft wide and the wide layout computes padLeft dropped columns a
        // row instead of 2·padLeft (3×3 "same" on 14×14: 15 columns a row for 14 outputs, not 16). A row must still hold
        // its outputs: with padding as wide as the kernel (a 1×1 kernel with padding 1), there are more than W + padLeft.
        if (stride == 1 && outWidth - 1 + kernelWidth <= width + 2 * padLeft && outWidth <= width + padLeft)
            PaddedWidth = width + padLeft;
        if (stride == 1)
        {
            // Where each (input channel, kernel row, kernel column) reads the padded input, relative to the output position.
            RowOffsets = new int[Patch];
            int row = 0;
            for (int c = 0; c < inChannels; c++)
                for (int i = 0; i < kernelHeight; i++)
                    for (int j = 0; j < kernelWidth; j++)
                        RowOffsets[row++] = (c * PaddedHeight + i) * PaddedWidth + j;
        }
    }

    // Every tensor of the convolution and every buffer its kernels take (Convolution's scratch, sized from the properties
    // below) must fit an int: computed here once, in Int128, so that no property or kernel's size arithmetic can wrap.
    private static void CheckExtents(int inChannels, int height, int width, int outChannels, int kernelHeight, int kernelWidth,
        int stride, int padTop, int padLeft, int outHeight, int outWidth, long reachDown, long reachRight)
    {
        Int128 paddedHeight = Math.Max(height + (long)padTop, reachDown), paddedWidth = Math.Max(width + (long)padLeft, reachRight);
        Int128 patch = (Int128)inChannels * kernelHeight * kernelWidth, positions = (Int128)outHeight * outWidth;
        Int128 wide = (outHeight * paddedWidth + 15) / 16 * 16;
        Int128 padded = inChannels * paddedHeight * paddedWidth + wide + kernelWidth + 16;
        Int128 turnedStride = outChannels + 32; // Gemm.PaddedStride(outChannels) is at most outChannels + 31
        (Int128 Floats, string What)[] extents =
        [
            ((Int128)inChannels * height * width, "An input sample"),
            (outChannels * positions, "An output sample"),
            (outChannels * patch, "The weights"),
            (patch * positions, "The unfolded input"),
            (2 * padded, "The padded input (twice, for the folded input gradient)"),
            (outChannels * wide + Convolution.Room, "The wide output"),
            (patch * wide, "The wide unfolded gradient"),
            (wide * turnedStride + patch * outChannels + 2 * outChannels, "The turned output gradient"),
            (outChannels * patch + 2 * (Int128)(outWidth / 2) * 32, "The channels-last weights"),
        ];
        foreach (var (floats, what) in extents)
            if (floats > int.MaxValue)
                throw new ArgumentOutOfRangeException(Sizes.Largest((inChannels, nameof(inChannels)), (height, nameof(height)), (width, nameof(width)),
                        (outChannels, nameof(outChannels)), (kernelHeight, nameof(kernelHeight)), (kernelWidth, nameof(kernelWidth)), (padTop, nameof(padTop)),
                        (padLeft, nameof(padLeft)), (outHeight, nameof(outHeight)), (outWidth, nameof(outWidth))),
                    $"Conv2D geometry: input [{inChannels}, {height}, {width}], {outChannels} filters {kernelHeight}×{kernelWidth}, stride {stride}, padding ({padTop}, {padLeft}), " +
                    $"output {outHeight}×{outWidth}: {what} comes to {floats} floats, more than a span can hold ({int.MaxValue}).");
    }

    /// <summary>
    /// For a stride-1 convolution whose padding is at most K − 1, the convolution that computes its input gradient from
    /// its output gradient: input [outC, outH, outW] padded by K − 1 − P, output [inC, H, W], weights
    /// <see cref="Convolution.FlipKernel"/>; else null (the input gradient is then folded back). Made when first asked for.
    /// </summary>
    internal Conv2DGeometry? InputGradient => RowOffsets is null || IsPointwise || PadTop > KernelHeight - 1 || PadLeft > KernelWidth - 1
        // and the far side's padding at least the near side's less one (else the flipped geometry is no convolution)
        || PadTop > OutHeight - 1 + KernelHeight - Height - PadTop + 1 || PadLeft > OutWidth - 1 + KernelWidth - Width - PadLeft + 1 ? null
        : _inputGradient ??= new Conv2DGeometry(OutChannels, OutHeight, OutWidth, InChannels, KernelHeight, KernelWidth, 1,
            KernelHeight - 1 - PadTop, KernelWidth - 1 - PadLeft, Height, Width);
    private Conv2DGeometry? _inputGradient;

    /// <summary>Rows of the zero-padded input: the input, the padding above, and whatever padding below the last window reaches.</summary>
    public int PaddedHeight { get; }
    /// <summary>Columns of the zero-padded input.</summary>
    public int PaddedWidth { get; }
    /// <summary>Output positions in the wide layout of a stride-1 convolution: outH rows of the padded width, rounded up to whole 16-float blocks.</summary>
    public int WidePositions => (OutHeight * PaddedWidth + 15) / 16 * 16;
    /// <summary>Floats of the padded input, with room for the last block to read past the end.</summary>
    public int PaddedLength => InChannels * PaddedHeight * PaddedWidth + WidePositions + KernelWidth + 16;
    /// <summary>For stride 1, the offset in the padded input at which each row of the unfolded input starts; otherwise null.</summary>
    internal int[]? RowOffsets { get; }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }
    /// <summary>Input height.</summary>
    public int Height { get; }
    /// <summary>Input width.</summary>
    public int Width { get; }
    /// <summary>Output channels (filters).</summary>
    public int OutChannels { get; }
    /// <summary>Kernel rows.</summary>
    public int KernelHeight { get; }
    /// <summary>Kernel columns.</summary>
    public int KernelWidth { get; }
    /// <summary>Step between windows, both axes.</summary>
    public int Stride { get; }
    /// <summary>Zero rows above the input.</summary>
    public int PadTop { get; }
    /// <summary>Zero columns left of the input.</summary>
    public int PadLeft { get; }
    /// <summary>Output rows.</summary>
    public int OutHeight { get; }
    /// <summary>Output columns.</summary>
    public int OutWidth { get; }

    /// <summary>Floats of one input sample.</summary>
    public int InputLength => InChannels * Height * Width;
    /// <summary>Floats of one output sample.</summary>
    public int OutputLength => OutChannels * OutHeight * OutWidth;
    /// <summary>Output positions per channel.</summary>
    public int Positions => OutHeight * OutWidth;
    /// <summary>Rows of the unfolded input: one per (input channel, kernel row, kernel column), the weight's inner size.</summary>
    public int Patch => InChannels * KernelHeight * KernelWidth;
    /// <summary>Weight floats, [outC, inC, kh, kw].</summary>
    public int WeightLength => OutChannels * Patch;
    /// <summary>Floats of one sample's unfolded input, [Patch, Positions].</summary>
    public int ColumnsLength => Patch * Positions;
    /// <summary>Multiply-adds of one sample's forward pass.</summary>
    public long MultiplyAdds => (long)OutChannels * Patch * Positions;
    /// <summary>True when the unfolded input is the input itself (1×1 kernel, stride 1, no padding).</summary>
    public bool IsPointwise => KernelHeight == 1 && KernelWidth == 1 && Stride == 1 && PadTop == 0 && PadLeft == 0;
}
