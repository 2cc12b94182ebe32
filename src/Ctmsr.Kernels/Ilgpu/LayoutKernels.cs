using ILGPU;

namespace Ctmsr.Kernels.Ilgpu;

/// <summary>
/// Strided copy over 6 dimensions (unused leading dimensions have extent 1):
/// dst[dOff + sum_d i_d ds_d] (=/+=) src[sOff + sum_d i_d ss_d], grid-stride over the flat index (last dimension fastest).
/// Covers concat/split, permutes, pixel (un)shuffle and window partition/reverse.
/// </summary>
static class LayoutKernels
{
    public const int MaxDims = Gpu.StridedCopyShape.MaxDims;

    public struct Args
    {
        public long Total, SrcOff, DstOff;
        public int N0, N1, N2, N3, N4, N5, Accumulate;
        public long S0, S1, S2, S3, S4, S5, D0, D1, D2, D3, D4, D5;
    }

    [IlgpuKernel]
    public static void CopyStrided(ArrayView<float> src, ArrayView<float> dst, Args a)
    {
        for (long it = Grid.GlobalIndex.X; it < a.Total; it += (long)Grid.DimX * Group.DimX)
        {
            long rem = it;
            long i5 = rem % a.N5; rem /= a.N5;
            long i4 = rem % a.N4; rem /= a.N4;
            long i3 = rem % a.N3; rem /= a.N3;
            long i2 = rem % a.N2; rem /= a.N2;
            long i1 = rem % a.N1; rem /= a.N1;
            long i0 = rem;
            long so = a.SrcOff + i0 * a.S0 + i1 * a.S1 + i2 * a.S2 + i3 * a.S3 + i4 * a.S4 + i5 * a.S5;
            long d = a.DstOff + i0 * a.D0 + i1 * a.D1 + i2 * a.D2 + i3 * a.D3 + i4 * a.D4 + i5 * a.D5;
            dst[d] = a.Accumulate != 0 ? dst[d] + src[so] : src[so];
        }
    }
}

public sealed partial class IlgpuBackend
{
    public override void CopyStrided(ReadOnlySpan<int> shape, DeviceBuffer src, long srcOffset, ReadOnlySpan<long> srcStrides,
        DeviceBuffer dst, long dstOffset, ReadOnlySpan<long> dstStrides, bool accumulate)
    {
        var sh = new Gpu.StridedCopyShape(shape, srcStrides, dstStrides,
            stackalloc int[Gpu.StridedCopyShape.MaxDims], stackalloc long[Gpu.StridedCopyShape.MaxDims], stackalloc long[Gpu.StridedCopyShape.MaxDims]);
        long total = sh.Total;
        if (total == 0) return;
        Span<int> n = sh.N;
        Span<long> ss = sh.Src, ds = sh.Dst;
        var args = new LayoutKernels.Args
        {
            Total = total, SrcOff = srcOffset, DstOff = dstOffset, Accumulate = Flag(accumulate),
            N0 = n[0], N1 = n[1], N2 = n[2], N3 = n[3], N4 = n[4], N5 = n[5],
            S0 = ss[0], S1 = ss[1], S2 = ss[2], S3 = ss[3], S4 = ss[4], S5 = ss[5],
            D0 = ds[0], D1 = ds[1], D2 = ds[2], D3 = ds[3], D4 = ds[4], D5 = ds[5],
        };
        Launch(LayoutKernels.CopyStrided, Linear(total), V(src), V(dst), args);
    }
}
