using GenNets.Generators.Model;
using GenNets.Generators.Shapes;

namespace GenNets.Generators; // beside the generator and the emitter, which it connects

/// <summary>
/// What the emitter needs for one network: the parsed declaration and, when it is valid, its shapes. <see cref="Omitted"/>
/// names the members the user's class (or a base class) already declares: the network then gets a placeholder without
/// them, and the analyzer reports each collision on the user's member.
/// </summary>
internal sealed record GenerationModel(NetworkSpec Spec, ShapedNetwork? Network, EquatableArray<string> Omitted = default);
