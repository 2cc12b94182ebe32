using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// What the GEMM driver does to each finished block of C while it is still in L1: c[i, j] = act(c[i, j] + bias[i]) for a
/// bias per row (a convolution's output channel; null: none) and an activation (<see cref="Handles"/>: identity or GELU).
/// The bias is added to the finished sum, the same one rounding as adding it to a C pre-filled with the bias when the
/// reduction is one slice. GELU is <see cref="CpuActivation"/>'s 16-lane form on every element (a row's tail through a
/// padded vector), so a fused activation equals the separate op's wide path bit for bit.
/// </summary>
readonly unsafe struct GemmEpilogue(float* rowBias, Activation act)
{
    public static bool Handles(Activation a) => a is Activation.Identity or Activation.Gelu;

    public bool Active => rowBias != null || act != Activation.Identity;

    /// <summary>Row <paramref name="row"/> of C, its first n elements at c.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Apply(float* c, int row, int n)
    {
        var vb = Vector512.Create(rowBias == null ? 0f : rowBias[row]);
        bool gelu = act == Activation.Gelu;
        int j = 0;
        for (; j + 16 <= n; j += 16)
        {
            var v = Vector512.Load(c + j) + vb;
            (gelu ? CpuActivation.GeluWide(v) : v).Store(c + j);
        }
        if (j < n)
        {
            float* t = stackalloc float[16];
            for (int i = 0; i < 16; i++) t[i] = j + i < n ? c[j + i] : 0f;
            var v = Vector512.Load(t) + vb;
            (gelu ? CpuActivation.GeluWide(v) : v).Store(t);
            for (int i = 0; j + i < n; i++) c[j + i] = t[i];
        }
    }
}
