namespace Ctmsr.Kernels.Gpu;

/// <summary>
/// The launch shape of <see cref="Backend.CopyStrided"/> on the GPU backends (C dialect and ILGPU): the shape and both
/// stride lists right-aligned into <see cref="MaxDims"/> slots (leading slots of extent 1), and the element count.
/// </summary>
public ref struct StridedCopyShape
{
    public const int MaxDims = 6;

    public long Total;
    public Span<int> N;
    public Span<long> Src;
    public Span<long> Dst;

    /// <summary>Checks the dimension count and pads into the given spans (each of length <see cref="MaxDims"/>).</summary>
    public StridedCopyShape(ReadOnlySpan<int> shape, ReadOnlySpan<long> srcStrides, ReadOnlySpan<long> dstStrides,
        Span<int> n, Span<long> src, Span<long> dst)
    {
        int nd = shape.Length;
        if (nd > MaxDims) throw new ArgumentException($"CopyStrided supports at most {MaxDims} dimensions, got {nd}: merge contiguous dimensions first");
        if (srcStrides.Length != nd || dstStrides.Length != nd) throw new ArgumentException("CopyStrided: shape and stride lengths differ");
        n.Fill(1);
        src.Clear();
        dst.Clear();
        Total = 1;
        for (int d = 0; d < nd; d++)
        {
            n[MaxDims - nd + d] = shape[d];
            src[MaxDims - nd + d] = srcStrides[d];
            dst[MaxDims - nd + d] = dstStrides[d];
            Total *= shape[d];
        }
        N = n; Src = src; Dst = dst;
    }
}
