using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// 3x3, stride 1, pad 1 convolution by Winograd F(2x2, 3x3) for few channels (the tiny and small models' 16-64 at
/// 128^2-1024^2): each 2x2 output tile of a channel is
///   Y = A^T [ sum_ci (G g G^T) . (B^T d B) ] A,
/// d the 4x4 input patch at rows 2 ty - 1.., columns 2 tx - 1.. (zero outside the image), g the 3x3 kernel. The work is
/// split into pieces of one tile row by <see cref="Tiles"/> (48) tiles, each done whole by one thread in its own
/// cache-sized buffers (this machine's ~10 GB/s memory would otherwise bound the transformed copies, each 4x the map):
///   V [16][Cin][48] = B^T d B of the piece's patches (16 tiles along x at once, AVX-512 permutes),
///   M[xi] (Cout x 48) = U[xi] (Cout x Cin) * V[xi] (Cin x 48), the 16 products on the direct kernel
///   (<see cref="ConvDirect"/>: one 48-tile panel, 8 channels at a time in registers over the whole Cin reduction),
///   y (= or +=) A^T M A (+ bias), the tiles inside the image.
/// 16 multiply-adds per tile and channel pair against the direct convolution's 36. U[xi, co, ci] = sum_q Kr[xi, q]
/// w[co, ci, q] (Kr = G (x) G, exact entries) is summed in double and rounded once, packed as ConvDirect's weights.
/// Every tile's arithmetic is the same whatever the thread count. With up2 the input is the half-size map whose nearest
/// x2 upsampling is convolved: a piece's padded rows are read from it with halved indices, so the upsampled map never
/// exists and every output equals that of upsampling first, bit for bit (<see cref="CpuConv.ForwardUpsample2x"/>).
/// F(2, 3)'s rounding is a little larger than the direct sum's (the transforms add up to 9 inputs before the products).
/// </summary>
static unsafe class ConvWinogradSmall
{
    public static bool Supported => ConvWinograd.Supported && ConvDirect.Supported;

    /// <summary>Tiles per piece: one direct-kernel panel, three 16-tile vectors.</summary>
    const int Tiles = ConvDirect.Cols;
    /// <summary>Floats of one padded patch row of a piece (2 Tiles + 2 read, rounded up past the last vector load).</summary>
    const int RowFloats = 2 * Tiles + 48;

    /// <summary>Floats of one worker's buffers: V, M and four padded patch rows.</summary>
    static long WorkerFloats(in ConvShape s) => 16L * Tiles * (s.Cin + s.Cout) + 4 * RowFloats;

    /// <summary>Floats of the two scratch arrays one call rents: packed U and every worker's buffers.</summary>
    public static (long U, long Workers) ScratchLengths(in ConvShape s) =>
        (16 * ConvDirect.PackedLength(s.Cout, s.Cin), CpuThreads.Limit * WorkerFloats(s));

    /// <summary>y[n] (= or +=) conv(x[n], w) (+ bias) for all N samples; w is [Cout][Cin][3][3].</summary>
    public static void Forward(in ConvShape s, float* x, float* w, float[]? bias, float* y, bool accumulate, bool up2 = false)
    {
        int cin = s.Cin, cout = s.Cout, h = s.H, wd = s.W, th = (h + 1) / 2, tw = (wd + 1) / 2, chunks = (tw + Tiles - 1) / Tiles;
        int workers = CpuThreads.Limit;
        long plen = ConvDirect.PackedLength(cout, cin), per = WorkerFloats(s);
        var (lu, lw) = ScratchLengths(s);
        using var uArr = Scratch<float>.Rent(lu, "Winograd convolution (transformed weights)");
        using var wArr = Scratch<float>.Rent(lw, "Winograd convolution (per-thread tiles)");
        using var oArr = Scratch<long>.Rent(Math.Max(cin, cout), "Winograd convolution (row offsets)");
        long xs = (long)cin * h * wd / (up2 ? 4 : 1), ys = (long)cout * h * wd;
        fixed (float* u = uArr.Array, wk = wArr.Array)
        fixed (long* offs = oArr.Array)
        {
            TransformWeights(w, cout, cin, u, plen);
            for (int r = 0; r < Math.Max(cin, cout); r++) offs[r] = (long)r * Tiles;
            nint us = (nint)u, wks = (nint)wk, os = (nint)offs, xsrc = (nint)x, ydst = (nint)y;
            long pieces = (long)s.N * th * chunks, next = -1;
            // one loop per worker, each with its own buffers, taking pieces from a shared counter until none is left
            Parallel.For(0, workers, CpuThreads.Options, slot =>
            {
                float* v = (float*)wks + slot * per, m = v + 16L * Tiles * cin, rows = m + 16L * Tiles * cout;
                for (long k = Interlocked.Increment(ref next); k < pieces; k = Interlocked.Increment(ref next))
                {
                    int c = (int)(k % chunks), ty = (int)(k / chunks % th), nn = (int)(k / chunks / th);
                    InputPiece((float*)xsrc + nn * xs, cin, h, wd, up2, ty, c * Tiles, rows, v);
                    for (int xi = 0; xi < 16; xi++)
                        ConvDirect.Run(cout, Tiles, cin, (float*)us + xi * plen, v + (long)xi * cin * Tiles, (long*)os,
                            m + (long)xi * cout * Tiles, Tiles, false, false);
                    OutputPiece(m, cout, h, wd, ty, c * Tiles, (float*)ydst + nn * ys, bias, accumulate);
                }
            });
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

    /// <summary>V[xi, ci, j] = (B^T d B)[xi] of channel ci's patch for tile (ty, tx0 + j), j &lt; Tiles (tiles past the
    /// image read zeros), B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]. Through four zero-padded patch rows (column j
    /// of rows[r] holds the map at row 2 ty - 1 + r, column 2 tx0 - 1 + j), split into even and odd columns by permutes.</summary>
    static void InputPiece(float* x, int cin, int h, int w, bool up2, int ty, int tx0, float* rows, float* v)
    {
        int sh = up2 ? h / 2 : h, sw = up2 ? w / 2 : w, c0 = 2 * tx0 - 1;
        long xiStride = (long)cin * Tiles;
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odd = even + Vector512<int>.One;
        for (int ci = 0; ci < cin; ci++)
        {
            float* src = x + (long)ci * sh * sw;
            for (int r = 0; r < 4; r++)
            {
                float* d = rows + r * RowFloats;
                RowMoves.Clear(d, RowFloats);
                int iy = 2 * ty - 1 + r;
                if (iy < 0 || iy >= h) continue;
                int a = Math.Max(c0, 0), b = Math.Min(c0 + RowFloats, w); // map columns [a, b) land in this row
                if (a >= b) continue;
                if (!up2) RowMoves.Copy(src + (long)iy * w + a, d + a - c0, b - a);
                else
                {
                    float* sr = src + (long)(iy >> 1) * sw;
                    int ix = a;
                    if ((ix & 1) != 0) { d[ix - c0] = sr[ix >> 1]; ix++; }
                    int pairs = (b - ix) / 2;
                    Widen(sr + (ix >> 1), pairs, d + ix - c0);
                    ix += 2 * pairs;
                    if (ix < b) d[ix - c0] = sr[ix >> 1];
                }
            }
            float* r0 = rows, r1 = r0 + RowFloats, r2 = r1 + RowFloats, r3 = r2 + RowFloats;
            float* vc = v + (long)ci * Tiles;
            for (int g = 0; g < Tiles / 16; g++)
            {
                int p = 32 * g;
                Row(r0 + p, even, odd, out var u00, out var u01, out var u02, out var u03);
                Row(r1 + p, even, odd, out var u10, out var u11, out var u12, out var u13);
                Row(r2 + p, even, odd, out var u20, out var u21, out var u22, out var u23);
                Row(r3 + p, even, odd, out var u30, out var u31, out var u32, out var u33);
                float* o = vc + 16 * g;
                (u00 - u20).Store(o); (u01 - u21).Store(o + xiStride); (u02 - u22).Store(o + 2 * xiStride); (u03 - u23).Store(o + 3 * xiStride);
                o += 4 * xiStride;
                (u10 + u20).Store(o); (u11 + u21).Store(o + xiStride); (u12 + u22).Store(o + 2 * xiStride); (u13 + u23).Store(o + 3 * xiStride);
                o += 4 * xiStride;
                (u20 - u10).Store(o); (u21 - u11).Store(o + xiStride); (u22 - u12).Store(o + 2 * xiStride); (u23 - u13).Store(o + 3 * xiStride);
                o += 4 * xiStride;
                (u10 - u30).Store(o); (u11 - u31).Store(o + xiStride); (u12 - u32).Store(o + 2 * xiStride); (u13 - u33).Store(o + 3 * xiStride);
            }
        }
    }

    /// <summary>d[2 i] = d[2 i + 1] = s[i] for i &lt; n: part of a row of the nearest x2 upsampling.</summary>
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

    /// <summary>y[co, 2 ty + r, 2 (tx0 + j) + c] (= or +=) (A^T M A)[r, c] (+ bias[co]) for the piece's tiles inside the
    /// image, A^T = [1 1 1 0; 0 1 -1 -1]; the two output columns of a tile interleaved back by permutes.</summary>
    static void OutputPiece(float* m, int cout, int h, int w, int ty, int tx0, float* y, float[]? bias, bool accumulate)
    {
        long xiStride = (long)cout * Tiles;
        float* tmp = stackalloc float[32];
        int oy = 2 * ty;
        for (int co = 0; co < cout; co++)
        {
            float* mc = m + (long)co * Tiles, yc = y + (long)co * h * w;
            var vb = Vector512.Create(bias is null ? 0f : bias[co]);
            for (int g = 0; g < Tiles / 16; g++)
            {
                int x0 = 2 * tx0 + 32 * g;
                if (x0 >= w) break;
                float* q = mc + 16 * g;
                ConvWinograd.OutputGroup(q, xiStride, vb, yc + (long)oy * w + x0, w, Math.Min(32, w - x0), oy + 1 < h, accumulate, tmp);
            }
        }
    }
}
