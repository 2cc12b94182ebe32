using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// Weight gradient of the 3x3, stride 1, pad 1 convolution by Winograd F(2x2, 3x3), the adjoint of the forward in g:
/// each output tile is Y = A^T [ (G g G^T) . (B^T d B) ] A, so a tile's share of dL/dg is G^T [ (A dY A^T) . (B^T d B) ] G,
/// dY the 2x2 tile of dy (zero outside the image). Summed over tiles and samples, for each of the 16 positions xi
///   M[xi] (Cout x Cin) = sum over bands and samples of Z[xi] (Cout x T) * V[xi]^T (T x Cin),
/// an NT GEMM with the tiles as reduction, accumulated in place (beta 1 after the first band), then
///   dW[co ci][9] += M^T Kr, Kr = G (x) G (16 x 9), one GEMM pairs x 9 x 16.
/// A dY A^T per dimension maps [p, q] to [p, p + q, p - q, -q] (the transpose of the forward's A^T, [1 1 1 0; 0 1 -1 -1]).
/// V [16][Cin][ld] is the forward's input transform, in the forward's bands of tile rows; where a whole sample takes one
/// band, several samples' tiles sit side by side in it (so small maps still give the GEMMs hundreds of tiles to reduce
/// over). Z [16][Cout][ld], M [16][Cout][Cin]; ld = band tiles + 16 (a 16-tile vector may run past a sample's tiles;
/// the GEMMs reduce over the first T only). Rounding: as the forward's, plus the float sum over all tiles of all samples
/// that the GEMM route does over pixels (rel L2 ~5e-7 against float64, lab conv-wino-wgrad).
/// </summary>
static unsafe partial class ConvWinograd
{
    /// <summary>Samples whose tiles one band holds side by side (1 unless a whole sample takes one band and more fit in
    /// the band budget): on small maps the GEMMs then reduce over several samples' tiles at once, not a few dozen.</summary>
    static int WeightGradSamplesPerBand(in ConvShape s, bool f4 = false)
    {
        int edge = f4 ? 4 : 2, th = (s.H + edge - 1) / edge, tw = (s.W + edge - 1) / edge;
        if (s.N <= 1 || BandTileRows(s, f4) < th) return 1;
        long perTile = (f4 ? 36L : 16L) * Math.Max(s.Cin, s.Cout);
        long tiles = Math.Min(Math.Max(TargetBandFloats / perTile, MinBandTiles), CpuConv.BandFloats / perTile);
        return (int)Math.Clamp(tiles / ((long)th * tw), 1, s.N);
    }

    /// <summary>Tiles one band's GEMMs (f4: of F(4x4, 3x3)) reduce over at most (the reduction length K of the GEMMs).</summary>
    public static long WeightGradBandTiles(in ConvShape s, bool f4 = false) =>
        (long)WeightGradSamplesPerBand(s, f4) * BandTileRows(s, f4) * ((s.W + (f4 ? 3 : 1)) / (f4 ? 4 : 2));

    /// <summary>Floats of the four scratch arrays <see cref="BackwardWeight"/> (f4: of F(4x4, 3x3)) rents: M, the padded
    /// input band, V, Z.</summary>
    public static (long M, long Xp, long V, long Z) WeightGradScratchLengths(in ConvShape s, bool f4 = false)
    {
        var (_, xp, _, _) = ScratchLengths(s, f4);
        long ld = WeightGradBandTiles(s, f4) + 16, p = f4 ? 36 : 16;
        return (p * s.Cout * s.Cin, xp, p * s.Cin * ld, p * s.Cout * ld);
    }

    /// <summary>dw[co, ci, 3, 3] += sum_n conv-weight-gradient(x[n], dy[n]) for all N samples; by F(2x2, 3x3), or with
    /// <paramref name="f4"/> F(4x4, 3x3) (<see cref="BackwardWeight4"/>).</summary>
    public static void BackwardWeight(in ConvShape s, float* x, float* dy, float* dw, bool f4 = false)
    {
        int p = f4 ? 36 : 16, edge = f4 ? 4 : 2;
        int cin = s.Cin, cout = s.Cout, th = (s.H + edge - 1) / edge, tw = (s.W + edge - 1) / edge;
        int rt = BandTileRows(s, f4), sg = WeightGradSamplesPerBand(s, f4);
        int wq = PadWidth(tw, f4), hq = edge * rt + 2;
        int ld = checked((int)WeightGradBandTiles(s, f4) + 16);
        var (lm, lxp, lv, lz) = WeightGradScratchLengths(s, f4);
        using var mArr = Scratch<float>.Rent(lm, "Winograd weight gradient (transformed gradient sums)");
        using var xpArr = Scratch<float>.Rent(lxp, "Winograd weight gradient (padded input)");
        using var vArr = Scratch<float>.Rent(lv, "Winograd weight gradient (transformed input)");
        using var zArr = Scratch<float>.Rent(lz, "Winograd weight gradient (transformed dy)");
        long xs = (long)cin * s.H * s.W, ys = (long)cout * s.H * s.W;
        fixed (float* m = mArr.Array, xp = xpArr.Array, v = vArr.Array, z = zArr.Array, kr = f4 ? Kron4 : Kron)
        {
            int pairs = checked(cout * cin);
            float beta = 0f;
            for (int n0 = 0; n0 < s.N; n0 += sg)
                for (int ty0 = 0; ty0 < th; ty0 += rt)
                {
                    // samples in increasing order: a sample's last vector of tiles spills into the next one's, written after
                    int rb = Math.Min(rt, th - ty0), ns = Math.Min(sg, s.N - n0), per = rb * tw, t = ns * per;
                    for (int j = 0; j < ns; j++)
                        if (f4)
                        {
                            InputTransform4(x + (n0 + j) * xs, cin, s.H, s.W, ty0, rb, tw, xp, hq, wq, v + (long)j * per, ld, up2: false, packed: false);
                            GradTransform4(dy + (n0 + j) * ys, cout, s.H, s.W, ty0, rb, tw, z + (long)j * per, ld);
                        }
                        else
                        {
                            InputTransform(x + (n0 + j) * xs, cin, s.H, s.W, ty0, rb, tw, xp, hq, wq, v + (long)j * per, ld, up2: false);
                            GradTransform(dy + (n0 + j) * ys, cout, s.H, s.W, ty0, rb, tw, z + (long)j * per, ld);
                        }
                    if (CpuConv.WinogradGemmsAcrossThreads)
                    {
                        nint zs = (nint)z, vs = (nint)v, ms = (nint)m;
                        float b = beta;
                        Parallel.For(0, p, CpuThreads.Options, xi =>
                            GemmDriver.Run(cout, cin, t, new StridedSource((float*)zs + (long)xi * cout * ld, ld, 1f),
                                new StridedSource((float*)vs + (long)xi * cin * ld, ld, 1f), b, (float*)ms + (long)xi * pairs, cin, false));
                    }
                    else
                        for (int xi = 0; xi < p; xi++)
                            GemmDriver.Run(cout, cin, t, new StridedSource(z + (long)xi * cout * ld, ld, 1f),
                                new StridedSource(v + (long)xi * cin * ld, ld, 1f), beta, m + (long)xi * pairs, cin, true);
                    beta = 1f;
                }
            if (beta == 0f) return; // no samples
            GemmDriver.Run(pairs, 9, p, new ContigSource(m, pairs, 1f), new ContigSource(kr, 9, 1f), 1f, dw, 9, true);
        }
    }

    /// <summary>For tile rows [ty0, ty0 + rb): Z[xi, co, tyl tw + tx] = (A dY A^T)[xi] of channel co's 2x2 tile at rows
    /// 2 ty.., columns 2 tx.. (zero past the image), 16 tiles along x at once.</summary>
    static void GradTransform(float* dy, int cout, int h, int w, int ty0, int rb, int tw, float* z, int ld)
    {
        nint ds = (nint)dy, zs = (nint)z;
        int groups = (tw + 15) / 16;
        Parallel.For(0, cout, CpuThreads.Options, co =>
        {
            float* src = (float*)ds + (long)co * h * w;
            long xiStride = (long)cout * ld;
            float* zc = (float*)zs + (long)co * ld;
            float* tmp = stackalloc float[32];
            var even = Even; var odd = Odd;
            // rows in increasing order: a last group's lanes past tw spill into the next tile row, written after
            for (int tyl = 0; tyl < rb; tyl++)
            {
                int iy = 2 * (ty0 + tyl);
                float* r0 = src + (long)iy * w;
                bool second = iy + 1 < h;
                for (int g = 0; g < groups; g++)
                {
                    int x0 = 32 * g, n = Math.Min(32, w - x0);
                    GradRow(r0 + x0, n, tmp, even, odd, out var a0, out var a1, out var a2, out var a3);
                    Vector512<float> b0, b1, b2, b3;
                    if (second) GradRow(r0 + w + x0, n, tmp, even, odd, out b0, out b1, out b2, out b3);
                    else b0 = b1 = b2 = b3 = Vector512<float>.Zero;
                    float* o = zc + (long)tyl * tw + 16 * g;
                    a0.Store(o); a1.Store(o + xiStride); a2.Store(o + 2 * xiStride); a3.Store(o + 3 * xiStride);
                    o += 4 * xiStride;
                    (a0 + b0).Store(o); (a1 + b1).Store(o + xiStride); (a2 + b2).Store(o + 2 * xiStride); (a3 + b3).Store(o + 3 * xiStride);
                    o += 4 * xiStride;
                    (a0 - b0).Store(o); (a1 - b1).Store(o + xiStride); (a2 - b2).Store(o + 2 * xiStride); (a3 - b3).Store(o + 3 * xiStride);
                    o += 4 * xiStride;
                    (-b0).Store(o); (-b1).Store(o + xiStride); (-b2).Store(o + 2 * xiStride); (-b3).Store(o + 3 * xiStride);
                }
            }
        });
    }

    /// <summary>dY row A^T for 16 tiles: r[2k + j] is column j of tile k (j &lt; 2); n (1..32) floats of r are in the
    /// image, the rest read as zero (through t, 32 floats).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void GradRow(float* r, int n, float* t, Vector512<int> even, Vector512<int> odd,
        out Vector512<float> u0, out Vector512<float> u1, out Vector512<float> u2, out Vector512<float> u3)
    {
        r = ZeroPadded(r, n, 32, t);
        Vector512<float> a = Vector512.Load(r), b = Vector512.Load(r + 16);
        var p = Avx512F.PermuteVar16x32x2(a, even, b);
        var q = Avx512F.PermuteVar16x32x2(a, odd, b);
        u0 = p; u1 = p + q; u2 = p - q; u3 = -q;
    }
}
