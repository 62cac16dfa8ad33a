using System.Collections.Generic;
using System.Collections.Immutable;
using GenNets.Generators.Model;
using GenNets.Generators.Parsing;
using GenNets.Generators.Planning;
using GenNets.Generators.Shapes;
using static GenNets.Generators.Shapes.LayerShaping;
using static GenNets.Generators.Text;

namespace GenNets.Generators.Layers;

/// <summary><c>[MaxPool2D(size)]</c> or <c>[AvgPool2D(size)]</c>: a square window; Stride 0 means the window's size.</summary>
internal sealed record PoolSpec(int AttributeIndex, bool Max, int Size, int Stride) : LayerSpec(AttributeIndex, null)
{
    public override string Kind => Max ? "MaxPool2D" : "AvgPool2D";

    /// <summary>The step between windows.</summary>
    public int Step => Stride == 0 ? Size : Stride;

    public static LayerSpec ReadMax(AttributeReading r) => Read(r, max: true);

    public static LayerSpec ReadAverage(AttributeReading r) => Read(r, max: false);

    private static PoolSpec Read(AttributeReading r, bool max)
    {
        int stride = 0;
        foreach (var named in r.Named)
            if (named.Key == "Stride") stride = AttributeReading.Int(named.Value);
        return new PoolSpec(r.Index, max, AttributeReading.Int(r.Arg(0)), stride);
    }

    public override void Shape(LayerShaping s)
    {
        var shape = s.KnownInput;
        string index = Num(s.Index);
        bool ok = true;
        if (Size <= 0)
        {
            s.Report(Problem.OnArgument(DiagnosticIds.NonPositiveSize, AttributeIndex, "size", 0, $"The window of layer {index} ({Kind})", Num(Size)));
            ok = false;
        }
        if (Stride < 0)
        {
            s.Report(Problem.OnArgument(DiagnosticIds.NonPositiveSize, AttributeIndex, "Stride", -1, $"The stride of layer {index} ({Kind})", Num(Stride)));
            ok = false;
        }
        if (!ok || shape.IsEmpty || !s.NeedsImage(shape))
        {
            s.Fail();
            return;
        }
        if (Size > shape[1] || Size > shape[2])
        {
            s.Report(Problem.OnArgument(DiagnosticIds.SpatialSizeZero, AttributeIndex, "size", 0, index, Kind, Num(Size), Num(shape[1]), Num(shape[2])));
            s.Fail();
            return;
        }
        int restH = (shape[1] - Size) % Step, restW = (shape[2] - Size) % Step;
        if (restH != 0 || restW != 0)
            s.Report(Problem.OnArgument(DiagnosticIds.PoolingDoesNotDivide, AttributeIndex, "size", 0, index, Kind, Num(Size), Num(Step),
                Num(shape[1]), Num(shape[2]), Num(restH), Num(restW)));
        s.Output = ImmutableArray.Create(shape[0], (shape[1] - Size) / Step + 1, (shape[2] - Size) / Step + 1);
    }

    public override LayerEmitter Emitter(ShapedLayer layer, bool last) => new PoolingEmitter(layer, last);
}

/// <summary><c>[GlobalAvgPool]</c>: the mean of each channel of an image, or of each feature over a sequence's positions.</summary>
internal sealed record GlobalAvgPoolSpec(int AttributeIndex) : LayerSpec(AttributeIndex, null)
{
    public override string Kind => "GlobalAvgPool";

    public static LayerSpec Read(AttributeReading r) => new GlobalAvgPoolSpec(r.Index);

    // An image's channels, or a sequence's features (the mean over its positions).
    public override void Shape(LayerShaping s)
    {
        if (!s.Known) return;
        if (s.Input.Length == 2) s.Output = ImmutableArray.Create(s.Input[1]);
        else if (!s.NeedsImage(s.Input)) s.Fail();
        else s.Output = ImmutableArray.Create(s.Input[0]);
    }

    public override LayerEmitter Emitter(ShapedLayer layer, bool last) => new PoolingEmitter(layer, last);
}

/// <summary><c>[MaxPool2D]</c>, <c>[AvgPool2D]</c> and <c>[GlobalAvgPool]</c>: per-channel pooling of (channels, height, width).</summary>
internal sealed class PoolingEmitter(ShapedLayer layer, bool last = false) : LayerEmitter(layer, last)
{
    private PoolSpec? Window => Layer.Spec as PoolSpec;

    public override string Description => Window is { } pool
        ? $"{pool.Kind} {pool.Size}" + (pool.Step == pool.Size ? "" : $" stride {pool.Step}")
        : OverPositions ? "GlobalAvgPool over positions" : Layer.Kind;

    public override string LayerInfoArguments(int firstTensor)
        => Window is { } pool ? $", KernelHeight: {pool.Size}, KernelWidth: {pool.Size}, Stride: {pool.Step}" : "";

    private string Planes => $"batch * {Layer.InputShape[0]}";

    /// <summary>A global average over a sequence's positions, (positions, features) → (features).</summary>
    private bool OverPositions => Layer.InputShape.Length == 2;

    // The planes, the input's sides, the window and its step, and the output's sides, as the pooling kernels take them.
    private string Sizes => $"{Planes}, {Layer.InputShape[1]}, {Layer.InputShape[2]}, {Window!.Size}, {Window.Step}, {Layer.OutputShape[1]}, {Layer.OutputShape[2]}";

    protected override void EmitForward(IndentedWriter w, string x, string pre, string y, string? reverse)
    {
        if (Window is { } pool)
            w.Line($"{Kernels}Pooling.{(pool.Max ? "Max" : "Average")}Forward({x}, {y}, {Sizes});");
        else if (OverPositions)
            w.Line($"{Kernels}Pooling.MeanOverPositions({x}, {y}, batch, {Layer.InputShape[0]}, {Layer.InputShape[1]});");
        else
            w.Line($"{Kernels}Pooling.GlobalAverageForward({x}, {y}, {Planes}, {Layer.InputShape[1] * Layer.InputShape[2]});");
    }

    public override void EmitBackward(IndentedWriter w, BackwardSite site, Step step)
    {
        if (site.First)
        {
            w.Line("// The input needs no gradient.");
            return;
        }
        w.Line($"{Span} dx{N} = new {Span}({site.NextGradient(false)}, stretch, batch * {Layer.InputLength});");
        if (Window is null && OverPositions)
            w.Line($"{Kernels}Pooling.MeanOverPositionsBackward(dy, dx{N}, batch, {Layer.InputShape[0]}, {Layer.InputShape[1]});");
        else if (Window is not { } pool)
            w.Line($"{Kernels}Pooling.GlobalAverageBackward(dy, dx{N}, {Planes}, {Layer.InputShape[1] * Layer.InputShape[2]}" +
                (step.TakesReluBelow ? $", reluOutput: {site.Input}); // and the ReLU below" : ");"));
        else if (pool.Max)
            w.Line($"{Kernels}Pooling.MaxBackward({site.Input}, y{N}, dy, dx{N}, {Sizes}{(step.TakesReluBelow ? ", relu: true); // and the ReLU below" : ");")}");
        else
            w.Line($"{Kernels}Pooling.AverageBackward(dy, dx{N}, {Sizes});");
        w.Line($"dy = dx{N};");
    }
}
