namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// Strided copy over up to 6 dimensions. The innermost dimension is copied as a run
/// (contiguous when both strides are 1); outer indices are enumerated in parallel.
/// </summary>
static class CpuCopy
{
    public static void Strided(ReadOnlySpan<int> shape, float[] src, long srcOffset, ReadOnlySpan<long> srcStrides,
        float[] dst, long dstOffset, ReadOnlySpan<long> dstStrides, bool accumulate)
    {
        int nd = shape.Length;
        if (nd == 0) return;
        int[] sh = shape.ToArray();
        long[] ss = srcStrides.ToArray(), ds = dstStrides.ToArray();
        int inner = sh[nd - 1];
        long sIn = ss[nd - 1], dIn = ds[nd - 1];
        long outer = 1;
        for (int d = 0; d < nd - 1; d++) outer *= sh[d];
        if (outer == 0 || inner == 0) return;
        void Run(long o)
        {
            long rem = o, so = srcOffset, dof = dstOffset;
            for (int d = nd - 2; d >= 0; d--)
            {
                long i = rem % sh[d]; rem /= sh[d];
                so += i * ss[d]; dof += i * ds[d];
            }
            if (sIn == 1 && dIn == 1)
            {
                var s = src.AsSpan((int)so, inner); var t = dst.AsSpan((int)dof, inner);
                if (accumulate) for (int i = 0; i < inner; i++) t[i] += s[i];
                else s.CopyTo(t);
            }
            else if (accumulate) for (int i = 0; i < inner; i++) dst[dof + i * dIn] += src[so + i * sIn];
            else for (int i = 0; i < inner; i++) dst[dof + i * dIn] = src[so + i * sIn];
        }
        if (outer * inner < (1 << 15)) { for (long o = 0; o < outer; o++) Run(o); return; }
        Parallel.For(0L, outer, CpuThreads.Options, Run);
    }
}
