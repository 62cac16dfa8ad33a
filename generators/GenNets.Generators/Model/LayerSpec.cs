using GenNets.Generators.Layers;
using GenNets.Generators.Shapes;

namespace GenNets.Generators.Model;

/// <summary>
/// One layer attribute as written: one record per kind, each in its family's file under Layers/ with the kind's reader,
/// shape rule and emitter (registered in <see cref="LayerRegistry"/>). AttributeIndex locates the attribute among the
/// class's attributes (for diagnostics); Name is the user's prefix for the layer's tensors, when given.
/// </summary>
internal abstract record LayerSpec(int AttributeIndex, string? Name)
{
    /// <summary>The GenNets.LayerKind member the layer is: the generated code names it, and messages call the layer by it.</summary>
    public abstract string Kind { get; }

    /// <summary>The activation applied to the layer's output (dense and convolution layers have one).</summary>
    public virtual ActivationKind OutputActivation => ActivationKind.Identity;

    /// <summary>Whether the layer has tensors of its own (and so offset constants and a tensor name).</summary>
    public virtual bool HasTensors => false;

    /// <summary>
    /// The kind's shape rule: checks the layer's arguments (reporting what is wrong, with the numbers), and while shapes
    /// are known sets the output shape and reserves the parameters.
    /// </summary>
    public abstract void Shape(LayerShaping s);

    /// <summary>The emitter of everything the generated code does for this layer.</summary>
    public abstract LayerEmitter Emitter(ShapedLayer layer, bool last);
}
