using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace GenNets.Kernels;

/// <summary>
/// One SIMD register of floats at one width: the operations the kernels are written in, so that each kernel has one
/// source for every width. A kernel is a generic method over <c>&lt;TWidth, TVector&gt;</c> (for instance
/// <c>&lt;Width512, Vector512&lt;float&gt;&gt;</c>); both are structs, so the JIT compiles one copy per width with
/// every call below inlined, as if the kernel had been written with <c>Vector512</c> by hand. (.NET's own
/// <c>ISimdVector</c> would serve, but it is not public.) <see cref="VectorWidths"/> picks the width at run time.
/// </summary>
internal interface IVectorWidth<TVector> where TVector : struct
{
    /// <summary>Floats in one register.</summary>
    static abstract int Count { get; }
    static abstract TVector Zero { get; }
    static abstract TVector Broadcast(float value);
    static abstract TVector Load(ref float source);
    static abstract TVector Load(ref float source, nuint offset);
    static abstract void Store(TVector value, ref float destination);
    static abstract void Store(TVector value, ref float destination, nuint offset);
    static abstract TVector Add(TVector a, TVector b);
    static abstract TVector Subtract(TVector a, TVector b);
    static abstract TVector Multiply(TVector a, TVector b);
    /// <summary>a·b + c: fused where the CPU has FMA, else a multiply then an add (never the slow software emulation).</summary>
    static abstract TVector MultiplyAdd(TVector a, TVector b, TVector c);
    /// <summary>The larger of a and b as the hardware's instruction gives it (one instruction): where either is NaN, b on x86 and NaN on ARM64, so a value that may be NaN goes second.</summary>
    static abstract TVector Max(TVector a, TVector b);
    /// <summary>The smaller of a and b as the hardware's instruction gives it (one instruction): where either is NaN, b on x86 and NaN on ARM64, so a value that may be NaN goes second.</summary>
    static abstract TVector Min(TVector a, TVector b);
    /// <summary>a where mask's lanes are set, else b.</summary>
    static abstract TVector Select(TVector mask, TVector a, TVector b);
    static abstract TVector GreaterThan(TVector a, TVector b);
    static abstract TVector And(TVector a, TVector b);
    /// <summary>All bits set in the lanes where a equals b, else zero (a mask for <see cref="Select"/> and <see cref="And"/>).</summary>
    static abstract TVector Equal(TVector a, TVector b);
    /// <summary>The even-numbered floats of a then b, as if they were one row of twice the width: a₀, a₂, …, b₀, b₂, ….</summary>
    static abstract TVector Even(TVector a, TVector b);
    /// <summary>The odd-numbered floats of a then b: a₁, a₃, …, b₁, b₃, ….</summary>
    static abstract TVector Odd(TVector a, TVector b);
    /// <summary>The lower halves of even and odd interleaved: even₀, odd₀, even₁, odd₁, …; the inverse of <see cref="Even"/> and <see cref="Odd"/> with <see cref="ZipUpper"/>.</summary>
    static abstract TVector ZipLower(TVector even, TVector odd);
    /// <summary>The upper halves of even and odd interleaved.</summary>
    static abstract TVector ZipUpper(TVector even, TVector odd);
    static abstract float Sum(TVector value);
    /// <summary>The largest lane (exact: the order of the comparisons does not matter; NaN lanes are not expected).</summary>
    static abstract float MaxAcross(TVector value);
    /// <summary>The square root, correctly rounded.</summary>
    static abstract TVector Sqrt(TVector value);
    static abstract TVector Abs(TVector value);
    static abstract TVector LessThan(TVector a, TVector b);
    /// <summary>To the nearest integer, ties to even.</summary>
    static abstract TVector Round(TVector value);
    /// <summary>2^k for lanes holding an integer k in [−126, 127], built in the exponent bits.</summary>
    static abstract TVector PowerOfTwo(TVector k);
    /// <summary>value·2^k for lanes holding an integer k in [−126, 127]: exact, or rounded once where it falls below the
    /// normal range (one instruction with AVX-512, else a multiply by <see cref="PowerOfTwo"/>, the same float).</summary>
    static abstract TVector ScaleByPowerOfTwo(TVector value, TVector k);
    /// <summary>Σ (double)a·(double)b over the lanes, in double precision: the products are exact.</summary>
    static abstract double DotAsDouble(TVector a, TVector b);
    /// <summary>Lane j: the top 24 bits of <see cref="SeededRandom.Mix"/>(first + j) (wrapping), as a float (exact).</summary>
    static abstract TVector MixedBits24(ulong first);
    /// <summary>
    /// 1 / value for positive normal values whose reciprocal is normal, to within a unit in the last place: with AVX-512,
    /// the 14-bit estimate and one Newton step (a division costs about four times as much there); else a division.
    /// </summary>
    static abstract TVector Reciprocal(TVector value);
}

/// <summary>512-bit registers (AVX-512): 16 floats.</summary>
internal readonly struct Width512 : IVectorWidth<Vector512<float>>
{
    public static int Count => Vector512<float>.Count;
    public static Vector512<float> Zero => Vector512<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Broadcast(float value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(ref float source) => Vector512.LoadUnsafe(ref source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(ref float source, nuint offset) => Vector512.LoadUnsafe(ref source, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<float> value, ref float destination) => value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<float> value, ref float destination, nuint offset) => value.StoreUnsafe(ref destination, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;
    // AVX-512F includes the fused multiply-add.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) =>
        Vector512.IsHardwareAccelerated ? Vector512.FusedMultiplyAdd(a, b, c) : a * b + c;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.MaxNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Min(Vector512<float> a, Vector512<float> b) => Vector512.MinNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Select(Vector512<float> mask, Vector512<float> a, Vector512<float> b) => Vector512.ConditionalSelect(mask, a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> GreaterThan(Vector512<float> a, Vector512<float> b) => Vector512.GreaterThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> And(Vector512<float> a, Vector512<float> b) => a & b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Equal(Vector512<float> a, Vector512<float> b) => Vector512.Equals(a, b);
    // One two-source permute each where AVX-512 is there; else narrowing and widening, which any width has.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Even(Vector512<float> a, Vector512<float> b) =>
        Avx512F.IsSupported ? Avx512F.PermuteVar16x32x2(a, Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), b)
        : Vector512.Narrow(a.AsUInt64(), b.AsUInt64()).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Odd(Vector512<float> a, Vector512<float> b) =>
        Avx512F.IsSupported ? Avx512F.PermuteVar16x32x2(a, Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), b)
        : Vector512.Narrow(Vector512.ShiftRightLogical(a.AsUInt64(), 32), Vector512.ShiftRightLogical(b.AsUInt64(), 32)).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> ZipLower(Vector512<float> even, Vector512<float> odd) =>
        Avx512F.IsSupported ? Avx512F.PermuteVar16x32x2(even, Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), odd)
        : (Vector512.WidenLower(even.AsUInt32()) | Vector512.ShiftLeft(Vector512.WidenLower(odd.AsUInt32()), 32)).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> ZipUpper(Vector512<float> even, Vector512<float> odd) =>
        Avx512F.IsSupported ? Avx512F.PermuteVar16x32x2(even, Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), odd)
        : (Vector512.WidenUpper(even.AsUInt32()) | Vector512.ShiftLeft(Vector512.WidenUpper(odd.AsUInt32()), 32)).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector512<float> value) => Vector512.Sum(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MaxAcross(Vector512<float> value) => Width256.MaxAcross(Vector256.Max(value.GetLower(), value.GetUpper()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Reciprocal(Vector512<float> value)
    {
        if (!Avx512F.IsSupported) return Vector512<float>.One / value;
        var r = Avx512F.Reciprocal14(value); // relative error below 2⁻¹⁴
        return Vector512.FusedMultiplyAdd(r, Vector512.FusedMultiplyAdd(-value, r, Vector512<float>.One), r); // r + r·(1 − v·r): error squared
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Sqrt(Vector512<float> value) => Vector512.Sqrt(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Abs(Vector512<float> value) => Vector512.Abs(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> LessThan(Vector512<float> a, Vector512<float> b) => Vector512.LessThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Round(Vector512<float> value) => Vector512.Round(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> ScaleByPowerOfTwo(Vector512<float> value, Vector512<float> k) =>
        Avx512F.IsSupported ? Avx512F.Scale(value, k) : value * PowerOfTwo(k);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> PowerOfTwo(Vector512<float> k) =>
        Vector512.ShiftLeft(Vector512.ConvertToInt32Native(k) + Vector512.Create(127), 23).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double DotAsDouble(Vector512<float> a, Vector512<float> b)
    {
        var (aLow, aHigh) = Vector512.Widen(a);
        var (bLow, bHigh) = Vector512.Widen(b);
        return Vector512.Sum(aLow * bLow + aHigh * bHigh);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MixedBits24(ulong first)
    {
        var low = Vector512.ShiftRightLogical(Mix(Vector512.Create(first) + Vector512<ulong>.Indices), 40);
        var high = Vector512.ShiftRightLogical(Mix(Vector512.Create(first + (ulong)Vector512<ulong>.Count) + Vector512<ulong>.Indices), 40);
        return Vector512.ConvertToSingle(Vector512.Narrow(low, high).AsInt32());
    }
    // SeededRandom.Mix in every lane.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] private static Vector512<ulong> Mix(Vector512<ulong> z)
    {
        z = (z ^ Vector512.ShiftRightLogical(z, 30)) * Vector512.Create(0xBF58476D1CE4E5B9UL);
        z = (z ^ Vector512.ShiftRightLogical(z, 27)) * Vector512.Create(0x94D049BB133111EBUL);
        return z ^ Vector512.ShiftRightLogical(z, 31);
    }
}

/// <summary>256-bit registers (AVX2): 8 floats.</summary>
internal readonly struct Width256 : IVectorWidth<Vector256<float>>
{
    public static int Count => Vector256<float>.Count;
    public static Vector256<float> Zero => Vector256<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Broadcast(float value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(ref float source) => Vector256.LoadUnsafe(ref source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(ref float source, nuint offset) => Vector256.LoadUnsafe(ref source, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> value, ref float destination) => value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> value, ref float destination, nuint offset) => value.StoreUnsafe(ref destination, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        Fma.IsSupported ? Vector256.FusedMultiplyAdd(a, b, c) : a * b + c;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.MaxNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Min(Vector256<float> a, Vector256<float> b) => Vector256.MinNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Select(Vector256<float> mask, Vector256<float> a, Vector256<float> b) => Vector256.ConditionalSelect(mask, a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> GreaterThan(Vector256<float> a, Vector256<float> b) => Vector256.GreaterThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> And(Vector256<float> a, Vector256<float> b) => a & b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Equal(Vector256<float> a, Vector256<float> b) => Vector256.Equals(a, b);
    // Shuffle gathers the even (odd) floats of each 128-bit lane, and Permute4x64 puts the lanes' halves in order; the
    // zips interleave within lanes, and Permute2x128 takes their lower (upper) halves.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Even(Vector256<float> a, Vector256<float> b) =>
        Avx2.IsSupported ? Avx2.Permute4x64(Avx.Shuffle(a, b, 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle()
        : Vector256.Narrow(a.AsUInt64(), b.AsUInt64()).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Odd(Vector256<float> a, Vector256<float> b) =>
        Avx2.IsSupported ? Avx2.Permute4x64(Avx.Shuffle(a, b, 0b11_01_11_01).AsDouble(), 0b11_01_10_00).AsSingle()
        : Vector256.Narrow(Vector256.ShiftRightLogical(a.AsUInt64(), 32), Vector256.ShiftRightLogical(b.AsUInt64(), 32)).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> ZipLower(Vector256<float> even, Vector256<float> odd) =>
        Avx.IsSupported ? Avx.Permute2x128(Avx.UnpackLow(even, odd), Avx.UnpackHigh(even, odd), 0x20)
        : (Vector256.WidenLower(even.AsUInt32()) | Vector256.ShiftLeft(Vector256.WidenLower(odd.AsUInt32()), 32)).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> ZipUpper(Vector256<float> even, Vector256<float> odd) =>
        Avx.IsSupported ? Avx.Permute2x128(Avx.UnpackLow(even, odd), Avx.UnpackHigh(even, odd), 0x31)
        : (Vector256.WidenUpper(even.AsUInt32()) | Vector256.ShiftLeft(Vector256.WidenUpper(odd.AsUInt32()), 32)).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector256<float> value) => Vector256.Sum(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MaxAcross(Vector256<float> value) => Width128.MaxAcross(Vector128.Max(value.GetLower(), value.GetUpper()));
    // AVX's estimate has 12 bits; one Newton step would leave a few units in the last place.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Reciprocal(Vector256<float> value) => Vector256<float>.One / value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Sqrt(Vector256<float> value) => Vector256.Sqrt(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Abs(Vector256<float> value) => Vector256.Abs(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> LessThan(Vector256<float> a, Vector256<float> b) => Vector256.LessThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Round(Vector256<float> value) => Vector256.Round(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> ScaleByPowerOfTwo(Vector256<float> value, Vector256<float> k) =>
        Avx512F.VL.IsSupported ? Avx512F.VL.Scale(value, k) : value * PowerOfTwo(k);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> PowerOfTwo(Vector256<float> k) =>
        Vector256.ShiftLeft(Vector256.ConvertToInt32Native(k) + Vector256.Create(127), 23).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double DotAsDouble(Vector256<float> a, Vector256<float> b)
    {
        var (aLow, aHigh) = Vector256.Widen(a);
        var (bLow, bHigh) = Vector256.Widen(b);
        return Vector256.Sum(aLow * bLow + aHigh * bHigh);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MixedBits24(ulong first)
    {
        var low = Vector256.ShiftRightLogical(Mix(Vector256.Create(first) + Vector256<ulong>.Indices), 40);
        var high = Vector256.ShiftRightLogical(Mix(Vector256.Create(first + (ulong)Vector256<ulong>.Count) + Vector256<ulong>.Indices), 40);
        return Vector256.ConvertToSingle(Vector256.Narrow(low, high).AsInt32());
    }
    // SeededRandom.Mix in every lane.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] private static Vector256<ulong> Mix(Vector256<ulong> z)
    {
        z = (z ^ Vector256.ShiftRightLogical(z, 30)) * Vector256.Create(0xBF58476D1CE4E5B9UL);
        z = (z ^ Vector256.ShiftRightLogical(z, 27)) * Vector256.Create(0x94D049BB133111EBUL);
        return z ^ Vector256.ShiftRightLogical(z, 31);
    }
}

/// <summary>128-bit registers (SSE, or ARM64's AdvSimd): 4 floats. Also the path when no wider one is accelerated.</summary>
internal readonly struct Width128 : IVectorWidth<Vector128<float>>
{
    public static int Count => Vector128<float>.Count;
    public static Vector128<float> Zero => Vector128<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Broadcast(float value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(ref float source) => Vector128.LoadUnsafe(ref source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(ref float source, nuint offset) => Vector128.LoadUnsafe(ref source, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<float> value, ref float destination) => value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<float> value, ref float destination, nuint offset) => value.StoreUnsafe(ref destination, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Subtract(Vector128<float> a, Vector128<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Multiply(Vector128<float> a, Vector128<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) =>
        Fma.IsSupported || AdvSimd.IsSupported ? Vector128.FusedMultiplyAdd(a, b, c) : a * b + c;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Max(Vector128<float> a, Vector128<float> b) => Vector128.MaxNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Min(Vector128<float> a, Vector128<float> b) => Vector128.MinNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Select(Vector128<float> mask, Vector128<float> a, Vector128<float> b) => Vector128.ConditionalSelect(mask, a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> GreaterThan(Vector128<float> a, Vector128<float> b) => Vector128.GreaterThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> And(Vector128<float> a, Vector128<float> b) => a & b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Equal(Vector128<float> a, Vector128<float> b) => Vector128.Equals(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Even(Vector128<float> a, Vector128<float> b) =>
        Sse.IsSupported ? Sse.Shuffle(a, b, 0b10_00_10_00) : AdvSimd.Arm64.IsSupported ? AdvSimd.Arm64.UnzipEven(a, b)
        : Vector128.Narrow(a.AsUInt64(), b.AsUInt64()).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Odd(Vector128<float> a, Vector128<float> b) =>
        Sse.IsSupported ? Sse.Shuffle(a, b, 0b11_01_11_01) : AdvSimd.Arm64.IsSupported ? AdvSimd.Arm64.UnzipOdd(a, b)
        : Vector128.Narrow(Vector128.ShiftRightLogical(a.AsUInt64(), 32), Vector128.ShiftRightLogical(b.AsUInt64(), 32)).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> ZipLower(Vector128<float> even, Vector128<float> odd) =>
        Sse.IsSupported ? Sse.UnpackLow(even, odd) : AdvSimd.Arm64.IsSupported ? AdvSimd.Arm64.ZipLow(even, odd)
        : (Vector128.WidenLower(even.AsUInt32()) | Vector128.ShiftLeft(Vector128.WidenLower(odd.AsUInt32()), 32)).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> ZipUpper(Vector128<float> even, Vector128<float> odd) =>
        Sse.IsSupported ? Sse.UnpackHigh(even, odd) : AdvSimd.Arm64.IsSupported ? AdvSimd.Arm64.ZipHigh(even, odd)
        : (Vector128.WidenUpper(even.AsUInt32()) | Vector128.ShiftLeft(Vector128.WidenUpper(odd.AsUInt32()), 32)).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector128<float> value) => Vector128.Sum(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MaxAcross(Vector128<float> value)
    {
        var pairs = Vector128.Max(value, Vector128.Shuffle(value, Vector128.Create(2, 3, 0, 1)));
        return MathF.Max(pairs.GetElement(0), pairs.GetElement(1));
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Reciprocal(Vector128<float> value) => Vector128<float>.One / value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Sqrt(Vector128<float> value) => Vector128.Sqrt(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Abs(Vector128<float> value) => Vector128.Abs(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> LessThan(Vector128<float> a, Vector128<float> b) => Vector128.LessThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Round(Vector128<float> value) => Vector128.Round(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> ScaleByPowerOfTwo(Vector128<float> value, Vector128<float> k) =>
        value * PowerOfTwo(k);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> PowerOfTwo(Vector128<float> k) =>
        Vector128.ShiftLeft(Vector128.ConvertToInt32Native(k) + Vector128.Create(127), 23).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double DotAsDouble(Vector128<float> a, Vector128<float> b)
    {
        var (aLow, aHigh) = Vector128.Widen(a);
        var (bLow, bHigh) = Vector128.Widen(b);
        return Vector128.Sum(aLow * bLow + aHigh * bHigh);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MixedBits24(ulong first)
    {
        var low = Vector128.ShiftRightLogical(Mix(Vector128.Create(first) + Vector128<ulong>.Indices), 40);
        var high = Vector128.ShiftRightLogical(Mix(Vector128.Create(first + (ulong)Vector128<ulong>.Count) + Vector128<ulong>.Indices), 40);
        return Vector128.ConvertToSingle(Vector128.Narrow(low, high).AsInt32());
    }
    // SeededRandom.Mix in every lane.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] private static Vector128<ulong> Mix(Vector128<ulong> z)
    {
        z = (z ^ Vector128.ShiftRightLogical(z, 30)) * Vector128.Create(0xBF58476D1CE4E5B9UL);
        z = (z ^ Vector128.ShiftRightLogical(z, 27)) * Vector128.Create(0x94D049BB133111EBUL);
        return z ^ Vector128.ShiftRightLogical(z, 31);
    }
}

/// <summary>
/// The SIMD width the kernels use on this CPU: 512 bits where <see cref="Vector512.IsHardwareAccelerated"/> (AVX-512),
/// else 256 (AVX2), else 128 (SSE, ARM64's AdvSimd, or no acceleration at all). The JIT treats each test as a
/// constant, so a kernel's choice costs nothing. <c>DOTNET_EnableAVX512=0</c> in the environment selects the 256-bit
/// path on a machine with AVX-512, and <c>DOTNET_EnableAVX2=0</c> the 128-bit one.
/// </summary>
public static class VectorWidths
{
    /// <summary>Bits of the registers the kernels use here: 512, 256 or 128.</summary>
    public static int Bits => Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : 128;

    /// <summary>Whether the kernels' multiply-adds are fused (one rounding) here; else a multiply then an add.</summary>
    public static bool FusedMultiplyAdd => Vector512.IsHardwareAccelerated || (Vector256.IsHardwareAccelerated ? Fma.IsSupported : Fma.IsSupported || AdvSimd.IsSupported);

    /// <summary>A line for logs and benchmark headers, e.g. "Vector512 (AVX-512), fused multiply-add".</summary>
    public static string Description =>
        (Bits switch { 512 => "Vector512 (AVX-512)", 256 => "Vector256 (AVX2)", _ => Vector128.IsHardwareAccelerated ? "Vector128" : "Vector128 (not accelerated)" })
        + (FusedMultiplyAdd ? ", fused multiply-add" : ", multiply then add");
}
