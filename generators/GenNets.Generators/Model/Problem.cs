namespace GenNets.Generators.Model;

/// <summary>
/// A mistake found in a network declaration. The analyzer turns it into a GN diagnostic on the
/// attribute at <see cref="AttributeIndex"/> (index into the class's attribute list; −1 for the class
/// name) and, when <see cref="Argument"/> is set, on that argument: a constructor parameter name or a
/// named property. <see cref="ArgumentPosition"/> is the argument's position when it is positional
/// (for a params array, the element's position).
/// </summary>
internal sealed record Problem(string Id, int AttributeIndex, string? Argument, int ArgumentPosition, EquatableArray<string> MessageArguments)
{
    public static Problem OnClass(string id, params string[] args)
        => new(id, -1, null, -1, args.ToEquatableArray());

    public static Problem OnAttribute(string id, int attributeIndex, params string[] args)
        => new(id, attributeIndex, null, -1, args.ToEquatableArray());

    public static Problem OnArgument(string id, int attributeIndex, string argument, int position, params string[] args)
        => new(id, attributeIndex, argument, position, args.ToEquatableArray());
}
