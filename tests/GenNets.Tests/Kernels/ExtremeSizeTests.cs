using System;
using System.Collections.Generic;
using System.Linq;
using GenNets.Kernels;
using Xunit;

namespace GenNets.Tests.Kernels;

/// <summary>
/// Every public kernel entry point driven with extreme sizes: negative, zero, <see cref="int.MaxValue"/>, and products that
/// wrap an int (65536 × 65537 wraps to 65536; 1342177281 × 784 wraps to 784, so spans of that size passed the old
/// checks) or a long (2²¹ × 2²¹ × 2²² wraps to 0). The spans are small, so a check that came after an unchecked access
/// would read or write outside them: each case must be refused first, by an ArgumentException-family error naming the
/// argument. Zero sizes must do nothing outside the spans they were given (guard floats around each span stay as they
/// were) or be refused the same way.
/// </summary>
public class ExtremeSizeTests
{
    private const int Big = int.MaxValue;

    private static float[] F(int length) => new float[length];

    // A small convolution (1×4×4 → 2×4×4, 3×3 "same", stride 1), one with 65536 inputs a sample, and a strided one.
    private static Conv2DGeometry Small => new(1, 4, 4, 2, 3, 3, 1, 1, 1, 4, 4);
    private static Conv2DGeometry Wide => new(1, 256, 256, 1, 1, 1, 1, 0, 0, 256, 256);
    private static Conv2DGeometry Strided => new(1, 4, 4, 2, 2, 2, 2, 0, 0, 2, 2);
    private static RecurrentGeometry Lstm => new(LayerKind.LSTM, 3, 2, 4, false);

    // Name → (the call, the exception's type, the argument it must name).
    private static readonly Dictionary<string, (Action Call, Type Type, string Param)> Refused = new()
    {
        // Gemm.MultiplyTransposed
        ["MultiplyTransposed m = -1"] = (() => Gemm.MultiplyTransposed(F(16), F(16), default, F(16), -1, 2, 2), typeof(ArgumentOutOfRangeException), "m"),
        ["MultiplyTransposed k = -1"] = (() => Gemm.MultiplyTransposed(F(16), F(16), default, F(16), 2, 2, -1), typeof(ArgumentOutOfRangeException), "k"),
        ["MultiplyTransposed n = MaxValue"] = (() => Gemm.MultiplyTransposed(F(16), F(16), default, F(16), 1, Big, 1), typeof(ArgumentException), "b"),
        ["MultiplyTransposed 65536 × 65537 wraps to 65536"] = (() => Gemm.MultiplyTransposed(F(65536), F(65537), default, F(65536), 65536, 1, 65537), typeof(ArgumentOutOfRangeException), "k"),
        ["MultiplyTransposed short bias"] = (() => Gemm.MultiplyTransposed(F(4), F(4), F(1), F(4), 2, 2, 2), typeof(ArgumentException), "bias"),
        // Gemm.MultiplyAccumulate, both overloads
        ["MultiplyAccumulate kk = -1"] = (() => Gemm.MultiplyAccumulate(F(16), 4, 1, F(16), F(16), 2, 2, -1, false), typeof(ArgumentOutOfRangeException), "kk"),
        ["MultiplyAccumulate rowStride = -1"] = (() => Gemm.MultiplyAccumulate(F(16), -1, 1, F(16), F(16), 2, 2, 2, false), typeof(ArgumentOutOfRangeException), "rowStride"),
        ["MultiplyAccumulate colStride = -1"] = (() => Gemm.MultiplyAccumulate(F(16), 2, -1, F(16), F(16), 2, 2, 2, false), typeof(ArgumentOutOfRangeException), "colStride"),
        ["MultiplyAccumulate ldb < n"] = (() => Gemm.MultiplyAccumulate(F(16), 2, 1, F(16), 1, default, F(16), 2, 2, 2, false), typeof(ArgumentOutOfRangeException), "ldb"),
        ["MultiplyAccumulate rowStride = MaxValue"] = (() => Gemm.MultiplyAccumulate(F(16), Big, 1, F(16), F(16), 2, 2, 2, false), typeof(ArgumentException), "a"),
        ["MultiplyAccumulate kk = MaxValue"] = (() => Gemm.MultiplyAccumulate(F(16), 1, 1, F(16), F(16), 1, 16, Big, false), typeof(ArgumentException), "a"),
        ["MultiplyAccumulate ldb = MaxValue"] = (() => Gemm.MultiplyAccumulate(F(16), 2, 1, F(16), Big, default, F(16), 1, 2, 2, false), typeof(ArgumentException), "b"),
        ["MultiplyAccumulate C 65536 × 65537 wraps"] = (() => Gemm.MultiplyAccumulate(F(65536), 1, 1, F(65537), F(65536), 65536, 65537, 1, false), typeof(ArgumentOutOfRangeException), "n"),
        // Gemm strips and the dense forward
        ["PaddedStride -1"] = (() => Gemm.PaddedStride(-1), typeof(ArgumentOutOfRangeException), "width"),
        ["PaddedStride MaxValue"] = (() => Gemm.PaddedStride(Big), typeof(ArgumentOutOfRangeException), "width"),
        ["StripLength rows = -1"] = (() => Gemm.StripLength(-1, 4), typeof(ArgumentOutOfRangeException), "rows"),
        ["StripLength rows = MaxValue"] = (() => Gemm.StripLength(Big, 2), typeof(ArgumentOutOfRangeException), "rows"),
        ["StripLength features = MaxValue"] = (() => Gemm.StripLength(1, Big), typeof(ArgumentOutOfRangeException), "features"),
        ["PackStrips 1342177281 × 784 wraps to 784"] = (() => Gemm.PackStrips(F(784), F(784 * 16), 1342177281, 784), typeof(ArgumentOutOfRangeException), "rows"),
        ["PackStrips features = -1"] = (() => Gemm.PackStrips(F(16), F(256), 16, -1), typeof(ArgumentOutOfRangeException), "features"),
        ["PackStrips short strips"] = (() => Gemm.PackStrips(F(17), F(16), 17, 1), typeof(ArgumentException), "strips"),
        ["UnpackStrips 1342177281 × 784 wraps to 784"] = (() => Gemm.UnpackStrips(F(784 * 16), F(784), 1342177281, 784), typeof(ArgumentOutOfRangeException), "rows"),
        ["UnpackStrips short y"] = (() => Gemm.UnpackStrips(F(64), F(3), 2, 2), typeof(ArgumentException), "y"),
        ["MultiplyStrips rows = MaxValue"] = (() => Gemm.MultiplyStrips(F(4), F(2), F(32), F(32), Big, 2, 2), typeof(ArgumentOutOfRangeException), "rows"),
        ["MultiplyStrips n = -1"] = (() => Gemm.MultiplyStrips(F(4), F(2), F(32), F(32), 16, -1, 2), typeof(ArgumentOutOfRangeException), "n"),
        ["MultiplyStrips 65536 × 65537 wraps"] = (() => Gemm.MultiplyStrips(F(65536), F(65536), F(16), F(16), 1, 65536, 65537), typeof(ArgumentOutOfRangeException), "k"),
        ["DenseForward 1342177281 × 784 wraps to 784"] = (() => Gemm.DenseForward(F(784), F(784), F(1), F(784), 1342177281, 1, 784), typeof(ArgumentOutOfRangeException), "rows"),
        ["DenseForward k = -1"] = (() => Gemm.DenseForward(F(16), F(16), F(1), F(16), 16, 1, -1), typeof(ArgumentOutOfRangeException), "k"),
        ["DenseForward rows = MaxValue"] = (() => Gemm.DenseForward(F(16), F(16), F(1), F(16), Big, 1, 1), typeof(ArgumentException), "x"),
        // Gemm's shifted-row products
        ["MultiplyIndirect n not a multiple of 16"] = (() => Gemm.MultiplyIndirect(F(16), F(64), [0], default, F(64), 1, 15, 1), typeof(ArgumentOutOfRangeException), "n"),
        ["MultiplyIndirect n = -16"] = (() => Gemm.MultiplyIndirect(F(16), F(64), [0], default, F(64), 1, -16, 1), typeof(ArgumentOutOfRangeException), "n"),
        ["MultiplyIndirect m = -1"] = (() => Gemm.MultiplyIndirect(F(16), F(64), [0], default, F(64), -1, 16, 1), typeof(ArgumentOutOfRangeException), "m"),
        ["MultiplyIndirect negative offset"] = (() => Gemm.MultiplyIndirect(F(16), F(64), [-8], default, F(64), 1, 16, 1), typeof(ArgumentOutOfRangeException), "offsets"),
        ["MultiplyIndirect offset MaxValue"] = (() => Gemm.MultiplyIndirect(F(16), F(64), [Big], default, F(64), 1, 16, 1), typeof(ArgumentException), "b"),
        ["MultiplyIndirect too few offsets"] = (() => Gemm.MultiplyIndirect(F(16), F(64), [0], default, F(64), 1, 16, 2), typeof(ArgumentException), "offsets"),
        ["MultiplyIndirect 65536 × 65537 wraps"] = (() => Gemm.MultiplyIndirect(F(65536), F(64), new int[65537], default, F(64), 65536, 16, 65537), typeof(ArgumentOutOfRangeException), "k"),
        ["MultiplyTransposedIndirect k = -1"] = (() => Gemm.MultiplyTransposedIndirect(F(16), F(64), [0], F(16), 1, -1, 16, false), typeof(ArgumentOutOfRangeException), "k"),
        ["MultiplyTransposedIndirect offset MaxValue"] = (() => Gemm.MultiplyTransposedIndirect(F(16), F(64), [Big], F(16), 1, 1, 16, false), typeof(ArgumentException), "b"),
        ["MultiplyTransposedIndirect negative offset"] = (() => Gemm.MultiplyTransposedIndirect(F(16), F(64), [-1], F(16), 1, 1, 16, false), typeof(ArgumentOutOfRangeException), "offsets"),
        ["MultiplyTransposedIndirect 65536 × 65537 wraps"] = (() => Gemm.MultiplyTransposedIndirect(F(65536), F(65537 + 16), [0], F(65536), 65536, 1, 65537, false), typeof(ArgumentOutOfRangeException), "n"),
        ["MultiplyShiftedRows kk = MaxValue"] = (() => Gemm.MultiplyShiftedRows(F(64), [0], F(64), 16, F(16), 1, 16, Big, false), typeof(ArgumentException), "b"),
        ["MultiplyShiftedRows offset MaxValue"] = (() => Gemm.MultiplyShiftedRows(F(64), [Big], F(64), 16, F(16), 1, 16, 2, false), typeof(ArgumentException), "a"),
        ["MultiplyShiftedRows ldb < n"] = (() => Gemm.MultiplyShiftedRows(F(64), [0], F(64), 8, F(16), 1, 16, 2, false), typeof(ArgumentOutOfRangeException), "ldb"),
        ["MultiplyShiftedRows m = -1"] = (() => Gemm.MultiplyShiftedRows(F(64), [0], F(64), 16, F(16), -1, 16, 2, false), typeof(ArgumentOutOfRangeException), "m"),
        ["ColumnSums stride = -1"] = (() => Gemm.ColumnSums(F(16), F(4), 2, 4, -1), typeof(ArgumentOutOfRangeException), "stride"),
        ["ColumnSums rows = MaxValue"] = (() => Gemm.ColumnSums(F(16), F(4), Big, 4), typeof(ArgumentException), "a"),
        ["ColumnSums cols = -1"] = (() => Gemm.ColumnSums(F(16), F(4), 2, -1), typeof(ArgumentOutOfRangeException), "cols"),
        ["ColumnSums short sums"] = (() => Gemm.ColumnSums(F(16), F(3), 2, 4), typeof(ArgumentException), "sums"),
        // Conv2DGeometry
        ["Conv2DGeometry inChannels = 0"] = (() => _ = new Conv2DGeometry(0, 4, 4, 2, 3, 3, 1, 1, 1, 4, 4), typeof(ArgumentOutOfRangeException), "inChannels"),
        ["Conv2DGeometry height = -1"] = (() => _ = new Conv2DGeometry(1, -1, 4, 2, 3, 3, 1, 1, 1, 4, 4), typeof(ArgumentOutOfRangeException), "height"),
        ["Conv2DGeometry padLeft = -1"] = (() => _ = new Conv2DGeometry(1, 4, 4, 2, 3, 3, 1, 1, -1, 4, 4), typeof(ArgumentOutOfRangeException), "padLeft"),
        ["Conv2DGeometry stride = 0"] = (() => _ = new Conv2DGeometry(1, 4, 4, 2, 3, 3, 0, 1, 1, 4, 4), typeof(ArgumentOutOfRangeException), "stride"),
        ["Conv2DGeometry outHeight and stride MaxValue"] = (() => _ = new Conv2DGeometry(1, 4, 4, 2, 1, 1, Big, 0, 0, Big, 1), typeof(ArgumentException), "outHeight"),
        ["Conv2DGeometry input 65536 × 65537 wraps"] = (() => _ = new Conv2DGeometry(1, 65536, 65537, 1, 1, 1, 65536, 0, 0, 1, 1), typeof(ArgumentOutOfRangeException), "width"),
        ["Conv2DGeometry padding MaxValue"] = (() => _ = new Conv2DGeometry(1, 4, 4, 1, 1, 1, 1, Big, 0, 4, 4), typeof(ArgumentOutOfRangeException), "padTop"),
        ["Conv2DGeometry weights wrap"] = (() => _ = new Conv2DGeometry(65536, 1, 1, 65537, 1, 1, 1, 0, 0, 1, 1), typeof(ArgumentOutOfRangeException), "outChannels"),
        // Convolution
        ["Conv Forward batch = -1"] = (() => Convolution.Forward(F(16), F(18), F(2), F(32), -1, Small), typeof(ArgumentOutOfRangeException), "batch"),
        ["Conv Forward batch = MaxValue"] = (() => Convolution.Forward(F(16), F(18), F(2), F(32), Big, Small), typeof(ArgumentOutOfRangeException), "batch"),
        ["Conv Forward 65537 × 65536 wraps to 65536"] = (() => Convolution.Forward(F(65536), F(1), F(1), F(65536), 65537, Wide), typeof(ArgumentOutOfRangeException), "batch"),
        ["Conv Forward null geometry"] = (() => Convolution.Forward(F(16), F(18), F(2), F(32), 1, null!), typeof(ArgumentNullException), "g"),
        ["Conv Forward short weights"] = (() => Convolution.Forward(F(16), F(17), F(2), F(32), 1, Small), typeof(ArgumentException), "weight"),
        ["Conv ForwardPooled batch = -1"] = (() => Convolution.ForwardPooled(F(16), F(18), F(2), F(8), -1, Small), typeof(ArgumentOutOfRangeException), "batch"),
        ["Conv ForwardPooled batch = MaxValue"] = (() => Convolution.ForwardPooled(F(16), F(18), F(2), F(8), Big, Small), typeof(ArgumentOutOfRangeException), "batch"),
        ["Conv ForwardPooled short argmax"] = (() => Convolution.ForwardPooled(F(16), F(18), F(2), F(8), 1, Small, argmax: F(7)), typeof(ArgumentException), "argmax"),
        ["Conv Backward batch = -1"] = (() => Convolution.Backward(F(16), F(18), F(32), F(18), F(2), default, -1, Small), typeof(ArgumentOutOfRangeException), "batch"),
        ["Conv Backward batch = MaxValue"] = (() => Convolution.Backward(F(16), F(18), F(32), F(18), F(2), default, Big, Small), typeof(ArgumentOutOfRangeException), "batch"),
        ["Conv Backward short input gradient"] = (() => Convolution.Backward(F(16), F(18), F(32), F(18), F(2), F(15), 1, Small), typeof(ArgumentException), "inputGradient"),
        ["Conv Backward short weight gradient"] = (() => Convolution.Backward(F(16), F(18), F(32), F(17), F(2), default, 1, Small), typeof(ArgumentException), "weightGradient"),
        ["Conv BackwardPooled batch = MaxValue"] = (() => Convolution.BackwardPooled(F(16), F(18), F(8), F(8), F(8), false, F(32), F(18), F(2), default, Big, Small), typeof(ArgumentOutOfRangeException), "batch"),
        ["Conv BackwardPooled short argmax"] = (() => Convolution.BackwardPooled(F(16), F(18), F(8), F(7), F(8), false, F(32), F(18), F(2), default, 1, Small), typeof(ArgumentException), "argmax"),
        ["Conv BackwardPooled short pooled output with relu"] = (() => Convolution.BackwardPooled(F(16), F(18), F(8), F(8), F(7), true, F(32), F(18), F(2), default, 1, Small), typeof(ArgumentException), "pooledOutput"),
        ["Conv BackwardPooled short weight gradient"] = (() => Convolution.BackwardPooled(F(16), F(18), F(8), F(8), F(8), false, F(32), F(1), F(2), default, 1, Small), typeof(ArgumentException), "weightGradient"),
        ["Conv Unfold short columns"] = (() => Convolution.Unfold(F(16), F(Strided.ColumnsLength - 1), Strided), typeof(ArgumentException), "columns"),
        ["Conv Unfold short x"] = (() => Convolution.Unfold(F(15), F(Strided.ColumnsLength), Strided), typeof(ArgumentException), "x"),
        ["Conv Fold short dx"] = (() => Convolution.Fold(F(Strided.ColumnsLength), F(15), Strided), typeof(ArgumentException), "dx"),
        ["Conv Fold null geometry"] = (() => Convolution.Fold(F(16), F(16), null!), typeof(ArgumentNullException), "g"),
        // Pooling
        ["MaxForward planes = -1"] = (() => Pooling.MaxForward(F(16), F(4), -1, 4, 4, 2, 2, 2, 2), typeof(ArgumentOutOfRangeException), "planes"),
        ["MaxForward size = 0"] = (() => Pooling.MaxForward(F(16), F(4), 1, 4, 4, 0, 2, 2, 2), typeof(ArgumentOutOfRangeException), "size"),
        ["MaxForward stride = -1"] = (() => Pooling.MaxForward(F(16), F(4), 1, 4, 4, 2, -1, 2, 2), typeof(ArgumentOutOfRangeException), "stride"),
        ["MaxForward windows past the input"] = (() => Pooling.MaxForward(F(9), F(4), 1, 3, 3, 2, 2, 2, 2), typeof(ArgumentOutOfRangeException), "outHeight"),
        ["MaxForward outWidth and stride MaxValue"] = (() => Pooling.MaxForward(F(16), F(4), 1, 4, 4, 2, Big, 1, Big), typeof(ArgumentOutOfRangeException), "outWidth"),
        ["MaxForward 2^21 × 2^21 × 2^22 wraps a long to 0"] = (() => Pooling.MaxForward(F(16), F(4), 1 << 21, 1 << 21, 1 << 22, 2, 2, 1, 1), typeof(ArgumentOutOfRangeException), "width"),
        ["MaxForward planes = MaxValue"] = (() => Pooling.MaxForward(F(16), F(4), Big, 1, 1, 1, 1, 1, 1), typeof(ArgumentException), "x"),
        ["MaxBackward short dx"] = (() => Pooling.MaxBackward(F(16), F(4), F(4), F(15), 1, 4, 4, 2, 2, 2, 2), typeof(ArgumentException), "dx"),
        ["MaxBackward 65536 × 65537 wraps"] = (() => Pooling.MaxBackward(F(65536), F(16), F(16), F(65536), 1, 65536, 65537, 2, 2, 1, 1), typeof(ArgumentOutOfRangeException), "width"),
        ["MaxBackward windows past the input"] = (() => Pooling.MaxBackward(F(9), F(4), F(4), F(9), 1, 3, 3, 2, 2, 2, 2), typeof(ArgumentOutOfRangeException), "outHeight"),
        ["AverageForward height = -1"] = (() => Pooling.AverageForward(F(16), F(4), 1, -1, 4, 2, 2, 2, 2), typeof(ArgumentOutOfRangeException), "height"),
        ["AverageForward size = MaxValue"] = (() => Pooling.AverageForward(F(16), F(4), 1, 4, 4, Big, 2, 2, 2), typeof(ArgumentOutOfRangeException), "outHeight"),
        ["AverageBackward short dy"] = (() => Pooling.AverageBackward(F(3), F(16), 1, 4, 4, 2, 2, 2, 2), typeof(ArgumentException), "dy"),
        ["AverageBackward 2^21 × 2^21 × 2^22 wraps a long"] = (() => Pooling.AverageBackward(F(4), F(16), 1 << 22, 1 << 21, 1 << 21, 1, 1, 1, 1), typeof(ArgumentOutOfRangeException), "planes"),
        ["GlobalAverageForward area = 0"] = (() => Pooling.GlobalAverageForward(F(4), F(4), 4, 0), typeof(ArgumentOutOfRangeException), "area"),
        ["GlobalAverageForward planes = -1"] = (() => Pooling.GlobalAverageForward(F(4), F(4), -1, 1), typeof(ArgumentOutOfRangeException), "planes"),
        ["GlobalAverageForward 65536 × 65537 wraps"] = (() => Pooling.GlobalAverageForward(F(65536), F(65536), 65536, 65537), typeof(ArgumentOutOfRangeException), "area"),
        ["GlobalAverageBackward area = MaxValue"] = (() => Pooling.GlobalAverageBackward(F(4), F(4), 1, Big), typeof(ArgumentException), "dx"),
        ["GlobalAverageBackward short dy"] = (() => Pooling.GlobalAverageBackward(F(3), F(16), 4, 4), typeof(ArgumentException), "dy"),
        ["MaxBackwardChosen outHeight = 2^30"] = (() => Pooling.MaxBackwardChosen(F(4), F(4), default, F(16), 1, 4, 4, 1 << 30, 1), typeof(ArgumentOutOfRangeException), "outHeight"),
        ["MaxBackwardChosen windows past the input"] = (() => Pooling.MaxBackwardChosen(F(4), F(4), default, F(9), 1, 3, 3, 2, 2), typeof(ArgumentOutOfRangeException), "outHeight"),
        ["MaxBackwardChosen short argmax"] = (() => Pooling.MaxBackwardChosen(F(4), F(3), default, F(16), 1, 4, 4, 2, 2), typeof(ArgumentException), "argmax"),
        ["MaxBackwardChosen short y with relu"] = (() => Pooling.MaxBackwardChosen(F(4), F(4), F(3), F(16), 1, 4, 4, 2, 2, relu: true), typeof(ArgumentException), "y"),
        // RecurrentGeometry and Recurrent
        ["RecurrentGeometry steps = 0"] = (() => _ = new RecurrentGeometry(LayerKind.GRU, 0, 2, 4, false), typeof(ArgumentOutOfRangeException), "steps"),
        ["RecurrentGeometry inputs = -1"] = (() => _ = new RecurrentGeometry(LayerKind.GRU, 3, -1, 4, false), typeof(ArgumentOutOfRangeException), "inputs"),
        ["RecurrentGeometry hidden = MaxValue"] = (() => _ = new RecurrentGeometry(LayerKind.LSTM, 1, 1, Big, false), typeof(ArgumentOutOfRangeException), "hidden"),
        ["RecurrentGeometry 65536 × 65537 wraps"] = (() => _ = new RecurrentGeometry(LayerKind.SimpleRNN, 65536, 65537, 1, false), typeof(ArgumentOutOfRangeException), "inputs"),
        ["RecurrentGeometry gates × units wraps"] = (() => _ = new RecurrentGeometry(LayerKind.LSTM, 1, 1, 1 << 30, false), typeof(ArgumentOutOfRangeException), "hidden"),
        ["Recurrent Forward batch = -1"] = (() => Recurrent.Forward(F(6), F(Lstm.ParameterLength), F(4), -1, Lstm, default), typeof(ArgumentOutOfRangeException), "batch"),
        ["Recurrent Forward batch = MaxValue"] = (() => Recurrent.Forward(F(6), F(Lstm.ParameterLength), F(4), Big, Lstm, default), typeof(ArgumentOutOfRangeException), "batch"),
        ["Recurrent Forward 65537 × 65536 wraps to 65536"] = (() => Recurrent.Forward(F(65536), F(4 * 65538), F(65537), 65537, new RecurrentGeometry(LayerKind.LSTM, 1, 65536, 1, false), default), typeof(ArgumentOutOfRangeException), "batch"),
        ["Recurrent Forward short parameters"] = (() => Recurrent.Forward(F(6), F(Lstm.ParameterLength - 1), F(4), 1, Lstm, default), typeof(ArgumentException), "parameters"),
        ["Recurrent Forward short kept"] = (() => Recurrent.Forward(F(6), F(Lstm.ParameterLength), F(4), 1, Lstm, F(5)), typeof(ArgumentException), "kept"),
        ["Recurrent Forward length past the steps"] = (() => Recurrent.Forward(F(6), F(Lstm.ParameterLength), F(4), 1, Lstm, default, [4]), typeof(ArgumentOutOfRangeException), "lengths"),
        ["Recurrent Backward batch = -1"] = (() => Recurrent.Backward(F(Lstm.ParameterLength), F(Lstm.KeptPerSample), F(4), default, F(Lstm.ParameterLength), -1, Lstm), typeof(ArgumentOutOfRangeException), "batch"),
        ["Recurrent Backward batch = MaxValue"] = (() => Recurrent.Backward(F(Lstm.ParameterLength), F(Lstm.KeptPerSample), F(4), default, F(Lstm.ParameterLength), Big, Lstm), typeof(ArgumentOutOfRangeException), "batch"),
        ["Recurrent Backward short parameters"] = (() => Recurrent.Backward(F(1), F(Lstm.KeptPerSample), F(4), default, F(Lstm.ParameterLength), 1, Lstm), typeof(ArgumentException), "parameters"),
        ["Recurrent Backward short dx"] = (() => Recurrent.Backward(F(Lstm.ParameterLength), F(Lstm.KeptPerSample), F(4), F(5), F(Lstm.ParameterLength), 1, Lstm), typeof(ArgumentException), "dx"),
        ["ClearPadding 2^21 × 2^21 × 2^22 wraps a long"] = (() => Recurrent.ClearPadding(F(16), [0], 1 << 21, 1 << 21, 1 << 22), typeof(ArgumentOutOfRangeException), "width"),
        ["ClearPadding width = -1"] = (() => Recurrent.ClearPadding(F(16), [0], 1, 4, -1), typeof(ArgumentOutOfRangeException), "width"),
        ["ClearPadding length past the steps"] = (() => Recurrent.ClearPadding(F(16), [5], 1, 4, 4), typeof(ArgumentOutOfRangeException), "lengths"),
        ["ClearPadding negative length"] = (() => Recurrent.ClearPadding(F(16), [-1], 1, 4, 4), typeof(ArgumentOutOfRangeException), "lengths"),
        // Activations
        ["ReLU short y"] = (() => Activations.ReLU(F(16), F(15)), typeof(ArgumentException), "y"),
        ["ReLUBackward short dy"] = (() => Activations.ReLUBackward(F(16), F(8), F(16)), typeof(ArgumentException), "dy"),
        ["ReLUBackward short dz"] = (() => Activations.ReLUBackward(F(16), F(16), F(9)), typeof(ArgumentException), "dz"),
        ["LeakyReLU short y"] = (() => Activations.LeakyReLU(F(16), F(1)), typeof(ArgumentException), "y"),
        ["LeakyReLUBackward short dz"] = (() => Activations.LeakyReLUBackward(F(16), F(16), F(0)), typeof(ArgumentException), "dz"),
        ["Sigmoid short y"] = (() => Activations.Sigmoid(F(16), F(15)), typeof(ArgumentException), "y"),
        ["SigmoidBackward short dy"] = (() => Activations.SigmoidBackward(F(16), F(7), F(16)), typeof(ArgumentException), "dy"),
        ["Tanh short y"] = (() => Activations.Tanh(F(300), F(299)), typeof(ArgumentException), "y"),
        ["TanhBackward short dz"] = (() => Activations.TanhBackward(F(16), F(16), F(8)), typeof(ArgumentException), "dz"),
        ["GELU short y"] = (() => Activations.GELU(F(16), F(15)), typeof(ArgumentException), "y"),
        ["GELUBackward short dy"] = (() => Activations.GELUBackward(F(16), F(15), F(16)), typeof(ArgumentException), "dy"),
        ["Softmax rows = -1"] = (() => Activations.Softmax(F(16), F(16), -1, 4), typeof(ArgumentOutOfRangeException), "rows"),
        ["Softmax cols = 0"] = (() => Activations.Softmax(F(16), F(16), 4, 0), typeof(ArgumentOutOfRangeException), "cols"),
        ["Softmax 65536 × 65537 wraps"] = (() => Activations.Softmax(F(65536), F(65536), 65536, 65537), typeof(ArgumentOutOfRangeException), "cols"),
        ["SoftmaxBackward rows = MaxValue"] = (() => Activations.SoftmaxBackward(F(16), F(16), F(16), Big, 1), typeof(ArgumentException), "y"),
        ["SoftmaxBackward short dz"] = (() => Activations.SoftmaxBackward(F(16), F(16), F(15), 4, 4), typeof(ArgumentException), "dz"),
        // Losses
        ["SoftmaxCrossEntropy (labels) rows = 0"] = (() => Losses.SoftmaxCrossEntropy(F(4), new int[1], F(4), 0, 4), typeof(ArgumentOutOfRangeException), "rows"),
        ["SoftmaxCrossEntropy (labels) 65536 × 65537 wraps"] = (() => Losses.SoftmaxCrossEntropy(F(65536), new int[65536], default, 65536, 65537), typeof(ArgumentOutOfRangeException), "cols"),
        ["SoftmaxCrossEntropy (labels) short labels"] = (() => Losses.SoftmaxCrossEntropy(F(8), new int[1], default, 2, 4), typeof(ArgumentException), "labels"),
        ["SoftmaxCrossEntropy (targets) cols = -1"] = (() => Losses.SoftmaxCrossEntropy(F(4), F(4), default, 1, -1), typeof(ArgumentOutOfRangeException), "cols"),
        ["SoftmaxCrossEntropy (targets) short gradient"] = (() => Losses.SoftmaxCrossEntropy(F(8), F(8), F(7), 2, 4), typeof(ArgumentException), "gradient"),
        ["MeanSquaredError 1342177281 × 784 wraps to 784"] = (() => Losses.MeanSquaredError(F(784), F(784), F(784), 1342177281, 784), typeof(ArgumentOutOfRangeException), "rows"),
        ["MeanSquaredError short targets"] = (() => Losses.MeanSquaredError(F(8), F(7), default, 2, 4), typeof(ArgumentException), "targets"),
        ["BinaryCrossEntropyWithLogits rows = MaxValue"] = (() => Losses.BinaryCrossEntropyWithLogits(F(8), F(8), default, Big, 1), typeof(ArgumentException), "logits"),
        ["BinaryCrossEntropyWithLogits 65536 × 65537 wraps"] = (() => Losses.BinaryCrossEntropyWithLogits(F(65536), F(65536), default, 65537, 65536), typeof(ArgumentOutOfRangeException), "rows"),
        ["Compute rows = -1"] = (() => Losses.Compute(LossKind.MeanSquaredError, F(4), GenNets.Targets.FromValues(F(4)), default, -1, 4), typeof(ArgumentOutOfRangeException), "rows"),
        ["Compute 1342177281 × 784 wraps to 784"] = (() => Losses.Compute(LossKind.MeanSquaredError, F(784), GenNets.Targets.FromValues(F(784)), default, 1342177281, 784), typeof(ArgumentOutOfRangeException), "rows"),
        ["CheckTargets rows = 0"] = (() => Losses.CheckTargets(LossKind.MeanSquaredError, GenNets.Targets.FromValues(F(0)), 0, 4), typeof(ArgumentOutOfRangeException), "rows"),
        ["CheckTargets 65536 × 65537 wraps"] = (() => Losses.CheckTargets(LossKind.MeanSquaredError, GenNets.Targets.FromValues(F(65536)), 65536, 65537), typeof(ArgumentOutOfRangeException), "cols"),
        ["CheckSequenceTargets batch × steps wraps"] = (() => Losses.CheckSequenceTargets(LossKind.SoftmaxCrossEntropy, GenNets.Targets.FromLabels(new int[65536]), 65536, 65537, 2, default), typeof(ArgumentOutOfRangeException), "steps"),
        ["CheckSequenceTargets batch × steps × cols too large"] = (() => Losses.CheckSequenceTargets(LossKind.MeanSquaredError, GenNets.Targets.FromValues(F(4)), 1 << 10, 1 << 10, 1 << 22, default), typeof(ArgumentOutOfRangeException), "cols"),
        ["CheckSequenceTargets length past the steps"] = (() => Losses.CheckSequenceTargets(LossKind.SoftmaxCrossEntropy, GenNets.Targets.FromLabels(new int[4]), 2, 2, 3, [3, 1]), typeof(ArgumentOutOfRangeException), "lengths"),
        ["ComputeSequences batch = -1"] = (() => Losses.ComputeSequences(LossKind.MeanSquaredError, F(4), GenNets.Targets.FromValues(F(4)), default, -1, 2, 2, []), typeof(ArgumentOutOfRangeException), "batch"),
        ["ComputeSequences batch × steps × cols too large"] = (() => Losses.ComputeSequences(LossKind.MeanSquaredError, F(4), GenNets.Targets.FromValues(F(4)), default, 1 << 10, 1 << 10, 1 << 22, []), typeof(ArgumentOutOfRangeException), "cols"),
        ["ComputeSequences no lengths"] = (() => Losses.ComputeSequences(LossKind.MeanSquaredError, F(4), GenNets.Targets.FromValues(F(4)), default, 1, 2, 2, []), typeof(ArgumentException), "lengths"),
        ["ComputeSequences length past the steps"] = (() => Losses.ComputeSequences(LossKind.MeanSquaredError, F(8), GenNets.Targets.FromValues(F(8)), default, 2, 2, 2, [3, 1]), typeof(ArgumentOutOfRangeException), "lengths"),
        ["ComputeSequences short outputs"] = (() => Losses.ComputeSequences(LossKind.MeanSquaredError, F(7), GenNets.Targets.FromValues(F(8)), default, 2, 2, 2, [2, 1]), typeof(ArgumentException), "outputs"),
        // Dropout
        ["Dropout Forward short y"] = (() => Dropout.Forward(F(16), F(15), F(16), 0.5f, 1, 0, 0), typeof(ArgumentException), "y"),
        ["Dropout Forward short mask"] = (() => Dropout.Forward(F(16), F(16), F(1), 0.5f, 1, 0, 0), typeof(ArgumentException), "mask"),
        ["Dropout Forward probability 1"] = (() => Dropout.Forward(F(16), F(16), F(16), 1f, 1, 0, 0), typeof(ArgumentOutOfRangeException), "probability"),
        ["Dropout Forward probability NaN"] = (() => Dropout.Forward(F(16), F(16), F(16), float.NaN, 1, 0, 0), typeof(ArgumentOutOfRangeException), "probability"),
        ["Dropout Backward mask and dy differ"] = (() => Dropout.Backward(F(15), F(16), F(16)), typeof(ArgumentException), "mask"),
        ["Dropout Backward short dx"] = (() => Dropout.Backward(F(16), F(16), F(15)), typeof(ArgumentException), "dx"),
        // Reference
        ["Reference MultiplyTransposed 65536 × 65537 wraps"] = (() => Reference.MultiplyTransposed(new double[65536], new double[65537], default, 65536, 1, 65537), typeof(ArgumentOutOfRangeException), "k"),
        ["Reference MultiplyTransposed m = -1"] = (() => Reference.MultiplyTransposed(new double[4], new double[4], default, -1, 2, 2), typeof(ArgumentOutOfRangeException), "m"),
        ["Reference Multiply m × n wraps"] = (() => Reference.Multiply(new double[65536], new double[65537], 65536, 65537, 1), typeof(ArgumentOutOfRangeException), "n"),
        ["Reference Multiply short b"] = (() => Reference.Multiply(new double[4], new double[3], 2, 2, 2), typeof(ArgumentException), "b"),
        ["Reference Activate softmax cols = 0"] = (() => Reference.Activate(Activation.Softmax, new double[4], 0), typeof(ArgumentOutOfRangeException), "cols"),
        ["Reference ActivateBackward short y"] = (() => Reference.ActivateBackward(Activation.ReLU, new double[4], new double[3], new double[4], 1), typeof(ArgumentException), "y"),
        ["Reference Loss rows = 0"] = (() => Reference.Loss(LossKind.MeanSquaredError, new double[4], default, new double[4], 0, 4, new double[4]), typeof(ArgumentOutOfRangeException), "rows"),
        ["Reference Loss short gradient"] = (() => Reference.Loss(LossKind.MeanSquaredError, new double[4], default, new double[4], 1, 4, new double[3]), typeof(ArgumentException), "gradient"),
        ["Reference Conv2D batch = -1"] = (() => Reference.Conv2D(new double[16], new double[18], new double[2], -1, Small), typeof(ArgumentOutOfRangeException), "batch"),
        ["Reference Conv2D batch = MaxValue"] = (() => Reference.Conv2D(new double[16], new double[18], new double[2], Big, Small), typeof(ArgumentOutOfRangeException), "batch"),
        ["Reference Conv2DBackward short dy"] = (() => Reference.Conv2DBackward(new double[16], new double[18], new double[31], 1, Small, new double[18], new double[2]), typeof(ArgumentException), "dy"),
        ["Reference Pool window larger than the input"] = (() => Reference.Pool(true, new double[9], 1, 3, 3, 4, 1), typeof(ArgumentOutOfRangeException), "size"),
        ["Reference Pool 2^21 × 2^21 × 2^22 wraps a long"] = (() => Reference.Pool(true, new double[4], 1 << 21, 1 << 22, 1 << 21, 2, 2), typeof(ArgumentOutOfRangeException), "height"),
        ["Reference PoolBackward short dy"] = (() => Reference.PoolBackward(false, new double[16], new double[3], 1, 4, 4, 2, 2), typeof(ArgumentException), "dy"),
        ["Reference Recurrent batch = -1"] = (() => Reference.Recurrent(new double[6], new double[Lstm.ParameterLength], -1, Lstm), typeof(ArgumentOutOfRangeException), "batch"),
        ["Reference RecurrentBackward short gradient"] = (() => Reference.RecurrentBackward(new double[6], new double[Lstm.ParameterLength], new double[4], 1, Lstm, new double[1]), typeof(ArgumentException), "gradient"),
        ["Reference NetworkOutputs no layers"] = (() => Reference.NetworkOutputs([], default, new double[4], 1), typeof(ArgumentException), "layers"),
    };

    /// <summary>The names of the refused cases, one theory case each.</summary>
    public static TheoryData<string> RefusedCases => new(Refused.Keys);

    [Theory]
    [MemberData(nameof(RefusedCases))]
    public void ExtremeSizes_AreRefusedFirst_NamingTheArgument(string name)
    {
        var (call, type, param) = Refused[name];
        var e = Assert.Throws(type, call);
        var argument = Assert.IsAssignableFrom<ArgumentException>(e);
        Assert.Equal(param, argument.ParamName);
        Assert.DoesNotContain("Specified argument was out of the range", argument.Message); // the message is the kernel's own
    }

    // A span carved out of a larger array whose other floats are a sentinel: a kernel that writes outside the span it was
    // given changes one of them.
    private sealed class Guarded
    {
        private const int Margin = 64;
        private const float Sentinel = -12345.5f;
        private readonly List<(float[] Data, int Length)> _spans = [];

        public Span<float> F(int length, float fill = 1f)
        {
            var data = Enumerable.Repeat(Sentinel, length + 2 * Margin).ToArray();
            data.AsSpan(Margin, length).Fill(fill);
            _spans.Add((data, length));
            return data.AsSpan(Margin, length);
        }

        public void AssertIntact(string name)
        {
            foreach (var (data, length) in _spans)
                for (int i = 0; i < data.Length; i++)
                    if (i < Margin || i >= Margin + length)
                        Assert.True(data[i] == Sentinel, $"{name}: the float {i - Margin} of a span of {length} was written.");
        }
    }

    // Zero sizes that must do nothing outside the spans given (most of which are empty); each may also check what it wrote.
    private static readonly Dictionary<string, Action<Guarded>> Zero = new()
    {
        ["MultiplyTransposed m = 0"] = g => Gemm.MultiplyTransposed(g.F(0), g.F(12), g.F(3), g.F(0), 0, 3, 4),
        ["MultiplyTransposed n = 0"] = g => Gemm.MultiplyTransposed(g.F(8), g.F(0), default, g.F(0), 2, 0, 4),
        ["MultiplyTransposed k = 0 writes the bias"] = g =>
        {
            var c = g.F(6, 9f);
            Gemm.MultiplyTransposed(g.F(0), g.F(0), g.F(3, 2f), c, 2, 3, 0);
            Assert.All(c.ToArray(), v => Assert.Equal(2f, v));
        },
        ["MultiplyAccumulate m = 0"] = g => Gemm.MultiplyAccumulate(g.F(0), 4, 1, g.F(64), g.F(0), 0, 16, 4, false),
        ["MultiplyAccumulate n = 0"] = g => Gemm.MultiplyAccumulate(g.F(8), 4, 1, g.F(0), g.F(0), 2, 0, 4, false),
        ["MultiplyAccumulate kk = 0 writes zeros"] = g =>
        {
            var c = g.F(2 * 17, 9f);
            Gemm.MultiplyAccumulate(g.F(0), 0, 1, g.F(0), c, 2, 17, 0, false);
            Assert.All(c.ToArray(), v => Assert.Equal(0f, v));
        },
        ["DenseForward rows = 0"] = g => Gemm.DenseForward(g.F(0), g.F(6), g.F(2), g.F(0), 0, 2, 3),
        ["DenseForward k = 0 over strips writes the bias"] = g =>
        {
            var y = g.F(20 * 2, 9f);
            Gemm.DenseForward(g.F(0), g.F(0), g.F(2, 3f), y, 20, 2, 0);
            Assert.All(y.ToArray(), v => Assert.Equal(3f, v));
        },
        ["PackStrips rows = 0"] = g => Gemm.PackStrips(g.F(0), g.F(0), 0, 5),
        ["PackStrips features = 0"] = g => Gemm.PackStrips(g.F(0), g.F(0), 17, 0),
        ["UnpackStrips rows = 0"] = g => Gemm.UnpackStrips(g.F(0), g.F(0), 0, 5),
        ["MultiplyStrips rows = 0"] = g => Gemm.MultiplyStrips(g.F(6), g.F(2), g.F(0), g.F(0), 0, 2, 3),
        ["MultiplyStrips n = 0"] = g => Gemm.MultiplyStrips(g.F(0), g.F(0), g.F(48), g.F(0), 16, 0, 3),
        ["MultiplyIndirect m = 0"] = g => Gemm.MultiplyIndirect(g.F(0), g.F(32), [0, 1], default, g.F(0), 0, 16, 2),
        ["MultiplyIndirect n = 0"] = g => Gemm.MultiplyIndirect(g.F(4), g.F(0), [0, 1], default, g.F(0), 2, 0, 2),
        ["MultiplyIndirect k = 0 writes the bias"] = g =>
        {
            var c = g.F(2 * 16, 9f);
            Gemm.MultiplyIndirect(g.F(0), g.F(0), [], g.F(2, 4f), c, 2, 16, 0);
            Assert.All(c.ToArray(), v => Assert.Equal(4f, v));
        },
        ["MultiplyTransposedIndirect m = 0"] = g => Gemm.MultiplyTransposedIndirect(g.F(0), g.F(20), [0, 1], g.F(0), 0, 2, 16, false),
        ["MultiplyTransposedIndirect k = 0"] = g => Gemm.MultiplyTransposedIndirect(g.F(32), g.F(0), [], g.F(0), 2, 0, 16, false),
        ["MultiplyTransposedIndirect n = 0 writes zeros"] = g =>
        {
            var c = g.F(6, 9f);
            Gemm.MultiplyTransposedIndirect(g.F(0), g.F(0), [0, 0, 0], c, 2, 3, 0, false);
            Assert.All(c.ToArray(), v => Assert.Equal(0f, v));
        },
        ["MultiplyShiftedRows m = 0"] = g => Gemm.MultiplyShiftedRows(g.F(0), [], g.F(32), 16, g.F(0), 0, 16, 2, false),
        ["MultiplyShiftedRows kk = 0 writes zeros"] = g =>
        {
            var c = g.F(2 * 16, 9f);
            Gemm.MultiplyShiftedRows(g.F(0), [0, 5], g.F(0), 16, c, 2, 16, 0, false);
            Assert.All(c.ToArray(), v => Assert.Equal(0f, v));
        },
        ["ColumnSums rows = 0 writes zeros"] = g =>
        {
            var sums = g.F(3, 9f);
            Gemm.ColumnSums(g.F(0), sums, 0, 3);
            Assert.All(sums.ToArray(), v => Assert.Equal(0f, v));
        },
        ["ColumnSums cols = 0"] = g => Gemm.ColumnSums(g.F(0), g.F(0), 4, 0, 0),
        ["Conv Forward batch = 0"] = g => Convolution.Forward(g.F(0), g.F(18), g.F(2), g.F(0), 0, Small, relu: true),
        ["Conv Forward strided batch = 0"] = g => Convolution.Forward(g.F(0), g.F(8), g.F(2), g.F(0), 0, Strided),
        ["Conv ForwardPooled batch = 0"] = g => Convolution.ForwardPooled(g.F(0), g.F(18), g.F(2), g.F(0), 0, Small, argmax: g.F(0)),
        ["Conv Backward batch = 0 clears the gradients"] = g =>
        {
            var dw = g.F(18, 9f);
            var db = g.F(2, 9f);
            Convolution.Backward(g.F(0), g.F(18), g.F(0), dw, db, g.F(0), 0, Small);
            Assert.All(dw.ToArray(), v => Assert.Equal(0f, v));
            Assert.All(db.ToArray(), v => Assert.Equal(0f, v));
        },
        ["Conv BackwardPooled batch = 0"] = g => Convolution.BackwardPooled(g.F(0), g.F(18), g.F(0), g.F(0), g.F(0), true, g.F(0), g.F(18), g.F(2), g.F(0), 0, Small),
        ["MaxForward planes = 0"] = g => Pooling.MaxForward(g.F(0), g.F(0), 0, 4, 4, 2, 2, 2, 2),
        ["MaxForward no outputs"] = g => Pooling.MaxForward(g.F(16), g.F(0), 1, 4, 4, 2, 2, 0, 0),
        ["MaxBackward planes = 0"] = g => Pooling.MaxBackward(g.F(0), g.F(0), g.F(0), g.F(0), 0, 4, 4, 2, 2, 2, 2),
        ["AverageForward planes = 0"] = g => Pooling.AverageForward(g.F(0), g.F(0), 0, 4, 4, 2, 2, 2, 2),
        ["AverageBackward planes = 0"] = g => Pooling.AverageBackward(g.F(0), g.F(0), 0, 4, 4, 2, 2, 2, 2),
        ["GlobalAverageForward planes = 0"] = g => Pooling.GlobalAverageForward(g.F(0), g.F(0), 0, 16),
        ["GlobalAverageBackward planes = 0"] = g => Pooling.GlobalAverageBackward(g.F(0), g.F(0), 0, 16),
        ["MaxBackwardChosen planes = 0"] = g => Pooling.MaxBackwardChosen(g.F(0), g.F(0), g.F(0), g.F(0), 0, 4, 4, 2, 2, relu: true),
        ["Recurrent Forward inference batch = 0"] = g => Recurrent.Forward(g.F(0), g.F(Lstm.ParameterLength), g.F(0), 0, Lstm, default),
        ["Recurrent Forward training batch = 0"] = g => Recurrent.Forward(g.F(0), g.F(Lstm.ParameterLength), g.F(0), 0, Lstm, g.F(1)),
        ["Recurrent Backward batch = 0 clears the gradients"] = g =>
        {
            var gradients = g.F(Lstm.ParameterLength, 9f);
            Recurrent.Backward(g.F(Lstm.ParameterLength), g.F(0), g.F(0), g.F(0), gradients, 0, Lstm);
            Assert.All(gradients.ToArray(), v => Assert.Equal(0f, v));
        },
        ["ClearPadding batch = 0"] = g => Recurrent.ClearPadding(g.F(0), [], 0, 4, 4),
        ["ClearPadding width = 0"] = g => Recurrent.ClearPadding(g.F(0), [1, 2], 2, 4, 0),
        ["ReLU empty"] = g => Activations.ReLU(g.F(0), g.F(0)),
        ["ReLUBackward empty"] = g => Activations.ReLUBackward(g.F(0), g.F(0), g.F(0)),
        ["LeakyReLU empty"] = g => Activations.LeakyReLU(g.F(0), g.F(0)),
        ["LeakyReLUBackward empty"] = g => Activations.LeakyReLUBackward(g.F(0), g.F(0), g.F(0)),
        ["Sigmoid empty"] = g => Activations.Sigmoid(g.F(0), g.F(0)),
        ["SigmoidInPlace empty"] = g => Activations.SigmoidInPlace(g.F(0), 2f),
        ["SigmoidBackward empty"] = g => Activations.SigmoidBackward(g.F(0), g.F(0), g.F(0)),
        ["Tanh empty"] = g => Activations.Tanh(g.F(0), g.F(0)),
        ["TanhBackward empty"] = g => Activations.TanhBackward(g.F(0), g.F(0), g.F(0)),
        ["GELU empty"] = g => Activations.GELU(g.F(0), g.F(0)),
        ["GELUBackward empty"] = g => Activations.GELUBackward(g.F(0), g.F(0), g.F(0)),
        ["Softmax rows = 0"] = g => Activations.Softmax(g.F(0), g.F(0), 0, 3),
        ["SoftmaxBackward rows = 0"] = g => Activations.SoftmaxBackward(g.F(0), g.F(0), g.F(0), 0, 3),
        ["Dropout Forward empty"] = g => Dropout.Forward(g.F(0), g.F(0), g.F(0), 0.5f, 1, 0, 0),
        ["Dropout Backward empty"] = g => Dropout.Backward(g.F(0), g.F(0), g.F(0)),
        ["ComputeSequences no true steps"] = g =>
        {
            var gradient = g.F(8, 9f);
            Assert.Equal(0f, Losses.ComputeSequences(LossKind.MeanSquaredError, g.F(8), GenNets.Targets.FromValues(g.F(8)), gradient, 2, 2, 2, [0, 0]));
            Assert.All(gradient.ToArray(), v => Assert.Equal(0f, v));
        },
    };

    /// <summary>The names of the zero-size cases, one theory case each.</summary>
    public static TheoryData<string> ZeroCases => new(Zero.Keys);

    [Theory]
    [MemberData(nameof(ZeroCases))]
    public void ZeroSizes_DoNothingOutsideTheirSpans(string name)
    {
        var guarded = new Guarded();
        Zero[name](guarded);
        guarded.AssertIntact(name);
    }

    // The checks only refuse: the largest legitimate sizes near a boundary still pass (a product of exactly a span's length).
    [Fact]
    public void ExactFits_AreAccepted()
    {
        // 1 × 65536 and 65536 × 1 products, bias of exactly n, strides reaching exactly the last float.
        var c = new float[65536];
        Gemm.MultiplyTransposed(new float[65536], new float[65536], default, c, 1, 1, 65536);
        Gemm.MultiplyAccumulate(new float[8], 3, 1, new float[16 * 2], new float[3 * 16], 3, 16, 2, false); // A reaches (3 − 1)·3 + (2 − 1)·1 + 1 = 8
        Assert.Throws<ArgumentException>(() => Gemm.MultiplyAccumulate(new float[7], 3, 1, new float[16 * 2], new float[3 * 16], 3, 16, 2, false));
        Gemm.ColumnSums(new float[2 * 5 + 3], new float[3], 3, 3, 5);
        Gemm.MultiplyIndirect(new float[2], new float[16 + 7], [7, 0], default, new float[16], 1, 16, 2);
        Assert.Equal(16, Gemm.StripLength(1, 1));
        Assert.Equal(2147483632, Gemm.PaddedStride(int.MaxValue - 16)); // rounded up to a whole vector, and still an int
    }
}
