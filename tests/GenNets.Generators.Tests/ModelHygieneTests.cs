using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Xunit;

namespace GenNets.Generators.Tests;

/// <summary>
/// The pipeline's model must hold no Roslyn symbol, syntax node, location or compilation: those are
/// never equal across runs and would defeat the cache (and keep whole compilations alive).
/// </summary>
public class ModelHygieneTests
{
    private static readonly Type[] Forbidden = [typeof(ISymbol), typeof(SyntaxNode), typeof(Location), typeof(Compilation), typeof(SemanticModel), typeof(AttributeData), typeof(SyntaxTree)];

    [Fact]
    public void GenerationModel_HoldsOnlyPlainValues()
    {
        var root = typeof(NetworkGenerator).Assembly.GetType("GenNets.Generators.GenerationModel", throwOnError: true)!;
        var seen = new HashSet<Type>();
        var queue = new Queue<Type>([root]);
        while (queue.Count > 0)
        {
            var type = queue.Dequeue();
            if (!seen.Add(type) || type.IsPrimitive || type.IsEnum || type == typeof(string)) continue;
            Assert.False(Forbidden.Any(f => f.IsAssignableFrom(type)), $"{type} is in the generator's model");
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
                queue.Enqueue(field.FieldType);
            foreach (var argument in type.GetGenericArguments()) queue.Enqueue(argument);
            if (type.IsArray) queue.Enqueue(type.GetElementType()!);
        }
        Assert.Contains(seen, t => t.Name == "ShapedLayer"); // the walk did reach the layers
    }
}
