using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// 3x3, stride 1, pad 1 convolutions to at most <see cref="MaxCout"/> output channels (every model's RGB output layer:
/// 192 -> 3 on x4's 256^2 map, 32 -> 3 on tiny's and small's 1024^2) on AVX-512. The GEMM-shaped kernels waste most of
/// their rows on 3 outputs (the direct kernel's 8-channel panels, Winograd's 12-row GEMMs) and read the input through
/// padded copies. Here a tile holds 3 channels x 2 output rows x 32 pixels in 12 zmm registers (input channel by
/// channel, then tap by tap: the same order in any split) and reads its 4 input rows in place: unaligned loads of the
/// left, centre and right neighbours inside the row; at the row's ends the 16-pixel vectors around the tile with the
/// neighbours formed by lane shifts (valignd), zero outside the map. Scratch: the 27 packed weights a channel and each
/// thread's band of partial sums. The weight gradient (<see cref="BackwardWeight"/>) reads x once, likewise in place.
/// </summary>
static unsafe class ConvFewOutputs
{
    public const int MaxCout = 3;

    public static bool Supported => Avx512F.IsSupported;

    /// <summary>Whether this kernel computes the shape: 3x3, stride 1, pad 1, 1-3 output channels.</summary>
    public static bool Fits(in ConvShape s) => s.K == 3 && s.Stride == 1 && s.Pad == 1 && s.Cout >= 1 && s.Cout <= MaxCout;

    /// <summary>Pixels a tile computes (2 output rows of them).</summary>
    const int TaskCols = 32;

    /// <summary>Output rows of a band (a task): 4 pairs, whose 10 input rows a block of channels reads while they stay in cache.</summary>
    const int BandRows = 8;

    /// <summary>Input channels summed in the registers before the partial sums go back to the band's buffer.</summary>
    const int ChannelBlock = 32;

    /// <summary>Floats of each thread's band buffer: the partial sums of 3 channels x BandRows rows x the width in tiles.</summary>
    static long BandFloats(int wd) => 3L * BandRows * ((wd + TaskCols - 1) / TaskCols * TaskCols);

    static long Bands(in ConvShape s) => (long)s.N * ((s.H + BandRows - 1) / BandRows);

    /// <summary>Floats <see cref="Forward"/> rents: the packed weights (27 an input channel) and a band buffer a thread.</summary>
    public static long ScratchFloats(in ConvShape s) => (long)s.Cin * 27 + Math.Min(Bands(s), CpuThreads.Limit) * BandFloats(s.W);

    /// <summary>
    /// y[n] (= or +=) conv(x[n], w) (+ bias); w is [Cout][Cin][3][3]. Bands of <see cref="BandRows"/> output rows over the
    /// whole width go to the threads; within a band, for each block of <see cref="ChannelBlock"/> input channels, each
    /// row pair and each 32-pixel tile the registers take the partial sums from the band's buffer, add the block's
    /// channels tap by tap and put them back (the last block writes y): every output element is one sum over the
    /// channels in order, whatever the band, the block or the thread. Each channel's rows are read along the whole width
    /// (a task per tile over all channels read 192 planes a few lines at a time: 22 ms for x4's 192 -> 3 at 256^2 on one
    /// thread).
    /// </summary>
    public static void Forward(in ConvShape s, float* x, float* w, float[]? bias, float* y, bool accumulate)
    {
        int cin = s.Cin, cout = s.Cout, h = s.H, wd = s.W;
        long bands = Bands(s), bandFloats = BandFloats(wd);
        int slots = (int)Math.Min(bands, CpuThreads.Limit);
        if ((long)s.N * h * wd * cin < 1L << 16) slots = 1;
        using var rent = Scratch<float>.Rent(ScratchFloats(s), "few-output convolution (packed weights, band sums)");
        var arr = rent.Array;
        // wk[ci][ky][kx][co] (co padded to 3 with zeros): the 9 weights of one (ci, ky) row of taps lie together
        Array.Clear(arr, 0, cin * 27);
        for (int co = 0; co < cout; co++)
            for (int ci = 0; ci < cin; ci++)
                for (int t = 0; t < 9; t++) arr[(long)ci * 27 + t * 3 + co] = w[((long)co * cin + ci) * 9 + t];
        float b0 = 0, b1 = 0, b2 = 0;
        if (bias is not null) { b0 = bias[0]; if (cout > 1) b1 = bias[1]; if (cout > 2) b2 = bias[2]; }
        long xs = (long)cin * h * wd, ys = (long)cout * h * wd;
        int perSample = (h + BandRows - 1) / BandRows;
        fixed (float* pa = arr)
        {
            nint xsp = (nint)x, ysp = (nint)y, pas = (nint)pa;
            void Slot(int slot)
            {
                float* wk = (float*)pas, buf = wk + (long)cin * 27 + slot * bandFloats;
                float* pb = stackalloc float[3] { b0, b1, b2 };
                for (long t = slot; t < bands; t += slots)
                {
                    int n = (int)(t / perSample), y0 = (int)(t % perSample) * BandRows;
                    Band((float*)xsp + n * xs, cin, h, wd, wk, pb, cout, (float*)ysp + n * ys, y0, buf, accumulate);
                }
            }
            if (slots == 1) Slot(0);
            else Parallel.For(0, slots, CpuThreads.Options, Slot);
        }
    }

    /// <summary>Rows of a weight-gradient block: its float lane sums (at most 16 rows x the width's vectors of terms each)
    /// go into doubles before the next block.</summary>
    const int GradRows = 16;

    /// <summary>Input channels of a weight-gradient task: they share each block's dy rows while those are in cache (a task
    /// per channel, which reads all of dy for each, measured the same on one thread: 20.7 ms for x4's 192 -> 3 at 256^2).</summary>
    const int GradChannels = 8;

    /// <summary>
    /// dw[co, ci, ky, kx] += sum over n, y, x of dy[n, co, y, x] x[n, ci, y + ky - 1, x + kx - 1] (zero outside the map),
    /// 1-3 output channels. Groups of <see cref="GradChannels"/> input channels go to the threads (each channel's 27 sums
    /// belong to one task, so the split changes nothing); for each block of <see cref="GradRows"/> rows and each channel
    /// of the group a first pass keeps the 18 sums of tap rows 0 and 1 in zmm registers, a
    /// second the 9 of tap row 2 (27 sums, the 3 dy vectors and the neighbours would not fit 32 registers), both over
    /// the block's rows while they are in cache; then each lane's float sum is added to a double. The lanes are summed in
    /// order at the end. One pass over x (the GEMM route packed x's im2col and read it back: 25-35 GFLOP/s on x4's
    /// 192 -> 3 at 256^2 and tiny's 32 -> 3 at 1024^2).
    /// </summary>
    public static void BackwardWeight(in ConvShape s, float* x, float* dy, float* dw)
    {
        int cin = s.Cin, cout = s.Cout, h = s.H, wd = s.W;
        long plane = (long)h * wd, xs = cin * plane, ys = cout * plane;
        nint xp = (nint)x, dyp = (nint)dy, dwp = (nint)dw;
        var sh = s;
        int groups = (cin + GradChannels - 1) / GradChannels;
        void Group(int g)
        {
            int c0 = g * GradChannels, nc = Math.Min(GradChannels, cin - c0);
            // sums[c][co][ky][kx][lane] in double (part's slot order, see below)
            double* sums = stackalloc double[GradChannels * 27 * 16];
            new Span<double>(sums, GradChannels * 27 * 16).Clear();
            float* part = stackalloc float[27 * 16];
            float* tmp = stackalloc float[16];
            for (int n = 0; n < sh.N; n++)
            {
                float* dn = (float*)dyp + n * ys;
                for (int y0 = 0; y0 < h; y0 += GradRows)
                {
                    int y1 = Math.Min(h, y0 + GradRows);
                    // the block's dy rows stay in cache over the group's channels
                    for (int c = 0; c < nc; c++)
                    {
                        float* xc = (float*)xp + n * xs + (c0 + c) * plane;
                        GradTop(xc, dn, plane, cout, h, wd, y0, y1, part, tmp);
                        GradBottom(xc, dn, plane, cout, h, wd, y0, y1, part + 18 * 16, tmp);
                        double* sc = sums + c * 27 * 16;
                        for (int i = 0; i < 27 * 16; i++) sc[i] += part[i];
                    }
                }
            }
            for (int c = 0; c < nc; c++)
                for (int co = 0; co < cout; co++)
                    for (int t = 0; t < 9; t++)
                    {
                        // part's order: [ky 0-1][co][kx] then [co][kx] for ky 2
                        int ky = t / 3, kx = t % 3, slot = ky < 2 ? (ky * 3 + co) * 3 + kx : 18 + co * 3 + kx;
                        double acc = 0;
                        double* sl = sums + (c * 27 + slot) * 16;
                        for (int l = 0; l < 16; l++) acc += sl[l];
                        float* d = (float*)dwp + ((long)co * sh.Cin + c0 + c) * 9 + t;
                        *d = (float)(*d + acc);
                    }
        }
        if ((long)s.N * plane * cin < 1L << 16) { for (int g = 0; g < groups; g++) Group(g); return; }
        Parallel.For(0, groups, CpuThreads.Options, Group);
    }

    /// <summary>Tap rows 0 and 1 over rows [y0, y1): part[ky][co][kx] (18 vectors) = the block's lane sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void GradTop(float* xc, float* dy, long plane, int cout, int h, int wd, int y0, int y1, float* part, float* tmp)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, b0 = default, b1 = default, b2 = default, c0 = default, c1 = default, c2 = default;
        Vector512<float> d0 = default, d1 = default, d2 = default, e0 = default, e1 = default, e2 = default, f0 = default, f1 = default, f2 = default;
        // a, b, c: tap row 0, output channels 0-2; d, e, f: tap row 1; suffix: kx
        for (int y = y0; y < y1; y++)
        {
            float* g0 = dy + (long)y * wd, g1 = g0 + plane, g2 = g1 + plane;
            float* up = y > 0 ? xc + (long)(y - 1) * wd : null, mid = xc + (long)y * wd;
            for (int x0 = 0; x0 < wd; x0 += 16)
            {
                var q0 = Load(g0, x0, wd, tmp);
                var q1 = cout > 1 ? Load(g1, x0, wd, tmp) : default;
                var q2 = cout > 2 ? Load(g2, x0, wd, tmp) : default;
                Vector512<float> l, v, r;
                if (up != null)
                {
                    Neighbours(up, x0, wd, tmp, out l, out v, out r);
                    a0 = Vector512.FusedMultiplyAdd(q0, l, a0); a1 = Vector512.FusedMultiplyAdd(q0, v, a1); a2 = Vector512.FusedMultiplyAdd(q0, r, a2);
                    b0 = Vector512.FusedMultiplyAdd(q1, l, b0); b1 = Vector512.FusedMultiplyAdd(q1, v, b1); b2 = Vector512.FusedMultiplyAdd(q1, r, b2);
                    c0 = Vector512.FusedMultiplyAdd(q2, l, c0); c1 = Vector512.FusedMultiplyAdd(q2, v, c1); c2 = Vector512.FusedMultiplyAdd(q2, r, c2);
                }
                Neighbours(mid, x0, wd, tmp, out l, out v, out r);
                d0 = Vector512.FusedMultiplyAdd(q0, l, d0); d1 = Vector512.FusedMultiplyAdd(q0, v, d1); d2 = Vector512.FusedMultiplyAdd(q0, r, d2);
                e0 = Vector512.FusedMultiplyAdd(q1, l, e0); e1 = Vector512.FusedMultiplyAdd(q1, v, e1); e2 = Vector512.FusedMultiplyAdd(q1, r, e2);
                f0 = Vector512.FusedMultiplyAdd(q2, l, f0); f1 = Vector512.FusedMultiplyAdd(q2, v, f1); f2 = Vector512.FusedMultiplyAdd(q2, r, f2);
            }
        }
        a0.Store(part); a1.Store(part + 16); a2.Store(part + 32); b0.Store(part + 48); b1.Store(part + 64); b2.Store(part + 80);
        c0.Store(part + 96); c1.Store(part + 112); c2.Store(part + 128); d0.Store(part + 144); d1.Store(part + 160); d2.Store(part + 176);
        e0.Store(part + 192); e1.Store(part + 208); e2.Store(part + 224); f0.Store(part + 240); f1.Store(part + 256); f2.Store(part + 272);
    }

    /// <summary>Tap row 2 over rows [y0, y1): part[co][kx] (9 vectors) = the block's lane sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void GradBottom(float* xc, float* dy, long plane, int cout, int h, int wd, int y0, int y1, float* part, float* tmp)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, b0 = default, b1 = default, b2 = default, c0 = default, c1 = default, c2 = default;
        for (int y = y0; y < Math.Min(y1, h - 1); y++)
        {
            float* g0 = dy + (long)y * wd, g1 = g0 + plane, g2 = g1 + plane, down = xc + (long)(y + 1) * wd;
            for (int x0 = 0; x0 < wd; x0 += 16)
            {
                var q0 = Load(g0, x0, wd, tmp);
                var q1 = cout > 1 ? Load(g1, x0, wd, tmp) : default;
                var q2 = cout > 2 ? Load(g2, x0, wd, tmp) : default;
                Neighbours(down, x0, wd, tmp, out var l, out var v, out var r);
                a0 = Vector512.FusedMultiplyAdd(q0, l, a0); a1 = Vector512.FusedMultiplyAdd(q0, v, a1); a2 = Vector512.FusedMultiplyAdd(q0, r, a2);
                b0 = Vector512.FusedMultiplyAdd(q1, l, b0); b1 = Vector512.FusedMultiplyAdd(q1, v, b1); b2 = Vector512.FusedMultiplyAdd(q1, r, b2);
                c0 = Vector512.FusedMultiplyAdd(q2, l, c0); c1 = Vector512.FusedMultiplyAdd(q2, v, c1); c2 = Vector512.FusedMultiplyAdd(q2, r, c2);
            }
        }
        a0.Store(part); a1.Store(part + 16); a2.Store(part + 32); b0.Store(part + 48); b1.Store(part + 64); b2.Store(part + 80);
        c0.Store(part + 96); c1.Store(part + 112); c2.Store(part + 128);
    }

    /// <summary>Pixels x0 - 1, x0 and x0 + 1 onwards (16 each) of a row, zero outside it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Neighbours(float* row, int x0, int wd, float* tmp, out Vector512<float> l, out Vector512<float> v, out Vector512<float> r)
    {
        if (x0 >= 1 && x0 + 17 <= wd)
        {
            l = Vector512.Load(row + x0 - 1); v = Vector512.Load(row + x0); r = Vector512.Load(row + x0 + 1);
            return;
        }
        v = Load(row, x0, wd, tmp);
        l = Left(v, Load(row, x0 - 16, wd, tmp));
        r = Right(Load(row, x0 + 16, wd, tmp), v);
    }

    /// <summary>One band: output rows y0 .. y0 + BandRows - 1 (fewer at the bottom), channel block by channel block.</summary>
    static void Band(float* x, int cin, int h, int wd, float* wk, float* bias, int cout, float* y, int y0, float* buf, bool accumulate)
    {
        int wr = (wd + TaskCols - 1) / TaskCols * TaskCols, rows = Math.Min(BandRows, h - y0);
        for (int c0 = 0; c0 < cin; c0 += ChannelBlock)
        {
            int c1 = Math.Min(cin, c0 + ChannelBlock);
            for (int r = 0; r < rows; r += 2)
                for (int x0 = 0; x0 < wd; x0 += TaskCols)
                    Tile(x, c0, c1, cin, h, wd, wk, bias, cout, y, y0 + r, x0, buf + (long)r * 3 * wr + x0, wr, accumulate);
        }
    }

    /// <summary>Output rows y0, y0 + 1 and pixels x0 .. x0 + 31 of every output channel, input channels [cfirst, cend)
    /// added to the partial sums in acc (none before the first block; y written after the last).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile(float* x, int cfirst, int cend, int cin, int h, int wd, float* wk, float* bias, int cout, float* y, int y0, int x0, float* acc, int wr, bool accumulate)
    {
        // a, b, c: channels 0-2 of output row y0; d, e, f: of row y0 + 1; suffix: the tile's two 16-pixel vectors.
        // acc: the pair's partial sums, [row][channel][wr] from the tile's first pixel
        Vector512<float> a0, a1, b0, b1, c0, c1, d0, d1, e0, e1, f0, f1;
        if (cfirst == 0) a0 = a1 = b0 = b1 = c0 = c1 = d0 = d1 = e0 = e1 = f0 = f1 = Vector512<float>.Zero;
        else
        {
            a0 = Vector512.Load(acc); a1 = Vector512.Load(acc + 16);
            b0 = Vector512.Load(acc + wr); b1 = Vector512.Load(acc + wr + 16);
            c0 = Vector512.Load(acc + 2 * wr); c1 = Vector512.Load(acc + 2 * wr + 16);
            d0 = Vector512.Load(acc + 3 * wr); d1 = Vector512.Load(acc + 3 * wr + 16);
            e0 = Vector512.Load(acc + 4 * wr); e1 = Vector512.Load(acc + 4 * wr + 16);
            f0 = Vector512.Load(acc + 5 * wr); f1 = Vector512.Load(acc + 5 * wr + 16);
        }
        long plane = (long)h * wd;
        float* tmp = stackalloc float[TaskCols];
        wk += (long)cfirst * 27;
        // pixels x0 - 1 .. x0 + 32 all inside the row: plain unaligned loads, no shifts
        bool inner = x0 >= 1 && x0 + TaskCols + 1 <= wd;
        for (int ci = cfirst; ci < cend; ci++, wk += 27)
        {
            float* xc = x + ci * plane;
            Vector512<float> l0, v0, r0, l1, v1, r1;
            // input row y0 - 1 + j feeds output row y0 through tap row ky = j, and row y0 + 1 through ky = j - 1
            if (y0 > 0)
            {
                Row(xc + (long)(y0 - 1) * wd, x0, wd, inner, tmp, out l0, out v0, out r0, out l1, out v1, out r1);
                Taps(ref a0, ref a1, ref b0, ref b1, ref c0, ref c1, l0, v0, r0, l1, v1, r1, wk);
            }
            Row(xc + (long)y0 * wd, x0, wd, inner, tmp, out l0, out v0, out r0, out l1, out v1, out r1);
            Taps(ref a0, ref a1, ref b0, ref b1, ref c0, ref c1, l0, v0, r0, l1, v1, r1, wk + 9);
            Taps(ref d0, ref d1, ref e0, ref e1, ref f0, ref f1, l0, v0, r0, l1, v1, r1, wk);
            if (y0 + 1 < h)
            {
                Row(xc + (long)(y0 + 1) * wd, x0, wd, inner, tmp, out l0, out v0, out r0, out l1, out v1, out r1);
                Taps(ref a0, ref a1, ref b0, ref b1, ref c0, ref c1, l0, v0, r0, l1, v1, r1, wk + 18);
                Taps(ref d0, ref d1, ref e0, ref e1, ref f0, ref f1, l0, v0, r0, l1, v1, r1, wk + 9);
            }
            if (y0 + 2 < h)
            {
                Row(xc + (long)(y0 + 2) * wd, x0, wd, inner, tmp, out l0, out v0, out r0, out l1, out v1, out r1);
                Taps(ref d0, ref d1, ref e0, ref e1, ref f0, ref f1, l0, v0, r0, l1, v1, r1, wk + 18);
            }
        }
        if (cend < cin)
        {
            a0.Store(acc); a1.Store(acc + 16);
            b0.Store(acc + wr); b1.Store(acc + wr + 16);
            c0.Store(acc + 2 * wr); c1.Store(acc + 2 * wr + 16);
            d0.Store(acc + 3 * wr); d1.Store(acc + 3 * wr + 16);
            e0.Store(acc + 4 * wr); e1.Store(acc + 4 * wr + 16);
            f0.Store(acc + 5 * wr); f1.Store(acc + 5 * wr + 16);
            return;
        }
        float* yr = y + (long)y0 * wd + x0;
        long plane2 = plane;
        int n = Math.Min(TaskCols, wd - x0);
        Store(a0, a1, yr, n, bias[0], accumulate, tmp);
        if (cout > 1) Store(b0, b1, yr + plane2, n, bias[1], accumulate, tmp);
        if (cout > 2) Store(c0, c1, yr + 2 * plane2, n, bias[2], accumulate, tmp);
        if (y0 + 1 < h)
        {
            yr += wd;
            Store(d0, d1, yr, n, bias[0], accumulate, tmp);
            if (cout > 1) Store(e0, e1, yr + plane2, n, bias[1], accumulate, tmp);
            if (cout > 2) Store(f0, f1, yr + 2 * plane2, n, bias[2], accumulate, tmp);
        }
    }

    /// <summary>One output row's 3 channels x 2 vectors += the tap row's weights (wk: [kx][co]) times the left, centre
    /// and right neighbours of the two vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Taps(ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> b0, ref Vector512<float> b1,
        ref Vector512<float> c0, ref Vector512<float> c1, Vector512<float> l0, Vector512<float> v0, Vector512<float> r0,
        Vector512<float> l1, Vector512<float> v1, Vector512<float> r1, float* wk)
    {
        var w = Vector512.Create(wk[0]); a0 = Vector512.FusedMultiplyAdd(w, l0, a0); a1 = Vector512.FusedMultiplyAdd(w, l1, a1);
        w = Vector512.Create(wk[1]); b0 = Vector512.FusedMultiplyAdd(w, l0, b0); b1 = Vector512.FusedMultiplyAdd(w, l1, b1);
        w = Vector512.Create(wk[2]); c0 = Vector512.FusedMultiplyAdd(w, l0, c0); c1 = Vector512.FusedMultiplyAdd(w, l1, c1);
        w = Vector512.Create(wk[3]); a0 = Vector512.FusedMultiplyAdd(w, v0, a0); a1 = Vector512.FusedMultiplyAdd(w, v1, a1);
        w = Vector512.Create(wk[4]); b0 = Vector512.FusedMultiplyAdd(w, v0, b0); b1 = Vector512.FusedMultiplyAdd(w, v1, b1);
        w = Vector512.Create(wk[5]); c0 = Vector512.FusedMultiplyAdd(w, v0, c0); c1 = Vector512.FusedMultiplyAdd(w, v1, c1);
        w = Vector512.Create(wk[6]); a0 = Vector512.FusedMultiplyAdd(w, r0, a0); a1 = Vector512.FusedMultiplyAdd(w, r1, a1);
        w = Vector512.Create(wk[7]); b0 = Vector512.FusedMultiplyAdd(w, r0, b0); b1 = Vector512.FusedMultiplyAdd(w, r1, b1);
        w = Vector512.Create(wk[8]); c0 = Vector512.FusedMultiplyAdd(w, r0, c0); c1 = Vector512.FusedMultiplyAdd(w, r1, c1);
    }

    /// <summary>A row's left, centre and right neighbours of the tile's two 16-pixel vectors (pixels x0 - 1 .. x0 + 32),
    /// zero outside the row: unaligned loads inside it, else the 16-pixel vectors around the tile and lane shifts.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Row(float* row, int x0, int wd, bool inner, float* tmp, out Vector512<float> l0, out Vector512<float> v0,
        out Vector512<float> r0, out Vector512<float> l1, out Vector512<float> v1, out Vector512<float> r1)
    {
        // the tile after next's two lines of this row (a tile is some thousand cycles of channels: far enough ahead of
        // memory; the hardware streams do not follow the block's 128 rows at once). A prefetch never faults.
        Sse.Prefetch1(row + x0 + 2 * TaskCols);
        Sse.Prefetch1(row + x0 + 2 * TaskCols + 16);
        if (inner)
        {
            float* p = row + x0;
            l0 = Vector512.Load(p - 1); v0 = Vector512.Load(p); r0 = Vector512.Load(p + 1);
            l1 = Vector512.Load(p + 15); v1 = Vector512.Load(p + 16); r1 = Vector512.Load(p + 17);
            return;
        }
        var prev = Load(row, x0 - 16, wd, tmp);
        v0 = Load(row, x0, wd, tmp);
        v1 = Load(row, x0 + 16, wd, tmp);
        var next = Load(row, x0 + 32, wd, tmp);
        l0 = Left(v0, prev); r0 = Right(v1, v0);
        l1 = Left(v1, v0); r1 = Right(next, v1);
    }

    /// <summary>Pixels x .. x + 15 of a row of wd, zero outside [0, wd).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Load(float* row, int x, int wd, float* tmp)
    {
        if (x >= 0 && x + 16 <= wd) return Vector512.Load(row + x);
        if (x >= wd || x + 16 <= 0) return Vector512<float>.Zero;
        for (int i = 0; i < 16; i++) tmp[i] = x + i >= 0 && x + i < wd ? row[x + i] : 0f;
        return Vector512.Load(tmp);
    }

    /// <summary>The left neighbours of v: lane i holds pixel i - 1 (lane 0: the last of prev).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Left(Vector512<float> v, Vector512<float> prev) =>
        Avx512F.AlignRight32(v.AsUInt32(), prev.AsUInt32(), 15).AsSingle();

    /// <summary>The right neighbours of v: lane i holds pixel i + 1 (lane 15: the first of next).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Right(Vector512<float> next, Vector512<float> v) =>
        Avx512F.AlignRight32(next.AsUInt32(), v.AsUInt32(), 1).AsSingle();

    /// <summary>n &lt;= 32 pixels of one output row: + bias, = or += (ConvWinograd.Put; tmp holds 32 floats).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(Vector512<float> lo, Vector512<float> hi, float* d, int n, float bias, bool accumulate, float* tmp)
    {
        var vb = Vector512.Create(bias);
        ConvWinograd.Put(lo + vb, hi + vb, d, n, accumulate, tmp);
    }
}
