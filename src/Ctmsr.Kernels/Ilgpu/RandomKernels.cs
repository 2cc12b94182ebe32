using ILGPU;
using static Ctmsr.Kernels.Ilgpu.KernelMath;

namespace Ctmsr.Kernels.Ilgpu;

/// <summary>
/// Philox4x32-10 streams, bit-identical to <see cref="Philox"/>: uniform element e = word (e % 4) of
/// philox((e / 4, 0), seed) &gt;&gt; 8, times 2^-24; normal = Box-Muller of words 0, 1 of philox((e, 1), seed)
/// (log and cos from <see cref="KernelMath"/>, within about an ulp of the CPU's). Dropout keeps x where uniform &gt;= p
/// and scales it by 1 / (1 - p).
/// </summary>
static class RandomKernels
{
    public struct Args { public long N; public ulong Seed, Offset; public float P, Scale; public int Accumulate; }

    static uint MulHi(uint a, uint b) => (uint)(((ulong)a * b) >> 32);

    /// <summary>The four output words of philox((ctr, c2), seed).</summary>
    static void Block(ulong ctr, uint c2, ulong seed, out uint o0, out uint o1, out uint o2, out uint o3)
    {
        uint x0 = (uint)ctr, x1 = (uint)(ctr >> 32), x2 = c2, x3 = 0u;
        uint k0 = (uint)seed, k1 = (uint)(seed >> 32);
        for (int r = 0; r < 10; r++)
        {
            uint hi0 = MulHi(0xD2511F53u, x0), lo0 = 0xD2511F53u * x0;
            uint hi1 = MulHi(0xCD9E8D57u, x2), lo1 = 0xCD9E8D57u * x2;
            x0 = hi1 ^ x1 ^ k0;
            x1 = lo1;
            x2 = hi0 ^ x3 ^ k1;
            x3 = lo0;
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        o0 = x0; o1 = x1; o2 = x2; o3 = x3;
    }

    public static float Uniform(ulong seed, ulong e)
    {
        Block(e >> 2, 0u, seed, out uint a, out uint b, out uint c, out uint d);
        uint sel = (uint)(e & 3u);
        uint word = sel == 0u ? a : sel == 1u ? b : sel == 2u ? c : d;
        return (int)(word >> 8) * (1f / 16777216f); // via int: uint -> float would go through float64 (conv.r.un)
    }

    public static float Normal(ulong seed, ulong e)
    {
        Block(e, 1u, seed, out uint a, out uint b, out _, out _);
        float u1 = (int)((a >> 8) + 1u) * (1f / 16777216f);
        float u2 = (int)(b >> 8) * (1f / 16777216f);
        return MathF.Sqrt(-2f * Log(u1)) * Cos(6.2831855f * u2);
    }

    static long Start => Grid.GlobalIndex.X;
    static long Step => (long)Grid.DimX * Group.DimX;

    [IlgpuKernel]
    public static void FillUniform(ArrayView<float> y, Args a)
    {
        for (long i = Start; i < a.N; i += Step) y[i] = Uniform(a.Seed, a.Offset + (ulong)i);
    }

    [IlgpuKernel]
    public static void FillNormal(ArrayView<float> y, Args a)
    {
        for (long i = Start; i < a.N; i += Step) y[i] = Normal(a.Seed, a.Offset + (ulong)i);
    }

    [IlgpuKernel]
    public static void Dropout(ArrayView<float> x, ArrayView<float> y, Args a)
    {
        for (long i = Start; i < a.N; i += Step) y[i] = Uniform(a.Seed, a.Offset + (ulong)i) >= a.P ? x[i] * a.Scale : 0f;
    }

    [IlgpuKernel]
    public static void DropoutBackward(ArrayView<float> dy, ArrayView<float> dx, Args a)
    {
        for (long i = Start; i < a.N; i += Step)
        {
            float g = Uniform(a.Seed, a.Offset + (ulong)i) >= a.P ? dy[i] * a.Scale : 0f;
            dx[i] = a.Accumulate != 0 ? dx[i] + g : g;
        }
    }
}

public sealed partial class IlgpuBackend
{
    public override void FillUniform(long count, ulong seed, ulong offset, DeviceBuffer y)
    {
        if (count == 0) return;
        Launch(RandomKernels.FillUniform, Linear(count), V(y), new RandomKernels.Args { N = count, Seed = seed, Offset = offset });
    }

    public override void FillNormal(long count, ulong seed, ulong offset, DeviceBuffer y)
    {
        if (count == 0) return;
        Launch(RandomKernels.FillNormal, Linear(count), V(y), new RandomKernels.Args { N = count, Seed = seed, Offset = offset });
    }

    public override void Dropout(long count, float p, ulong seed, ulong offset, DeviceBuffer x, DeviceBuffer y)
    {
        if (count == 0) return;
        Launch(RandomKernels.Dropout, Linear(count), V(x), V(y),
            new RandomKernels.Args { N = count, P = p, Scale = 1f / (1f - p), Seed = seed, Offset = offset });
    }

    public override void DropoutBackward(long count, float p, ulong seed, ulong offset, DeviceBuffer dy, DeviceBuffer dx, bool accumulate)
    {
        if (count == 0) return;
        Launch(RandomKernels.DropoutBackward, Linear(count), V(dy), V(dx),
            new RandomKernels.Args { N = count, P = p, Scale = 1f / (1f - p), Seed = seed, Offset = offset, Accumulate = Flag(accumulate) });
    }
}
