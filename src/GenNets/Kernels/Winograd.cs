using System;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GenNets.Kernels;

/// <summary>
/// 3×3 convolutions of stride 1 and padding 1 ("same" size, PyTorch's <c>Conv2d(…, 3, padding=1)</c>) by Winograd's
/// minimal filtering F(m×m, 3×3): each m×m block of outputs (a tile) is Aᵀ[Σ_c (G g G ᵀ) ⊙ (Bᵀ d B)]A over the input
/// channels c, with d the (m + 2)² inputs under the tile and g the 3×3 kernel, so that a tile costs (m + 2)² products
/// per pair of channels instead of 9m². F(4×4, 3×3) (36 products for 16 outputs, a quarter of the direct count) is the
/// default; F(2×2, 3×3) (16 for 4) is the more accurate one. A sample is turned channels-last (a vector of channels
/// per position), its tiles are transformed a block of up to eight at a time, the (m + 2)² products over the channels
/// are taken as vectors of output channels (each tile's channel sums in a fixed order, whatever block it fell in), and
/// each tile is transformed back, its bias added and max(0, ·) applied, then the sample is turned back to CHW. Weights
/// are transformed at every call (they change at every training step). Results differ from the direct sums in the
/// last bits (F(4×4) more than F(2×2): its transforms have coefficients up to 8), never with the thread or the split
/// of the batch: every sample is computed alone, in the same order. The weight gradient is the same computation's
/// adjoint, M = Σ (A dY Aᵀ) ⊙ (Bᵀ X B) over the samples and tiles taken back by Gᵀ M G: a sum over the batch, so its
/// bits depend on the batch it is given (as any weight gradient's do), never on the call or the thread.
/// </summary>
public static class Winograd
{
    [ThreadStatic] private static float[]? t_work;
    [ThreadStatic] private static (float[]?, int, int, int, int, int, int) t_layout;
    [ThreadStatic] private static float[]? t_gradientWork;
    [ThreadStatic] private static (float[]?, int, int, int, int, int, int, int, int) t_gradientLayout;

    /// <summary>The output tile's side the public entry points use: 4, F(4×4, 3×3).</summary>
    public const int DefaultTile = 4;

    // Tiles transformed and multiplied together: the product keeps one accumulator a tile.
    private const int Block = 8;

    // Floats between one ξ's part of a transformed buffer and the next's, past what it holds.
    private const int Spacing = 16;

    /// <summary>
    /// Whether <paramref name="g"/> is a convolution this class computes: stride 1, a 3×3 kernel, padding 1 on every
    /// side, so the output has the input's size.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="g"/> is null.</exception>
    public static bool Supports(Conv2DGeometry g)
    {
        ArgumentNullException.ThrowIfNull(g);
        return g.Stride == 1 && g.KernelHeight == 3 && g.KernelWidth == 3 && g.PadTop == 1 && g.PadLeft == 1
            && g.OutHeight == g.Height && g.OutWidth == g.Width;
    }

    // Whether Convolution takes g (its forward pass, or the input gradient's convolution with the channels swapped) by
    // F(4×4, 3×3): a geometry Supports takes, with at least 8 channels in, 16 out and 14×14 positions. Never the batch:
    // a sample's bits must not depend on how a batch was split. Measured against the shifted-rows product in turns
    // (the benchmarks' --winograd, 512-bit vectors, medians of batch 1 and 64, µs per sample, shifted → F(4×4)):
    // 16→16 on 28×28 36 → 23 and 36 → 24, its input gradient 32 → 24 and 33 → 24; 8→16 on 28×28 22 → 15 and 22 → 19;
    // 16→32 on 14×14 21 → 14, 33 → 17; 32→32 on 14×14 38 → 26, 36 → 19. Slower: 16→8 (the input gradient of 8→16)
    // 19 → 21, 20 → 23; 3→16 on 28×28 14 → 21; and on 7×7 at batch 1 (64→64: 37 → 60), where the weights' transform,
    // the same for every size, is not paid back. With 256-bit vectors (DOTNET_EnableAVX512=0) the same geometries gain
    // more (16→16 on 28×28: 59 → 31 and 60 → 32) and 16→8 gains too (31 → 19); 7×7 at batch 1 still loses (66 → 75).
    // Not taken without 256-bit vectors: unmeasured, and the turns to and from channels-last go one float at a time.
    // The weight gradient (WeightGradient, from Convolution's backward) is taken on the same geometries: measured on
    // 16→16 on 28×28, 64 samples, 512-bit vectors, medians of three runs of 60: the lane-wise kernel (LaneGradients,
    // its samples padded) 2.29 → 1.37 ms, Convolution.Backward without dX 3.67 → 1.58 ms. Other geometries unmeasured:
    // the products fall by the same factor of four, the transforms scale with the channels as the forward pass's do.
    internal static bool Worthwhile(Conv2DGeometry g, int inC, int outC) =>
        Vector256.IsHardwareAccelerated && inC >= 8 && outC >= 16 && g.Height * g.Width >= 196 && Supports(g);

    /// <summary>
    /// Y = conv(X, W) + bias (through max(0, ·) with <paramref name="relu"/>) for <paramref name="batch"/> samples, as
    /// <see cref="Convolution.Forward"/> computes it, by F(<paramref name="tile"/>×<paramref name="tile"/>, 3×3).
    /// Allocates only when a thread first sees a larger geometry.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="g"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is negative, or <paramref name="tile"/> is neither 2 nor 4.</exception>
    /// <exception cref="ArgumentException"><paramref name="g"/> is not a geometry <see cref="Supports"/> takes, or a span is shorter than the geometry and batch need.</exception>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, int batch, Conv2DGeometry g, bool relu = false,
        int tile = DefaultTile)
    {
        CheckGeometry(g, tile);
        Sizes.NotNegative(batch, nameof(batch));
        Sizes.Need(x.Length, Sizes.Product(batch, nameof(batch), g.InputLength, nameof(g)), nameof(x), "a batch of {0} inputs of {1}", batch, g.InputLength);
        Sizes.Need(y.Length, Sizes.Product(batch, nameof(batch), g.OutputLength, nameof(g)), nameof(y), "a batch of {0} outputs of {1}", batch, g.OutputLength);
        Sizes.Need(weight.Length, g.WeightLength, nameof(weight), "weights [{0}, {1}]", g.OutChannels, g.Patch);
        Sizes.Need(bias.Length, g.OutChannels, nameof(bias), "a bias of {0} filters", g.OutChannels);
        Run(x, weight, flipped: false, bias, y, batch, g.InChannels, g.OutChannels, g.Height, g.Width, relu, tile);
    }

    /// <summary>
    /// dX [batch, inC, H, W] from dY [batch, outC, H, W] for the convolution <see cref="Forward"/> computes: the
    /// convolution of dY with the kernel turned by 180° and its channels swapped, by F(<paramref name="tile"/>×<paramref name="tile"/>, 3×3).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="g"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is negative, or <paramref name="tile"/> is neither 2 nor 4.</exception>
    /// <exception cref="ArgumentException"><paramref name="g"/> is not a geometry <see cref="Supports"/> takes, or a span is shorter than the geometry and batch need.</exception>
    public static void InputGradient(ReadOnlySpan<float> weight, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch, Conv2DGeometry g,
        int tile = DefaultTile)
    {
        CheckGeometry(g, tile);
        Sizes.NotNegative(batch, nameof(batch));
        Sizes.Need(outputGradient.Length, Sizes.Product(batch, nameof(batch), g.OutputLength, nameof(g)), nameof(outputGradient), "a batch of {0} outputs of {1}", batch, g.OutputLength);
        Sizes.Need(inputGradient.Length, Sizes.Product(batch, nameof(batch), g.InputLength, nameof(g)), nameof(inputGradient), "a batch of {0} inputs of {1}", batch, g.InputLength);
        Sizes.Need(weight.Length, g.WeightLength, nameof(weight), "weights [{0}, {1}]", g.OutChannels, g.Patch);
        RunInputGradient(weight, outputGradient, inputGradient, batch, g, tile);
    }

    // The input gradient, sizes checked: a forward pass over dY with the flipped kernel, no bias.
    internal static void RunInputGradient(ReadOnlySpan<float> weight, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch, Conv2DGeometry g, int tile) =>
        Run(outputGradient, weight, flipped: true, default, inputGradient, batch, g.OutChannels, g.InChannels, g.Height, g.Width, relu: false, tile);

    /// <summary>
    /// dW [outC, inC, 3, 3] for the convolution <see cref="Forward"/> computes, given X and dY over
    /// <paramref name="batch"/> samples, by the adjoint of F(<paramref name="tile"/>×<paramref name="tile"/>, 3×3): for each
    /// of the (m + 2)² transformed positions ξ, M_ξ[o, i] = Σ over the samples and tiles of (A dY Aᵀ)_ξ[o]·(Bᵀ X B)_ξ[i]
    /// (dY's m×m tile taken to (m + 2)², zero past the output's edge; the (m + 2)² inputs under it transformed as the
    /// forward pass does), then dW[o, i] = Gᵀ M[o, i] G. Overwrites <paramref name="weightGradient"/> (zeros for a batch
    /// of 0); the bias gradient is not taken. The sums run over the samples and tiles in order, in chunks fixed by the
    /// geometry and the vector width, so the same inputs give the same bits at every call. Allocates only when a thread first sees a larger geometry.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="g"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is negative, or <paramref name="tile"/> is neither 2 nor 4.</exception>
    /// <exception cref="ArgumentException"><paramref name="g"/> is not a geometry <see cref="Supports"/> takes, or a span is shorter than the geometry and batch need.</exception>
    public static void WeightGradient(ReadOnlySpan<float> x, ReadOnlySpan<float> outputGradient, Span<float> weightGradient, int batch, Conv2DGeometry g,
        int tile = DefaultTile)
    {
        CheckGeometry(g, tile);
        Sizes.NotNegative(batch, nameof(batch));
        Sizes.Need(x.Length, Sizes.Product(batch, nameof(batch), g.InputLength, nameof(g)), nameof(x), "a batch of {0} inputs of {1}", batch, g.InputLength);
        Sizes.Need(outputGradient.Length, Sizes.Product(batch, nameof(batch), g.OutputLength, nameof(g)), nameof(outputGradient), "a batch of {0} outputs of {1}", batch, g.OutputLength);
        Sizes.Need(weightGradient.Length, g.WeightLength, nameof(weightGradient), "weights [{0}, {1}]", g.OutChannels, g.Patch);
        RunWeightGradient(x, outputGradient, weightGradient, batch, g.InChannels, g.OutChannels, g.Height, g.Width, tile);
    }

    // The weight gradient at this CPU's width and the tile's side, sizes checked by the caller (or by the spans' slices).
    internal static void RunWeightGradient(ReadOnlySpan<float> x, ReadOnlySpan<float> outputGradient, Span<float> weightGradient, int batch,
        int inC, int outC, int h, int w, int tile)
    {
        if (Vector512.IsHardwareAccelerated) RunWeightGradient<Width512, Vector512<float>>(x, outputGradient, weightGradient, batch, inC, outC, h, w, tile);
        else if (Vector256.IsHardwareAccelerated) RunWeightGradient<Width256, Vector256<float>>(x, outputGradient, weightGradient, batch, inC, outC, h, w, tile);
        else RunWeightGradient<Width128, Vector128<float>>(x, outputGradient, weightGradient, batch, inC, outC, h, w, tile);
    }

    internal static void RunWeightGradient<TWidth, TVector>(ReadOnlySpan<float> x, ReadOnlySpan<float> outputGradient, Span<float> weightGradient, int batch,
        int inC, int outC, int h, int w, int tile)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        if (tile == 2) RunWeightGradient<TWidth, TVector, Tile2>(x, outputGradient, weightGradient, batch, inC, outC, h, w);
        else RunWeightGradient<TWidth, TVector, Tile4>(x, outputGradient, weightGradient, batch, inC, outC, h, w);
    }

    // dW, and the bias gradient and dX unless they are empty, in one pass over the batch (RunBackward<…, TTile>), at this
    // CPU's width and the tile's side, sizes checked by the caller.
    internal static void RunBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> outputGradient, Span<float> weightGradient,
        Span<float> biasGradient, Span<float> inputGradient, int batch, int inC, int outC, int h, int w, int tile,
        ReadOnlySpan<float> inputSkipGradient = default, bool throughInputReLU = false)
    {
        if (Vector512.IsHardwareAccelerated)
            RunBackward<Width512, Vector512<float>>(x, weight, outputGradient, weightGradient, biasGradient, inputGradient, batch, inC, outC, h, w, tile, inputSkipGradient, throughInputReLU);
        else if (Vector256.IsHardwareAccelerated)
            RunBackward<Width256, Vector256<float>>(x, weight, outputGradient, weightGradient, biasGradient, inputGradient, batch, inC, outC, h, w, tile, inputSkipGradient, throughInputReLU);
        else
            RunBackward<Width128, Vector128<float>>(x, weight, outputGradient, weightGradient, biasGradient, inputGradient, batch, inC, outC, h, w, tile, inputSkipGradient, throughInputReLU);
    }

    internal static void RunBackward<TWidth, TVector>(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> outputGradient, Span<float> weightGradient,
        Span<float> biasGradient, Span<float> inputGradient, int batch, int inC, int outC, int h, int w, int tile,
        ReadOnlySpan<float> inputSkipGradient = default, bool throughInputReLU = false)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        if (tile == 2)
            RunBackward<TWidth, TVector, Tile2>(x, weight, outputGradient, weightGradient, biasGradient, inputGradient, batch, inC, outC, h, w, inputSkipGradient, throughInputReLU);
        else
            RunBackward<TWidth, TVector, Tile4>(x, weight, outputGradient, weightGradient, biasGradient, inputGradient, batch, inC, outC, h, w, inputSkipGradient, throughInputReLU);
    }

    private static void CheckGeometry(Conv2DGeometry g, int tile)
    {
        if (!Supports(g))
            throw new ArgumentException($"Winograd: the convolution must be 3×3, stride 1, padding 1, output the input's size; not {g.KernelHeight}×{g.KernelWidth}, stride {g.Stride}, padding ({g.PadTop}, {g.PadLeft}), {g.Height}×{g.Width} → {g.OutHeight}×{g.OutWidth}.", nameof(g));
        if (tile != 2 && tile != 4) throw new ArgumentOutOfRangeException(nameof(tile), tile, "Winograd: the output tile is 2 or 4.");
    }

    // At this CPU's width and the tile's side. With `flipped`, the kernel of output channel o and input channel i is
    // weight[i, o] turned by 180° (weight is then [inC, outC, 3, 3] of this call's channels, as the input gradient has it).
    internal static void Run(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, bool flipped, ReadOnlySpan<float> bias, Span<float> y, int batch,
        int inC, int outC, int h, int w, bool relu, int tile, ReadOnlySpan<float> residual = default)
    {
        if (Vector512.IsHardwareAccelerated) Run<Width512, Vector512<float>>(x, weight, flipped, bias, y, batch, inC, outC, h, w, relu, tile, residual);
        else if (Vector256.IsHardwareAccelerated) Run<Width256, Vector256<float>>(x, weight, flipped, bias, y, batch, inC, outC, h, w, relu, tile, residual);
        else Run<Width128, Vector128<float>>(x, weight, flipped, bias, y, batch, inC, outC, h, w, relu, tile, residual);
    }

    internal static void Run<TWidth, TVector>(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, bool flipped, ReadOnlySpan<float> bias, Span<float> y, int batch,
        int inC, int outC, int h, int w, bool relu, int tile, ReadOnlySpan<float> residual = default)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        if (tile == 2) Run<TWidth, TVector, Tile2>(x, weight, flipped, bias, y, batch, inC, outC, h, w, relu, residual);
        else Run<TWidth, TVector, Tile4>(x, weight, flipped, bias, y, batch, inC, outC, h, w, relu, residual);
    }

    // The scratch of one call, in floats, each part starting on a 16-float boundary.
    private static long Round16(long floats) => (floats + 15) & ~15L;

    // The next `floats` of a scratch buffer from `offset`, which moves on to the next multiple of 16 floats (64 bytes).
    private static Span<float> Part(Span<float> all, int floats, scoped ref int offset)
    {
        var part = all.Slice(offset, floats);
        offset += (int)Round16(floats);
        return part;
    }

    internal static void Run<TWidth, TVector, TTile>(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, bool flipped, ReadOnlySpan<float> bias, Span<float> y, int batch,
        int inC, int outC, int h, int w, bool relu, ReadOnlySpan<float> residual = default)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct where TTile : struct, ITile
    {
        if (batch == 0) return;
        var work = PrepareForward<TWidth, TVector, TTile>(weight, flipped, bias, inC, outC, h, w);
        int inLength = inC * h * w, outLength = outC * h * w, pw = work.Shape.PaddedWidth;
        bool sum = !residual.IsEmpty;
        for (int n = 0; n < batch; n++)
        {
            ToChannelsLast(x.Slice(n * inLength, inLength), work.Padded, inC, h, w, pw, work.Shape.Icp);
            SampleTiles<TWidth, TVector, TTile>(ref work, work.Padded, inC, relu && !sum);
            // A residual block's sum (and its ReLU) taken as the sample is turned back: Elementwise.Add's bits.
            FromChannelsLast(work.Outputs, y.Slice(n * outLength, outLength), outC, h * w, work.Shape.Ocp,
                sum ? residual.Slice(n * outLength, outLength) : default, default, relu && sum);
        }
    }

    // How one sample's tiles go: m×m outputs a tile over an h×w image, the input's channels padded to icp and the
    // output's to ocp, `rows` tiles a block.
    private readonly record struct TileShape(int M, int H, int W, int Icp, int Ocp, int Rows)
    {
        public int Alpha => M + 2;
        public int Xis => Alpha * Alpha;
        public int TilesX => (W + M - 1) / M;
        public int TilesY => (H + M - 1) / M;
        public int Tiles => TilesY * TilesX;
        public int PaddedHeight => M * TilesY + 2;
        public int PaddedWidth => M * TilesX + 2;
        public int VStride => Block * Icp + Spacing;
        public int MStride => Block * Ocp + Spacing;
    }

    // The forward pass's buffers, this thread's: the padded channels-last input [ph][pw][icp] (one zero row and column
    // before the image, enough after), the channels-last outputs [h·w][ocp], the transformed weights U[ξ][i][o], a
    // block's V[ξ][r][i] and products M[ξ][r][o], the bias padded to ocp, and the transforms' temporaries.
    private ref struct ForwardWork
    {
        public Span<float> Padded, Outputs, U, V, Products, Biases, Temp;
        public TileShape Shape;
    }

    // The scratch of a forward pass (or of the input gradient's, flipped) laid out, the weights transformed and the
    // bias copied. Allocates only when this thread first sees a larger geometry.
    private static ForwardWork PrepareForward<TWidth, TVector, TTile>(ReadOnlySpan<float> weight, bool flipped, ReadOnlySpan<float> bias, int inC, int outC, int h, int w)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct where TTile : struct, ITile
    {
        int lanes = TWidth.Count, m = TTile.M;
        int icp = (inC + lanes - 1) / lanes * lanes, ocp = (outC + lanes - 1) / lanes * lanes;
        int tiles = (h + m - 1) / m * ((w + m - 1) / m);
        // Blocks of tiles as even as they come: 49 tiles (28×28 by 4×4) go as seven blocks of seven, not six of eight and one.
        int blocks = (tiles + Block - 1) / Block, rows = (tiles + blocks - 1) / blocks;
        var shape = new TileShape(m, h, w, icp, ocp, rows);
        int ph = shape.PaddedHeight, pw = shape.PaddedWidth, xis = shape.Xis;
        // The transformed parts are [ξ][…], with a cache line more between the ξ than they hold: strides of whole KB
        // (64 channels × 64 filters: 16 KB) would put every ξ of a vector in one set of L1.
        int uStride = inC * ocp + Spacing, vStride = shape.VStride, mStride = shape.MStride;
        long total = Round16((long)ph * pw * icp) + Round16((long)h * w * ocp) + Round16((long)xis * uStride) + Round16(9L * uStride)
            + Round16((long)xis * vStride) + Round16((long)xis * mStride) + Round16(ocp) + 2 * xis * lanes;
        if (total > Array.MaxLength - 64) throw new ArgumentOutOfRangeException(nameof(inC), $"Winograd: the scratch for {inC} → {outC} channels of {h}×{w} is too large.");
        var all = Scratch.Get(ref t_work, (int)total);
        int at = 0;
        var work = new ForwardWork { Shape = shape };
        work.Padded = Part(all, ph * pw * icp, ref at);
        work.Outputs = Part(all, h * w * ocp, ref at);
        work.U = Part(all, xis * uStride, ref at);
        var taps = Part(all, 9 * uStride, ref at);
        work.V = Part(all, xis * vStride, ref at);
        work.Products = Part(all, xis * mStride, ref at);
        work.Biases = Part(all, ocp, ref at);
        work.Temp = all.Slice(at, 2 * xis * lanes);

        TransformWeights<TWidth, TVector, TTile>(weight, flipped, inC, outC, ocp, taps, work.U, work.Temp);
        work.Biases.Clear();
        if (!bias.IsEmpty) bias.Slice(0, outC).CopyTo(work.Biases);
        // The borders and the channels past inC stay zero for every sample, and from one call to the next of the same
        // layout (nothing else writes them): cleared only when this thread's last call laid the buffer out otherwise.
        var layout = (t_work, ph, pw, icp, inC, h, w);
        if (t_layout != layout)
        {
            work.Padded.Clear();
            t_layout = layout;
        }
        return work;
    }

    // One sample through the forward pass's tiles: from the padded channels-last input `padded` (zero borders, laid out
    // as work.Padded) to the channels-last outputs, a block of tiles at a time: each tile's Bᵀ d B into V, the block's
    // products with U into M, each tile's Aᵀ M A + bias (through max(0, ·)) into work.Outputs.
    private static void SampleTiles<TWidth, TVector, TTile>(scoped ref ForwardWork work, ReadOnlySpan<float> padded, int inC, bool relu)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct where TTile : struct, ITile
    {
        var shape = work.Shape;
        int lanes = TWidth.Count, m = TTile.M, tiles = shape.Tiles, tilesX = shape.TilesX, rows = shape.Rows, pw = shape.PaddedWidth;
        int h = shape.H, w = shape.W, icp = shape.Icp, ocp = shape.Ocp, xis = shape.Xis, vStride = shape.VStride, mStride = shape.MStride;
        if (padded.Length < shape.PaddedHeight * pw * icp)
            throw new ArgumentException($"Winograd: the padded input holds {padded.Length} floats, not {shape.PaddedHeight * pw * icp}.", nameof(padded));
        ref float rpad = ref MemoryMarshal.GetReference(padded);
        ref float v = ref MemoryMarshal.GetReference(work.V);
        ref float u = ref MemoryMarshal.GetReference(work.U);
        ref float products = ref MemoryMarshal.GetReference(work.Products);
        ref float outputs = ref MemoryMarshal.GetReference(work.Outputs);
        ref float biases = ref MemoryMarshal.GetReference(work.Biases);
        ref float temp = ref MemoryMarshal.GetReference(work.Temp);
        for (int first = 0; first < tiles; first += rows)
        {
            int count = Math.Min(rows, tiles - first);
            for (int r = 0; r < count; r++)
            {
                int t = first + r, ty = t / tilesX, tx = t % tilesX;
                ref float corner = ref Unsafe.Add(ref rpad, (m * ty * pw + m * tx) * icp);
                for (int c = 0; c < icp; c += lanes)
                    InputTile<TWidth, TVector, TTile>(ref Unsafe.Add(ref corner, c), pw * icp, icp, ref Unsafe.Add(ref v, r * icp + c), vStride, ref temp);
            }
            switch (count)
            {
                case 8: Product<TWidth, TVector, Rows8>(ref v, ref u, ref products, xis, inC, icp, ocp); break;
                case 7: Product<TWidth, TVector, Rows7>(ref v, ref u, ref products, xis, inC, icp, ocp); break;
                case 6: Product<TWidth, TVector, Rows6>(ref v, ref u, ref products, xis, inC, icp, ocp); break;
                case 5: Product<TWidth, TVector, Rows5>(ref v, ref u, ref products, xis, inC, icp, ocp); break;
                case 4: Product<TWidth, TVector, Rows4>(ref v, ref u, ref products, xis, inC, icp, ocp); break;
                case 3: Product<TWidth, TVector, Rows3>(ref v, ref u, ref products, xis, inC, icp, ocp); break;
                case 2: Product<TWidth, TVector, Rows2>(ref v, ref u, ref products, xis, inC, icp, ocp); break;
                default: Product<TWidth, TVector, Rows1>(ref v, ref u, ref products, xis, inC, icp, ocp); break;
            }
            for (int r = 0; r < count; r++)
            {
                int t = first + r, ty = t / tilesX, tx = t % tilesX;
                int down = Math.Min(m, h - m * ty), across = Math.Min(m, w - m * tx);
                ref float target = ref Unsafe.Add(ref outputs, (m * ty * w + m * tx) * ocp);
                for (int c = 0; c < ocp; c += lanes)
                    OutputTile<TWidth, TVector, TTile>(ref Unsafe.Add(ref products, r * ocp + c), mStride, ref Unsafe.Add(ref target, c), w * ocp, ocp,
                        TWidth.Load(ref biases, (nuint)c), relu, down, across, ref temp);
            }
        }
    }

    // Tiles the weight gradient transforms before it multiplies them: about 256 KB of transformed tiles, so that a ξ's
    // share stays in L1 across its blocks of input channels and the whole in L2; at least a block, at most 64. A chunk is
    // summed from zero, then added to the running sums: two levels of about √(batch·tiles) terms each where one long
    // running sum would round more (16→16 on 28×28, 64 samples: the largest error 8.8e-5 → 1.6e-5 of the gradient's
    // root mean square). The chunk depends on the geometry and the width alone, so the bits do not change from call to call.
    private static int GradientChunk(int xis, int icp, int ocp) => Math.Clamp(65536 / (xis * (icp + ocp)), Block, 64);

    // The weight gradient. Each sample and its dY are turned channels-last; its tiles join a chunk, X's transformed as
    // the forward pass does (U[ξ][t][i]) and dY's by A·dY·Aᵀ (G[ξ][t][o]); a full chunk is multiplied into the sums
    // S[ξ][i][o] += Σ_t U[ξ][t][i]·G[ξ][t][o] (a vector of output channels at a time, up to eight input channels'
    // accumulators, the tiles in order, the samples' tiles one after another across chunks); at the end
    // dW[o, i] = Gᵀ S[·][i][o] G. The tiles past the image's edge read the padding, zero, and add nothing.
    internal static void RunWeightGradient<TWidth, TVector, TTile>(ReadOnlySpan<float> x, ReadOnlySpan<float> outputGradient, Span<float> weightGradient, int batch,
        int inC, int outC, int h, int w)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct where TTile : struct, ITile =>
        RunBackward<TWidth, TVector, TTile>(x, default, outputGradient, weightGradient, default, default, batch, inC, outC, h, w);

    // The whole backward pass of one convolution, each sample's dY turned channels-last once for all it feeds: the
    // weight gradient as RunWeightGradient takes it; the bias gradient (unless `biasGradient` is empty), each channel's
    // sum over a sample's positions added in sample order; and dX (unless `inputGradient` is empty), the forward pass's tiles
    // over the same padded dY with the kernel turned around, as RunInputGradient takes it: the same bits. Each sample's
    // dX takes Convolution.Backward's tail (the skip's gradient, the ReLU of X) as it is turned back.
    internal static void RunBackward<TWidth, TVector, TTile>(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> outputGradient,
        Span<float> weightGradient, Span<float> biasGradient, Span<float> inputGradient, int batch, int inC, int outC, int h, int w,
        ReadOnlySpan<float> inputSkipGradient = default, bool throughInputReLU = false)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct where TTile : struct, ITile
    {
        if (weightGradient.Length < (long)outC * inC * 9)
            throw new ArgumentException($"Winograd: the weight gradient holds {weightGradient.Length} floats, not the {(long)outC * inC * 9} of [{outC}, {inC}, 3, 3].", nameof(weightGradient));
        int lanes = TWidth.Count, m = TTile.M, alpha = m + 2, xis = alpha * alpha;
        int icp = (inC + lanes - 1) / lanes * lanes, ocp = (outC + lanes - 1) / lanes * lanes;
        int tilesY = (h + m - 1) / m, tilesX = (w + m - 1) / m, tiles = tilesY * tilesX;
        int ph = m * tilesY + 2, pw = m * tilesX + 2; // X padded as the forward pass pads it; dY laid out the same, from row 1 and column 1
        int chunk = GradientChunk(xis, icp, ocp);
        bool inputs = !inputGradient.IsEmpty, biases = !biasGradient.IsEmpty;
        // dX's forward pass first: its scratch is another buffer, and it transforms the turned-around kernel once.
        var forward = inputs ? PrepareForward<TWidth, TVector, TTile>(weight, flipped: true, default, outC, inC, h, w) : default;
        // [ξ][…] with a cache line more between the ξ than they hold, as in the forward pass.
        int uStride = chunk * icp + Spacing, gStride = chunk * ocp + Spacing, sStride = inC * ocp + Spacing;
        long total = Round16((long)ph * pw * icp) + Round16((long)ph * pw * ocp) + Round16((long)xis * uStride) + Round16((long)xis * gStride)
            + Round16((long)xis * sStride) + 2 * xis * lanes;
        if (total > Array.MaxLength - 64) throw new ArgumentOutOfRangeException(nameof(inC), $"Winograd: the scratch for the weight gradient of {inC} → {outC} channels of {h}×{w} is too large.");
        var work = Scratch.Get(ref t_gradientWork, (int)total);
        int at = 0;
        var paddedX = Part(work, ph * pw * icp, ref at);
        var paddedDy = Part(work, ph * pw * ocp, ref at);
        var u = Part(work, xis * uStride, ref at);
        var gradients = Part(work, xis * gStride, ref at);
        var sums = Part(work, xis * sStride, ref at);
        var temp = work.Slice(at, 2 * xis * lanes);
        sums.Clear();
        if (biases) biasGradient.Slice(0, outC).Clear();
        // As in the forward pass: the borders and the channels past inC and outC stay zero from one call to the next of
        // the same layout.
        var layout = (t_gradientWork, ph, pw, icp, ocp, inC, outC, h, w);
        if (t_gradientLayout != layout)
        {
            paddedX.Clear();
            paddedDy.Clear();
            t_gradientLayout = layout;
        }
        ref float rx = ref MemoryMarshal.GetReference(paddedX);
        ref float rd = ref MemoryMarshal.GetReference(paddedDy);
        ref float ru = ref MemoryMarshal.GetReference(u);
        ref float rg = ref MemoryMarshal.GetReference(gradients);
        ref float rs = ref MemoryMarshal.GetReference(sums);
        ref float rt = ref MemoryMarshal.GetReference(temp);
        int inLength = inC * h * w, outLength = outC * h * w, filled = 0;
        for (int n = 0; n < batch; n++)
        {
            ToChannelsLast(x.Slice(n * inLength, inLength), paddedX, inC, h, w, pw, icp);
            ToChannelsLast(outputGradient.Slice(n * outLength, outLength), paddedDy, outC, h, w, pw, ocp);
            for (int t = 0; t < tiles; t++)
            {
                int ty = t / tilesX, tx = t % tilesX;
                ref float corner = ref Unsafe.Add(ref rx, (m * ty * pw + m * tx) * icp);
                for (int c = 0; c < icp; c += lanes)
                    InputTile<TWidth, TVector, TTile>(ref Unsafe.Add(ref corner, c), pw * icp, icp, ref Unsafe.Add(ref ru, filled * icp + c), uStride, ref rt);
                ref float first = ref Unsafe.Add(ref rd, ((m * ty + 1) * pw + m * tx + 1) * ocp);
                for (int c = 0; c < ocp; c += lanes)
                    GradientTile<TWidth, TVector, TTile>(ref Unsafe.Add(ref first, c), pw * ocp, ocp, ref Unsafe.Add(ref rg, filled * ocp + c), gStride, ref rt);
                if (++filled == chunk)
                {
                    Accumulate<TWidth, TVector>(ref ru, ref rg, ref rs, xis, filled, inC, icp, ocp, uStride, gStride, sStride);
                    filled = 0;
                }
            }
            // The bias gradient from the sample's dY while it is in cache, each channel's sum added in sample order: the
            // bits of Convolution.Backward's other paths.
            if (biases)
                for (int c = 0; c < outC; c++)
                    biasGradient[c] += TensorPrimitives.Sum(outputGradient.Slice(n * outLength + c * h * w, h * w));
            if (inputs)
            {
                SampleTiles<TWidth, TVector, TTile>(ref forward, paddedDy, outC, relu: false);
                FromChannelsLast(forward.Outputs, inputGradient.Slice(n * inLength, inLength), inC, h * w, forward.Shape.Ocp,
                    inputSkipGradient.IsEmpty ? default : inputSkipGradient.Slice(n * inLength, inLength),
                    throughInputReLU ? x.Slice(n * inLength, inLength) : default, relu: false);
            }
        }
        if (filled > 0) Accumulate<TWidth, TVector>(ref ru, ref rg, ref rs, xis, filled, inC, icp, ocp, uStride, gStride, sStride);
        ref float rw = ref MemoryMarshal.GetReference(weightGradient);
        for (int i = 0; i < inC; i++)
            for (int o = 0; o < ocp; o += lanes)
            {
                // Gᵀ S G for a vector of output channels, taps[k][j] at temp[(k·3 + j)·L]; then each filter's nine to dW[o, i].
                KernelGradient<TWidth, TVector, TTile>(ref Unsafe.Add(ref rs, i * ocp + o), sStride, ref rt);
                for (int j = 0, count = Math.Min(lanes, outC - o); j < count; j++)
                {
                    ref float target = ref Unsafe.Add(ref rw, ((o + j) * inC + i) * 9);
                    for (int k = 0; k < 9; k++) Unsafe.Add(ref target, k) = Unsafe.Add(ref rt, k * lanes + j);
                }
            }
    }

    // S[ξ][i][o] += Σ_t U[ξ][t][i]·G[ξ][t][o] over a chunk's `count` tiles, for every ξ, in blocks of input channels as
    // even as they come (16 as two of eight, 17 as 6, 6, 5).
    private static void Accumulate<TWidth, TVector>(ref float u, ref float gradients, ref float sums, int xis, int count, int inC, int icp, int ocp,
        int uStride, int gStride, int sStride)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int blocks = (inC + Block - 1) / Block, rows = (inC + blocks - 1) / blocks;
        for (int xi = 0; xi < xis; xi++)
        {
            ref float ux = ref Unsafe.Add(ref u, xi * uStride);
            ref float gx = ref Unsafe.Add(ref gradients, xi * gStride);
            ref float sx = ref Unsafe.Add(ref sums, xi * sStride);
            for (int i = 0; i < inC; i += rows)
            {
                ref float ui = ref Unsafe.Add(ref ux, i);
                ref float si = ref Unsafe.Add(ref sx, i * ocp);
                switch (Math.Min(rows, inC - i))
                {
                    case 8: Outer<TWidth, TVector, Rows8>(ref ui, ref gx, ref si, count, icp, ocp); break;
                    case 7: Outer<TWidth, TVector, Rows7>(ref ui, ref gx, ref si, count, icp, ocp); break;
                    case 6: Outer<TWidth, TVector, Rows6>(ref ui, ref gx, ref si, count, icp, ocp); break;
                    case 5: Outer<TWidth, TVector, Rows5>(ref ui, ref gx, ref si, count, icp, ocp); break;
                    case 4: Outer<TWidth, TVector, Rows4>(ref ui, ref gx, ref si, count, icp, ocp); break;
                    case 3: Outer<TWidth, TVector, Rows3>(ref ui, ref gx, ref si, count, icp, ocp); break;
                    case 2: Outer<TWidth, TVector, Rows2>(ref ui, ref gx, ref si, count, icp, ocp); break;
                    default: Outer<TWidth, TVector, Rows1>(ref ui, ref gx, ref si, count, icp, ocp); break;
                }
            }
        }
    }

    // One ξ and block of input channels: s[r·ocp + o] += Σ_t u[t·icp + r]·g[t·ocp + o], a vector of output channels at a
    // time, an accumulator an input channel, summed from zero over the chunk and added to the sums at its end.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Outer<TWidth, TVector, TRows>(ref float u, ref float g, ref float s, int count, int icp, int ocp)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct where TRows : struct, IRows
    {
        int lanes = TWidth.Count, rows = TRows.Count;
        nuint step = (nuint)ocp;
        for (int o = 0; o < ocp; o += lanes)
        {
            ref float target = ref Unsafe.Add(ref s, o);
            TVector s0 = TWidth.Zero, s1 = TWidth.Zero, s2 = TWidth.Zero, s3 = TWidth.Zero, s4 = TWidth.Zero, s5 = TWidth.Zero, s6 = TWidth.Zero, s7 = TWidth.Zero;
            ref float up = ref u;
            ref float gp = ref Unsafe.Add(ref g, o);
            for (int t = 0; t < count; t++)
            {
                var dy = TWidth.Load(ref gp);
                s0 = TWidth.MultiplyAdd(TWidth.Broadcast(up), dy, s0);
                if (rows > 1) s1 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref up, 1)), dy, s1);
                if (rows > 2) s2 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref up, 2)), dy, s2);
                if (rows > 3) s3 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref up, 3)), dy, s3);
                if (rows > 4) s4 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref up, 4)), dy, s4);
                if (rows > 5) s5 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref up, 5)), dy, s5);
                if (rows > 6) s6 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref up, 6)), dy, s6);
                if (rows > 7) s7 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref up, 7)), dy, s7);
                up = ref Unsafe.Add(ref up, icp);
                gp = ref Unsafe.Add(ref gp, ocp);
            }
            AddTo<TWidth, TVector>(ref target, 0, s0);
            if (rows > 1) AddTo<TWidth, TVector>(ref target, step, s1);
            if (rows > 2) AddTo<TWidth, TVector>(ref target, 2 * step, s2);
            if (rows > 3) AddTo<TWidth, TVector>(ref target, 3 * step, s3);
            if (rows > 4) AddTo<TWidth, TVector>(ref target, 4 * step, s4);
            if (rows > 5) AddTo<TWidth, TVector>(ref target, 5 * step, s5);
            if (rows > 6) AddTo<TWidth, TVector>(ref target, 6 * step, s6);
            if (rows > 7) AddTo<TWidth, TVector>(ref target, 7 * step, s7);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddTo<TWidth, TVector>(ref float target, nuint offset, TVector value)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct =>
        TWidth.Store(TWidth.Add(TWidth.Load(ref target, offset), value), ref target, offset);

    // U[ξ][i][o] (o < ocp, zero past outC) = (G g Gᵀ)[ξ] for the kernel g of output channel o and input channel i, as
    // vectors over the pairs (i, o): the taps gathered to taps[k][i·ocp + o] first.
    private static void TransformWeights<TWidth, TVector, TTile>(ReadOnlySpan<float> weight, bool flipped, int inC, int outC, int ocp, Span<float> taps, Span<float> u,
        Span<float> temp)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct where TTile : struct, ITile
    {
        int pairs = inC * ocp, lanes = TWidth.Count, alpha = TTile.M + 2, stride = pairs + Spacing;
        taps.Clear();
        ref float rw = ref MemoryMarshal.GetReference(weight);
        ref float rk = ref MemoryMarshal.GetReference(taps);
        nint step = stride;
        for (int i = 0; i < inC; i++)
            for (int o = 0; o < outC; o++)
            {
                ref float to = ref Unsafe.Add(ref rk, i * ocp + o);
                if (flipped)
                    Gather9(ref Unsafe.Add(ref rw, (i * outC + o) * 9 + 8), -1, ref to, step);
                else
                    Gather9(ref Unsafe.Add(ref rw, (o * inC + i) * 9), 1, ref to, step);
            }
        ref float ru = ref MemoryMarshal.GetReference(u);
        ref float rt = ref MemoryMarshal.GetReference(temp);
        nuint l = (nuint)lanes;
        for (int p = 0; p < pairs; p += lanes)
        {
            // Gg [alpha][3] = G applied to each column of g, then each row of Gg through G again: (G g Gᵀ)[a][b] at ξ = a·alpha + b.
            for (int c = 0; c < 3; c++)
                TTile.Kernel<TWidth, TVector>(ref Unsafe.Add(ref rk, c * stride + p), (nuint)(3 * stride), ref Unsafe.Add(ref rt, c * lanes), 3 * l);
            for (int a = 0; a < alpha; a++)
                TTile.Kernel<TWidth, TVector>(ref Unsafe.Add(ref rt, 3 * a * lanes), l, ref Unsafe.Add(ref ru, a * alpha * stride + p), (nuint)stride);
        }
    }

    // Nine taps `direction` apart (1, or −1 for a kernel turned around) to nine floats `step` apart.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Gather9(ref float kernel, nint direction, ref float to, nint step)
    {
        to = kernel;
        Unsafe.Add(ref to, step) = Unsafe.Add(ref kernel, direction);
        Unsafe.Add(ref to, 2 * step) = Unsafe.Add(ref kernel, 2 * direction);
        Unsafe.Add(ref to, 3 * step) = Unsafe.Add(ref kernel, 3 * direction);
        Unsafe.Add(ref to, 4 * step) = Unsafe.Add(ref kernel, 4 * direction);
        Unsafe.Add(ref to, 5 * step) = Unsafe.Add(ref kernel, 5 * direction);
        Unsafe.Add(ref to, 6 * step) = Unsafe.Add(ref kernel, 6 * direction);
        Unsafe.Add(ref to, 7 * step) = Unsafe.Add(ref kernel, 7 * direction);
        Unsafe.Add(ref to, 8 * step) = Unsafe.Add(ref kernel, 8 * direction);
    }

    // One tile's Bᵀ d B for a vector of channels: d's rows `rowStride` apart and its positions `step` apart from `corner`;
    // V[ξ] stored `stride` apart from `v`.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputTile<TWidth, TVector, TTile>(ref float corner, int rowStride, int step, ref float v, int stride, ref float temp)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct where TTile : struct, ITile
    {
        int alpha = TTile.M + 2;
        nuint l = (nuint)TWidth.Count;
        for (int i = 0; i < alpha; i++)
            TTile.Input<TWidth, TVector>(ref Unsafe.Add(ref corner, i * rowStride), (nuint)step, ref Unsafe.Add(ref temp, i * alpha * (int)l), l);
        for (int j = 0; j < alpha; j++)
            TTile.Input<TWidth, TVector>(ref Unsafe.Add(ref temp, j * (int)l), (nuint)alpha * l, ref Unsafe.Add(ref v, j * stride), (nuint)(alpha * stride));
    }

    // One tile's A dY Aᵀ for a vector of output channels: dY's m×m rows `rowStride` apart and positions `step` apart
    // from `first`; G[ξ] stored `stride` apart from `gradients`.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GradientTile<TWidth, TVector, TTile>(ref float first, int rowStride, int step, ref float gradients, int stride, ref float temp)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct where TTile : struct, ITile
    {
        int m = TTile.M, alpha = m + 2;
        nuint l = (nuint)TWidth.Count;
        // temp[i][b] = (dY Aᵀ)[i][b], then (A dY Aᵀ)[a][b] at ξ = a·alpha + b
        for (int i = 0; i < m; i++)
            TTile.OutputTransposed<TWidth, TVector>(ref Unsafe.Add(ref first, i * rowStride), (nuint)step, ref Unsafe.Add(ref temp, i * alpha * (int)l), l);
        for (int b = 0; b < alpha; b++)
            TTile.OutputTransposed<TWidth, TVector>(ref Unsafe.Add(ref temp, b * (int)l), (nuint)alpha * l, ref Unsafe.Add(ref gradients, b * stride), (nuint)(alpha * stride));
    }

    // Gᵀ S G for a vector of output channels: S[ξ] `stride` apart from `sums`; the 3×3 result at temp[(k·3 + j)·L],
    // the (m + 2)×3 of S G on from temp[9·L].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void KernelGradient<TWidth, TVector, TTile>(ref float sums, int stride, ref float temp)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct where TTile : struct, ITile
    {
        int alpha = TTile.M + 2, l = TWidth.Count;
        ref float half = ref Unsafe.Add(ref temp, 9 * l);
        // half[a][j] = (S G)[a][j], then (Gᵀ S G)[k][j] down each column j
        for (int a = 0; a < alpha; a++)
            TTile.KernelTransposed<TWidth, TVector>(ref Unsafe.Add(ref sums, a * alpha * stride), (nuint)stride, ref Unsafe.Add(ref half, a * 3 * l), (nuint)l);
        for (int j = 0; j < 3; j++)
            TTile.KernelTransposed<TWidth, TVector>(ref Unsafe.Add(ref half, j * l), (nuint)(3 * l), ref Unsafe.Add(ref temp, j * l), (nuint)(3 * l));
    }

    // One tile's Aᵀ M A + bias (through max(0, ·)) for a vector of output channels: M[ξ] `stride` apart from `products`;
    // the outputs stored channels-last from `target`, rows `rowStride` apart and positions `step` apart, only the
    // `down` × `across` that lie inside the output.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputTile<TWidth, TVector, TTile>(ref float products, int stride, ref float target, int rowStride, int step, TVector bias, bool relu,
        int down, int across, ref float temp)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct where TTile : struct, ITile
    {
        int m = TTile.M, alpha = m + 2, l = TWidth.Count;
        // temp[i][j] = (M A)[i][j], then temp2[k][j] = (Aᵀ M A)[k][j]
        for (int i = 0; i < alpha; i++)
            TTile.Output<TWidth, TVector>(ref Unsafe.Add(ref products, i * alpha * stride), (nuint)stride, ref Unsafe.Add(ref temp, i * m * l), (nuint)l);
        ref float second = ref Unsafe.Add(ref temp, alpha * m * l);
        for (int j = 0; j < m; j++)
            TTile.Output<TWidth, TVector>(ref Unsafe.Add(ref temp, j * l), (nuint)(m * l), ref Unsafe.Add(ref second, j * l), (nuint)(m * l));
        for (int k = 0; k < down; k++)
            for (int j = 0; j < across; j++)
            {
                var value = TWidth.Add(TWidth.Load(ref second, (nuint)((k * m + j) * l)), bias);
                if (relu) value = TWidth.Max(TWidth.Zero, value); // max(0, NaN) is the NaN: the second operand
                TWidth.Store(value, ref target, (nuint)(k * rowStride + j * step));
            }
    }

    // M[ξ][r][o] = Σ_i V[ξ][r][i] · U[ξ][i][o] for the block's tiles r and every ξ, a vector of output channels at a time:
    // one accumulator a tile, the input channels in order.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Product<TWidth, TVector, TRows>(ref float v, ref float u, ref float products, int xis, int inC, int icp, int ocp)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct where TRows : struct, IRows
    {
        int lanes = TWidth.Count, rows = TRows.Count;
        nuint step = (nuint)ocp;
        for (int xi = 0; xi < xis; xi++)
        {
            ref float vx = ref Unsafe.Add(ref v, xi * (Block * icp + Spacing));
            ref float ux = ref Unsafe.Add(ref u, xi * (inC * ocp + Spacing));
            ref float px = ref Unsafe.Add(ref products, xi * (Block * ocp + Spacing));
            ref float v1 = ref Unsafe.Add(ref vx, Math.Min(1, rows - 1) * icp);
            ref float v2 = ref Unsafe.Add(ref vx, Math.Min(2, rows - 1) * icp);
            ref float v3 = ref Unsafe.Add(ref vx, Math.Min(3, rows - 1) * icp);
            ref float v4 = ref Unsafe.Add(ref vx, Math.Min(4, rows - 1) * icp);
            ref float v5 = ref Unsafe.Add(ref vx, Math.Min(5, rows - 1) * icp);
            ref float v6 = ref Unsafe.Add(ref vx, Math.Min(6, rows - 1) * icp);
            ref float v7 = ref Unsafe.Add(ref vx, Math.Min(7, rows - 1) * icp);
            for (int o = 0; o < ocp; o += lanes)
            {
                TVector s0 = TWidth.Zero, s1 = TWidth.Zero, s2 = TWidth.Zero, s3 = TWidth.Zero, s4 = TWidth.Zero, s5 = TWidth.Zero, s6 = TWidth.Zero, s7 = TWidth.Zero;
                ref float up = ref Unsafe.Add(ref ux, o);
                for (nint i = 0; i < inC; i++)
                {
                    var weights = TWidth.Load(ref up);
                    s0 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref vx, i)), weights, s0);
                    if (rows > 1) s1 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref v1, i)), weights, s1);
                    if (rows > 2) s2 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref v2, i)), weights, s2);
                    if (rows > 3) s3 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref v3, i)), weights, s3);
                    if (rows > 4) s4 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref v4, i)), weights, s4);
                    if (rows > 5) s5 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref v5, i)), weights, s5);
                    if (rows > 6) s6 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref v6, i)), weights, s6);
                    if (rows > 7) s7 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref v7, i)), weights, s7);
                    up = ref Unsafe.Add(ref up, step);
                }
                ref float target = ref Unsafe.Add(ref px, o);
                TWidth.Store(s0, ref target);
                if (rows > 1) TWidth.Store(s1, ref target, step);
                if (rows > 2) TWidth.Store(s2, ref target, 2 * step);
                if (rows > 3) TWidth.Store(s3, ref target, 3 * step);
                if (rows > 4) TWidth.Store(s4, ref target, 4 * step);
                if (rows > 5) TWidth.Store(s5, ref target, 5 * step);
                if (rows > 6) TWidth.Store(s6, ref target, 6 * step);
                if (rows > 7) TWidth.Store(s7, ref target, 7 * step);
            }
        }
    }

    // One sample [c, h, w] into the padded channels-last layout [ph][pw][icp], the input at row 1 and column 1. The
    // padding and the channels past c are never written (zero from the call's clear). Blocks of 8 channels × 8
    // positions by AVX transposes where the channels come in eights (a row's last block overlapping the one before).
    private static void ToChannelsLast(ReadOnlySpan<float> x, Span<float> padded, int channels, int h, int w, int pw, int icp)
    {
        if (x.Length < channels * h * w || padded.Length < ((h + 1) * pw + w + 1) * icp)
            throw new ArgumentException($"Winograd: the sample holds {x.Length} floats, the padded buffer {padded.Length}.");
        ref float source = ref MemoryMarshal.GetReference(x);
        ref float target = ref MemoryMarshal.GetReference(padded);
        int plane = h * w;
        if (Avx.IsSupported && channels % 8 == 0 && w >= 8)
        {
            // Every block of channels for the same eight positions in turn, so that each position's line of the padded
            // buffer is written whole while it is in L1.
            for (int r = 0; r < h; r++)
                for (int col = 0; ; col += 8)
                {
                    if (col + 8 > w) col = w - 8;
                    for (int c = 0; c < channels; c += 8)
                        Gemm.Transpose8x8(ref Unsafe.Add(ref source, c * plane + r * w + col), plane,
                            ref Unsafe.Add(ref target, ((r + 1) * pw + col + 1) * icp + c), icp);
                    if (col + 8 == w) break;
                }
            return;
        }
        for (int c = 0; c < channels; c++)
            for (int r = 0; r < h; r++)
                for (int col = 0; col < w; col++)
                    Unsafe.Add(ref target, ((r + 1) * pw + col + 1) * icp + c) = Unsafe.Add(ref source, c * plane + r * w + col);
    }

    // The channels-last outputs [positions][ocp] back to [channels][positions].
    private static void FromChannelsLast(ReadOnlySpan<float> outputs, Span<float> y, int channels, int positions, int ocp) =>
        FromChannelsLast(outputs, y, channels, positions, ocp, default, default, relu: false);

    // The same, each value then taking a residual sum's or a backward pass's next steps as it is stored: `add`'s value
    // at the same place added (unless empty), then either max(0, ·) (`relu`, with `add` only: Elementwise.Add's bits)
    // or zero where `mask` is not above 0 (unless empty: a ReLU's gradient, Activations.ReLUBackward's and
    // Elementwise.AddThroughReLU's bits). `add` and `mask` are [channels][positions], as y is, and neither may be y.
    private static void FromChannelsLast(ReadOnlySpan<float> outputs, Span<float> y, int channels, int positions, int ocp,
        ReadOnlySpan<float> add, ReadOnlySpan<float> mask, bool relu)
    {
        int length = channels * positions;
        if (outputs.Length < positions * ocp || y.Length < length || (!add.IsEmpty && add.Length < length) || (!mask.IsEmpty && mask.Length < length))
            throw new ArgumentException($"Winograd: the outputs hold {outputs.Length} floats, the sample {y.Length}, the sum's {add.Length}, the mask's {mask.Length}.");
        ref float source = ref MemoryMarshal.GetReference(outputs);
        ref float target = ref MemoryMarshal.GetReference(y);
        bool adds = !add.IsEmpty, masks = !mask.IsEmpty;
        if (Avx.IsSupported && channels % 8 == 0 && positions >= 8)
        {
            ref float ra = ref MemoryMarshal.GetReference(add);
            ref float rm = ref MemoryMarshal.GetReference(mask);
            // Every block of channels of the same eight positions in turn, so that each position's line of the outputs
            // is read whole while it is in L1.
            for (int p = 0; ; p += 8)
            {
                if (p + 8 > positions) p = positions - 8; // the overlap is written again with the same values
                for (int c = 0; c < channels; c += 8)
                {
                    int at = c * positions + p;
                    if (!adds && !masks && !relu)
                    {
                        Gemm.Transpose8x8(ref Unsafe.Add(ref source, p * ocp + c), ocp, ref Unsafe.Add(ref target, at), positions);
                        continue;
                    }
                    Gemm.Transpose8x8(ref Unsafe.Add(ref source, p * ocp + c), ocp, out var c0, out var c1, out var c2, out var c3, out var c4, out var c5, out var c6, out var c7);
                    StoreTail(c0, ref target, ref ra, ref rm, at, adds, masks, relu);
                    StoreTail(c1, ref target, ref ra, ref rm, at + positions, adds, masks, relu);
                    StoreTail(c2, ref target, ref ra, ref rm, at + 2 * positions, adds, masks, relu);
                    StoreTail(c3, ref target, ref ra, ref rm, at + 3 * positions, adds, masks, relu);
                    StoreTail(c4, ref target, ref ra, ref rm, at + 4 * positions, adds, masks, relu);
                    StoreTail(c5, ref target, ref ra, ref rm, at + 5 * positions, adds, masks, relu);
                    StoreTail(c6, ref target, ref ra, ref rm, at + 6 * positions, adds, masks, relu);
                    StoreTail(c7, ref target, ref ra, ref rm, at + 7 * positions, adds, masks, relu);
                }
                if (p + 8 == positions) break;
            }
            return;
        }
        for (int c = 0; c < channels; c++)
            for (int p = 0; p < positions; p++)
                Unsafe.Add(ref target, c * positions + p) = Unsafe.Add(ref source, p * ocp + c);
        var sample = y.Slice(0, length);
        if (adds && masks) Elementwise.AddThroughReLU(add.Slice(0, length), mask.Slice(0, length), sample);
        else if (adds) Elementwise.Add(sample, add.Slice(0, length), sample, relu);
        else if (masks) Activations.ReLUBackward(mask.Slice(0, length), sample, sample);
    }

    // Eight values of one channel stored at `at` after FromChannelsLast's steps, as the elementwise kernels take them.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTail(Vector256<float> value, ref float target, ref float add, ref float mask, int at, bool adds, bool masks, bool relu)
    {
        nuint i = (nuint)at;
        if (adds) value = Width256.Add(value, Vector256.LoadUnsafe(ref add, i));
        if (masks) value = Width256.And(value, Width256.GreaterThan(Vector256.LoadUnsafe(ref mask, i), Width256.Zero));
        else if (relu) value = Width256.Add(Width256.Max(Width256.Zero, value), Width256.Zero);
        value.StoreUnsafe(ref target, i);
    }
}
