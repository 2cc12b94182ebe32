using System.Numerics;
using System.Runtime.InteropServices;

namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// The CPU loops behind <see cref="Backend.Resample2d"/> and <see cref="Backend.Filter2dReflect"/>, on host arrays
/// (the data pipeline calls them directly on its images).
/// </summary>
public static class CpuImageFilters
{
    /// <summary>
    /// Separable resampling [planes, rows.InSize, cols.InSize] -> [planes, rows.OutSize, cols.OutSize]: one horizontal
    /// gather pass into [planes, h, outW], then one pass over rows vectorised along the columns.
    /// </summary>
    public static void Resample2d(float[] src, float[] dst, int planes, ResampleAxis rows, ResampleAxis cols)
    {
        ArgumentNullException.ThrowIfNull(src);
        ArgumentNullException.ThrowIfNull(dst);
        int h = rows.InSize, w = cols.InSize, outH = rows.OutSize, outW = cols.OutSize;
        if (src.Length < (long)planes * h * w || dst.Length < (long)planes * outH * outW)
            throw new ArgumentException($"Resample2d: buffers of {src.Length} and {dst.Length} floats are too small for [{planes}, {h}, {w}] -> [{planes}, {outH}, {outW}]");
        if (planes == 0) return;
        var tmp = new float[(long)planes * h * outW];
        const int Chunk = 16;
        int hChunks = (h + Chunk - 1) / Chunk, oChunks = (outH + Chunk - 1) / Chunk;
        var opts = CpuThreads.Cap((long)planes * outH * outW < 32768 ? 1 : -1);
        Parallel.For(0L, (long)planes * hChunks, opts, item =>
        {
            int p = (int)(item / hChunks), r0 = (int)(item % hChunks) * Chunk, r1 = Math.Min(h, r0 + Chunk);
            for (int r = r0; r < r1; r++)
                HorizontalRow(src.AsSpan((int)(((long)p * h + r) * w), w), tmp.AsSpan((int)(((long)p * h + r) * outW), outW), cols);
        });
        Parallel.For(0L, (long)planes * oChunks, opts, item =>
        {
            int p = (int)(item / oChunks), y0 = (int)(item % oChunks) * Chunk, y1 = Math.Min(outH, y0 + Chunk);
            var tplane = tmp.AsSpan((int)((long)p * h * outW), h * outW);
            for (int oy = y0; oy < y1; oy++)
                VerticalRow(tplane, outW, rows, oy, dst.AsSpan((int)(((long)p * outH + oy) * outW), outW));
        });
    }

    static void VerticalRow(ReadOnlySpan<float> tplane, int outW, ResampleAxis ay, int oy, Span<float> drow)
    {
        int taps = ay.Taps, b = oy * taps;
        if (taps == 4)
        {
            ReadOnlySpan<float> a0 = tplane.Slice(ay.Index[b] * outW, outW), a1 = tplane.Slice(ay.Index[b + 1] * outW, outW),
                                a2 = tplane.Slice(ay.Index[b + 2] * outW, outW), a3 = tplane.Slice(ay.Index[b + 3] * outW, outW);
            float w0 = ay.Weight[b], w1 = ay.Weight[b + 1], w2 = ay.Weight[b + 2], w3 = ay.Weight[b + 3];
            int x = 0;
            if (Vector.IsHardwareAccelerated)
            {
                var v0 = new Vector<float>(w0); var v1 = new Vector<float>(w1); var v2 = new Vector<float>(w2); var v3 = new Vector<float>(w3);
                for (; x <= outW - Vector<float>.Count; x += Vector<float>.Count)
                    (v0 * new Vector<float>(a0[x..]) + v1 * new Vector<float>(a1[x..]) + v2 * new Vector<float>(a2[x..]) + v3 * new Vector<float>(a3[x..])).CopyTo(drow[x..]);
            }
            for (; x < outW; x++) drow[x] = w0 * a0[x] + w1 * a1[x] + w2 * a2[x] + w3 * a3[x];
            return;
        }
        drow.Clear();
        for (int t = 0; t < taps; t++)
        {
            float wt = ay.Weight[b + t];
            if (wt == 0f) continue;
            Axpy(wt, tplane.Slice(ay.Index[b + t] * outW, outW), drow);
        }
    }

    static void HorizontalRow(ReadOnlySpan<float> row, Span<float> trow, ResampleAxis ax)
    {
        int taps = ax.Taps;
        var idx = ax.Index; var wt = ax.Weight;
        switch (taps)
        {
            case 1:
                for (int o = 0; o < trow.Length; o++) trow[o] = wt[o] * row[idx[o]];
                break;
            case 2:
                for (int o = 0; o < trow.Length; o++)
                    trow[o] = wt[2 * o] * row[idx[2 * o]] + wt[2 * o + 1] * row[idx[2 * o + 1]];
                break;
            case 4:
                for (int o = 0; o < trow.Length; o++)
                {
                    int b = 4 * o;
                    trow[o] = wt[b] * row[idx[b]] + wt[b + 1] * row[idx[b + 1]] + wt[b + 2] * row[idx[b + 2]] + wt[b + 3] * row[idx[b + 3]];
                }
                break;
            default:
                for (int o = 0; o < trow.Length; o++)
                {
                    float acc = 0f;
                    for (int t = 0; t < taps; t++) acc += wt[o * taps + t] * row[idx[o * taps + t]];
                    trow[o] = acc;
                }
                break;
        }
    }

    /// <summary>y += a * x, vectorised.</summary>
    static void Axpy(float a, ReadOnlySpan<float> x, Span<float> y)
    {
        int n = y.Length, i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
        {
            var va = new Vector<float>(a);
            var xv = MemoryMarshal.Cast<float, Vector<float>>(x[..n]);
            var yv = MemoryMarshal.Cast<float, Vector<float>>(y);
            for (int v = 0; v < yv.Length; v++) yv[v] += va * xv[v];
            i = yv.Length * Vector<float>.Count;
        }
        for (; i < n; i++) y[i] += a * x[i];
    }

    /// <summary>
    /// Per-sample k x k correlation with reflect-101 padding: src, dst [batch, channels, h, w], kernels [batch, k, k].
    /// Zero border rows/columns of a kernel (small kernels padded to a common size) are skipped, which does not change
    /// the result; each vector of outputs accumulates all taps in a register.
    /// </summary>
    public static void Filter2dReflect(float[] src, float[] dst, int batch, int channels, int h, int w, int k, float[] kernels)
    {
        ArgumentNullException.ThrowIfNull(src);
        ArgumentNullException.ThrowIfNull(dst);
        ArgumentNullException.ThrowIfNull(kernels);
        if (k <= 0 || k % 2 == 0)
            throw new ArgumentException($"Filter2dReflect: kernel size {k} must be odd and positive");
        long plane = (long)h * w, planes = (long)batch * channels;
        if (src.Length < planes * plane || dst.Length < planes * plane || kernels.Length < (long)batch * k * k)
            throw new ArgumentException($"Filter2dReflect: buffers too small for [{batch}, {channels}, {h}, {w}] with {batch} kernels of {k}x{k}");
        Parallel.For(0, (int)planes, CpuThreads.Cap(planes < 2 ? 1 : -1), p =>
            Plane(src.AsSpan((int)(p * plane), (int)plane), dst.AsSpan((int)(p * plane), (int)plane), h, w,
                  kernels.AsSpan(p / channels * k * k, k * k), k));
    }

    static void Plane(ReadOnlySpan<float> src, Span<float> dst, int h, int w, ReadOnlySpan<float> kw, int k)
    {
        // Bounding box of the nonzero taps.
        int r0 = k, r1 = -1, c0 = k, c1 = -1;
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
                if (kw[i * k + j] != 0f)
                {
                    r0 = Math.Min(r0, i); r1 = Math.Max(r1, i);
                    c0 = Math.Min(c0, j); c1 = Math.Max(c1, j);
                }
        dst.Clear();
        if (r1 < 0) return;
        int half = k / 2;
        // Padded rows only where needed: columns c0-half .. w-1+c1-half; rows likewise.
        int padL = half - c0, padR = c1 - half; // may be negative (kernel mass on one side)
        int pw = w + padL + padR;
        int nr = r1 - r0 + 1, nc = c1 - c0 + 1;
        var prow = new float[nr * pw]; // the padded input rows one output row reads
        var colIndex = new int[pw];
        for (int c = 0; c < pw; c++) colIndex[c] = Backend.Reflect101(c - padL, w);
        var taps = new float[nr * nc]; // the bounding box, row-major, zeros included (cheaper than branching)
        for (int i = 0; i < nr; i++)
            for (int j = 0; j < nc; j++) taps[i * nc + j] = kw[(r0 + i) * k + c0 + j];
        int vc = Vector<float>.Count;
        for (int y = 0; y < h; y++)
        {
            var drow = dst.Slice(y * w, w);
            for (int i = 0; i < nr; i++)
            {
                var srow = src.Slice(Backend.Reflect101(y + r0 + i - half, h) * w, w);
                var pr = prow.AsSpan(i * pw, pw);
                for (int c = 0; c < pw; c++) pr[c] = srow[colIndex[c]];
            }
            ReadOnlySpan<float> pad = prow;
            int x = 0;
            if (Vector.IsHardwareAccelerated)
            {
                for (; x <= w - vc; x += vc)
                {
                    var acc = Vector<float>.Zero;
                    for (int i = 0; i < nr; i++)
                    {
                        var pr = pad.Slice(i * pw + x, nc - 1 + vc);
                        var tr = taps.AsSpan(i * nc, nc);
                        for (int j = 0; j < nc; j++) acc += new Vector<float>(tr[j]) * new Vector<float>(pr[j..]);
                    }
                    acc.CopyTo(drow[x..]);
                }
            }
            for (; x < w; x++)
            {
                float acc = 0f;
                for (int i = 0; i < nr; i++)
                    for (int j = 0; j < nc; j++) acc += taps[i * nc + j] * pad[i * pw + x + j];
                drow[x] = acc;
            }
        }
    }
}
