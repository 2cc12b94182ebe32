using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// Register-blocked SGEMM micro-kernels: C[MR x NR] = sum_p a[p, 0..MR) (outer) b[p, 0..NR), where a is a packed
/// A micro-panel ([kc][MR], row index fastest) and b a packed B micro-panel ([kc][NR]). All accumulators stay in
/// registers (12 x 2 zmm = 24 of 32 on AVX-512; 6 x 2 ymm = 12 of 16 on AVX2). beta == 0 stores without reading C
/// (NaNs in C are ignored); otherwise C = acc + beta * C.
/// </summary>
static unsafe class GemmKernels
{
    /// <summary>C[12x32] (=, +=, or beta*C +) sum_p a[p*12+i] * b[p*32+j]; a, b packed panels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel12x32(int kc, float* a, float* b, float* c, int ldc, float beta)
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
            { var ai = Vector512.Create(a[11]); c11_0 = Vector512.FusedMultiplyAdd(ai, b0, c11_0); c11_1 = Vector512.FusedMultiplyAdd(ai, b1, c11_1); }
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
            c11_0.Store(c + 11 * (nint)ldc + 0); c11_1.Store(c + 11 * (nint)ldc + 16);
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
            Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 11 * (nint)ldc + 0), c11_0).Store(c + 11 * (nint)ldc + 0); Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 11 * (nint)ldc + 16), c11_1).Store(c + 11 * (nint)ldc + 16);
        }
    }

    /// <summary>C[6x16] (=, +=, or beta*C +) sum_p a[p*6+i] * b[p*16+j]; a, b packed panels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel6x16(int kc, float* a, float* b, float* c, int ldc, float beta)
    {
        var c0_0 = Vector256<float>.Zero; var c0_1 = Vector256<float>.Zero;
        var c1_0 = Vector256<float>.Zero; var c1_1 = Vector256<float>.Zero;
        var c2_0 = Vector256<float>.Zero; var c2_1 = Vector256<float>.Zero;
        var c3_0 = Vector256<float>.Zero; var c3_1 = Vector256<float>.Zero;
        var c4_0 = Vector256<float>.Zero; var c4_1 = Vector256<float>.Zero;
        var c5_0 = Vector256<float>.Zero; var c5_1 = Vector256<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b + 0); var b1 = Vector256.Load(b + 8);
            { var ai = Vector256.Create(a[0]); c0_0 = Vector256.FusedMultiplyAdd(ai, b0, c0_0); c0_1 = Vector256.FusedMultiplyAdd(ai, b1, c0_1); }
            { var ai = Vector256.Create(a[1]); c1_0 = Vector256.FusedMultiplyAdd(ai, b0, c1_0); c1_1 = Vector256.FusedMultiplyAdd(ai, b1, c1_1); }
            { var ai = Vector256.Create(a[2]); c2_0 = Vector256.FusedMultiplyAdd(ai, b0, c2_0); c2_1 = Vector256.FusedMultiplyAdd(ai, b1, c2_1); }
            { var ai = Vector256.Create(a[3]); c3_0 = Vector256.FusedMultiplyAdd(ai, b0, c3_0); c3_1 = Vector256.FusedMultiplyAdd(ai, b1, c3_1); }
            { var ai = Vector256.Create(a[4]); c4_0 = Vector256.FusedMultiplyAdd(ai, b0, c4_0); c4_1 = Vector256.FusedMultiplyAdd(ai, b1, c4_1); }
            { var ai = Vector256.Create(a[5]); c5_0 = Vector256.FusedMultiplyAdd(ai, b0, c5_0); c5_1 = Vector256.FusedMultiplyAdd(ai, b1, c5_1); }
            a += 6; b += 16;
        }
        if (beta == 0)
        {
            c0_0.Store(c + 0 * (nint)ldc + 0); c0_1.Store(c + 0 * (nint)ldc + 8);
            c1_0.Store(c + 1 * (nint)ldc + 0); c1_1.Store(c + 1 * (nint)ldc + 8);
            c2_0.Store(c + 2 * (nint)ldc + 0); c2_1.Store(c + 2 * (nint)ldc + 8);
            c3_0.Store(c + 3 * (nint)ldc + 0); c3_1.Store(c + 3 * (nint)ldc + 8);
            c4_0.Store(c + 4 * (nint)ldc + 0); c4_1.Store(c + 4 * (nint)ldc + 8);
            c5_0.Store(c + 5 * (nint)ldc + 0); c5_1.Store(c + 5 * (nint)ldc + 8);
        }
        else
        {
            var vb = Vector256.Create(beta);
            Vector256.FusedMultiplyAdd(vb, Vector256.Load(c + 0 * (nint)ldc + 0), c0_0).Store(c + 0 * (nint)ldc + 0); Vector256.FusedMultiplyAdd(vb, Vector256.Load(c + 0 * (nint)ldc + 8), c0_1).Store(c + 0 * (nint)ldc + 8);
            Vector256.FusedMultiplyAdd(vb, Vector256.Load(c + 1 * (nint)ldc + 0), c1_0).Store(c + 1 * (nint)ldc + 0); Vector256.FusedMultiplyAdd(vb, Vector256.Load(c + 1 * (nint)ldc + 8), c1_1).Store(c + 1 * (nint)ldc + 8);
            Vector256.FusedMultiplyAdd(vb, Vector256.Load(c + 2 * (nint)ldc + 0), c2_0).Store(c + 2 * (nint)ldc + 0); Vector256.FusedMultiplyAdd(vb, Vector256.Load(c + 2 * (nint)ldc + 8), c2_1).Store(c + 2 * (nint)ldc + 8);
            Vector256.FusedMultiplyAdd(vb, Vector256.Load(c + 3 * (nint)ldc + 0), c3_0).Store(c + 3 * (nint)ldc + 0); Vector256.FusedMultiplyAdd(vb, Vector256.Load(c + 3 * (nint)ldc + 8), c3_1).Store(c + 3 * (nint)ldc + 8);
            Vector256.FusedMultiplyAdd(vb, Vector256.Load(c + 4 * (nint)ldc + 0), c4_0).Store(c + 4 * (nint)ldc + 0); Vector256.FusedMultiplyAdd(vb, Vector256.Load(c + 4 * (nint)ldc + 8), c4_1).Store(c + 4 * (nint)ldc + 8);
            Vector256.FusedMultiplyAdd(vb, Vector256.Load(c + 5 * (nint)ldc + 0), c5_0).Store(c + 5 * (nint)ldc + 0); Vector256.FusedMultiplyAdd(vb, Vector256.Load(c + 5 * (nint)ldc + 8), c5_1).Store(c + 5 * (nint)ldc + 8);
        }
    }
}
