using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// 3x3, stride 1, pad 1 convolution by Winograd F(4x4, 3x3) (Lavin and Gray's matrices, interpolation points 0, 1, -1,
/// 2, -2 and infinity): each 4x4 output tile of a channel is
///   Y = A^T [ sum_ci (G g G^T) . (B^T d B) ] A,
/// d the 6x6 input patch at rows 4ty - 1.., columns 4tx - 1.. (zero outside the image). For each of the 36 positions xi
/// of the 6x6 transform the sum over ci is a GEMM M[xi] (Cout x T) = U[xi] (Cout x Cin) * V[xi] (Cin x T) over T
/// tiles: 36 multiply-adds per tile and channel pair against F(2x2, 3x3)'s 64 for the same 16 outputs (1.78x fewer)
/// and the direct sum's 144 (4x fewer), and V and M hold 2.25 floats an output pixel instead of 4.
///   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1],
///   G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1],
///   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1].
/// The rounding is larger than F(2x2, 3x3)'s: the transforms weight inputs by up to 25 and outputs by up to 64 before
/// the cancellation, so a float32 result lands near 2e-6 relative L2 from the float64 direct sum at 64-384 channels
/// (F(2x2, 3x3) near 3e-7; measured with numpy on uniform data). Layouts, bands and the GEMMs are F(2x2, 3x3)'s
/// (<see cref="ConvWinograd"/>) with 36 positions; the input and output transforms run on 16 tiles along x at once, a
/// padded input row split into its four column phases by two levels of two-source permutes, and the four output
/// columns of a tile interleaved back the same way. Forward and backward data (a forward of the flipped kernel) only;
/// the weight gradient stays F(2x2, 3x3).
/// </summary>
static unsafe partial class ConvWinograd
{
    /// <summary>Kr4[6 i + j, 3 a + b] = G[i, a] G[j, b] (products in double, rounded once).</summary>
    static readonly float[] Kron4 = BuildKron4();
    static readonly float[] Kron4Flipped = Flipped(Kron4);

    static float[] BuildKron4()
    {
        double[,] g =
        {
            { 1.0 / 4, 0, 0 }, { -1.0 / 6, -1.0 / 6, -1.0 / 6 }, { -1.0 / 6, 1.0 / 6, -1.0 / 6 },
            { 1.0 / 24, 1.0 / 12, 1.0 / 6 }, { 1.0 / 24, -1.0 / 12, 1.0 / 6 }, { 0, 0, 1 },
        };
        var k = new float[36 * 9];
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 6; j++)
                for (int a = 0; a < 3; a++)
                    for (int b = 0; b < 3; b++) k[(6 * i + j) * 9 + 3 * a + b] = (float)(g[i, a] * g[j, b]);
        return k;
    }

    /// <summary><see cref="Forward"/> by F(4x4, 3x3): y[n] (= or +=) conv(x[n], w) (+ bias), w [Cout][Cin][3][3]; with
    /// <paramref name="up2"/> x is [N, Cin, H / 2, W / 2] and the convolution is of its nearest x2 upsampling.</summary>
    public static void Forward4(in ConvShape s, float* x, float* w, float[]? bias, float* y, bool accumulate, bool up2 = false, bool transposed = false) =>
        Forward(s, x, w, bias, y, accumulate, up2, f4: true, transposed);

    /// <summary>Lane t + 1 of a, then b[0] in lane 15: the next tile's column of a phase vector.</summary>
    static readonly Vector512<int> NextLane = Vector512.Create(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);

    /// <summary>For tile rows [ty0, ty0 + rb): V[xi, ci, tyl tw + tx] = (B^T d B)[xi] of channel ci's 6x6 patch, stored as
    /// the GEMM's packed B panels (NR tiles a panel, [Cin][NR] within), through a zero-padded copy of the band's input
    /// rows (xp[ci]: hq rows of wq, column 1 + ix holds x[.., ix]).</summary>
    static void InputTransform4(float* x, int cin, int h, int w, int ty0, int rb, int tw, float* xp, int hq, int wq, float* v, int ld, bool up2, bool packed = true)
    {
        nint xs = (nint)x, xps = (nint)xp, vs = (nint)v;
        int groups = (tw + 15) / 16;
        Parallel.For(0, cin, CpuThreads.Options, ci =>
        {
            float* src = (float*)xs + (up2 ? (long)ci * (h / 2) * (w / 2) : (long)ci * h * w), pad = (float*)xps + (long)ci * hq * wq;
            PadRows(src, h, w, up2, 4 * ty0 - 1, 4 * rb + 2, pad, wq);
            long xiStride = (long)cin * ld;
            int pw = GemmDriver.NR;
            float* vc = (float*)vs + (long)ci * (packed ? pw : ld);
            // the six patch rows' d B, [row][column][16 tiles]
            float* rows = stackalloc float[36 * 16];
            float* tmp = stackalloc float[16];
            // rows in increasing order: a last group's lanes past tw spill into the next tile row, written after
            for (int tyl = 0; tyl < rb; tyl++)
            {
                float* r0 = pad + (long)4 * tyl * wq;
                for (int g = 0; g < groups; g++)
                {
                    int p = 64 * g;
                    for (int k = 0; k < 6; k++)
                    {
                        Phases(r0 + (long)k * wq + p, out var c0, out var c1, out var c2, out var c3, out var c4, out var c5);
                        TransformB(c0, c1, c2, c3, c4, c5, rows + 96 * k);
                    }
                    float* o = LanesAt(vc, tyl * tw + 16 * g, cin, packed, out int n1, out long next);
                    for (int j = 0; j < 6; j++)
                    {
                        TransformBColumns(rows + 16 * j, out var v0, out var v1, out var v2, out var v3, out var v4, out var v5);
                        PutLanes(v0, o + j * xiStride, n1, next, tmp);
                        PutLanes(v1, o + (6 + j) * xiStride, n1, next, tmp);
                        PutLanes(v2, o + (12 + j) * xiStride, n1, next, tmp);
                        PutLanes(v3, o + (18 + j) * xiStride, n1, next, tmp);
                        PutLanes(v4, o + (24 + j) * xiStride, n1, next, tmp);
                        PutLanes(v5, o + (30 + j) * xiStride, n1, next, tmp);
                    }
                }
            }
        });
    }

    /// <summary>The six columns of 16 tiles' patches in one padded row r: c_j[t] = r[4 t + j] (j &lt; 6), from 66 floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Phases(float* r, out Vector512<float> c0, out Vector512<float> c1, out Vector512<float> c2,
        out Vector512<float> c3, out Vector512<float> c4, out Vector512<float> c5)
    {
        Split4(r, out c0, out c1, out c2, out c3);
        var nx = NextLane;
        c4 = Avx512F.PermuteVar16x32x2(c0, nx, Vector512.Create(r[64]));
        c5 = Avx512F.PermuteVar16x32x2(c1, nx, Vector512.Create(r[65]));
    }

    /// <summary>The four column phases of 64 floats: c_j[t] = r[4 t + j] (j &lt; 4), by two levels of two-source permutes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Split4(float* r, out Vector512<float> c0, out Vector512<float> c1, out Vector512<float> c2, out Vector512<float> c3)
    {
        var even = Even; var odd = Odd;
        Vector512<float> a0 = Vector512.Load(r), a1 = Vector512.Load(r + 16), a2 = Vector512.Load(r + 32), a3 = Vector512.Load(r + 48);
        var e01 = Avx512F.PermuteVar16x32x2(a0, even, a1); var o01 = Avx512F.PermuteVar16x32x2(a0, odd, a1);
        var e23 = Avx512F.PermuteVar16x32x2(a2, even, a3); var o23 = Avx512F.PermuteVar16x32x2(a2, odd, a3);
        c0 = Avx512F.PermuteVar16x32x2(e01, even, e23);
        c2 = Avx512F.PermuteVar16x32x2(e01, odd, e23);
        c1 = Avx512F.PermuteVar16x32x2(o01, even, o23);
        c3 = Avx512F.PermuteVar16x32x2(o01, odd, o23);
    }

    /// <summary>u = B^T c (the six rows of B^T above) into o[16 j], j &lt; 6.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void TransformB(Vector512<float> c0, Vector512<float> c1, Vector512<float> c2, Vector512<float> c3,
        Vector512<float> c4, Vector512<float> c5, float* o)
    {
        var m4 = Vector512.Create(-4f); var m5 = Vector512.Create(-5f); var p4 = Vector512.Create(4f);
        var s1 = Avx512F.FusedMultiplyAdd(c2, m4, c4);
        var s2 = Avx512F.FusedMultiplyAdd(c1, m4, c3);
        var s3 = c4 - c2;
        var s4 = (c3 - c1) * 2f;
        Avx512F.FusedMultiplyAdd(c0, p4, Avx512F.FusedMultiplyAdd(c2, m5, c4)).Store(o);
        (s1 + s2).Store(o + 16);
        (s1 - s2).Store(o + 32);
        (s3 + s4).Store(o + 48);
        (s3 - s4).Store(o + 64);
        Avx512F.FusedMultiplyAdd(c1, p4, Avx512F.FusedMultiplyAdd(c3, m5, c5)).Store(o + 80);
    }

    /// <summary>B^T applied down column j of the six rows' d B (at q + 96 k): the six outputs (B^T d B)[i, j].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void TransformBColumns(float* q, out Vector512<float> v0, out Vector512<float> v1, out Vector512<float> v2,
        out Vector512<float> v3, out Vector512<float> v4, out Vector512<float> v5)
    {
        Vector512<float> c0 = Vector512.Load(q), c1 = Vector512.Load(q + 96), c2 = Vector512.Load(q + 192),
            c3 = Vector512.Load(q + 288), c4 = Vector512.Load(q + 384), c5 = Vector512.Load(q + 480);
        var m4 = Vector512.Create(-4f); var m5 = Vector512.Create(-5f); var p4 = Vector512.Create(4f);
        var s1 = Avx512F.FusedMultiplyAdd(c2, m4, c4);
        var s2 = Avx512F.FusedMultiplyAdd(c1, m4, c3);
        var s3 = c4 - c2;
        var s4 = (c3 - c1) * 2f;
        v0 = Avx512F.FusedMultiplyAdd(c0, p4, Avx512F.FusedMultiplyAdd(c2, m5, c4));
        v1 = s1 + s2; v2 = s1 - s2; v3 = s3 + s4; v4 = s3 - s4;
        v5 = Avx512F.FusedMultiplyAdd(c1, p4, Avx512F.FusedMultiplyAdd(c3, m5, c5));
    }

    /// <summary>y[co, 4 ty + r, 4 tx + c] (= or +=) (A^T M A)[r, c] (+ bias[co]) for the band's tiles, inside the image.</summary>
    static void OutputTransform4(float* m, int cout, int h, int w, int ty0, int rb, int tw, int ld, float* y, float[]? bias, bool accumulate)
    {
        nint ms = (nint)m, ys = (nint)y;
        Parallel.For(0, cout, CpuThreads.Options, co =>
            OutputChannel4((float*)ms + (long)co * ld, (long)cout * ld, bias is null ? 0f : bias[co], (float*)ys + (long)co * h * w, h, w, ty0, rb, tw, accumulate));
    }

    /// <summary>One output channel of <see cref="OutputTransform4"/>: its transformed products at mc + xi xiStride into
    /// its map yc, plus b.</summary>
    static void OutputChannel4(float* mc, long xiStride, float b, float* yc, int h, int w, int ty0, int rb, int tw, bool accumulate)
    {
        int groups = (tw + 15) / 16;
        var vb = Vector512.Create(b);
        // A^T M down each of the six columns: [row r < 4][column j < 6][16 tiles]
        float* cols = stackalloc float[24 * 16];
        float* tmp = stackalloc float[64];
        for (int tyl = 0; tyl < rb; tyl++)
        {
            int oy = 4 * (ty0 + tyl);
            for (int g = 0; g < groups; g++)
            {
                float* q = mc + (long)tyl * tw + 16 * g;
                for (int j = 0; j < 6; j++)
                {
                    float* qj = q + j * xiStride;
                    TransformA(Vector512.Load(qj), Vector512.Load(qj + 6 * xiStride), Vector512.Load(qj + 12 * xiStride),
                        Vector512.Load(qj + 18 * xiStride), Vector512.Load(qj + 24 * xiStride), Vector512.Load(qj + 30 * xiStride),
                        out var s0, out var s1, out var s2, out var s3);
                    s0.Store(cols + 16 * j); s1.Store(cols + 96 + 16 * j); s2.Store(cols + 192 + 16 * j); s3.Store(cols + 288 + 16 * j);
                }
                int x0 = 64 * g, n = Math.Min(64, w - x0);
                for (int r = 0; r < 4 && oy + r < h; r++)
                {
                    float* c = cols + 96 * r;
                    TransformA(Vector512.Load(c), Vector512.Load(c + 16), Vector512.Load(c + 32), Vector512.Load(c + 48),
                        Vector512.Load(c + 64), Vector512.Load(c + 80), out var y0, out var y1, out var y2, out var y3);
                    PutColumns(y0 + vb, y1 + vb, y2 + vb, y3 + vb, yc + (long)(oy + r) * w + x0, n, accumulate, tmp);
                }
            }
        }
    }

    /// <summary>(A^T m)[r], r &lt; 4, of six vectors m0..m5 (the rows of A^T above).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void TransformA(Vector512<float> m0, Vector512<float> m1, Vector512<float> m2, Vector512<float> m3,
        Vector512<float> m4, Vector512<float> m5, out Vector512<float> y0, out Vector512<float> y1, out Vector512<float> y2, out Vector512<float> y3)
    {
        var a = m1 + m2; var b = m1 - m2; var c = m3 + m4; var d = m3 - m4;
        y0 = m0 + a + c;
        y1 = Avx512F.FusedMultiplyAdd(d, Vector512.Create(2f), b);
        y2 = Avx512F.FusedMultiplyAdd(c, Vector512.Create(4f), a);
        y3 = Avx512F.FusedMultiplyAdd(d, Vector512.Create(8f), b) + m5;
    }

    /// <summary>The four output columns of 16 tiles (y_c[t] = row[4 t + c]) interleaved back and the first n (1..64) of
    /// them into row (= or +=); t: 64 floats of room for a partial store.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void PutColumns(Vector512<float> y0, Vector512<float> y1, Vector512<float> y2, Vector512<float> y3, float* row, int n, bool accumulate, float* t)
    {
        var lo = InterLo; var hi = InterHi;
        var lo02 = Avx512F.PermuteVar16x32x2(y0, lo, y2); var hi02 = Avx512F.PermuteVar16x32x2(y0, hi, y2);
        var lo13 = Avx512F.PermuteVar16x32x2(y1, lo, y3); var hi13 = Avx512F.PermuteVar16x32x2(y1, hi, y3);
        Put(Avx512F.PermuteVar16x32x2(lo02, lo, lo13), Avx512F.PermuteVar16x32x2(lo02, hi, lo13), row, Math.Min(n, 32), accumulate, t);
        if (n > 32)
            Put(Avx512F.PermuteVar16x32x2(hi02, lo, hi13), Avx512F.PermuteVar16x32x2(hi02, hi, hi13), row + 32, n - 32, accumulate, t);
    }

    /// <summary>
    /// dw[co, ci, 3, 3] += sum_n conv-weight-gradient(x[n], dy[n]) by F(4x4, 3x3), the adjoint of <see cref="Forward4"/>
    /// in g: a tile's share of dL/dg is G^T [ (A dY A^T) . (B^T d B) ] G, dY the 4x4 tile of dy (zero past the image).
    /// For each of the 36 positions M[xi] (Cout x Cin) = sum over bands and samples of Z[xi] (Cout x T) V[xi]^T, an NT
    /// GEMM reducing over the tiles (as <see cref="BackwardWeight"/>, with F(4x4, 3x3)'s bands), then dW += M^T Kr4.
    /// </summary>
    public static void BackwardWeight4(in ConvShape s, float* x, float* dy, float* dw) => BackwardWeight(s, x, dy, dw, f4: true);

    /// <summary>For tile rows [ty0, ty0 + rb): Z[xi, co, tyl tw + tx] = (A dY A^T)[xi] of channel co's 4x4 tile at rows
    /// 4 ty.., columns 4 tx.. (zero past the image), 16 tiles along x at once.</summary>
    static void GradTransform4(float* dy, int cout, int h, int w, int ty0, int rb, int tw, float* z, int ld)
    {
        nint ds = (nint)dy, zs = (nint)z;
        int groups = (tw + 15) / 16;
        Parallel.For(0, cout, CpuThreads.Options, co =>
        {
            float* src = (float*)ds + (long)co * h * w;
            long xiStride = (long)cout * ld;
            float* zc = (float*)zs + (long)co * ld;
            float* tmp = stackalloc float[64];
            // the tile rows' dY A^T, [row r < 4][column j < 6][16 tiles]
            float* rows = stackalloc float[24 * 16];
            // rows in increasing order: a last group's lanes past tw spill into the next tile row, written after
            for (int tyl = 0; tyl < rb; tyl++)
            {
                int iy = 4 * (ty0 + tyl);
                for (int g = 0; g < groups; g++)
                {
                    int x0 = 64 * g, n = Math.Min(64, w - x0);
                    for (int r = 0; r < 4; r++)
                    {
                        if (iy + r < h) GradRow4(src + (long)(iy + r) * w + x0, n, tmp, rows + 96 * r);
                        else RowMoves.Clear(rows + 96 * r, 96);
                    }
                    float* o = zc + (long)tyl * tw + 16 * g;
                    for (int j = 0; j < 6; j++)
                    {
                        float* q = rows + 16 * j;
                        TransformAT(Vector512.Load(q), Vector512.Load(q + 96), Vector512.Load(q + 192), Vector512.Load(q + 288),
                            out var e0, out var e1, out var e2, out var e3, out var e4, out var e5);
                        e0.Store(o + j * xiStride); e1.Store(o + (6 + j) * xiStride); e2.Store(o + (12 + j) * xiStride);
                        e3.Store(o + (18 + j) * xiStride); e4.Store(o + (24 + j) * xiStride); e5.Store(o + (30 + j) * xiStride);
                    }
                }
            }
        });
    }

    /// <summary>dY A^T of one row of 16 tiles (r[4 t + c] column c of tile t) into o[16 j], j &lt; 6; n (1..64) floats
    /// of r are in the image, the rest read as zero (through t, 64 floats).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void GradRow4(float* r, int n, float* t, float* o)
    {
        Split4(ZeroPadded(r, n, 64, t), out var p0, out var p1, out var p2, out var p3);
        TransformAT(p0, p1, p2, p3, out var u0, out var u1, out var u2, out var u3, out var u4, out var u5);
        u0.Store(o); u1.Store(o + 16); u2.Store(o + 32); u3.Store(o + 48); u4.Store(o + 64); u5.Store(o + 80);
    }

    /// <summary>A p of four vectors p0..p3 (A = (A^T)^T, 6 x 4): p0, p0 + p1 + p2 + p3, p0 - p1 + p2 - p3,
    /// p0 + 2 p1 + 4 p2 + 8 p3, p0 - 2 p1 + 4 p2 - 8 p3, p3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void TransformAT(Vector512<float> p0, Vector512<float> p1, Vector512<float> p2, Vector512<float> p3,
        out Vector512<float> e0, out Vector512<float> e1, out Vector512<float> e2, out Vector512<float> e3, out Vector512<float> e4, out Vector512<float> e5)
    {
        var four = Vector512.Create(4f);
        var a = p0 + p2; var b = p1 + p3;
        var c = Avx512F.FusedMultiplyAdd(p2, four, p0); var d = Avx512F.FusedMultiplyAdd(p3, four, p1) * 2f;
        e0 = p0; e1 = a + b; e2 = a - b; e3 = c + d; e4 = c - d; e5 = p3;
    }
}
