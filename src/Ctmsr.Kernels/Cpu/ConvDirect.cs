using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// The convolution GEMM for few output channels over many pixels (AVX-512): C (Cout x P) = W (Cout x kdim) * B, where
/// B[r, p] = data[offs[r] + p] is read straight from the (padded) input, never packed: each B micro-panel would serve
/// only Cout rows, so packing it (the blocked GEMM's way) costs as much as the multiply-adds it feeds. W is packed once
/// per call into panels of <see cref="Rows"/> output channels ([kdim][Rows], channel fastest, zero rows past Cout); the
/// micro-kernel holds Rows x 48 pixels of C in 24 zmm registers over the whole reduction (no partial sums in memory,
/// so every output element's reduction runs in the same order whatever the band or tile), broadcasting a weight and
/// loading three unaligned 16-pixel vectors of B per reduction step. A pixel panel is computed for every channel panel
/// before moving on, so its B lines stay in L1. The last, partial pixel panel is copied into a zero-padded block first.
/// On a padded-width layout <see cref="RunRows"/> takes each output row's 16-pixel vectors instead, three to a panel, so
/// the padding columns past the last vector cost nothing. Tasks split the pixel panels evenly over the threads.
/// </summary>
static unsafe class ConvDirect
{
    /// <summary>Output channels per micro-panel.</summary>
    public const int Rows = 8;
    /// <summary>Pixels per micro-panel (3 zmm).</summary>
    public const int Cols = 48;
    /// <summary>Pixel panels per parallel task (about 1.5 K pixels).</summary>
    const int PanelsPerTask = 32;

    public static bool Supported => GemmDriver.Use512;

    /// <summary>Packed weight floats for <paramref name="cout"/> channels and reduction <paramref name="kdim"/>.</summary>
    public static long PackedLength(int cout, int kdim) => (long)(cout + Rows - 1) / Rows * Rows * kdim;

    /// <summary>wp[q][r][i] = w[(q Rows + i) * kdim + r] (zero for channels past cout): w is [cout, kdim] row-major.
    /// Panels across the threads from 64 K floats (LPIPS-Alex conv2's 192 x 1600: 8% of the forward's time on one
    /// thread, which the other thread waited out).</summary>
    public static void PackWeights(float* w, int cout, int kdim, float* wp)
    {
        int panels = (cout + Rows - 1) / Rows;
        if ((long)cout * kdim < 1 << 16 || panels == 1)
        {
            for (int q = 0; q < panels; q++) PackPanel(w, cout, kdim, wp, q);
            return;
        }
        nint ws = (nint)w, wps = (nint)wp;
        Parallel.For(0, panels, CpuThreads.Options, q => PackPanel((float*)ws, cout, kdim, (float*)wps, q));
    }

    static void PackPanel(float* w, int cout, int kdim, float* wp, int q)
    {
        float* d = wp + (long)q * Rows * kdim;
        int rows = Math.Min(Rows, cout - q * Rows);
        for (int i = 0; i < Rows; i++)
        {
            float* src = w + (long)(q * Rows + i) * kdim, di = d + i;
            if (i < rows) for (int r = 0; r < kdim; r++) di[(long)r * Rows] = src[r];
            else for (int r = 0; r < kdim; r++) di[(long)r * Rows] = 0f;
        }
    }

    /// <summary>c[co, p] (= or +=) sum_r w[co, r] data[offs[r] + p] for p &lt; n; wp from <see cref="PackWeights"/>.
    /// Full pixel panels read data[offs[r] + p] for p &lt; n rounded down to <see cref="Cols"/> only.</summary>
    public static void Run(int cout, int n, int kdim, float* wp, float* data, long* offs, float* c, long ldc, bool accumulate, bool parallel)
    {
        if (n <= 0 || cout <= 0) return;
        int panels = (n + Cols - 1) / Cols, tasks = Tasks(panels, CpuThreads.Limit);
        long work = (long)cout * n * kdim;
        nint wps = (nint)wp, ds = (nint)data, os = (nint)offs, cs = (nint)c;
        if (!parallel || tasks == 1 || work < 1L << 21)
        {
            Panels(cout, n, kdim, wp, data, offs, c, ldc, accumulate, 0, panels);
            return;
        }
        Parallel.For(0, tasks, CpuThreads.Options, t =>
            Panels(cout, n, kdim, (float*)wps, (float*)ds, (long*)os, (float*)cs, ldc, accumulate,
                (int)((long)t * panels / tasks), (int)((long)(t + 1) * panels / tasks)));
    }

    /// <summary>Whether <see cref="RunRows"/> takes the row mode (default) rather than <see cref="Run"/> over the whole
    /// padded width. Settable for the kernel lab (CpuConv.DirectRowVectors).</summary>
    static bool RowMode(int rows, int ow, int wp)
    {
        int vpr = (ow + 15) / 16;
        return CpuConv.DirectRowVectors && vpr * 16 <= wp && (long)rows * vpr < ((long)rows * wp + 15) / 16;
    }

    /// <summary>
    /// <see cref="Run"/> over a padded-width layout (rows x wp positions of which the first ow of each row are kept):
    /// c[co, i wp + j] = sum_r w[co, r] data[offs[r] + i wp + j] for j &lt; ow (and junk up to ow rounded up to 16, or
    /// wp). Row mode computes only the ceil(ow / 16) 16-pixel vectors of each row, three to a micro-panel, instead of
    /// every position (LPIPS-Alex conv2's backward data: 62 vectors a channel panel instead of 68; the layer2 entry's
    /// backward-data phases 64 instead of 68 and no partial panel). Each kept element is the same reduction in the same
    /// order as in <see cref="Run"/>: the same bits.
    /// </summary>
    public static void RunRows(int cout, int rows, int ow, int wp, int kdim, float* wpk, float* data, long* offs, float* c, long ldc, bool accumulate, bool parallel)
    {
        if (!RowMode(rows, ow, wp)) { Run(cout, rows * wp, kdim, wpk, data, offs, c, ldc, accumulate, parallel); return; }
        if (cout <= 0 || rows <= 0) return;
        int vpr = (ow + 15) / 16, vectors = rows * vpr, panels = (vectors + 2) / 3, tasks = Tasks(panels, CpuThreads.Limit);
        long work = (long)cout * vectors * 16 * kdim;
        nint wps = (nint)wpk, ds = (nint)data, os = (nint)offs, cs = (nint)c;
        if (!parallel || tasks == 1 || work < 1L << 21)
        {
            RowPanels(cout, wp, vpr, vectors, kdim, wpk, data, offs, c, ldc, accumulate, 0, panels);
            return;
        }
        Parallel.For(0, tasks, CpuThreads.Options, t =>
            RowPanels(cout, wp, vpr, vectors, kdim, (float*)wps, (float*)ds, (long*)os, (float*)cs, ldc, accumulate,
                (int)((long)t * panels / tasks), (int)((long)(t + 1) * panels / tasks)));
    }

    static void RowPanels(int cout, int wp, int vpr, int vectors, int kdim, float* wpk, float* data, long* offs, float* c, long ldc, bool accumulate, int p0, int p1)
    {
        int cpanels = (cout + Rows - 1) / Rows;
        float* tmp = stackalloc float[Rows * Cols];
        nint Pos(int v) => (nint)(v / vpr) * wp + v % vpr * 16;
        for (int pp = p0; pp < p1; pp++)
        {
            int v0 = 3 * pp, nv = Math.Min(3, vectors - v0);
            // a last panel of 1-2 vectors repeats its last one in B and computes into tmp
            nint d0 = Pos(v0), d1 = Pos(Math.Min(v0 + 1, vectors - 1)), d2 = Pos(Math.Min(v0 + 2, vectors - 1));
            for (int q = 0; q < cpanels; q++)
            {
                int rows = Math.Min(Rows, cout - q * Rows);
                float* w = wpk + (long)q * Rows * kdim, cc = c + q * Rows * ldc;
                if (rows == Rows && nv == 3) { Kernel<Rows8>(kdim, w, data, offs, d0, d1, d2, cc, d0, d1, d2, ldc, accumulate); continue; }
                Kernel<Rows8>(kdim, w, data, offs, d0, d1, d2, tmp, 0, 16, 32, Cols, false);
                for (int i = 0; i < rows; i++)
                    for (int u = 0; u < nv; u++)
                    {
                        float* t = tmp + i * Cols + 16 * u, d = cc + i * ldc + (u == 0 ? d0 : u == 1 ? d1 : d2);
                        if (accumulate) for (int j = 0; j < 16; j++) d[j] += t[j];
                        else for (int j = 0; j < 16; j++) d[j] = t[j];
                    }
            }
        }
    }

    /// <summary>Parallel tasks for <paramref name="panels"/> pixel panels: about PanelsPerTask panels each, their count
    /// rounded up to a multiple of the threads (at most one task a panel). Each output element's reduction is the same in
    /// any split, so the result does not depend on it.</summary>
    internal static int Tasks(int panels, int threads)
    {
        int tasks = (panels + PanelsPerTask - 1) / PanelsPerTask;
        if (!CpuConv.DirectBalancedTasks || threads <= 1) return tasks;
        return Math.Min(panels, (tasks + threads - 1) / threads * threads);
    }

    static void Panels(int cout, int n, int kdim, float* wp, float* data, long* offs, float* c, long ldc, bool accumulate, int p0, int p1)
    {
        int cpanels = (cout + Rows - 1) / Rows;
        float* tmp = stackalloc float[Rows * Cols];
        for (int pp = p0; pp < p1; pp++)
        {
            int x0 = pp * Cols, nn = Math.Min(Cols, n - x0);
            if (nn < Cols) { Tail(cout, nn, kdim, wp, data + x0, offs, c + x0, ldc, accumulate); continue; }
            for (int q = 0; q < cpanels; q++)
            {
                int rows = Math.Min(Rows, cout - q * Rows);
                float* w = wp + (long)q * Rows * kdim, cc = c + q * Rows * ldc + x0;
                if (rows == Rows) Kernel<Rows8>(kdim, w, data + x0, offs, cc, ldc, accumulate);
                else
                {
                    Kernel<Rows8>(kdim, w, data + x0, offs, tmp, Cols, false);
                    Merge(tmp, rows, Cols, cc, ldc, accumulate);
                }
            }
        }
    }

    /// <summary>The last nn &lt; Cols pixels: B copied into a zero-padded [kdim][Cols] block, C through a small buffer.</summary>
    static void Tail(int cout, int nn, int kdim, float* wp, float* data, long* offs, float* c, long ldc, bool accumulate)
    {
        using var bArr = Scratch<float>.Rent((long)kdim * Cols, "convolution (last pixel panel)");
        using var oArr = Scratch<long>.Rent(kdim, "convolution (last pixel panel offsets)");
        float* tmp = stackalloc float[Rows * Cols];
        fixed (float* b = bArr.Array)
        fixed (long* o = oArr.Array)
        {
            for (int r = 0; r < kdim; r++)
            {
                float* s = data + offs[r], d = b + (long)r * Cols;
                for (int i = 0; i < nn; i++) d[i] = s[i];
                for (int i = nn; i < Cols; i++) d[i] = 0f;
                o[r] = (long)r * Cols;
            }
            for (int q = 0; q * Rows < cout; q++)
            {
                Kernel<Rows8>(kdim, wp + (long)q * Rows * kdim, b, o, tmp, Cols, false);
                Merge(tmp, Math.Min(Rows, cout - q * Rows), nn, c + q * Rows * ldc, ldc, accumulate);
            }
        }
    }

    static void Merge(float* tmp, int rows, int nn, float* c, long ldc, bool accumulate)
    {
        for (int i = 0; i < rows; i++)
        {
            float* t = tmp + i * Cols, d = c + i * ldc;
            if (accumulate) for (int j = 0; j < nn; j++) d[j] += t[j];
            else for (int j = 0; j < nn; j++) d[j] = t[j];
        }
    }

    /// <summary>C[R x 48] (= or +=) sum_r w[r * Rows + i] * b[offs[r] + j]; R.Rows &lt;= 8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel<R>(int kdim, float* w, float* b, long* offs, float* c, long ldc, bool accumulate) where R : struct, IRowCount
        => Kernel<R>(kdim, w, b, offs, 0, 16, 32, c, 0, 16, 32, ldc, accumulate);

    /// <summary>As above with the three 16-pixel vectors of B at b + bj (+ offs[r]) and of C at c + cj: the row mode's
    /// vectors lie in different output rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel<R>(int kdim, float* w, float* b, long* offs, nint b0o, nint b1o, nint b2o, float* c, nint c0o, nint c1o, nint c2o, long ldc, bool accumulate) where R : struct, IRowCount
    {
        var c0_0 = Vector512<float>.Zero; var c0_1 = Vector512<float>.Zero; var c0_2 = Vector512<float>.Zero;
        var c1_0 = Vector512<float>.Zero; var c1_1 = Vector512<float>.Zero; var c1_2 = Vector512<float>.Zero;
        var c2_0 = Vector512<float>.Zero; var c2_1 = Vector512<float>.Zero; var c2_2 = Vector512<float>.Zero;
        var c3_0 = Vector512<float>.Zero; var c3_1 = Vector512<float>.Zero; var c3_2 = Vector512<float>.Zero;
        var c4_0 = Vector512<float>.Zero; var c4_1 = Vector512<float>.Zero; var c4_2 = Vector512<float>.Zero;
        var c5_0 = Vector512<float>.Zero; var c5_1 = Vector512<float>.Zero; var c5_2 = Vector512<float>.Zero;
        var c6_0 = Vector512<float>.Zero; var c6_1 = Vector512<float>.Zero; var c6_2 = Vector512<float>.Zero;
        var c7_0 = Vector512<float>.Zero; var c7_1 = Vector512<float>.Zero; var c7_2 = Vector512<float>.Zero;
        for (int r = 0; r < kdim; r++)
        {
            float* s = b + offs[r];
            var b0 = Vector512.Load(s + b0o); var b1 = Vector512.Load(s + b1o); var b2 = Vector512.Load(s + b2o);
            if (R.Rows > 0) { var a = Vector512.Create(w[0]); c0_0 = Vector512.FusedMultiplyAdd(a, b0, c0_0); c0_1 = Vector512.FusedMultiplyAdd(a, b1, c0_1); c0_2 = Vector512.FusedMultiplyAdd(a, b2, c0_2); }
            if (R.Rows > 1) { var a = Vector512.Create(w[1]); c1_0 = Vector512.FusedMultiplyAdd(a, b0, c1_0); c1_1 = Vector512.FusedMultiplyAdd(a, b1, c1_1); c1_2 = Vector512.FusedMultiplyAdd(a, b2, c1_2); }
            if (R.Rows > 2) { var a = Vector512.Create(w[2]); c2_0 = Vector512.FusedMultiplyAdd(a, b0, c2_0); c2_1 = Vector512.FusedMultiplyAdd(a, b1, c2_1); c2_2 = Vector512.FusedMultiplyAdd(a, b2, c2_2); }
            if (R.Rows > 3) { var a = Vector512.Create(w[3]); c3_0 = Vector512.FusedMultiplyAdd(a, b0, c3_0); c3_1 = Vector512.FusedMultiplyAdd(a, b1, c3_1); c3_2 = Vector512.FusedMultiplyAdd(a, b2, c3_2); }
            if (R.Rows > 4) { var a = Vector512.Create(w[4]); c4_0 = Vector512.FusedMultiplyAdd(a, b0, c4_0); c4_1 = Vector512.FusedMultiplyAdd(a, b1, c4_1); c4_2 = Vector512.FusedMultiplyAdd(a, b2, c4_2); }
            if (R.Rows > 5) { var a = Vector512.Create(w[5]); c5_0 = Vector512.FusedMultiplyAdd(a, b0, c5_0); c5_1 = Vector512.FusedMultiplyAdd(a, b1, c5_1); c5_2 = Vector512.FusedMultiplyAdd(a, b2, c5_2); }
            if (R.Rows > 6) { var a = Vector512.Create(w[6]); c6_0 = Vector512.FusedMultiplyAdd(a, b0, c6_0); c6_1 = Vector512.FusedMultiplyAdd(a, b1, c6_1); c6_2 = Vector512.FusedMultiplyAdd(a, b2, c6_2); }
            if (R.Rows > 7) { var a = Vector512.Create(w[7]); c7_0 = Vector512.FusedMultiplyAdd(a, b0, c7_0); c7_1 = Vector512.FusedMultiplyAdd(a, b1, c7_1); c7_2 = Vector512.FusedMultiplyAdd(a, b2, c7_2); }
            w += Rows;
        }
        if (R.Rows > 0) Store(c0_0, c0_1, c0_2, c + 0 * ldc, c0o, c1o, c2o, accumulate);
        if (R.Rows > 1) Store(c1_0, c1_1, c1_2, c + 1 * ldc, c0o, c1o, c2o, accumulate);
        if (R.Rows > 2) Store(c2_0, c2_1, c2_2, c + 2 * ldc, c0o, c1o, c2o, accumulate);
        if (R.Rows > 3) Store(c3_0, c3_1, c3_2, c + 3 * ldc, c0o, c1o, c2o, accumulate);
        if (R.Rows > 4) Store(c4_0, c4_1, c4_2, c + 4 * ldc, c0o, c1o, c2o, accumulate);
        if (R.Rows > 5) Store(c5_0, c5_1, c5_2, c + 5 * ldc, c0o, c1o, c2o, accumulate);
        if (R.Rows > 6) Store(c6_0, c6_1, c6_2, c + 6 * ldc, c0o, c1o, c2o, accumulate);
        if (R.Rows > 7) Store(c7_0, c7_1, c7_2, c + 7 * ldc, c0o, c1o, c2o, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, float* c, nint o0, nint o1, nint o2, bool accumulate)
    {
        if (accumulate) { v0 += Vector512.Load(c + o0); v1 += Vector512.Load(c + o1); v2 += Vector512.Load(c + o2); }
        v0.Store(c + o0); v1.Store(c + o1); v2.Store(c + o2);
    }
}
