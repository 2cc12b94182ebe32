namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// Strided copy over up to 6 dimensions: dst[dstOffset + sum i_d dstStrides_d] (=/+=) src[srcOffset + sum i_d srcStrides_d].
/// The last two dimensions form a tile copied per index of the outer ones, walked so that the innermost loop runs
/// along whichever side has unit stride there (the window partition and its reverse are transposes of [E, ws] tiles:
/// one side is contiguous along E, the other along ws). Outer indices go to the threads in contiguous chunks, each
/// enumerated by an odometer (no division per row). Every element is written once, so the result does not depend
/// on the order.
/// </summary>
static unsafe class CpuCopy
{
    /// <summary>Below this many elements the copy runs on the calling thread.</summary>
    const long ParallelElements = 1 << 15;

    public static void Strided(ReadOnlySpan<int> shape, float[] src, long srcOffset, ReadOnlySpan<long> srcStrides,
        float[] dst, long dstOffset, ReadOnlySpan<long> dstStrides, bool accumulate)
    {
        int nd = shape.Length;
        if (nd == 0) return;
        // as a 2-D tile [a, b] under an outer index space of the first nd - 2 dimensions (a = 1 when nd = 1)
        int[] sh = nd == 1 ? [1, shape[0]] : shape.ToArray();
        long[] ss = nd == 1 ? [0, srcStrides[0]] : srcStrides.ToArray();
        long[] ds = nd == 1 ? [0, dstStrides[0]] : dstStrides.ToArray();
        int m = sh.Length, a = sh[m - 2], b = sh[m - 1];
        long sa = ss[m - 2], sb = ss[m - 1], da = ds[m - 2], db = ds[m - 1];
        int outerDims = m - 2;
        long outer = 1;
        for (int d = 0; d < outerDims; d++) outer *= sh[d];
        if (outer == 0 || a == 0 || b == 0) return;
        CheckRange("source", sh, ss, srcOffset, src.LongLength);
        CheckRange("destination", sh, ds, dstOffset, dst.LongLength);
        // walk b innermost unless only the a axis is contiguous on a side (the transposed tile)
        bool swap = sb != 1 && db != 1 && (sa == 1 || da == 1);
        if (swap) { (a, b) = (b, a); (sa, sb) = (sb, sa); (da, db) = (db, da); }
        long tile = (long)a * b;
        fixed (float* ps = src, pd = dst)
        {
            float* s0 = ps + srcOffset, d0 = pd + dstOffset;
            void Chunk(long o0, long o1)
            {
                Span<int> idx = stackalloc int[Math.Max(1, outerDims)];
                long so = 0, dof = 0, rem = o0;
                for (int d = outerDims - 1; d >= 0; d--)
                {
                    idx[d] = (int)(rem % sh[d]); rem /= sh[d];
                    so += idx[d] * ss[d]; dof += idx[d] * ds[d];
                }
                for (long o = o0; o < o1; o++)
                {
                    Tile(s0 + so, d0 + dof, a, b, sa, sb, da, db, accumulate);
                    for (int d = outerDims - 1; d >= 0; d--)
                    {
                        so += ss[d]; dof += ds[d];
                        if (++idx[d] < sh[d]) break;
                        so -= sh[d] * ss[d]; dof -= sh[d] * ds[d]; idx[d] = 0;
                    }
                }
            }
            if (outer * tile < ParallelElements) { Chunk(0, outer); return; }
            if (outer == 1)
            {
                // one tile: split its longer walk (a 1-D copy is a single row) across the threads
                int parts = 8 * Environment.ProcessorCount;
                if (a == 1)
                    Parallel.For(0, parts, CpuThreads.Options, c =>
                    {
                        int j0 = (int)((long)b * c / parts), j1 = (int)((long)b * (c + 1) / parts);
                        Tile(s0 + j0 * sb, d0 + j0 * db, 1, j1 - j0, sa, sb, da, db, accumulate);
                    });
                else
                    Parallel.For(0, Math.Min(parts, a), CpuThreads.Options, c =>
                    {
                        int pa = Math.Min(parts, a), i0 = (int)((long)a * c / pa), i1 = (int)((long)a * (c + 1) / pa);
                        Tile(s0 + i0 * sa, d0 + i0 * da, i1 - i0, b, sa, sb, da, db, accumulate);
                    });
                return;
            }
            int chunks = (int)Math.Min(outer, 8L * Environment.ProcessorCount);
            Parallel.For(0, chunks, CpuThreads.Options, c => Chunk(outer * c / chunks, outer * (c + 1) / chunks));
        }
    }

    /// <summary>The walk runs on raw pointers, so every element it can touch must lie inside the array.</summary>
    static void CheckRange(string name, int[] shape, long[] strides, long offset, long length)
    {
        long lo = offset, hi = offset;
        for (int d = 0; d < shape.Length; d++)
        {
            long ext = (shape[d] - 1) * strides[d];
            if (ext < 0) lo += ext; else hi += ext;
        }
        if (lo < 0 || hi >= length)
            throw new ArgumentOutOfRangeException(name, $"strided copy: the {name} walk spans elements {lo}..{hi} of a buffer of {length}; the shape, strides or offset are wrong");
    }

    /// <summary>One [a, b] tile: rows along a, runs of b along the inner loop.</summary>
    static void Tile(float* s, float* d, int a, int b, long sa, long sb, long da, long db, bool accumulate)
    {
        if (sb == 1 && db == 1)
        {
            for (int i = 0; i < a; i++)
            {
                var from = new ReadOnlySpan<float>(s + i * sa, b);
                var to = new Span<float>(d + i * da, b);
                if (!accumulate) { from.CopyTo(to); continue; }
                int j = 0, vw = System.Numerics.Vector<float>.Count;
                for (; j <= b - vw; j += vw)
                    (new System.Numerics.Vector<float>(to.Slice(j)) + new System.Numerics.Vector<float>(from.Slice(j))).CopyTo(to.Slice(j));
                for (; j < b; j++) to[j] += from[j];
            }
            return;
        }
        for (int i = 0; i < a; i++)
        {
            float* si = s + i * sa, di = d + i * da;
            if (accumulate) for (int j = 0; j < b; j++) di[j * db] += si[j * sb];
            else for (int j = 0; j < b; j++) di[j * db] = si[j * sb];
        }
    }
}
