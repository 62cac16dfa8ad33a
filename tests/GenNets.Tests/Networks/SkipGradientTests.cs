using System;
using System.Linq;
using Xunit;

namespace GenNets.Tests.Networks;

/// <summary>
/// What skip connections are for: at initialisation, the gradient that reaches the first layer of fifty dense layers
/// without skips has all but vanished, while with a skip around each layer it arrives undiminished.
/// </summary>
public class SkipGradientTests
{
    private static double FirstLayerGradientNorm(INetwork net, out double lastLayerNorm)
    {
        const int batch = 32;
        var x = Check.Random(batch * net.InputSize, 5);
        var targets = Check.Random(batch * net.OutputSize, 6);
        net.ComputeGradients(x, targets, batch);
        var tensors = net.ParameterTensors;
        double Norm(ParameterTensor t)
        {
            double sum = 0;
            foreach (float g in net.Gradients.Slice(t.Offset, t.Length)) sum += (double)g * g;
            return Math.Sqrt(sum);
        }
        lastLayerNorm = Norm(tensors[^4]); // the last hidden layer's weight (the output layer's weight and bias follow it)
        return Norm(tensors[0]);
    }

    [Fact]
    public void FiftyLayers_TheFirstLayersGradient_VanishesWithoutSkips_AndNotWithThem()
    {
        double plain = FirstLayerGradientNorm(new PlainFifty(seed: 3), out double plainLast);
        double residual = FirstLayerGradientNorm(new ResidualFifty(seed: 3), out double residualLast);
        Assert.True(plain > 0 && double.IsFinite(residual), $"gradients {plain:G3} and {residual:G3}");
        // Without skips, fifty sigmoid layers (whose derivative is at most 1/4) shrink the gradient geometrically on its way down; with them, the identity
        // carries it back whole, so the first layer learns as fast as the last.
        Assert.True(residual / plain > 1e3, $"first-layer gradient: {residual:G3} with skips, {plain:G3} without: a ratio of {residual / plain:G3}");
        Assert.True(plainLast / plain > 1e3, $"without skips the gradient fades from {plainLast:G3} at the last layer to {plain:G3} at the first");
        Assert.True(residual / residualLast > 0.1, $"with skips it stays: {residualLast:G3} at the last layer, {residual:G3} at the first");
    }
}
