using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// Data movement around the conv GEMMs, one sample at a time (planes [C, H, W]):
/// zero-padded copies (so stride-1 im2col becomes a pure shift: column p' = oy * Wp + ox of row (ci, ky, kx) is
/// xp[ci, oy + ky, ox + kx] = xp_flat[ci * Hp * Wp + ky * Wp + kx + p']), explicit im2col / col2im for the general
/// case, and the padded-width -> dense output copy.
/// </summary>
static unsafe class ConvLayout
{
    const int ParallelPlanes = 1 << 16;

    static void ForPlanes(int planes, long work, Action<int> body)
    {
        if (work < ParallelPlanes || planes == 1) for (int c = 0; c < planes; c++) body(c);
        else Parallel.For(0, planes, CpuThreads.Options, body);
    }

    /// <summary>xp[c, pad + iy, pad + ix] = x[c, iy, ix], zero border; xp is [c, h + 2 pad, w + 2 pad] plus <paramref name="slack"/> zeros.</summary>
    public static void Pad(float* x, int c, int h, int w, int pad, float* xp, int slack)
    {
        int hp = h + 2 * pad, wp = w + 2 * pad;
        long plane = (long)hp * wp;
        nint xs = (nint)x, xd = (nint)xp;
        ForPlanes(c, (long)c * plane, ci =>
        {
            float* src = (float*)xs + (long)ci * h * w, dst = (float*)xd + ci * plane;
            RowMoves.Clear(dst, pad * wp + pad);
            for (int iy = 0; iy < h; iy++)
            {
                float* d = dst + (long)(iy + pad) * wp + pad;
                RowMoves.Copy(src + (long)iy * w, d, w);
                if (pad > 0) RowMoves.Clear(d + w, 2 * pad); // right border + next row's left border
            }
            RowMoves.Clear(dst + (long)(h + pad) * wp, pad * wp);
        });
        RowMoves.Clear(xp + c * plane, slack);
    }

    /// <summary>Rows [r0, r0 + hp) of the zero-padded input (padded coordinates): xp[c, j, pad + ix] = x[c, r0 + j - pad, ix],
    /// zero outside the image; xp is [c, hp, w + 2 pad] plus <paramref name="slack"/> zeros.</summary>
    public static void PadRows(float* x, int c, int h, int w, int pad, int r0, int hp, float* xp, int slack)
    {
        int wp = w + 2 * pad;
        long plane = (long)hp * wp;
        nint xs = (nint)x, xd = (nint)xp;
        ForPlanes(c, (long)c * plane, ci =>
        {
            float* src = (float*)xs + (long)ci * h * w, dst = (float*)xd + ci * plane;
            for (int j = 0; j < hp; j++)
            {
                float* d = dst + (long)j * wp;
                int iy = r0 + j - pad;
                if (iy < 0 || iy >= h) { RowMoves.Clear(d, wp); continue; }
                RowMoves.Clear(d, pad);
                RowMoves.Copy(src + (long)iy * w, d + pad, w);
                RowMoves.Clear(d + pad + w, pad);
            }
        });
        RowMoves.Clear(xp + c * plane, slack);
    }

    /// <summary>u[c, i, j] = x[c, i / 2, j / 2]: x is [c, h, w], u is [c, 2h, 2w].</summary>
    public static void Upsample2x(float* x, int c, int h, int w, float* u)
    {
        nint xs = (nint)x, us = (nint)u;
        ForPlanes(c, 4L * c * h * w, ci =>
        {
            float* src = (float*)xs + (long)ci * h * w, dst = (float*)us + 4L * ci * h * w;
            for (int i = 0; i < 2 * h; i++)
            {
                float* sr = src + (long)(i >> 1) * w, o = dst + (long)i * 2 * w;
                for (int j = 0; j < w; j++) { float v = sr[j]; o[2 * j] = v; o[2 * j + 1] = v; }
            }
        });
    }

    /// <summary><see cref="PadRows"/> of the nearest x2 upsampling of x: x is [c, h / 2, w / 2] and the rows are those of
    /// the upsampled [c, h, w] map, read with halved indices (xp[c, j, pad + ix] = x[c, (r0 + j - pad) / 2, ix / 2]), so
    /// the upsampled map is never written whole; xp is exactly what PadRows makes of the upsampled map.</summary>
    public static void PadRowsUp2(float* x, int c, int h, int w, int pad, int r0, int hp, float* xp, int slack)
    {
        int wp = w + 2 * pad, hs = h / 2, ws = w / 2;
        long plane = (long)hp * wp;
        nint xs = (nint)x, xd = (nint)xp;
        ForPlanes(c, (long)c * plane, ci =>
        {
            float* src = (float*)xs + (long)ci * hs * ws, dst = (float*)xd + ci * plane;
            for (int j = 0; j < hp; j++)
            {
                float* d = dst + (long)j * wp;
                int iy = r0 + j - pad;
                if (iy < 0 || iy >= h) { RowMoves.Clear(d, wp); continue; }
                RowMoves.Clear(d, pad);
                CopyRowUp2(src + (long)(iy >> 1) * ws, ws, d + pad);
                RowMoves.Clear(d + pad + w, pad);
            }
        });
        RowMoves.Clear(xp + c * plane, slack);
    }

    /// <summary>o[2 i] = o[2 i + 1] = src[i] for i &lt; n: one row of a nearest x2 upsampling.</summary>
    public static void CopyRowUp2(float* src, int n, float* o)
    {
        int ix = 0;
        for (; ix + 4 <= n; ix += 4)
        {
            var v = Vector128.Load(src + ix);
            Vector128.Shuffle(v, Vector128.Create(0, 0, 1, 1)).Store(o + 2 * ix);
            Vector128.Shuffle(v, Vector128.Create(2, 2, 3, 3)).Store(o + 2 * ix + 4);
        }
        for (; ix < n; ix++) { float v = src[ix]; o[2 * ix] = v; o[2 * ix + 1] = v; }
    }

    /// <summary>y[c, oy, ox] (=/+=) t[c, oy * wp + ox] (+ bias[c]) for a band of <paramref name="rows"/> output rows;
    /// y points at the band's first row of plane 0, planes <paramref name="yPlane"/> apart.</summary>
    public static void CompactRows(float* t, int c, int rows, int ow, int wp, float* y, long yPlane, bool accumulate, float[]? bias)
    {
        nint ts = (nint)t, ys = (nint)y;
        ForPlanes(c, (long)c * rows * ow, ci =>
            CompactPlane((float*)ts + (long)ci * rows * wp, rows, ow, wp, (float*)ys + ci * yPlane, accumulate, bias is null ? 0f : bias[ci]));
    }

    /// <summary>One plane of <see cref="CompactRows"/>, 8 floats at a time (the same sums as one at a time).</summary>
    static void CompactPlane(float* t, int rows, int ow, int wp, float* y, bool accumulate, float b)
    {
        var vb = Vector256.Create(b);
        for (int oy = 0; oy < rows; oy++)
        {
            float* s = t + (long)oy * wp, d = y + (long)oy * ow;
            int ox = 0;
            if (accumulate)
            {
                for (; ox + 8 <= ow; ox += 8) (Vector256.Load(d + ox) + (Vector256.Load(s + ox) + vb)).Store(d + ox);
                for (; ox < ow; ox++) d[ox] += s[ox] + b;
            }
            else
            {
                for (; ox + 8 <= ow; ox += 8) (Vector256.Load(s + ox) + vb).Store(d + ox);
                for (; ox < ow; ox++) d[ox] = s[ox] + b;
            }
        }
    }

    /// <summary>Offsets of the reduction rows r = (ci, ky, kx) into the padded input: ci * Hp * Wp + ky * Wp + kx.</summary>
    public static void ShiftOffsets(int cin, int k, int hp, int wp, long* offs)
    {
        int r = 0;
        for (int ci = 0; ci < cin; ci++)
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++) offs[r++] = (long)ci * hp * wp + (long)ky * wp + kx;
    }

    /// <summary>y[c, oy, ox] (=/+=) t[c, oy * wp + ox] (+ bias[c]).</summary>
    public static void Compact(float* t, int c, int oh, int ow, int wp, float* y, bool accumulate, float[]? bias)
    {
        nint ts = (nint)t, ys = (nint)y;
        ForPlanes(c, (long)c * oh * ow, ci =>
        {
            float b = bias is null ? 0f : bias[ci];
            for (int oy = 0; oy < oh; oy++)
            {
                float* s = (float*)ts + ((long)ci * oh + oy) * wp, d = (float*)ys + ((long)ci * oh + oy) * ow;
                if (accumulate) for (int ox = 0; ox < ow; ox++) d[ox] += s[ox] + b;
                else for (int ox = 0; ox < ow; ox++) d[ox] = s[ox] + b;
            }
        });
    }

    /// <summary>t[c, oy * wp + ox] = y[c, oy, ox], zero for ox in [ow, wp) (output gradient in padded-width layout).</summary>
    public static void Widen(float* y, int c, int oh, int ow, int wp, float* t)
    {
        nint ts = (nint)t, ys = (nint)y;
        ForPlanes(c, (long)c * oh * wp, ci =>
        {
            for (int oy = 0; oy < oh; oy++)
            {
                float* s = (float*)ys + ((long)ci * oh + oy) * ow, d = (float*)ts + ((long)ci * oh + oy) * wp;
                RowMoves.Copy(s, d, ow);
                RowMoves.Clear(d + ow, wp - ow);
            }
        });
    }

    /// <summary>Stride phases of the zero-padded input: xq[(c, a, b), i, j] = x[c, st i + a - pad, st j + b - pad] (zero
    /// outside the image) for i &lt; hq, j &lt; wq; planes hq x wq in the order ((c st + a) st + b), plus <paramref name="slack"/>
    /// zeros. A stride-st convolution's tap (ky, kx) then reads plane (ky % st, kx % st) shifted by (ky / st, kx / st):
    /// a stride-1 shift, as on the padded input of the stride-1 path.</summary>
    public static void PhaseSplit(float* x, int c, int h, int w, int pad, int st, int hq, int wq, float* xq, int slack)
    {
        long plane = (long)hq * wq;
        nint xs = (nint)x, xd = (nint)xq;
        ForPlanes(c * st, (long)c * st * st * plane, cia => PhaseSplitRows((float*)xs, h, w, pad, st, hq, wq, plane, (float*)xd, cia));
        RowMoves.Clear(xq + (long)c * st * st * plane, slack);
    }

    /// <summary>The st phase planes (a, b) of channel ci, cia = ci st + a (a static method: a closure's captured variables
    /// would be reloaded after every store in the loops).</summary>
    static void PhaseSplitRows(float* x, int h, int w, int pad, int st, int hq, int wq, long plane, float* xq, int cia)
    {
        int ci = cia / st, a = cia % st;
        float* src = x + (long)ci * h * w;
        for (int b = 0; b < st; b++)
        {
            float* dst = xq + ((long)cia * st + b) * plane;
            // j range whose column st j + b - pad lies in [0, w)
            int j0 = Math.Min(wq, Math.Max(0, (pad - b + st - 1) / st));
            int j1 = w - 1 + pad - b < 0 ? j0 : Math.Min(wq, Math.Max(j0, (w - 1 + pad - b) / st + 1));
            for (int i = 0; i < hq; i++)
            {
                float* d = dst + (long)i * wq;
                int iy = st * i + a - pad;
                if (iy < 0 || iy >= h) { RowMoves.Clear(d, wq); continue; }
                float* sr = src + (long)iy * w + b - pad;
                for (int j = 0; j < j0; j++) d[j] = 0f;
                if (st == 2)
                {
                    int j = j0;
                    for (; j + 8 < j1; j += 8) // reads sr[2 j + 15], within the row while 2 (j + 8) is
                    {
                        var lo = Vector256.Load(sr + 2 * j);
                        var hi = Vector256.Load(sr + 2 * j + 8);
                        // even lanes of lo then of hi
                        var e = Vector256.Shuffle(lo, Vector256.Create(0, 2, 4, 6, 0, 2, 4, 6));
                        var f = Vector256.Shuffle(hi, Vector256.Create(0, 2, 4, 6, 0, 2, 4, 6));
                        Vector256.Create(e.GetLower(), f.GetLower()).Store(d + j);
                    }
                    for (; j < j1; j++) d[j] = sr[2 * j];
                }
                else if (st == 4 && Avx512F.IsSupported)
                {
                    int j = j0;
                    var lo = Vector512.Create(0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28);
                    var first = Vector512.Create(-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0).AsSingle();
                    for (; j + 16 < j1; j += 16) // reads sr[4 j + 63], within the row while 4 (j + 16) is
                    {
                        float* q = sr + 4 * j;
                        var e = Avx512F.PermuteVar16x32x2(Vector512.Load(q), lo, Vector512.Load(q + 16));
                        var f = Avx512F.PermuteVar16x32x2(Vector512.Load(q + 32), lo, Vector512.Load(q + 48));
                        Vector512.ConditionalSelect(first, e, f).Store(d + j);
                    }
                    for (; j < j1; j++) d[j] = sr[4 * j];
                }
                else for (int j = j0; j < j1; j++) d[j] = sr[st * j];
                for (int j = j1; j < wq; j++) d[j] = 0f;
            }
        }
    }

    /// <summary>Offsets of the reduction rows r = (ci, ky, kx) into <see cref="PhaseSplit"/>'s planes.</summary>
    public static void PhaseOffsets(int cin, int k, int st, int hq, int wq, long* offs)
    {
        long plane = (long)hq * wq;
        int r = 0;
        for (int ci = 0; ci < cin; ci++)
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++)
                    offs[r++] = (((long)ci * st + ky % st) * st + kx % st) * plane + (long)(ky / st) * wq + kx / st;
    }

    /// <summary>col[(ci, ky, kx), oy * OW + ox] = x[ci, oy * s - pad + ky, ox * s - pad + kx] (zero outside).</summary>
    public static void Im2Col(in ConvShape s, float* x, float* col)
    {
        int oh = s.OutH, ow = s.OutW, k = s.K, st = s.Stride, pad = s.Pad, h = s.H, w = s.W;
        long p = (long)oh * ow;
        nint xs = (nint)x, cs = (nint)col;
        ForPlanes(s.Cin * k, s.Cin * k * k * p, cik =>
        {
            int ci = cik / k, ky = cik % k; // (ci, ky) tasks: enough parallelism for 3-channel inputs
            for (int kx = 0; kx < k; kx++)
            {
                float* dst = (float*)cs + ((long)(ci * k + ky) * k + kx) * p;
                // ox range whose source column ix = ox * st - pad + kx lies in [0, w)
                int lo = pad - kx, hi = w - 1 + pad - kx;
                int ox0 = lo <= 0 ? 0 : Math.Min(ow, (lo + st - 1) / st);
                int ox1 = hi < 0 ? 0 : Math.Min(ow, hi / st + 1);
                if (ox1 < ox0) ox1 = ox0;
                for (int oy = 0; oy < oh; oy++)
                {
                    float* d = dst + (long)oy * ow;
                    int iy = oy * st - pad + ky;
                    if (iy < 0 || iy >= h) { RowMoves.Clear(d, ow); continue; }
                    float* srow = (float*)xs + ((long)ci * h + iy) * w;
                    for (int ox = 0; ox < ox0; ox++) d[ox] = 0f;
                    if (st == 1) RowMoves.Copy(srow + ox0 - pad + kx, d + ox0, ox1 - ox0);
                    else for (int ox = ox0; ox < ox1; ox++) d[ox] = srow[ox * st - pad + kx];
                    for (int ox = ox1; ox < ow; ox++) d[ox] = 0f;
                }
            }
        });
    }

    /// <summary>x[ci, iy, ix] += col[(ci, ky, kx), oy * OW + ox] over all taps that read (iy, ix); the adjoint of Im2Col.</summary>
    public static void Col2ImAdd(in ConvShape s, float* col, float* x)
    {
        int oh = s.OutH, ow = s.OutW, k = s.K, st = s.Stride, pad = s.Pad, h = s.H, w = s.W;
        long p = (long)oh * ow;
        nint xs = (nint)x, cs = (nint)col;
        ForPlanes(s.Cin, s.Cin * k * k * p, ci =>
        {
            float* xplane = (float*)xs + (long)ci * h * w;
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++)
                {
                    float* src = (float*)cs + ((long)(ci * k + ky) * k + kx) * p;
                    for (int oy = 0; oy < oh; oy++)
                    {
                        int iy = oy * st - pad + ky;
                        if (iy < 0 || iy >= h) continue;
                        float* xrow = xplane + (long)iy * w, srow = src + (long)oy * ow;
                        if (st == 1)
                        {
                            // valid ox: 0 <= ox - pad + kx < w
                            int ox0 = Math.Max(0, pad - kx), ox1 = Math.Min(ow, w + pad - kx);
                            float* xr = xrow - pad + kx;
                            int ox = ox0;
                            for (; ox + 8 <= ox1; ox += 8)
                                (Vector256.Load(xr + ox) + Vector256.Load(srow + ox)).Store(xr + ox);
                            for (; ox < ox1; ox++) xr[ox] += srow[ox];
                            continue;
                        }
                        for (int ox = 0; ox < ow; ox++)
                        {
                            int ix = ox * st - pad + kx;
                            if ((uint)ix < (uint)w) xrow[ix] += srow[ox];
                        }
                    }
                }
        });
    }
}
