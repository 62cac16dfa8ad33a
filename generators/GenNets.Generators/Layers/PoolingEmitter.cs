using System.Collections.Generic;
using GenNets.Generators.Model;
using GenNets.Generators.Planning;
using GenNets.Generators.Shapes;
using static GenNets.Generators.Text;

namespace GenNets.Generators.Layers;

/// <summary><c>[MaxPool2D]</c>, <c>[AvgPool2D]</c> and <c>[GlobalAvgPool]</c>: per-channel pooling of (channels, height, width).</summary>
internal sealed class PoolingEmitter(ShapedLayer layer, bool last = false) : LayerEmitter(layer, last)
{
    private PoolSpec? Window => Layer.Spec as PoolSpec;

    public override string Description => Window is { } pool
        ? $"{pool.Kind} {pool.Size}" + (pool.Step == pool.Size ? "" : $" stride {pool.Step}")
        : Layer.Kind.ToString();

    public override string LayerInfoArguments(int firstTensor)
        => Window is { } pool ? $", KernelHeight: {pool.Size}, KernelWidth: {pool.Size}, Stride: {pool.Step}" : "";

    private string Planes => $"batch * {Layer.InputShape[0]}";

    // The planes, the input's sides, the window and its step, and the output's sides, as the pooling kernels take them.
    private string Sizes => $"{Planes}, {Layer.InputShape[1]}, {Layer.InputShape[2]}, {Window!.Size}, {Window.Step}, {Layer.OutputShape[1]}, {Layer.OutputShape[2]}";

    protected override void EmitForward(IndentedWriter w, string x, string pre, string y, string? reverse)
    {
        if (Window is { } pool)
            w.Line($"{Kernels}Pooling.{(pool.Max ? "Max" : "Average")}Forward({x}, {y}, {Sizes});");
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
        if (Window is not { } pool)
            w.Line($"{Kernels}Pooling.GlobalAverageBackward(dy, dx{N}, {Planes}, {Layer.InputShape[1] * Layer.InputShape[2]});");
        else if (pool.Max)
            w.Line($"{Kernels}Pooling.MaxBackward({site.Input}, y{N}, dy, dx{N}, {Sizes}{(step.TakesReluBelow ? ", relu: true); // and the ReLU below" : ");")}");
        else
            w.Line($"{Kernels}Pooling.AverageBackward(dy, dx{N}, {Sizes});");
        w.Line($"dy = dx{N};");
    }
}
