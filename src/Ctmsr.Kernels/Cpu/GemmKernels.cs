using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// The AVX2 SGEMM micro-kernel (the AVX-512 ones are <see cref="GemmRowKernels"/>): C[6 x 16] = sum_p a[p, 0..6)
/// (outer) b[p, 0..16), where a is a packed A micro-panel ([kc][6], row index fastest) and b a packed B micro-panel
/// ([kc][16]). All accumulators stay in registers (6 x 2 ymm = 12 of 16). beta == 0 stores without reading C
/// (NaNs in C are ignored); otherwise C = acc + beta * C.
/// </summary>
static unsafe class GemmKernels
{
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
