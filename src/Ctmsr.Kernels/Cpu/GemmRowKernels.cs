using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ctmsr.Kernels.Cpu;

/// <summary>A row count known when the JIT compiles a generic kernel (a struct type argument), so guarded rows fold away.</summary>
interface IRowCount { static abstract int Rows { get; } }
struct Rows1 : IRowCount { public static int Rows => 1; }
struct Rows2 : IRowCount { public static int Rows => 2; }
struct Rows3 : IRowCount { public static int Rows => 3; }
struct Rows4 : IRowCount { public static int Rows => 4; }
struct Rows5 : IRowCount { public static int Rows => 5; }
struct Rows6 : IRowCount { public static int Rows => 6; }
struct Rows7 : IRowCount { public static int Rows => 7; }
struct Rows8 : IRowCount { public static int Rows => 8; }
struct Rows9 : IRowCount { public static int Rows => 9; }
struct Rows10 : IRowCount { public static int Rows => 10; }
struct Rows11 : IRowCount { public static int Rows => 11; }
struct Rows12 : IRowCount { public static int Rows => 12; }

/// <summary>
/// AVX-512 SGEMM micro-kernel over a packed 12-row A micro-panel ([kc][12], row index fastest) and a packed 32-column
/// B micro-panel ([kc][32]): C[R x 32] (=, or beta*C +) sum_p a[p*12+i] * b[p*32+j] for the first R rows. R = 12 is
/// the main kernel (24 zmm accumulators of 32); R = 1..11 are the row edges (m not a multiple of 12, e.g. 64 output
/// channels = 5 x 12 + 4, an RGB head = 3), where computing only the live rows saves up to 11/12 of a panel.
/// Each row's accumulators are named locals so they stay in registers; the `R.Rows > i` guards are JIT-time constants.
/// beta == 0 stores without reading C (NaNs in C are ignored).
/// </summary>
static unsafe class GemmRowKernels
{
    /// <summary>The first <c>rows</c> (1..12) rows of a 12-row A panel times a full 32-column B panel.</summary>
    public static void KernelRowsx32(int rows, int kc, float* a, float* b, float* c, int ldc, float beta)
    {
        switch (rows)
        {
            case 1: Kernel<Rows1>(kc, a, b, c, ldc, beta); break;
            case 2: Kernel<Rows2>(kc, a, b, c, ldc, beta); break;
            case 3: Kernel<Rows3>(kc, a, b, c, ldc, beta); break;
            case 4: Kernel<Rows4>(kc, a, b, c, ldc, beta); break;
            case 5: Kernel<Rows5>(kc, a, b, c, ldc, beta); break;
            case 6: Kernel<Rows6>(kc, a, b, c, ldc, beta); break;
            case 7: Kernel<Rows7>(kc, a, b, c, ldc, beta); break;
            case 8: Kernel<Rows8>(kc, a, b, c, ldc, beta); break;
            case 9: Kernel<Rows9>(kc, a, b, c, ldc, beta); break;
            case 10: Kernel<Rows10>(kc, a, b, c, ldc, beta); break;
            case 11: Kernel<Rows11>(kc, a, b, c, ldc, beta); break;
            case 12: Kernel<Rows12>(kc, a, b, c, ldc, beta); break;
            default: throw new ArgumentOutOfRangeException(nameof(rows), rows, "a 12-row panel has 1..12 live rows");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel<R>(int kc, float* a, float* b, float* c, int ldc, float beta) where R : struct, IRowCount
    {
        var c0_0 = Vector512<float>.Zero; var c0_1 = Vector512<float>.Zero;
        var c1_0 = Vector512<float>.Zero; var c1_1 = Vector512<float>.Zero;
        var c2_0 = Vector512<float>.Zero; var c2_1 = Vector512<float>.Zero;
        var c3_0 = Vector512<float>.Zero; var c3_1 = Vector512<float>.Zero;
        var c4_0 = Vector512<float>.Zero; var c4_1 = Vector512<float>.Zero;
        var c5_0 = Vector512<float>.Zero; var c5_1 = Vector512<float>.Zero;
        var c6_0 = Vector512<float>.Zero; var c6_1 = Vector512<float>.Zero;
        var c7_0 = Vector512<float>.Zero; var c7_1 = Vector512<float>.Zero;
        var c8_0 = Vector512<float>.Zero; var c8_1 = Vector512<float>.Zero;
        var c9_0 = Vector512<float>.Zero; var c9_1 = Vector512<float>.Zero;
        var c10_0 = Vector512<float>.Zero; var c10_1 = Vector512<float>.Zero;
        var c11_0 = Vector512<float>.Zero; var c11_1 = Vector512<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b); var b1 = Vector512.Load(b + 16);
            if (R.Rows > 0) { var ai = Vector512.Create(a[0]); c0_0 = Vector512.FusedMultiplyAdd(ai, b0, c0_0); c0_1 = Vector512.FusedMultiplyAdd(ai, b1, c0_1); }
            if (R.Rows > 1) { var ai = Vector512.Create(a[1]); c1_0 = Vector512.FusedMultiplyAdd(ai, b0, c1_0); c1_1 = Vector512.FusedMultiplyAdd(ai, b1, c1_1); }
            if (R.Rows > 2) { var ai = Vector512.Create(a[2]); c2_0 = Vector512.FusedMultiplyAdd(ai, b0, c2_0); c2_1 = Vector512.FusedMultiplyAdd(ai, b1, c2_1); }
            if (R.Rows > 3) { var ai = Vector512.Create(a[3]); c3_0 = Vector512.FusedMultiplyAdd(ai, b0, c3_0); c3_1 = Vector512.FusedMultiplyAdd(ai, b1, c3_1); }
            if (R.Rows > 4) { var ai = Vector512.Create(a[4]); c4_0 = Vector512.FusedMultiplyAdd(ai, b0, c4_0); c4_1 = Vector512.FusedMultiplyAdd(ai, b1, c4_1); }
            if (R.Rows > 5) { var ai = Vector512.Create(a[5]); c5_0 = Vector512.FusedMultiplyAdd(ai, b0, c5_0); c5_1 = Vector512.FusedMultiplyAdd(ai, b1, c5_1); }
            if (R.Rows > 6) { var ai = Vector512.Create(a[6]); c6_0 = Vector512.FusedMultiplyAdd(ai, b0, c6_0); c6_1 = Vector512.FusedMultiplyAdd(ai, b1, c6_1); }
            if (R.Rows > 7) { var ai = Vector512.Create(a[7]); c7_0 = Vector512.FusedMultiplyAdd(ai, b0, c7_0); c7_1 = Vector512.FusedMultiplyAdd(ai, b1, c7_1); }
            if (R.Rows > 8) { var ai = Vector512.Create(a[8]); c8_0 = Vector512.FusedMultiplyAdd(ai, b0, c8_0); c8_1 = Vector512.FusedMultiplyAdd(ai, b1, c8_1); }
            if (R.Rows > 9) { var ai = Vector512.Create(a[9]); c9_0 = Vector512.FusedMultiplyAdd(ai, b0, c9_0); c9_1 = Vector512.FusedMultiplyAdd(ai, b1, c9_1); }
            if (R.Rows > 10) { var ai = Vector512.Create(a[10]); c10_0 = Vector512.FusedMultiplyAdd(ai, b0, c10_0); c10_1 = Vector512.FusedMultiplyAdd(ai, b1, c10_1); }
            if (R.Rows > 11) { var ai = Vector512.Create(a[11]); c11_0 = Vector512.FusedMultiplyAdd(ai, b0, c11_0); c11_1 = Vector512.FusedMultiplyAdd(ai, b1, c11_1); }
            a += 12; b += 32;
        }
        if (R.Rows > 0) Store(c0_0, c0_1, c + 0 * (nint)ldc, beta);
        if (R.Rows > 1) Store(c1_0, c1_1, c + 1 * (nint)ldc, beta);
        if (R.Rows > 2) Store(c2_0, c2_1, c + 2 * (nint)ldc, beta);
        if (R.Rows > 3) Store(c3_0, c3_1, c + 3 * (nint)ldc, beta);
        if (R.Rows > 4) Store(c4_0, c4_1, c + 4 * (nint)ldc, beta);
        if (R.Rows > 5) Store(c5_0, c5_1, c + 5 * (nint)ldc, beta);
        if (R.Rows > 6) Store(c6_0, c6_1, c + 6 * (nint)ldc, beta);
        if (R.Rows > 7) Store(c7_0, c7_1, c + 7 * (nint)ldc, beta);
        if (R.Rows > 8) Store(c8_0, c8_1, c + 8 * (nint)ldc, beta);
        if (R.Rows > 9) Store(c9_0, c9_1, c + 9 * (nint)ldc, beta);
        if (R.Rows > 10) Store(c10_0, c10_1, c + 10 * (nint)ldc, beta);
        if (R.Rows > 11) Store(c11_0, c11_1, c + 11 * (nint)ldc, beta);
    }

    /// <summary>
    /// <see cref="Kernel{R}"/> for 12 rows of an A read in place, unscaled: element (i, p) at a[i * rowStride + p * kStride]
    /// (row-major: a convolution's weights, a weight gradient's dy, with kStride 1; or A^T stored [k, m], rowStride 1:
    /// the transposed weights of a backward data), with no packing. Rows are addressed from four bases (rows 0, 4, 8, 12)
    /// at -1, 0, +1, +2 row strides, so the loop needs no register per row. The same products summed in the same order
    /// as the packed kernel: bit for bit its result.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel12InPlaceA(int kc, float* a, nint rowStride, nint kStride, float* b, float* c, int ldc, float beta)
    {
        var c0_0 = Vector512<float>.Zero; var c0_1 = Vector512<float>.Zero;
        var c1_0 = Vector512<float>.Zero; var c1_1 = Vector512<float>.Zero;
        var c2_0 = Vector512<float>.Zero; var c2_1 = Vector512<float>.Zero;
        var c3_0 = Vector512<float>.Zero; var c3_1 = Vector512<float>.Zero;
        var c4_0 = Vector512<float>.Zero; var c4_1 = Vector512<float>.Zero;
        var c5_0 = Vector512<float>.Zero; var c5_1 = Vector512<float>.Zero;
        var c6_0 = Vector512<float>.Zero; var c6_1 = Vector512<float>.Zero;
        var c7_0 = Vector512<float>.Zero; var c7_1 = Vector512<float>.Zero;
        var c8_0 = Vector512<float>.Zero; var c8_1 = Vector512<float>.Zero;
        var c9_0 = Vector512<float>.Zero; var c9_1 = Vector512<float>.Zero;
        var c10_0 = Vector512<float>.Zero; var c10_1 = Vector512<float>.Zero;
        var c11_0 = Vector512<float>.Zero; var c11_1 = Vector512<float>.Zero;
        nint l = rowStride * sizeof(float), l2 = 2 * l, nl = -l, step = kStride * sizeof(float);
        byte* r0 = (byte*)a, r4 = r0 + 4 * l, r8 = r0 + 8 * l, r12 = r0 + 12 * l;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b); var b1 = Vector512.Load(b + 16);
            { var ai = Vector512.Create(*(float*)(r0)); c0_0 = Vector512.FusedMultiplyAdd(ai, b0, c0_0); c0_1 = Vector512.FusedMultiplyAdd(ai, b1, c0_1); }
            { var ai = Vector512.Create(*(float*)(r0 + l)); c1_0 = Vector512.FusedMultiplyAdd(ai, b0, c1_0); c1_1 = Vector512.FusedMultiplyAdd(ai, b1, c1_1); }
            { var ai = Vector512.Create(*(float*)(r0 + l2)); c2_0 = Vector512.FusedMultiplyAdd(ai, b0, c2_0); c2_1 = Vector512.FusedMultiplyAdd(ai, b1, c2_1); }
            { var ai = Vector512.Create(*(float*)(r4 + nl)); c3_0 = Vector512.FusedMultiplyAdd(ai, b0, c3_0); c3_1 = Vector512.FusedMultiplyAdd(ai, b1, c3_1); }
            { var ai = Vector512.Create(*(float*)(r4)); c4_0 = Vector512.FusedMultiplyAdd(ai, b0, c4_0); c4_1 = Vector512.FusedMultiplyAdd(ai, b1, c4_1); }
            { var ai = Vector512.Create(*(float*)(r4 + l)); c5_0 = Vector512.FusedMultiplyAdd(ai, b0, c5_0); c5_1 = Vector512.FusedMultiplyAdd(ai, b1, c5_1); }
            { var ai = Vector512.Create(*(float*)(r4 + l2)); c6_0 = Vector512.FusedMultiplyAdd(ai, b0, c6_0); c6_1 = Vector512.FusedMultiplyAdd(ai, b1, c6_1); }
            { var ai = Vector512.Create(*(float*)(r8 + nl)); c7_0 = Vector512.FusedMultiplyAdd(ai, b0, c7_0); c7_1 = Vector512.FusedMultiplyAdd(ai, b1, c7_1); }
            { var ai = Vector512.Create(*(float*)(r8)); c8_0 = Vector512.FusedMultiplyAdd(ai, b0, c8_0); c8_1 = Vector512.FusedMultiplyAdd(ai, b1, c8_1); }
            { var ai = Vector512.Create(*(float*)(r8 + l)); c9_0 = Vector512.FusedMultiplyAdd(ai, b0, c9_0); c9_1 = Vector512.FusedMultiplyAdd(ai, b1, c9_1); }
            { var ai = Vector512.Create(*(float*)(r8 + l2)); c10_0 = Vector512.FusedMultiplyAdd(ai, b0, c10_0); c10_1 = Vector512.FusedMultiplyAdd(ai, b1, c10_1); }
            { var ai = Vector512.Create(*(float*)(r12 + nl)); c11_0 = Vector512.FusedMultiplyAdd(ai, b0, c11_0); c11_1 = Vector512.FusedMultiplyAdd(ai, b1, c11_1); }
            r0 += step; r4 += step; r8 += step; r12 += step; b += 32;
        }
        Store(c0_0, c0_1, c + 0 * (nint)ldc, beta);
        Store(c1_0, c1_1, c + 1 * (nint)ldc, beta);
        Store(c2_0, c2_1, c + 2 * (nint)ldc, beta);
        Store(c3_0, c3_1, c + 3 * (nint)ldc, beta);
        Store(c4_0, c4_1, c + 4 * (nint)ldc, beta);
        Store(c5_0, c5_1, c + 5 * (nint)ldc, beta);
        Store(c6_0, c6_1, c + 6 * (nint)ldc, beta);
        Store(c7_0, c7_1, c + 7 * (nint)ldc, beta);
        Store(c8_0, c8_1, c + 8 * (nint)ldc, beta);
        Store(c9_0, c9_1, c + 9 * (nint)ldc, beta);
        Store(c10_0, c10_1, c + 10 * (nint)ldc, beta);
        Store(c11_0, c11_1, c + 11 * (nint)ldc, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(Vector512<float> lo, Vector512<float> hi, float* c, float beta)
    {
        if (beta == 0)
        {
            lo.Store(c); hi.Store(c + 16);
            return;
        }
        var vb = Vector512.Create(beta);
        Vector512.FusedMultiplyAdd(vb, Vector512.Load(c), lo).Store(c);
        Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 16), hi).Store(c + 16);
    }
}
