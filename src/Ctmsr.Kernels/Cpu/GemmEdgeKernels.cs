using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// AVX-512 row-edge micro-kernels (generated, same scheme as <see cref="GemmKernels.Kernel12x32"/>): when m is not a
/// multiple of 12 the last A panel has 1..11 live rows; computing only those rows avoids wasting up to 11/12 of a
/// panel (e.g. 64 output channels = 5 x 12 + 4, an RGB head = 3).
/// </summary>
static unsafe class GemmEdgeKernels
{
    /// <summary>Row-edge kernels: the first <c>rows</c> (1..11) rows of a 12-row A panel times a full 32-column B panel.</summary>
    public static void KernelRowsx32(int rows, int kc, float* a, float* b, float* c, int ldc, float beta)
    {
        switch (rows)
        {
            case 1: Kernel1x32(kc, a, b, c, ldc, beta); break;
            case 2: Kernel2x32(kc, a, b, c, ldc, beta); break;
            case 3: Kernel3x32(kc, a, b, c, ldc, beta); break;
            case 4: Kernel4x32(kc, a, b, c, ldc, beta); break;
            case 5: Kernel5x32(kc, a, b, c, ldc, beta); break;
            case 6: Kernel6x32(kc, a, b, c, ldc, beta); break;
            case 7: Kernel7x32(kc, a, b, c, ldc, beta); break;
            case 8: Kernel8x32(kc, a, b, c, ldc, beta); break;
            case 9: Kernel9x32(kc, a, b, c, ldc, beta); break;
            case 10: Kernel10x32(kc, a, b, c, ldc, beta); break;
            case 11: Kernel11x32(kc, a, b, c, ldc, beta); break;
            default: throw new ArgumentOutOfRangeException(nameof(rows));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel1x32(int kc, float* a, float* b, float* c, int ldc, float beta)
    {
        var c0_0 = Vector512<float>.Zero; var c0_1 = Vector512<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b + 0); var b1 = Vector512.Load(b + 16);
            { var ai = Vector512.Create(a[0]); c0_0 = Vector512.FusedMultiplyAdd(ai, b0, c0_0); c0_1 = Vector512.FusedMultiplyAdd(ai, b1, c0_1); }
            a += 12; b += 32;
        }
        if (beta == 0)
        {
            c0_0.Store(c + 0 * (nint)ldc + 0); c0_1.Store(c + 0 * (nint)ldc + 16);
        }
        else
        {
            var vb = Vector512.Create(beta);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 0 * (nint)ldc + 0), c0_0).Store(c + 0 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 0 * (nint)ldc + 16), c0_1).Store(c + 0 * (nint)ldc + 16);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel2x32(int kc, float* a, float* b, float* c, int ldc, float beta)
    {
        var c0_0 = Vector512<float>.Zero; var c0_1 = Vector512<float>.Zero;
        var c1_0 = Vector512<float>.Zero; var c1_1 = Vector512<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b + 0); var b1 = Vector512.Load(b + 16);
            { var ai = Vector512.Create(a[0]); c0_0 = Vector512.FusedMultiplyAdd(ai, b0, c0_0); c0_1 = Vector512.FusedMultiplyAdd(ai, b1, c0_1); }
            { var ai = Vector512.Create(a[1]); c1_0 = Vector512.FusedMultiplyAdd(ai, b0, c1_0); c1_1 = Vector512.FusedMultiplyAdd(ai, b1, c1_1); }
            a += 12; b += 32;
        }
        if (beta == 0)
        {
            c0_0.Store(c + 0 * (nint)ldc + 0); c0_1.Store(c + 0 * (nint)ldc + 16);
            c1_0.Store(c + 1 * (nint)ldc + 0); c1_1.Store(c + 1 * (nint)ldc + 16);
        }
        else
        {
            var vb = Vector512.Create(beta);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 0 * (nint)ldc + 0), c0_0).Store(c + 0 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 0 * (nint)ldc + 16), c0_1).Store(c + 0 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 1 * (nint)ldc + 0), c1_0).Store(c + 1 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 1 * (nint)ldc + 16), c1_1).Store(c + 1 * (nint)ldc + 16);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel3x32(int kc, float* a, float* b, float* c, int ldc, float beta)
    {
        var c0_0 = Vector512<float>.Zero; var c0_1 = Vector512<float>.Zero;
        var c1_0 = Vector512<float>.Zero; var c1_1 = Vector512<float>.Zero;
        var c2_0 = Vector512<float>.Zero; var c2_1 = Vector512<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b + 0); var b1 = Vector512.Load(b + 16);
            { var ai = Vector512.Create(a[0]); c0_0 = Vector512.FusedMultiplyAdd(ai, b0, c0_0); c0_1 = Vector512.FusedMultiplyAdd(ai, b1, c0_1); }
            { var ai = Vector512.Create(a[1]); c1_0 = Vector512.FusedMultiplyAdd(ai, b0, c1_0); c1_1 = Vector512.FusedMultiplyAdd(ai, b1, c1_1); }
            { var ai = Vector512.Create(a[2]); c2_0 = Vector512.FusedMultiplyAdd(ai, b0, c2_0); c2_1 = Vector512.FusedMultiplyAdd(ai, b1, c2_1); }
            a += 12; b += 32;
        }
        if (beta == 0)
        {
            c0_0.Store(c + 0 * (nint)ldc + 0); c0_1.Store(c + 0 * (nint)ldc + 16);
            c1_0.Store(c + 1 * (nint)ldc + 0); c1_1.Store(c + 1 * (nint)ldc + 16);
            c2_0.Store(c + 2 * (nint)ldc + 0); c2_1.Store(c + 2 * (nint)ldc + 16);
        }
        else
        {
            var vb = Vector512.Create(beta);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 0 * (nint)ldc + 0), c0_0).Store(c + 0 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 0 * (nint)ldc + 16), c0_1).Store(c + 0 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 1 * (nint)ldc + 0), c1_0).Store(c + 1 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 1 * (nint)ldc + 16), c1_1).Store(c + 1 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 2 * (nint)ldc + 0), c2_0).Store(c + 2 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 2 * (nint)ldc + 16), c2_1).Store(c + 2 * (nint)ldc + 16);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel4x32(int kc, float* a, float* b, float* c, int ldc, float beta)
    {
        var c0_0 = Vector512<float>.Zero; var c0_1 = Vector512<float>.Zero;
        var c1_0 = Vector512<float>.Zero; var c1_1 = Vector512<float>.Zero;
        var c2_0 = Vector512<float>.Zero; var c2_1 = Vector512<float>.Zero;
        var c3_0 = Vector512<float>.Zero; var c3_1 = Vector512<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b + 0); var b1 = Vector512.Load(b + 16);
            { var ai = Vector512.Create(a[0]); c0_0 = Vector512.FusedMultiplyAdd(ai, b0, c0_0); c0_1 = Vector512.FusedMultiplyAdd(ai, b1, c0_1); }
            { var ai = Vector512.Create(a[1]); c1_0 = Vector512.FusedMultiplyAdd(ai, b0, c1_0); c1_1 = Vector512.FusedMultiplyAdd(ai, b1, c1_1); }
            { var ai = Vector512.Create(a[2]); c2_0 = Vector512.FusedMultiplyAdd(ai, b0, c2_0); c2_1 = Vector512.FusedMultiplyAdd(ai, b1, c2_1); }
            { var ai = Vector512.Create(a[3]); c3_0 = Vector512.FusedMultiplyAdd(ai, b0, c3_0); c3_1 = Vector512.FusedMultiplyAdd(ai, b1, c3_1); }
            a += 12; b += 32;
        }
        if (beta == 0)
        {
            c0_0.Store(c + 0 * (nint)ldc + 0); c0_1.Store(c + 0 * (nint)ldc + 16);
            c1_0.Store(c + 1 * (nint)ldc + 0); c1_1.Store(c + 1 * (nint)ldc + 16);
            c2_0.Store(c + 2 * (nint)ldc + 0); c2_1.Store(c + 2 * (nint)ldc + 16);
            c3_0.Store(c + 3 * (nint)ldc + 0); c3_1.Store(c + 3 * (nint)ldc + 16);
        }
        else
        {
            var vb = Vector512.Create(beta);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 0 * (nint)ldc + 0), c0_0).Store(c + 0 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 0 * (nint)ldc + 16), c0_1).Store(c + 0 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 1 * (nint)ldc + 0), c1_0).Store(c + 1 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 1 * (nint)ldc + 16), c1_1).Store(c + 1 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 2 * (nint)ldc + 0), c2_0).Store(c + 2 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 2 * (nint)ldc + 16), c2_1).Store(c + 2 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 3 * (nint)ldc + 0), c3_0).Store(c + 3 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 3 * (nint)ldc + 16), c3_1).Store(c + 3 * (nint)ldc + 16);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel5x32(int kc, float* a, float* b, float* c, int ldc, float beta)
    {
        var c0_0 = Vector512<float>.Zero; var c0_1 = Vector512<float>.Zero;
        var c1_0 = Vector512<float>.Zero; var c1_1 = Vector512<float>.Zero;
        var c2_0 = Vector512<float>.Zero; var c2_1 = Vector512<float>.Zero;
        var c3_0 = Vector512<float>.Zero; var c3_1 = Vector512<float>.Zero;
        var c4_0 = Vector512<float>.Zero; var c4_1 = Vector512<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b + 0); var b1 = Vector512.Load(b + 16);
            { var ai = Vector512.Create(a[0]); c0_0 = Vector512.FusedMultiplyAdd(ai, b0, c0_0); c0_1 = Vector512.FusedMultiplyAdd(ai, b1, c0_1); }
            { var ai = Vector512.Create(a[1]); c1_0 = Vector512.FusedMultiplyAdd(ai, b0, c1_0); c1_1 = Vector512.FusedMultiplyAdd(ai, b1, c1_1); }
            { var ai = Vector512.Create(a[2]); c2_0 = Vector512.FusedMultiplyAdd(ai, b0, c2_0); c2_1 = Vector512.FusedMultiplyAdd(ai, b1, c2_1); }
            { var ai = Vector512.Create(a[3]); c3_0 = Vector512.FusedMultiplyAdd(ai, b0, c3_0); c3_1 = Vector512.FusedMultiplyAdd(ai, b1, c3_1); }
            { var ai = Vector512.Create(a[4]); c4_0 = Vector512.FusedMultiplyAdd(ai, b0, c4_0); c4_1 = Vector512.FusedMultiplyAdd(ai, b1, c4_1); }
            a += 12; b += 32;
        }
        if (beta == 0)
        {
            c0_0.Store(c + 0 * (nint)ldc + 0); c0_1.Store(c + 0 * (nint)ldc + 16);
            c1_0.Store(c + 1 * (nint)ldc + 0); c1_1.Store(c + 1 * (nint)ldc + 16);
            c2_0.Store(c + 2 * (nint)ldc + 0); c2_1.Store(c + 2 * (nint)ldc + 16);
            c3_0.Store(c + 3 * (nint)ldc + 0); c3_1.Store(c + 3 * (nint)ldc + 16);
            c4_0.Store(c + 4 * (nint)ldc + 0); c4_1.Store(c + 4 * (nint)ldc + 16);
        }
        else
        {
            var vb = Vector512.Create(beta);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 0 * (nint)ldc + 0), c0_0).Store(c + 0 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 0 * (nint)ldc + 16), c0_1).Store(c + 0 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 1 * (nint)ldc + 0), c1_0).Store(c + 1 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 1 * (nint)ldc + 16), c1_1).Store(c + 1 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 2 * (nint)ldc + 0), c2_0).Store(c + 2 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 2 * (nint)ldc + 16), c2_1).Store(c + 2 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 3 * (nint)ldc + 0), c3_0).Store(c + 3 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 3 * (nint)ldc + 16), c3_1).Store(c + 3 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 4 * (nint)ldc + 0), c4_0).Store(c + 4 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 4 * (nint)ldc + 16), c4_1).Store(c + 4 * (nint)ldc + 16);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel6x32(int kc, float* a, float* b, float* c, int ldc, float beta)
    {
        var c0_0 = Vector512<float>.Zero; var c0_1 = Vector512<float>.Zero;
        var c1_0 = Vector512<float>.Zero; var c1_1 = Vector512<float>.Zero;
        var c2_0 = Vector512<float>.Zero; var c2_1 = Vector512<float>.Zero;
        var c3_0 = Vector512<float>.Zero; var c3_1 = Vector512<float>.Zero;
        var c4_0 = Vector512<float>.Zero; var c4_1 = Vector512<float>.Zero;
        var c5_0 = Vector512<float>.Zero; var c5_1 = Vector512<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b + 0); var b1 = Vector512.Load(b + 16);
            { var ai = Vector512.Create(a[0]); c0_0 = Vector512.FusedMultiplyAdd(ai, b0, c0_0); c0_1 = Vector512.FusedMultiplyAdd(ai, b1, c0_1); }
            { var ai = Vector512.Create(a[1]); c1_0 = Vector512.FusedMultiplyAdd(ai, b0, c1_0); c1_1 = Vector512.FusedMultiplyAdd(ai, b1, c1_1); }
            { var ai = Vector512.Create(a[2]); c2_0 = Vector512.FusedMultiplyAdd(ai, b0, c2_0); c2_1 = Vector512.FusedMultiplyAdd(ai, b1, c2_1); }
            { var ai = Vector512.Create(a[3]); c3_0 = Vector512.FusedMultiplyAdd(ai, b0, c3_0); c3_1 = Vector512.FusedMultiplyAdd(ai, b1, c3_1); }
            { var ai = Vector512.Create(a[4]); c4_0 = Vector512.FusedMultiplyAdd(ai, b0, c4_0); c4_1 = Vector512.FusedMultiplyAdd(ai, b1, c4_1); }
            { var ai = Vector512.Create(a[5]); c5_0 = Vector512.FusedMultiplyAdd(ai, b0, c5_0); c5_1 = Vector512.FusedMultiplyAdd(ai, b1, c5_1); }
            a += 12; b += 32;
        }
        if (beta == 0)
        {
            c0_0.Store(c + 0 * (nint)ldc + 0); c0_1.Store(c + 0 * (nint)ldc + 16);
            c1_0.Store(c + 1 * (nint)ldc + 0); c1_1.Store(c + 1 * (nint)ldc + 16);
            c2_0.Store(c + 2 * (nint)ldc + 0); c2_1.Store(c + 2 * (nint)ldc + 16);
            c3_0.Store(c + 3 * (nint)ldc + 0); c3_1.Store(c + 3 * (nint)ldc + 16);
            c4_0.Store(c + 4 * (nint)ldc + 0); c4_1.Store(c + 4 * (nint)ldc + 16);
            c5_0.Store(c + 5 * (nint)ldc + 0); c5_1.Store(c + 5 * (nint)ldc + 16);
        }
        else
        {
            var vb = Vector512.Create(beta);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 0 * (nint)ldc + 0), c0_0).Store(c + 0 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 0 * (nint)ldc + 16), c0_1).Store(c + 0 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 1 * (nint)ldc + 0), c1_0).Store(c + 1 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 1 * (nint)ldc + 16), c1_1).Store(c + 1 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 2 * (nint)ldc + 0), c2_0).Store(c + 2 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 2 * (nint)ldc + 16), c2_1).Store(c + 2 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 3 * (nint)ldc + 0), c3_0).Store(c + 3 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 3 * (nint)ldc + 16), c3_1).Store(c + 3 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 4 * (nint)ldc + 0), c4_0).Store(c + 4 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 4 * (nint)ldc + 16), c4_1).Store(c + 4 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 5 * (nint)ldc + 0), c5_0).Store(c + 5 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 5 * (nint)ldc + 16), c5_1).Store(c + 5 * (nint)ldc + 16);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel7x32(int kc, float* a, float* b, float* c, int ldc, float beta)
    {
        var c0_0 = Vector512<float>.Zero; var c0_1 = Vector512<float>.Zero;
        var c1_0 = Vector512<float>.Zero; var c1_1 = Vector512<float>.Zero;
        var c2_0 = Vector512<float>.Zero; var c2_1 = Vector512<float>.Zero;
        var c3_0 = Vector512<float>.Zero; var c3_1 = Vector512<float>.Zero;
        var c4_0 = Vector512<float>.Zero; var c4_1 = Vector512<float>.Zero;
        var c5_0 = Vector512<float>.Zero; var c5_1 = Vector512<float>.Zero;
        var c6_0 = Vector512<float>.Zero; var c6_1 = Vector512<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b + 0); var b1 = Vector512.Load(b + 16);
            { var ai = Vector512.Create(a[0]); c0_0 = Vector512.FusedMultiplyAdd(ai, b0, c0_0); c0_1 = Vector512.FusedMultiplyAdd(ai, b1, c0_1); }
            { var ai = Vector512.Create(a[1]); c1_0 = Vector512.FusedMultiplyAdd(ai, b0, c1_0); c1_1 = Vector512.FusedMultiplyAdd(ai, b1, c1_1); }
            { var ai = Vector512.Create(a[2]); c2_0 = Vector512.FusedMultiplyAdd(ai, b0, c2_0); c2_1 = Vector512.FusedMultiplyAdd(ai, b1, c2_1); }
            { var ai = Vector512.Create(a[3]); c3_0 = Vector512.FusedMultiplyAdd(ai, b0, c3_0); c3_1 = Vector512.FusedMultiplyAdd(ai, b1, c3_1); }
            { var ai = Vector512.Create(a[4]); c4_0 = Vector512.FusedMultiplyAdd(ai, b0, c4_0); c4_1 = Vector512.FusedMultiplyAdd(ai, b1, c4_1); }
            { var ai = Vector512.Create(a[5]); c5_0 = Vector512.FusedMultiplyAdd(ai, b0, c5_0); c5_1 = Vector512.FusedMultiplyAdd(ai, b1, c5_1); }
            { var ai = Vector512.Create(a[6]); c6_0 = Vector512.FusedMultiplyAdd(ai, b0, c6_0); c6_1 = Vector512.FusedMultiplyAdd(ai, b1, c6_1); }
            a += 12; b += 32;
        }
        if (beta == 0)
        {
            c0_0.Store(c + 0 * (nint)ldc + 0); c0_1.Store(c + 0 * (nint)ldc + 16);
            c1_0.Store(c + 1 * (nint)ldc + 0); c1_1.Store(c + 1 * (nint)ldc + 16);
            c2_0.Store(c + 2 * (nint)ldc + 0); c2_1.Store(c + 2 * (nint)ldc + 16);
            c3_0.Store(c + 3 * (nint)ldc + 0); c3_1.Store(c + 3 * (nint)ldc + 16);
            c4_0.Store(c + 4 * (nint)ldc + 0); c4_1.Store(c + 4 * (nint)ldc + 16);
            c5_0.Store(c + 5 * (nint)ldc + 0); c5_1.Store(c + 5 * (nint)ldc + 16);
            c6_0.Store(c + 6 * (nint)ldc + 0); c6_1.Store(c + 6 * (nint)ldc + 16);
        }
        else
        {
            var vb = Vector512.Create(beta);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 0 * (nint)ldc + 0), c0_0).Store(c + 0 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 0 * (nint)ldc + 16), c0_1).Store(c + 0 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 1 * (nint)ldc + 0), c1_0).Store(c + 1 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 1 * (nint)ldc + 16), c1_1).Store(c + 1 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 2 * (nint)ldc + 0), c2_0).Store(c + 2 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 2 * (nint)ldc + 16), c2_1).Store(c + 2 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 3 * (nint)ldc + 0), c3_0).Store(c + 3 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 3 * (nint)ldc + 16), c3_1).Store(c + 3 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 4 * (nint)ldc + 0), c4_0).Store(c + 4 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 4 * (nint)ldc + 16), c4_1).Store(c + 4 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 5 * (nint)ldc + 0), c5_0).Store(c + 5 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 5 * (nint)ldc + 16), c5_1).Store(c + 5 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 6 * (nint)ldc + 0), c6_0).Store(c + 6 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 6 * (nint)ldc + 16), c6_1).Store(c + 6 * (nint)ldc + 16);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel8x32(int kc, float* a, float* b, float* c, int ldc, float beta)
    {
        var c0_0 = Vector512<float>.Zero; var c0_1 = Vector512<float>.Zero;
        var c1_0 = Vector512<float>.Zero; var c1_1 = Vector512<float>.Zero;
        var c2_0 = Vector512<float>.Zero; var c2_1 = Vector512<float>.Zero;
        var c3_0 = Vector512<float>.Zero; var c3_1 = Vector512<float>.Zero;
        var c4_0 = Vector512<float>.Zero; var c4_1 = Vector512<float>.Zero;
        var c5_0 = Vector512<float>.Zero; var c5_1 = Vector512<float>.Zero;
        var c6_0 = Vector512<float>.Zero; var c6_1 = Vector512<float>.Zero;
        var c7_0 = Vector512<float>.Zero; var c7_1 = Vector512<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b + 0); var b1 = Vector512.Load(b + 16);
            { var ai = Vector512.Create(a[0]); c0_0 = Vector512.FusedMultiplyAdd(ai, b0, c0_0); c0_1 = Vector512.FusedMultiplyAdd(ai, b1, c0_1); }
            { var ai = Vector512.Create(a[1]); c1_0 = Vector512.FusedMultiplyAdd(ai, b0, c1_0); c1_1 = Vector512.FusedMultiplyAdd(ai, b1, c1_1); }
            { var ai = Vector512.Create(a[2]); c2_0 = Vector512.FusedMultiplyAdd(ai, b0, c2_0); c2_1 = Vector512.FusedMultiplyAdd(ai, b1, c2_1); }
            { var ai = Vector512.Create(a[3]); c3_0 = Vector512.FusedMultiplyAdd(ai, b0, c3_0); c3_1 = Vector512.FusedMultiplyAdd(ai, b1, c3_1); }
            { var ai = Vector512.Create(a[4]); c4_0 = Vector512.FusedMultiplyAdd(ai, b0, c4_0); c4_1 = Vector512.FusedMultiplyAdd(ai, b1, c4_1); }
            { var ai = Vector512.Create(a[5]); c5_0 = Vector512.FusedMultiplyAdd(ai, b0, c5_0); c5_1 = Vector512.FusedMultiplyAdd(ai, b1, c5_1); }
            { var ai = Vector512.Create(a[6]); c6_0 = Vector512.FusedMultiplyAdd(ai, b0, c6_0); c6_1 = Vector512.FusedMultiplyAdd(ai, b1, c6_1); }
            { var ai = Vector512.Create(a[7]); c7_0 = Vector512.FusedMultiplyAdd(ai, b0, c7_0); c7_1 = Vector512.FusedMultiplyAdd(ai, b1, c7_1); }
            a += 12; b += 32;
        }
        if (beta == 0)
        {
            c0_0.Store(c + 0 * (nint)ldc + 0); c0_1.Store(c + 0 * (nint)ldc + 16);
            c1_0.Store(c + 1 * (nint)ldc + 0); c1_1.Store(c + 1 * (nint)ldc + 16);
            c2_0.Store(c + 2 * (nint)ldc + 0); c2_1.Store(c + 2 * (nint)ldc + 16);
            c3_0.Store(c + 3 * (nint)ldc + 0); c3_1.Store(c + 3 * (nint)ldc + 16);
            c4_0.Store(c + 4 * (nint)ldc + 0); c4_1.Store(c + 4 * (nint)ldc + 16);
            c5_0.Store(c + 5 * (nint)ldc + 0); c5_1.Store(c + 5 * (nint)ldc + 16);
            c6_0.Store(c + 6 * (nint)ldc + 0); c6_1.Store(c + 6 * (nint)ldc + 16);
            c7_0.Store(c + 7 * (nint)ldc + 0); c7_1.Store(c + 7 * (nint)ldc + 16);
        }
        else
        {
            var vb = Vector512.Create(beta);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 0 * (nint)ldc + 0), c0_0).Store(c + 0 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 0 * (nint)ldc + 16), c0_1).Store(c + 0 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 1 * (nint)ldc + 0), c1_0).Store(c + 1 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 1 * (nint)ldc + 16), c1_1).Store(c + 1 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 2 * (nint)ldc + 0), c2_0).Store(c + 2 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 2 * (nint)ldc + 16), c2_1).Store(c + 2 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 3 * (nint)ldc + 0), c3_0).Store(c + 3 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 3 * (nint)ldc + 16), c3_1).Store(c + 3 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 4 * (nint)ldc + 0), c4_0).Store(c + 4 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 4 * (nint)ldc + 16), c4_1).Store(c + 4 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 5 * (nint)ldc + 0), c5_0).Store(c + 5 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 5 * (nint)ldc + 16), c5_1).Store(c + 5 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 6 * (nint)ldc + 0), c6_0).Store(c + 6 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 6 * (nint)ldc + 16), c6_1).Store(c + 6 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 7 * (nint)ldc + 0), c7_0).Store(c + 7 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 7 * (nint)ldc + 16), c7_1).Store(c + 7 * (nint)ldc + 16);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel9x32(int kc, float* a, float* b, float* c, int ldc, float beta)
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
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b + 0); var b1 = Vector512.Load(b + 16);
            { var ai = Vector512.Create(a[0]); c0_0 = Vector512.FusedMultiplyAdd(ai, b0, c0_0); c0_1 = Vector512.FusedMultiplyAdd(ai, b1, c0_1); }
            { var ai = Vector512.Create(a[1]); c1_0 = Vector512.FusedMultiplyAdd(ai, b0, c1_0); c1_1 = Vector512.FusedMultiplyAdd(ai, b1, c1_1); }
            { var ai = Vector512.Create(a[2]); c2_0 = Vector512.FusedMultiplyAdd(ai, b0, c2_0); c2_1 = Vector512.FusedMultiplyAdd(ai, b1, c2_1); }
            { var ai = Vector512.Create(a[3]); c3_0 = Vector512.FusedMultiplyAdd(ai, b0, c3_0); c3_1 = Vector512.FusedMultiplyAdd(ai, b1, c3_1); }
            { var ai = Vector512.Create(a[4]); c4_0 = Vector512.FusedMultiplyAdd(ai, b0, c4_0); c4_1 = Vector512.FusedMultiplyAdd(ai, b1, c4_1); }
            { var ai = Vector512.Create(a[5]); c5_0 = Vector512.FusedMultiplyAdd(ai, b0, c5_0); c5_1 = Vector512.FusedMultiplyAdd(ai, b1, c5_1); }
            { var ai = Vector512.Create(a[6]); c6_0 = Vector512.FusedMultiplyAdd(ai, b0, c6_0); c6_1 = Vector512.FusedMultiplyAdd(ai, b1, c6_1); }
            { var ai = Vector512.Create(a[7]); c7_0 = Vector512.FusedMultiplyAdd(ai, b0, c7_0); c7_1 = Vector512.FusedMultiplyAdd(ai, b1, c7_1); }
            { var ai = Vector512.Create(a[8]); c8_0 = Vector512.FusedMultiplyAdd(ai, b0, c8_0); c8_1 = Vector512.FusedMultiplyAdd(ai, b1, c8_1); }
            a += 12; b += 32;
        }
        if (beta == 0)
        {
            c0_0.Store(c + 0 * (nint)ldc + 0); c0_1.Store(c + 0 * (nint)ldc + 16);
            c1_0.Store(c + 1 * (nint)ldc + 0); c1_1.Store(c + 1 * (nint)ldc + 16);
            c2_0.Store(c + 2 * (nint)ldc + 0); c2_1.Store(c + 2 * (nint)ldc + 16);
            c3_0.Store(c + 3 * (nint)ldc + 0); c3_1.Store(c + 3 * (nint)ldc + 16);
            c4_0.Store(c + 4 * (nint)ldc + 0); c4_1.Store(c + 4 * (nint)ldc + 16);
            c5_0.Store(c + 5 * (nint)ldc + 0); c5_1.Store(c + 5 * (nint)ldc + 16);
            c6_0.Store(c + 6 * (nint)ldc + 0); c6_1.Store(c + 6 * (nint)ldc + 16);
            c7_0.Store(c + 7 * (nint)ldc + 0); c7_1.Store(c + 7 * (nint)ldc + 16);
            c8_0.Store(c + 8 * (nint)ldc + 0); c8_1.Store(c + 8 * (nint)ldc + 16);
        }
        else
        {
            var vb = Vector512.Create(beta);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 0 * (nint)ldc + 0), c0_0).Store(c + 0 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 0 * (nint)ldc + 16), c0_1).Store(c + 0 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 1 * (nint)ldc + 0), c1_0).Store(c + 1 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 1 * (nint)ldc + 16), c1_1).Store(c + 1 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 2 * (nint)ldc + 0), c2_0).Store(c + 2 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 2 * (nint)ldc + 16), c2_1).Store(c + 2 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 3 * (nint)ldc + 0), c3_0).Store(c + 3 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 3 * (nint)ldc + 16), c3_1).Store(c + 3 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 4 * (nint)ldc + 0), c4_0).Store(c + 4 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 4 * (nint)ldc + 16), c4_1).Store(c + 4 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 5 * (nint)ldc + 0), c5_0).Store(c + 5 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 5 * (nint)ldc + 16), c5_1).Store(c + 5 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 6 * (nint)ldc + 0), c6_0).Store(c + 6 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 6 * (nint)ldc + 16), c6_1).Store(c + 6 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 7 * (nint)ldc + 0), c7_0).Store(c + 7 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 7 * (nint)ldc + 16), c7_1).Store(c + 7 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 8 * (nint)ldc + 0), c8_0).Store(c + 8 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 8 * (nint)ldc + 16), c8_1).Store(c + 8 * (nint)ldc + 16);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel10x32(int kc, float* a, float* b, float* c, int ldc, float beta)
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
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b + 0); var b1 = Vector512.Load(b + 16);
            { var ai = Vector512.Create(a[0]); c0_0 = Vector512.FusedMultiplyAdd(ai, b0, c0_0); c0_1 = Vector512.FusedMultiplyAdd(ai, b1, c0_1); }
            { var ai = Vector512.Create(a[1]); c1_0 = Vector512.FusedMultiplyAdd(ai, b0, c1_0); c1_1 = Vector512.FusedMultiplyAdd(ai, b1, c1_1); }
            { var ai = Vector512.Create(a[2]); c2_0 = Vector512.FusedMultiplyAdd(ai, b0, c2_0); c2_1 = Vector512.FusedMultiplyAdd(ai, b1, c2_1); }
            { var ai = Vector512.Create(a[3]); c3_0 = Vector512.FusedMultiplyAdd(ai, b0, c3_0); c3_1 = Vector512.FusedMultiplyAdd(ai, b1, c3_1); }
            { var ai = Vector512.Create(a[4]); c4_0 = Vector512.FusedMultiplyAdd(ai, b0, c4_0); c4_1 = Vector512.FusedMultiplyAdd(ai, b1, c4_1); }
            { var ai = Vector512.Create(a[5]); c5_0 = Vector512.FusedMultiplyAdd(ai, b0, c5_0); c5_1 = Vector512.FusedMultiplyAdd(ai, b1, c5_1); }
            { var ai = Vector512.Create(a[6]); c6_0 = Vector512.FusedMultiplyAdd(ai, b0, c6_0); c6_1 = Vector512.FusedMultiplyAdd(ai, b1, c6_1); }
            { var ai = Vector512.Create(a[7]); c7_0 = Vector512.FusedMultiplyAdd(ai, b0, c7_0); c7_1 = Vector512.FusedMultiplyAdd(ai, b1, c7_1); }
            { var ai = Vector512.Create(a[8]); c8_0 = Vector512.FusedMultiplyAdd(ai, b0, c8_0); c8_1 = Vector512.FusedMultiplyAdd(ai, b1, c8_1); }
            { var ai = Vector512.Create(a[9]); c9_0 = Vector512.FusedMultiplyAdd(ai, b0, c9_0); c9_1 = Vector512.FusedMultiplyAdd(ai, b1, c9_1); }
            a += 12; b += 32;
        }
        if (beta == 0)
        {
            c0_0.Store(c + 0 * (nint)ldc + 0); c0_1.Store(c + 0 * (nint)ldc + 16);
            c1_0.Store(c + 1 * (nint)ldc + 0); c1_1.Store(c + 1 * (nint)ldc + 16);
            c2_0.Store(c + 2 * (nint)ldc + 0); c2_1.Store(c + 2 * (nint)ldc + 16);
            c3_0.Store(c + 3 * (nint)ldc + 0); c3_1.Store(c + 3 * (nint)ldc + 16);
            c4_0.Store(c + 4 * (nint)ldc + 0); c4_1.Store(c + 4 * (nint)ldc + 16);
            c5_0.Store(c + 5 * (nint)ldc + 0); c5_1.Store(c + 5 * (nint)ldc + 16);
            c6_0.Store(c + 6 * (nint)ldc + 0); c6_1.Store(c + 6 * (nint)ldc + 16);
            c7_0.Store(c + 7 * (nint)ldc + 0); c7_1.Store(c + 7 * (nint)ldc + 16);
            c8_0.Store(c + 8 * (nint)ldc + 0); c8_1.Store(c + 8 * (nint)ldc + 16);
            c9_0.Store(c + 9 * (nint)ldc + 0); c9_1.Store(c + 9 * (nint)ldc + 16);
        }
        else
        {
            var vb = Vector512.Create(beta);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 0 * (nint)ldc + 0), c0_0).Store(c + 0 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 0 * (nint)ldc + 16), c0_1).Store(c + 0 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 1 * (nint)ldc + 0), c1_0).Store(c + 1 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 1 * (nint)ldc + 16), c1_1).Store(c + 1 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 2 * (nint)ldc + 0), c2_0).Store(c + 2 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 2 * (nint)ldc + 16), c2_1).Store(c + 2 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 3 * (nint)ldc + 0), c3_0).Store(c + 3 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 3 * (nint)ldc + 16), c3_1).Store(c + 3 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 4 * (nint)ldc + 0), c4_0).Store(c + 4 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 4 * (nint)ldc + 16), c4_1).Store(c + 4 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 5 * (nint)ldc + 0), c5_0).Store(c + 5 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 5 * (nint)ldc + 16), c5_1).Store(c + 5 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 6 * (nint)ldc + 0), c6_0).Store(c + 6 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 6 * (nint)ldc + 16), c6_1).Store(c + 6 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 7 * (nint)ldc + 0), c7_0).Store(c + 7 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 7 * (nint)ldc + 16), c7_1).Store(c + 7 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 8 * (nint)ldc + 0), c8_0).Store(c + 8 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 8 * (nint)ldc + 16), c8_1).Store(c + 8 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 9 * (nint)ldc + 0), c9_0).Store(c + 9 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 9 * (nint)ldc + 16), c9_1).Store(c + 9 * (nint)ldc + 16);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel11x32(int kc, float* a, float* b, float* c, int ldc, float beta)
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
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b + 0); var b1 = Vector512.Load(b + 16);
            { var ai = Vector512.Create(a[0]); c0_0 = Vector512.FusedMultiplyAdd(ai, b0, c0_0); c0_1 = Vector512.FusedMultiplyAdd(ai, b1, c0_1); }
            { var ai = Vector512.Create(a[1]); c1_0 = Vector512.FusedMultiplyAdd(ai, b0, c1_0); c1_1 = Vector512.FusedMultiplyAdd(ai, b1, c1_1); }
            { var ai = Vector512.Create(a[2]); c2_0 = Vector512.FusedMultiplyAdd(ai, b0, c2_0); c2_1 = Vector512.FusedMultiplyAdd(ai, b1, c2_1); }
            { var ai = Vector512.Create(a[3]); c3_0 = Vector512.FusedMultiplyAdd(ai, b0, c3_0); c3_1 = Vector512.FusedMultiplyAdd(ai, b1, c3_1); }
            { var ai = Vector512.Create(a[4]); c4_0 = Vector512.FusedMultiplyAdd(ai, b0, c4_0); c4_1 = Vector512.FusedMultiplyAdd(ai, b1, c4_1); }
            { var ai = Vector512.Create(a[5]); c5_0 = Vector512.FusedMultiplyAdd(ai, b0, c5_0); c5_1 = Vector512.FusedMultiplyAdd(ai, b1, c5_1); }
            { var ai = Vector512.Create(a[6]); c6_0 = Vector512.FusedMultiplyAdd(ai, b0, c6_0); c6_1 = Vector512.FusedMultiplyAdd(ai, b1, c6_1); }
            { var ai = Vector512.Create(a[7]); c7_0 = Vector512.FusedMultiplyAdd(ai, b0, c7_0); c7_1 = Vector512.FusedMultiplyAdd(ai, b1, c7_1); }
            { var ai = Vector512.Create(a[8]); c8_0 = Vector512.FusedMultiplyAdd(ai, b0, c8_0); c8_1 = Vector512.FusedMultiplyAdd(ai, b1, c8_1); }
            { var ai = Vector512.Create(a[9]); c9_0 = Vector512.FusedMultiplyAdd(ai, b0, c9_0); c9_1 = Vector512.FusedMultiplyAdd(ai, b1, c9_1); }
            { var ai = Vector512.Create(a[10]); c10_0 = Vector512.FusedMultiplyAdd(ai, b0, c10_0); c10_1 = Vector512.FusedMultiplyAdd(ai, b1, c10_1); }
            a += 12; b += 32;
        }
        if (beta == 0)
        {
            c0_0.Store(c + 0 * (nint)ldc + 0); c0_1.Store(c + 0 * (nint)ldc + 16);
            c1_0.Store(c + 1 * (nint)ldc + 0); c1_1.Store(c + 1 * (nint)ldc + 16);
            c2_0.Store(c + 2 * (nint)ldc + 0); c2_1.Store(c + 2 * (nint)ldc + 16);
            c3_0.Store(c + 3 * (nint)ldc + 0); c3_1.Store(c + 3 * (nint)ldc + 16);
            c4_0.Store(c + 4 * (nint)ldc + 0); c4_1.Store(c + 4 * (nint)ldc + 16);
            c5_0.Store(c + 5 * (nint)ldc + 0); c5_1.Store(c + 5 * (nint)ldc + 16);
            c6_0.Store(c + 6 * (nint)ldc + 0); c6_1.Store(c + 6 * (nint)ldc + 16);
            c7_0.Store(c + 7 * (nint)ldc + 0); c7_1.Store(c + 7 * (nint)ldc + 16);
            c8_0.Store(c + 8 * (nint)ldc + 0); c8_1.Store(c + 8 * (nint)ldc + 16);
            c9_0.Store(c + 9 * (nint)ldc + 0); c9_1.Store(c + 9 * (nint)ldc + 16);
            c10_0.Store(c + 10 * (nint)ldc + 0); c10_1.Store(c + 10 * (nint)ldc + 16);
        }
        else
        {
            var vb = Vector512.Create(beta);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 0 * (nint)ldc + 0), c0_0).Store(c + 0 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 0 * (nint)ldc + 16), c0_1).Store(c + 0 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 1 * (nint)ldc + 0), c1_0).Store(c + 1 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 1 * (nint)ldc + 16), c1_1).Store(c + 1 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 2 * (nint)ldc + 0), c2_0).Store(c + 2 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 2 * (nint)ldc + 16), c2_1).Store(c + 2 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 3 * (nint)ldc + 0), c3_0).Store(c + 3 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 3 * (nint)ldc + 16), c3_1).Store(c + 3 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 4 * (nint)ldc + 0), c4_0).Store(c + 4 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 4 * (nint)ldc + 16), c4_1).Store(c + 4 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 5 * (nint)ldc + 0), c5_0).Store(c + 5 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 5 * (nint)ldc + 16), c5_1).Store(c + 5 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 6 * (nint)ldc + 0), c6_0).Store(c + 6 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 6 * (nint)ldc + 16), c6_1).Store(c + 6 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 7 * (nint)ldc + 0), c7_0).Store(c + 7 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 7 * (nint)ldc + 16), c7_1).Store(c + 7 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 8 * (nint)ldc + 0), c8_0).Store(c + 8 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 8 * (nint)ldc + 16), c8_1).Store(c + 8 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 9 * (nint)ldc + 0), c9_0).Store(c + 9 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 9 * (nint)ldc + 16), c9_1).Store(c + 9 * (nint)ldc + 16);
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 10 * (nint)ldc + 0), c10_0).Store(c + 10 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 10 * (nint)ldc + 16), c10_1).Store(c + 10 * (nint)ldc + 16);
        }
    }

}
