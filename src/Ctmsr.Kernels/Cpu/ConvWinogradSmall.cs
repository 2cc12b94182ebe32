using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// 3x3, stride 1, pad 1 convolution by Winograd F(2x2, 3x3) for few channels (the tiny and small models' 32-64):
/// the transforms of <see cref="ConvWinograd"/> (V [16][Cin][ld], M [16][Cout][ld], tiles row-major, ld past the band's
/// tiles), but each of the 16 products
///   M[xi] (Cout x T) = U[xi] (Cout x Cin) * V[xi] (Cin x T)
/// runs on the direct kernel (<see cref="ConvDirect"/>: U[xi] packed in 8-channel panels, V read unpacked, 8 channels x
/// 48 tiles in registers over the whole Cin reduction) instead of the packed GEMM, whose B panels would serve only Cout
/// rows. 16 multiply-adds per tile and channel pair against the direct convolution's 36 on the padded width.
/// U[xi, co, ci] = sum_q Kr[xi, q] w[co, ci, q] (Kr = G (x) G, the same exact entries as ConvWinograd's) is summed in
/// double and rounded once. The 16 products of a band run as one parallel loop over (xi, tile range) pieces; each
/// piece's reduction runs in one fixed order, so results do not depend on the thread count or the band. With up2 the
/// input is the half-size map whose nearest x2 upsampling is convolved: the band's padded rows are filled from it with
/// halved indices (the upsampled map never exists), as <see cref="CpuConv.ForwardUpsample2x"/> asks.
/// </summary>
static unsafe class ConvWinogradSmall
{
    public static bool Supported => ConvWinograd.Supported && ConvDirect.Supported;

    /// <summary>Floats V and M each aim at per band (4 MB), as ConvWinograd's: TODO lab
    /// transform, the products and the output transform.</summary>
    const long TargetBandFloats = 1 << 20;

    /// <summary>Tile columns per parallel piece of one product (a multiple of ConvDirect.Cols).</summary>
    const int PieceTiles = 32 * ConvDirect.Cols;

    static int BandTileRows(in ConvShape s)
    {
        int th = (s.H + 1) / 2, tw = (s.W + 1) / 2;
        long perRow = 16L * Math.Max(s.Cin, s.Cout) * tw;
        long rows = Math.Min(TargetBandFloats / perRow, CpuConv.BandFloats / perRow);
        return (int)Math.Clamp(rows, 1, th);
    }

    /// <summary>Leading dimension of V and M: the band's tiles plus the 16 a last vector may run past, rounded up to
    /// whole direct-kernel panels (the products compute every column the output transform reads).</summary>
    static int Ld(int rt, int tw) => checked((rt * tw + 16 + ConvDirect.Cols - 1) / ConvDirect.Cols * ConvDirect.Cols);

    /// <summary>Floats of the four scratch arrays one call rents: packed U, the padded input band, V, M.</summary>
    public static (long U, long Xp, long V, long M) ScratchLengths(in ConvShape s)
    {
        int tw = (s.W + 1) / 2, rt = BandTileRows(s), wq = 32 * ((tw + 15) / 16) + 2, hq = 2 * rt + 2;
        long ld = Ld(rt, tw);
        return (16 * ConvDirect.PackedLength(s.Cout, s.Cin), (long)s.Cin * hq * wq, 16L * s.Cin * ld, 16L * s.Cout * ld);
    }

    /// <summary>y[n] (= or +=) conv(x[n], w) (+ bias) for all N samples; w is [Cout][Cin][3][3].</summary>
    public static void Forward(in ConvShape s, float* x, float* w, float[]? bias, float* y, bool accumulate, bool up2 = false)
    {
        int cin = s.Cin, cout = s.Cout, th = (s.H + 1) / 2, tw = (s.W + 1) / 2, rt = BandTileRows(s);
        int wq = 32 * ((tw + 15) / 16) + 2, hq = 2 * rt + 2, ld = Ld(rt, tw);
        var (lu, lxp, lv, lm) = ScratchLengths(s);
        long plen = ConvDirect.PackedLength(cout, cin);
        using var uArr = Scratch<float>.Rent(lu, "Winograd convolution (transformed weights)");
        using var xpArr = Scratch<float>.Rent(lxp, "Winograd convolution (padded input)");
        using var vArr = Scratch<float>.Rent(lv, "Winograd convolution (transformed input)");
        using var mArr = Scratch<float>.Rent(lm, "Winograd convolution (transformed output)");
        using var oArr = Scratch<long>.Rent(cin, "Winograd convolution (row offsets)");
        long xs = (long)cin * s.H * s.W / (up2 ? 4 : 1), ys = (long)cout * s.H * s.W;
        fixed (float* u = uArr.Array, xp = xpArr.Array, v = vArr.Array, m = mArr.Array)
        fixed (long* offs = oArr.Array)
        {
            TransformWeights(w, cout, cin, u, plen);
            for (int r = 0; r < cin; r++) offs[r] = (long)r * ld;
            // columns the input transform never writes are read by the products: zeros, not the pool's leftovers
            new Span<float>(v, checked((int)lv)).Clear();
            nint us = (nint)u, vs = (nint)v, ms = (nint)m, os = (nint)offs;
            for (int n = 0; n < s.N; n++)
                for (int ty0 = 0; ty0 < th; ty0 += rt)
                {
                    int rb = Math.Min(rt, th - ty0), cols = Math.Min(ld, (rb * tw + 16 + ConvDirect.Cols - 1) / ConvDirect.Cols * ConvDirect.Cols);
                    int pieces = (cols + PieceTiles - 1) / PieceTiles;
                    InputTransform(x + n * xs, cin, s.H, s.W, up2, ty0, rb, tw, xp, hq, wq, v, ld);
                    Parallel.For(0, 16 * pieces, CpuThreads.Options, k =>
                    {
                        int xi = k / pieces, p0 = k % pieces * PieceTiles, nn = Math.Min(PieceTiles, cols - p0);
                        ConvDirect.Run(cout, nn, cin, (float*)us + xi * plen, (float*)vs + (long)xi * cin * ld + p0, (long*)os,
                            (float*)ms + (long)xi * cout * ld + p0, ld, false, false);
                    });
                    ConvWinograd.OutputTransform(m, cout, s.H, s.W, ty0, rb, tw, ld, y + n * ys, bias, accumulate);
                }
        }
    }

    /// <summary>u[xi] = ConvDirect's packing of U[xi] (Cout x Cin): u[xi][q][ci][i] = U[xi, 8 q + i, ci] (zero past Cout).</summary>
    static void TransformWeights(float* w, int cout, int cin, float* u, long plen)
    {
        double[] g = { 1, 0, 0, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0, 0, 1 }; // G [4][3]
        new Span<float>(u, checked((int)(16 * plen))).Clear();
        for (int co = 0; co < cout; co++)
        {
            int q = co / ConvDirect.Rows, i = co % ConvDirect.Rows;
            for (int ci = 0; ci < cin; ci++)
            {
                float* k = w + ((long)co * cin + ci) * 9;
                for (int a = 0; a < 4; a++)
                    for (int b = 0; b < 4; b++)
                    {
                        double acc = 0;
                        for (int p = 0; p < 3; p++)
                            for (int r = 0; r < 3; r++) acc += g[3 * a + p] * g[3 * b + r] * k[3 * p + r];
                        u[(4 * a + b) * plen + ((long)q * cin + ci) * ConvDirect.Rows + i] = (float)acc;
                    }
            }
        }
    }

    /// <summary>For tile rows [ty0, ty0 + rb): V[xi, ci, tyl tw + tx] = (B^T d B)[xi] of channel ci's 4x4 patch at rows
    /// 2 ty - 1.., columns 2 tx - 1.., through a zero-padded copy of the band's input rows (xp[ci]: hq rows of wq, column
    /// 1 + ix holds the map's column ix). B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]; 16 tiles along x at once, a
    /// padded row split into its even and odd columns by two-source permutes.</summary>
    static void InputTransform(float* x, int cin, int h, int w, bool up2, int ty0, int rb, int tw, float* xp, int hq, int wq, float* v, int ld)
    {
        nint xs = (nint)x, xps = (nint)xp, vs = (nint)v;
        int groups = (tw + 15) / 16, sh = up2 ? h / 2 : h, sw = up2 ? w / 2 : w;
        Parallel.For(0, cin, CpuThreads.Options, ci =>
        {
            float* src = (float*)xs + (long)ci * sh * sw, pad = (float*)xps + (long)ci * hq * wq;
            for (int pr = 0; pr < 2 * rb + 2; pr++)
            {
                float* d = pad + (long)pr * wq;
                int iy = 2 * ty0 + pr - 1;
                if (iy < 0 || iy >= h) { new Span<float>(d, wq).Clear(); continue; }
                d[0] = 0f;
                if (up2) Widen(src + (long)(iy >> 1) * sw, sw, d + 1);
                else new ReadOnlySpan<float>(src + (long)iy * w, w).CopyTo(new Span<float>(d + 1, w));
                new Span<float>(d + 1 + w, wq - 1 - w).Clear();
            }
            long xiStride = (long)cin * ld;
            float* vc = (float*)vs + (long)ci * ld;
            var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            var odd = even + Vector512<int>.One;
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
                    float* o = vc + (long)tyl * tw + 16 * g;
                    (u00 - u20).Store(o); (u01 - u21).Store(o + xiStride); (u02 - u22).Store(o + 2 * xiStride); (u03 - u23).Store(o + 3 * xiStride);
                    o += 4 * xiStride;
                    (u10 + u20).Store(o); (u11 + u21).Store(o + xiStride); (u12 + u22).Store(o + 2 * xiStride); (u13 + u23).Store(o + 3 * xiStride);
                    o += 4 * xiStride;
                    (u20 - u10).Store(o); (u21 - u11).Store(o + xiStride); (u22 - u12).Store(o + 2 * xiStride); (u23 - u13).Store(o + 3 * xiStride);
                    o += 4 * xiStride;
                    (u10 - u30).Store(o); (u11 - u31).Store(o + xiStride); (u12 - u32).Store(o + 2 * xiStride); (u13 - u33).Store(o + 3 * xiStride);
                }
            }
        });
    }

    /// <summary>d[2 i] = d[2 i + 1] = s[i] for i &lt; n: one row of the nearest x2 upsampling.</summary>
    static void Widen(float* s, int n, float* d)
    {
        var lo = Vector512.Create(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
        var hi = Vector512.Create(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            var a = Vector512.Load(s + i);
            Avx512F.PermuteVar16x32(a, lo).Store(d + 2 * i);
            Avx512F.PermuteVar16x32(a, hi).Store(d + 2 * i + 16);
        }
        for (; i < n; i++) { float a = s[i]; d[2 * i] = a; d[2 * i + 1] = a; }
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
}
