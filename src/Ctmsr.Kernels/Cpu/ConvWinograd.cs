using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// 3x3, stride 1, pad 1 convolution by Winograd F(2x2, 3x3): each 2x2 output tile of a channel is
///   Y = A^T [ sum_ci (G g G^T) . (B^T d B) ] A,
/// d the 4x4 input patch at rows 2ty - 1.., columns 2tx - 1.. (zero outside the image), g the 3x3 kernel, "." the
/// element-wise product. For each of the 16 positions xi of the 4x4 transform the sum over ci is a GEMM
///   M[xi] (Cout x T) = U[xi] (Cout x Cin) * V[xi] (Cin x T) over T tiles,
/// run on the packed GEMM: 16 multiply-adds per tile and channel pair where the direct sum does 36 (2.25x fewer).
/// Layouts: U [16][Cout][Cin] stored in the GEMM's packed A-panel order (<see cref="PackedPairs"/>), computed as one
/// GEMM U = Kr (16 x 9) * w^T with Kr = G (x) G, w [Cout Cin][9];
/// V [16][Cin][ld] (stored as the GEMM's packed B panels, see InputTransform) and M [16][Cout][ld], tiles row-major
/// (t = ty tw + tx), ld = T + 16 (a 16-tile vector may run
/// past T). Tiles go in bands of tile rows so that V and M stay near 4 MB each (never past <see cref="CpuConv.BandFloats"/>). The input
/// and output transforms run on 16 tiles along x at once (AVX-512): a padded input row is split into its even and odd
/// columns by two-source permutes, and the two output columns of a tile are interleaved back the same way.
/// F(2, 3)'s rounding is a little larger than the direct sum's (the transforms add up to 9 inputs before the products).
/// The weight gradient, the adjoint of this map in g, is in ConvWinogradWeightGrad.cs.
/// </summary>
static unsafe partial class ConvWinograd
{
    public static bool Supported => Avx512F.IsSupported;

    /// <summary>Whether the shape is one this kernel computes: 3x3, stride 1, pad 1.</summary>
    public static bool Fits(in ConvShape s) => s.K == 3 && s.Stride == 1 && s.Pad == 1;

    /// <summary>Kr[4 i + j, 3 a + b] = G[i, a] G[j, b], G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1] (exact in float).</summary>
    static readonly float[] Kron = BuildKron();

    /// <summary>Kr with its taps reversed (column 3 a + b of Kr is column 8 - 3 a - b here): U of the flipped kernel
    /// from the unflipped one, so that the backward data reads the forward's weights in place.</summary>
    static float[] Flipped(float[] kr)
    {
        var k = new float[kr.Length];
        for (int r = 0; r < kr.Length / 9; r++)
            for (int q = 0; q < 9; q++) k[r * 9 + q] = kr[r * 9 + 8 - q];
        return k;
    }

    static readonly float[] KronFlipped = Flipped(Kron);

    static float[] BuildKron()
    {
        float[,] g = { { 1, 0, 0 }, { 0.5f, 0.5f, 0.5f }, { 0.5f, -0.5f, 0.5f }, { 0, 0, 1 } };
        var k = new float[16 * 9];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                for (int a = 0; a < 3; a++)
                    for (int b = 0; b < 3; b++) k[(4 * i + j) * 9 + 3 * a + b] = g[i, a] * g[j, b];
        return k;
    }

    /// <summary>Floats V and M each aim at (4 MB): past that the output transform reads M back from memory (lab conv-wino
    /// variant 7 against 6: 1.1-1.8x less CPU time at 32-192 channels), unless a band would then hold under
    /// <see cref="MinBandTiles"/> tiles, too few columns for the GEMM to amortise packing U.</summary>
    const long TargetBandFloats = 1 << 20;
    const int MinBandTiles = 512;

    /// <summary>Tile rows per band: V and M near TargetBandFloats but at least MinBandTiles tiles, and never past
    /// CpuConv.BandFloats (at least 1 row).</summary>
    static int BandTileRows(in ConvShape s, bool f4 = false)
    {
        int edge = f4 ? 4 : 2, th = (s.H + edge - 1) / edge, tw = (s.W + edge - 1) / edge;
        long perRow = (f4 ? 36L : 16L) * Math.Max(s.Cin, s.Cout) * tw;
        long rows = Math.Max(TargetBandFloats / perRow, (MinBandTiles + tw - 1) / tw);
        rows = Math.Min(rows, CpuConv.BandFloats / perRow);
        return (int)Math.Clamp(rows, 1, th);
    }

    /// <summary>Floats of the four scratch arrays one call (f4: of F(4x4, 3x3)) rents: U, the padded input band, V, M.</summary>
    public static (long U, long Xp, long V, long M) ScratchLengths(in ConvShape s, bool f4 = false)
    {
        int edge = f4 ? 4 : 2, tw = (s.W + edge - 1) / edge, rt = BandTileRows(s, f4);
        int wq = PadWidth(tw, f4), hq = edge * rt + 2;
        long ld = (long)rt * tw + 16, p = f4 ? 36 : 16;
        return (p * PaddedCout(s.Cout) * s.Cin, (long)s.Cin * hq * wq, p * s.Cin * PanelLd(ld), p * s.Cout * ld);
    }

    /// <summary>Floats a row of the zero-padded input band holds for tw tiles a row: 2 (f4: 4) columns a tile for whole
    /// 16-tile groups, plus room for what the transforms read past a group's last tile (2 floats; f4: 2, kept at 4).</summary>
    static int PadWidth(int tw, bool f4) => f4 ? 64 * ((tw + 15) / 16) + 4 : 32 * ((tw + 15) / 16) + 2;

    /// <summary>V's tiles a row rounded up to whole NR-tile B panels (V is stored packed).</summary>
    static long PanelLd(long ld) => (ld + GemmDriver.NR - 1) / GemmDriver.NR * GemmDriver.NR;

    /// <summary>Cout rounded up to whole GEMM A panels (U is stored packed, <see cref="PackedPairs"/>).</summary>
    static int PaddedCout(int cout) => (cout + GemmDriver.MR - 1) / GemmDriver.MR * GemmDriver.MR;

    /// <summary>
    /// The B operand of U = Kr w^T with its columns in the order of the GEMM's packed A panels, so that each U[xi] comes
    /// out already packed (<see cref="PackedPanels"/>: panel q = output channels [q MR, q MR + MR), [Cin][MR] within) and
    /// the 16 GEMMs of every band read it in place instead of re-packing it band after band: column j is the pair
    /// (co, ci) with q = j / (MR Cin), ci = j % (MR Cin) / MR, co = q MR + j % MR; w is [Cout Cin][9], or with
    /// <paramref name="transposed"/> [Cin Cout][9] (the weights of the convolution whose backward data this is, read in
    /// place: pair (co, ci) is w[ci, co]; <see cref="Flipped"/> reverses the taps). Columns of the padding channels
    /// (co >= cout) read pair 0: finite values in rows the micro-kernels never store. <paramref name="coStride"/> is the
    /// transposed layout's row of output channels (the whole Cout, when w starts at a block's first channel).
    /// </summary>
    readonly struct PackedPairs(float* w, int cin, int cout, bool transposed = false, int coStride = 0) : IPanelSource
    {
        public float* InPlace(int x0, int k0, out long rowStride, out long kStride) { rowStride = kStride = 0; return null; }

        public void Pack(int x0, int count, int k0, int kc, float* dst, int pw)
        {
            int mr = GemmDriver.MR, q = x0 / (mr * cin), r = x0 - q * mr * cin, ci = r / mr, lane = r - ci * mr;
            float** rows = stackalloc float*[count];
            for (int i = 0; i < count; i++)
            {
                int co = q * mr + lane;
                rows[i] = w + (co >= cout ? 0 : transposed ? (long)ci * coStride + co : (long)co * cin + ci) * 9 + k0;
                // the next column: lane, then ci, then q (no division a column)
                if (++lane == mr) { lane = 0; if (++ci == cin) { ci = 0; q++; } }
            }
            GemmPack.TransposeRows(rows, count, kc, dst, pw, 1f);
        }

        public float* Panel(int x0, int count, int k0, int kc, float* dst, int pw) { Pack(x0, count, k0, kc, dst, pw); return dst; }
    }

    /// <summary>y[n] (= or +=) conv(x[n], w) (+ bias) for all N samples; w is [Cout][Cin][3][3]; by F(2x2, 3x3), or
    /// with <paramref name="f4"/> F(4x4, 3x3) (<see cref="Forward4"/>). With <paramref name="up2"/> x is
    /// [N, Cin, H / 2, W / 2] and the convolution is of its nearest x2 upsampling, read with halved indices as each band
    /// is padded: bit for bit the result on the upsampled map. With <paramref name="transposed"/> w is [Cin][Cout][3][3]
    /// and the kernel is its flipped transpose, read in place: the backward data of the convolution with weights w.</summary>
    public static void Forward(in ConvShape s, float* x, float* w, float[]? bias, float* y, bool accumulate, bool up2 = false, bool f4 = false, bool transposed = false)
    {
        if (TakesCoutBlocks(s, f4)) { ForwardCoutBlocks(s, x, w, bias, y, accumulate, up2, f4, transposed); return; }
        int p = f4 ? 36 : 16, edge = f4 ? 4 : 2;
        int cin = s.Cin, cout = s.Cout, th = (s.H + edge - 1) / edge, tw = (s.W + edge - 1) / edge, rt = BandTileRows(s, f4);
        int wq = PadWidth(tw, f4), hq = edge * rt + 2;
        int ld = checked(rt * tw + 16), ldv = (int)PanelLd(ld);
        var (lu, lxp, lv, lm) = ScratchLengths(s, f4);
        using var uArr = Scratch<float>.Rent(lu, "Winograd convolution (transformed weights)");
        using var xpArr = Scratch<float>.Rent(lxp, "Winograd convolution (padded input)");
        using var vArr = Scratch<float>.Rent(lv, "Winograd convolution (transformed input)");
        using var mArr = Scratch<float>.Rent(lm, "Winograd convolution (transformed output)");
        long xs = up2 ? (long)cin * (s.H / 2) * (s.W / 2) : (long)cin * s.H * s.W, ys = (long)cout * s.H * s.W;
        fixed (float* u = uArr.Array, xp = xpArr.Array, v = vArr.Array, m = mArr.Array, kr = Kr(f4, transposed))
        {
            int pairs = checked(PaddedCout(cout) * cin);
            GemmDriver.Run(p, pairs, 9, new StridedSource(kr, 9, 1f), new PackedPairs(w, cin, cout, transposed, cout), 0f, u, pairs, true);
            for (int n = 0; n < s.N; n++)
                for (int ty0 = 0; ty0 < th; ty0 += rt)
                {
                    int rb = Math.Min(rt, th - ty0), t = rb * tw;
                    if (f4) InputTransform4(x + n * xs, cin, s.H, s.W, ty0, rb, tw, xp, hq, wq, v, ldv, up2);
                    else InputTransform(x + n * xs, cin, s.H, s.W, ty0, rb, tw, xp, hq, wq, v, ldv, up2, packed: true);
                    if (CpuConv.WinogradGemmsAcrossThreads)
                    {
                        nint us = (nint)u, vs = (nint)v, ms = (nint)m;
                        Parallel.For(0, p, CpuThreads.Options, xi =>
                            GemmDriver.Run(cout, t, cin, new PackedPanels((float*)us + (long)xi * pairs, cin, GemmDriver.MR),
                                new PackedPanels((float*)vs + (long)xi * cin * ldv, cin, GemmDriver.NR), 0f, (float*)ms + (long)xi * cout * ld, ld, false));
                    }
                    else
                        for (int xi = 0; xi < p; xi++)
                            GemmDriver.Run(cout, t, cin, new PackedPanels(u + (long)xi * pairs, cin, GemmDriver.MR),
                                new PackedPanels(v + (long)xi * cin * ldv, cin, GemmDriver.NR), 0f, m + (long)xi * cout * ld, ld, true);
                    if (f4) OutputTransform4(m, cout, s.H, s.W, ty0, rb, tw, ld, y + n * ys, bias, accumulate);
                    else OutputTransform(m, cout, s.H, s.W, ty0, rb, tw, ld, y + n * ys, bias, accumulate);
                }
        }
    }

    /// <summary>The weight transform's matrix: F(2x2, 3x3) or (f4) F(4x4, 3x3), with its taps reversed for a transposed kernel.</summary>
    static float[] Kr(bool f4, bool transposed) => f4 ? (transposed ? Kron4Flipped : Kron4) : transposed ? KronFlipped : Kron;

    /// <summary>Whether a forward whose samples each fit one band runs per block of output channels
    /// (<see cref="ForwardCoutBlocks"/>) instead of transforming all the weights first. Settable for the kernel lab.</summary>
    public static bool CoutBlocks { get; set; } = true;

    /// <summary>Whether <see cref="Forward"/> (or, f4, <see cref="Forward4"/>) of <paramref name="s"/> runs per block of
    /// output channels: CoutBlocks, and each sample's tiles in one band.</summary>
    public static bool TakesCoutBlocks(in ConvShape s, bool f4) =>
        CoutBlocks && BandTileRows(s, f4) >= (s.H + (f4 ? 3 : 1)) / (f4 ? 4 : 2);

    /// <summary>Floats of the scratch <see cref="ForwardCoutBlocks"/> rents: the padded input and V once, and U and M of
    /// one block for each thread (up to <paramref name="Blocks"/> of them).</summary>
    public static (long Xp, long V, long BlockU, long BlockM, int Blocks) CoutBlockScratchLengths(in ConvShape s, bool f4)
    {
        int p = f4 ? 36 : 16, edge = f4 ? 4 : 2, mr = GemmDriver.MR;
        int th = (s.H + edge - 1) / edge, tw = (s.W + edge - 1) / edge;
        int wq = PadWidth(tw, f4), hq = edge * th + 2;
        long ld = (long)th * tw + 16;
        return ((long)s.Cin * hq * wq, p * s.Cin * PanelLd(ld), (long)p * mr * s.Cin, p * mr * ld, (s.Cout + mr - 1) / mr);
    }

    /// <summary>
    /// The forward by F(2x2, 3x3) or (f4) F(4x4, 3x3) for maps whose sample fits one band, per block of MR output
    /// channels: the sample's transformed input V once, then for each block (blocks spread over the threads) its
    /// transformed weights U (P x MR x Cin), its P GEMMs into its own M (P x MR x tiles) and its output transform, all
    /// in the block's own scratch. The all-channel order writes U and M for every channel (16 or 36 Cout Cin floats
    /// of U: 9 MB at 384 channels for F(2x2, 3x3), 21 MB for F(4x4, 3x3)) and reads them back, which on a small map
    /// costs more than its products; a block's U and M stay in its core's cache. Same sums in the same order as the
    /// all-channel path: bit for bit its result.
    /// </summary>
    static void ForwardCoutBlocks(in ConvShape s, float* x, float* w, float[]? bias, float* y, bool accumulate, bool up2, bool f4, bool transposed)
    {
        int p = f4 ? 36 : 16, edge = f4 ? 4 : 2, mr = GemmDriver.MR;
        int cin = s.Cin, cout = s.Cout, h = s.H, wd = s.W, th = (h + edge - 1) / edge, tw = (wd + edge - 1) / edge, t = th * tw;
        int wq = PadWidth(tw, f4), hq = edge * th + 2;
        int ld = checked(t + 16), ldv = (int)PanelLd(ld);
        // per block: U (p MR Cin) and M (p MR ld)
        var (lxp, lv, lu, lm, blocks) = CoutBlockScratchLengths(s, f4);
        using var xpArr = Scratch<float>.Rent(lxp, "Winograd convolution (padded input)");
        using var vArr = Scratch<float>.Rent(lv, "Winograd convolution (transformed input)");
        // one slot of U and M per thread, rented here (blocks q = slot, slot + slots, ... run in it)
        int slots = Math.Min(blocks, CpuThreads.Limit);
        using var sArr = Scratch<float>.Rent(slots * (lu + lm), "Winograd convolution (each thread's block of transformed weights and output)");
        long xs = up2 ? (long)cin * (h / 2) * (wd / 2) : (long)cin * h * wd, ys = (long)cout * h * wd;
        fixed (float* xp = xpArr.Array, v = vArr.Array, kr = Kr(f4, transposed), sp = sArr.Array)
        {
            nint vs = (nint)v, ws = (nint)w, krs = (nint)kr, ss = (nint)sp;
            for (int n = 0; n < s.N; n++)
            {
                if (f4) InputTransform4(x + n * xs, cin, h, wd, 0, th, tw, xp, hq, wq, v, ldv, up2);
                else InputTransform(x + n * xs, cin, h, wd, 0, th, tw, xp, hq, wq, v, ldv, up2, packed: true);
                nint yn = (nint)(y + n * ys);
                Parallel.For(0, slots, CpuThreads.Options, slot =>
                {
                    float* u = (float*)ss + slot * (lu + lm), m = u + lu;
                    for (int q = slot; q < blocks; q += slots)
                    {
                        int co0 = q * mr, cb = Math.Min(mr, cout - co0);
                        GemmDriver.Run(p, mr * cin, 9, new StridedSource((float*)krs, 9, 1f),
                            new PackedPairs((float*)ws + (long)co0 * (transposed ? 1 : cin) * 9, cin, cb, transposed, cout), 0f, u, mr * cin, false);
                        for (int xi = 0; xi < p; xi++)
                            GemmDriver.Run(cb, t, cin, new PackedPanels(u + (long)xi * mr * cin, cin, mr),
                                new PackedPanels((float*)vs + (long)xi * cin * ldv, cin, GemmDriver.NR), 0f, m + (long)xi * mr * ld, ld, false);
                        for (int c = 0; c < cb; c++)
                        {
                            float b = bias is null ? 0f : bias[co0 + c];
                            float* yc = (float*)yn + (long)(co0 + c) * h * wd;
                            if (f4) OutputChannel4(m + (long)c * ld, (long)mr * ld, b, yc, h, wd, 0, th, tw, accumulate);
                            else OutputChannel(m + (long)c * ld, (long)mr * ld, b, yc, h, wd, 0, th, tw, accumulate);
                        }
                    }
                });
            }
        }
    }

    static readonly Vector512<int> Even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    static readonly Vector512<int> Odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    static readonly Vector512<int> InterLo = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    static readonly Vector512<int> InterHi = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);

    /// <summary>For tile rows [ty0, ty0 + rb): V[xi, ci, tyl tw + tx] = (B^T d B)[xi] of channel ci's patch, through a
    /// zero-padded copy of the band's input rows (xp[ci]: hq rows of wq, column 1 + ix holds x[.., ix]). With
    /// <paramref name="packed"/> each V[xi] is stored as the GEMM's packed B panels (<see cref="PackedPanels"/>: NR tiles
    /// a panel, [Cin][NR] within, ld a multiple of NR), so the 16 GEMMs read it in place instead of copying it.</summary>
    static void InputTransform(float* x, int cin, int h, int w, int ty0, int rb, int tw, float* xp, int hq, int wq, float* v, int ld, bool up2, bool packed = false)
    {
        nint xs = (nint)x, xps = (nint)xp, vs = (nint)v;
        int groups = (tw + 15) / 16;
        Parallel.For(0, cin, CpuThreads.Options, ci =>
        {
            float* src = (float*)xs + (up2 ? (long)ci * (h / 2) * (w / 2) : (long)ci * h * w), pad = (float*)xps + (long)ci * hq * wq;
            PadRows(src, h, w, up2, 2 * ty0 - 1, 2 * rb + 2, pad, wq);
            long xiStride = (long)cin * ld;
            int pw = GemmDriver.NR;
            float* vc = (float*)vs + (long)ci * (packed ? pw : ld);
            float* tmp = stackalloc float[16];
            var even = Even; var odd = Odd;
            // rows in increasing order: a last group's lanes past tw spill into the next tile row, written after
            for (int tyl = 0; tyl < rb; tyl++)
            {
                float* r0 = pad + (long)2 * tyl * wq, r1 = r0 + wq, r2 = r1 + wq, r3 = r2 + wq;
                for (int g = 0; g < groups; g++)
                {
                    int p = 32 * g;
                    Row(r0 + p, even, odd, out var u00, out var u01, out var u02, out var u03);
                    Row(r1 + p, even, odd, out var u10, out var u11, out var u12, out var u13);
                    Row(r2 + p, even, odd, out var u20, out var u21, out var u22, out var u23);
                    Row(r3 + p, even, odd, out var u30, out var u31, out var u32, out var u33);
                    float* o = LanesAt(vc, tyl * tw + 16 * g, cin, packed, out int n1, out long next);
                    PutLanes(u00 - u20, o, n1, next, tmp); PutLanes(u01 - u21, o + xiStride, n1, next, tmp); PutLanes(u02 - u22, o + 2 * xiStride, n1, next, tmp); PutLanes(u03 - u23, o + 3 * xiStride, n1, next, tmp);
                    o += 4 * xiStride;
                    PutLanes(u10 + u20, o, n1, next, tmp); PutLanes(u11 + u21, o + xiStride, n1, next, tmp); PutLanes(u12 + u22, o + 2 * xiStride, n1, next, tmp); PutLanes(u13 + u23, o + 3 * xiStride, n1, next, tmp);
                    o += 4 * xiStride;
                    PutLanes(u20 - u10, o, n1, next, tmp); PutLanes(u21 - u11, o + xiStride, n1, next, tmp); PutLanes(u22 - u12, o + 2 * xiStride, n1, next, tmp); PutLanes(u23 - u13, o + 3 * xiStride, n1, next, tmp);
                    o += 4 * xiStride;
                    PutLanes(u10 - u30, o, n1, next, tmp); PutLanes(u11 - u31, o + xiStride, n1, next, tmp); PutLanes(u12 - u32, o + 2 * xiStride, n1, next, tmp); PutLanes(u13 - u33, o + 3 * xiStride, n1, next, tmp);
                }
            }
        });
    }

    /// <summary>Rows [iy0, iy0 + rows) of one channel's map src (h x w; with <paramref name="up2"/> its nearest x2
    /// upsampling, src being h/2 x w/2) into pad, wq floats a row: a zero column on the left, the row, zeros to wq; rows
    /// outside the map all zero. The Winograd input transforms' band copy.</summary>
    internal static void PadRows(float* src, int h, int w, bool up2, int iy0, int rows, float* pad, int wq)
    {
        for (int pr = 0; pr < rows; pr++)
        {
            float* d = pad + (long)pr * wq;
            int iy = iy0 + pr;
            if (iy < 0 || iy >= h) { RowMoves.Clear(d, wq); continue; }
            d[0] = 0f;
            if (up2) ConvLayout.CopyRowUp2(src + (long)(iy >> 1) * (w / 2), w / 2, d + 1);
            else RowMoves.Copy(src + (long)iy * w, d + 1, w);
            RowMoves.Clear(d + 1 + w, wq - 1 - w);
        }
    }

    /// <summary>Where channel ci's 16 tiles from t0 go in V (vc: the channel's first element), for <see cref="PutLanes"/>:
    /// unpacked, at vc + t0, all 16 there; packed (NR-tile B panels, [Cin][NR] within), in panel t0 / NR at column
    /// t0 % NR, the first n1 lanes there and the rest continuing in the next panel, next floats on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float* LanesAt(float* vc, int t0, int cin, bool packed, out int n1, out long next)
    {
        if (!packed) { n1 = 16; next = 0; return vc + t0; }
        int pw = GemmDriver.NR, r = t0 % pw;
        n1 = pw - r;
        next = (long)cin * pw - r;
        return vc + (long)(t0 / pw) * cin * pw + r;
    }

    /// <summary>r itself when its n (1..width) floats fill the width, else t (width floats) holding them and zeros.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float* ZeroPadded(float* r, int n, int width, float* t)
    {
        if (n >= width) return r;
        RowMoves.Clear(t, width);
        RowMoves.Copy(r, t, n);
        return t;
    }

    /// <summary>16 lanes to o, or (n1 &lt; 16, a packed panel's end) the first n1 to o and the rest to o + next.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void PutLanes(Vector512<float> a, float* o, int n1, long next, float* tmp)
    {
        if (n1 >= 16) { a.Store(o); return; }
        a.Store(tmp);
        for (int i = 0; i < n1; i++) o[i] = tmp[i];
        for (int i = n1; i < 16; i++) o[next + i - n1] = tmp[i];
    }

    /// <summary>d B for one patch row of 16 tiles: r[2k + j] is column j of tile k (j &lt; 4).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Row(float* r, Vector512<int> even, Vector512<int> odd,
        out Vector512<float> u0, out Vector512<float> u1, out Vector512<float> u2, out Vector512<float> u3)
    {
        Vector512<float> a = Vector512.Load(r), b = Vector512.Load(r + 16), c = Vector512.Load(r + 2), d = Vector512.Load(r + 18);
        var c0 = Avx512F.PermuteVar16x32x2(a, even, b);
        var c1 = Avx512F.PermuteVar16x32x2(a, odd, b);
        var c2 = Avx512F.PermuteVar16x32x2(c, even, d);
        var c3 = Avx512F.PermuteVar16x32x2(c, odd, d);
        u0 = c0 - c2; u1 = c1 + c2; u2 = c2 - c1; u3 = c1 - c3;
    }

    /// <summary>y[co, 2 ty + r, 2 tx + c] (= or +=) (A^T M A)[r, c] (+ bias[co]) for the band's tiles, inside the image.</summary>
    static void OutputTransform(float* m, int cout, int h, int w, int ty0, int rb, int tw, int ld, float* y, float[]? bias, bool accumulate)
    {
        nint ms = (nint)m, ys = (nint)y;
        Parallel.For(0, cout, CpuThreads.Options, co =>
            OutputChannel((float*)ms + (long)co * ld, (long)cout * ld, bias is null ? 0f : bias[co], (float*)ys + (long)co * h * w, h, w, ty0, rb, tw, accumulate));
    }

    /// <summary>One output channel of <see cref="OutputTransform"/>: its transformed products at mc + xi xiStride into its
    /// map yc, plus b.</summary>
    static void OutputChannel(float* mc, long xiStride, float b, float* yc, int h, int w, int ty0, int rb, int tw, bool accumulate)
    {
        int groups = (tw + 15) / 16;
        var vb = Vector512.Create(b);
        float* tmp = stackalloc float[32];
        for (int tyl = 0; tyl < rb; tyl++)
        {
            int oy = 2 * (ty0 + tyl);
            for (int g = 0; g < groups; g++)
            {
                float* q = mc + (long)tyl * tw + 16 * g;
                int x0 = 32 * g;
                OutputGroup(q, xiStride, vb, yc + (long)oy * w + x0, w, Math.Min(32, w - x0), oy + 1 < h, accumulate, tmp);
            }
        }
    }

    /// <summary>One group of 16 tiles of one output channel: (A^T M A)[r, c] (+ vb) from the 16 transformed products at
    /// q + xi xiStride (xi = 4 r' + c', A^T = [1 1 1 0; 0 1 -1 -1]) into output row `row` and, if secondRow, the row
    /// below (= or +=); the first n (1..32) columns, the two output columns of a tile interleaved back by permutes.
    /// Shared by the GEMM-based and the direct-kernel Winograd.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void OutputGroup(float* q, long xiStride, Vector512<float> vb, float* row, int w, int n, bool secondRow, bool accumulate, float* tmp)
    {
        Vector512<float> s00, s01, s02, s03, s10, s11, s12, s13;
        {
            var m0 = Vector512.Load(q); var m1 = Vector512.Load(q + 4 * xiStride);
            var m2 = Vector512.Load(q + 8 * xiStride); var m3 = Vector512.Load(q + 12 * xiStride);
            s00 = m0 + m1 + m2; s10 = m1 - m2 - m3;
        }
        {
            var m0 = Vector512.Load(q + xiStride); var m1 = Vector512.Load(q + 5 * xiStride);
            var m2 = Vector512.Load(q + 9 * xiStride); var m3 = Vector512.Load(q + 13 * xiStride);
            s01 = m0 + m1 + m2; s11 = m1 - m2 - m3;
        }
        {
            var m0 = Vector512.Load(q + 2 * xiStride); var m1 = Vector512.Load(q + 6 * xiStride);
            var m2 = Vector512.Load(q + 10 * xiStride); var m3 = Vector512.Load(q + 14 * xiStride);
            s02 = m0 + m1 + m2; s12 = m1 - m2 - m3;
        }
        {
            var m0 = Vector512.Load(q + 3 * xiStride); var m1 = Vector512.Load(q + 7 * xiStride);
            var m2 = Vector512.Load(q + 11 * xiStride); var m3 = Vector512.Load(q + 15 * xiStride);
            s03 = m0 + m1 + m2; s13 = m1 - m2 - m3;
        }
        var y00 = s00 + s01 + s02 + vb; var y01 = s01 - s02 - s03 + vb;
        var y10 = s10 + s11 + s12 + vb; var y11 = s11 - s12 - s13 + vb;
        var lo = InterLo; var hi = InterHi;
        Put(Avx512F.PermuteVar16x32x2(y00, lo, y01), Avx512F.PermuteVar16x32x2(y00, hi, y01), row, n, accumulate, tmp);
        if (secondRow)
            Put(Avx512F.PermuteVar16x32x2(y10, lo, y11), Avx512F.PermuteVar16x32x2(y10, hi, y11), row + w, n, accumulate, tmp);
    }

    /// <summary>The first n (1..32) of the 32 floats [a, b] into d (= or +=); t: 32 floats of room for a partial store.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Put(Vector512<float> a, Vector512<float> b, float* d, int n, bool accumulate, float* t)
    {
        if (n == 32)
        {
            if (accumulate) { a += Vector512.Load(d); b += Vector512.Load(d + 16); }
            a.Store(d); b.Store(d + 16);
            return;
        }
        a.Store(t); b.Store(t + 16);
        if (accumulate) for (int i = 0; i < n; i++) d[i] += t[i];
        else for (int i = 0; i < n; i++) d[i] = t[i];
    }
}
