using System;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace GenNets.Kernels;

/// <summary>
/// The argument checks of the kernels' public entry points, in one place so that they read the same everywhere. Sizes
/// are multiplied in <see cref="long"/> (three factors never wrap: a product of two that passes a span's length is
/// below 2³¹), so a product that would wrap an <see cref="int"/> cannot pass for a small one; a span is compared with
/// the extent the kernel will touch before any unchecked access. Each check is a comparison or two; the messages are
/// built only when one fails.
/// </summary>
internal static class Sizes
{
    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming <paramref name="name"/> if the size is negative.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void NotNegative(int value, string name)
    {
        if (value < 0) ThrowNegative(value, name);
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming <paramref name="name"/> unless the size is at least 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Positive(int value, string name)
    {
        if (value <= 0) ThrowNotPositive(value, name);
    }

    /// <summary>
    /// a·b for two sizes, each checked not negative. A product above <see cref="int.MaxValue"/> (which no span can hold)
    /// throws <see cref="ArgumentOutOfRangeException"/> naming the larger factor.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static long Product(int a, string aName, int b, string bName)
    {
        NotNegative(a, aName);
        NotNegative(b, bName);
        long p = (long)a * b;
        if (p > int.MaxValue) ThrowTooLarge(a, aName, b, bName, 1, null);
        return p;
    }

    /// <summary>a·b·c for three sizes, as <see cref="Product(int, string, int, string)"/>; no step can wrap a <see cref="long"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static long Product(int a, string aName, int b, string bName, int c, string cName)
    {
        NotNegative(a, aName);
        NotNegative(b, bName);
        NotNegative(c, cName);
        long ab = (long)a * b; // below 2⁶²
        if (c == 0) return 0;
        if (ab > int.MaxValue || ab * c > int.MaxValue) ThrowTooLarge(a, aName, b, bName, c, cName);
        return ab * c;
    }

    /// <summary>
    /// Throws <see cref="ArgumentOutOfRangeException"/> naming <paramref name="name"/> when an extent computed in
    /// <see cref="long"/> (a strided span's reach, a sum of parts) is more than a span can hold.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Fits(long value, string name, string what)
    {
        if (value > int.MaxValue) ThrowDoesNotFit(value, name, what);
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the span <paramref name="span"/> when its <paramref name="length"/> is
    /// less than the <paramref name="needed"/> values the kernel touches; <paramref name="what"/> says what those are.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Need(int length, long needed, string span, string what)
    {
        if (length < needed) ThrowShort(length, needed, span, what);
    }

    /// <summary>As <see cref="Need(int, long, string, string)"/>, with <paramref name="what"/> a composite format of one size (e.g. "a bias of n = {0}").</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Need(int length, long needed, string span, string what, int a)
    {
        if (length < needed) ThrowShort(length, needed, span, what, 1, a, 0, 0);
    }

    /// <summary>As <see cref="Need(int, long, string, string)"/>, with <paramref name="what"/> a composite format of the two sizes (e.g. "A [{0}, {1}]").</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Need(int length, long needed, string span, string what, int a, int b)
    {
        if (length < needed) ThrowShort(length, needed, span, what, 2, a, b, 0);
    }

    /// <summary>As <see cref="Need(int, long, string, string)"/>, with <paramref name="what"/> a composite format of the three sizes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Need(int length, long needed, string span, string what, int a, int b, int c)
    {
        if (length < needed) ThrowShort(length, needed, span, what, 3, a, b, c);
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the span <paramref name="span"/> when it holds fewer values than the
    /// span <paramref name="otherName"/> that an element-wise kernel pairs it with.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void AsLong(int length, int other, string span, string otherName)
    {
        if (length < other) ThrowShorter(length, other, span, otherName);
    }

    /// <summary>The name of the largest of the sizes, the first of equals: the one an error blames for a product too large.</summary>
    internal static string Largest(params ReadOnlySpan<(long Value, string Name)> sizes)
    {
        var largest = sizes[0];
        foreach (var s in sizes)
            if (s.Value > largest.Value) largest = s;
        return largest.Name;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowNegative(int value, string name) =>
        throw new ArgumentOutOfRangeException(name, value, $"{name} is a size and must not be negative, but is {value}.");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowNotPositive(int value, string name) =>
        throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least 1, but is {value}.");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTooLarge(int a, string aName, int b, string bName, int c, string? cName)
    {
        Int128 product = (Int128)a * b * c;
        string factors = cName is null ? $"{aName} × {bName} = {a} × {b}" : $"{aName} × {bName} × {cName} = {a} × {b} × {c}";
        string name = cName is null ? Largest((a, aName), (b, bName)) : Largest((a, aName), (b, bName), (c, cName));
        throw new ArgumentOutOfRangeException(name, $"{factors} = {product} values, more than a span can hold ({int.MaxValue}).");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowDoesNotFit(long value, string name, string what) =>
        throw new ArgumentOutOfRangeException(name, $"{what} comes to {value} values, more than a span can hold ({int.MaxValue}).");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowShorter(int length, int other, string span, string otherName) =>
        throw new ArgumentException($"{span} holds {length} values, fewer than the {other} of {otherName}.", span);

    // The message's sizes formatted here, off the path of a call that passes.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowShort(int length, long needed, string span, string format, int count, int a, int b, int c) =>
        ThrowShort(length, needed, span, count switch
        {
            1 => string.Format(CultureInfo.InvariantCulture, format, a),
            2 => string.Format(CultureInfo.InvariantCulture, format, a, b),
            _ => string.Format(CultureInfo.InvariantCulture, format, a, b, c),
        });

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowShort(int length, long needed, string span, string what) =>
        throw new ArgumentException($"{span} holds {length} values, but {what} needs {needed}.", span);
}
