using System.Runtime.CompilerServices;
using ILGPU;
using static Ctmsr.Kernels.Ilgpu.KernelMath;

namespace Ctmsr.Kernels.Ilgpu;

/// <summary>
/// The shared-memory tile of every GEMM-shaped kernel (GEMM and the three implicit-GEMM convolution passes):
/// C[TM x TN] tile = op(A)[TM x K] * op(B)[K x TN], one work-group of 256 threads per tile, TK-deep slices of A and B
/// staged in shared memory (tileA[TK][TM], tileB[TK][TN]), each thread owning RM x RN = 4 x 4 outputs at rows
/// ty + 16 r and columns tx + 16 c (so a warp reads consecutive shared words).
/// Accuracy: each TK slice is summed from zero by FMA into a partial tile, then added to the running sum with Kahan
/// compensation, so rounding grows with TK (16) rather than with K (the golden gradients need it, as on OpenCL-C).
/// The TK loop is unrolled by hand (16 calls of <see cref="Step"/>): ILGPU does not unroll it.
/// </summary>
static class TileGemm
{
    public const int TM = 64, TN = 64, TK = 16, RM = 4, RN = 4;
    public const int TX = TN / RN, TY = TM / RM, Threads = TX * TY;

    /// <summary>
    /// Runs the K loop of one tile (origin m0, n0 in C) over <paramref name="src"/>, with shared tiles
    /// <paramref name="sa"/> (TK*TM floats) and <paramref name="sb"/> (TK*TN floats). Every thread of the group must call it.
    /// </summary>
    public static Tile4x4 Accumulate<TSrc>(TSrc src, int m0, int n0, ArrayView<float> sa, ArrayView<float> sb)
        where TSrc : struct, ITileSource
    {
        int tid = Group.IdxX, tx = tid % TX, ty = tid / TX;
        int k = src.K;
        var acc = new Tile4x4();
        var err = new Tile4x4();
        for (int k0 = 0; k0 < k; k0 += TK)
        {
            Stage(src, m0, n0, k0, sa, sb);
            Group.Barrier();
            var part = new Tile4x4();
            part = Step(part, sa, sb, 0, ty, tx);
            part = Step(part, sa, sb, 1, ty, tx);
            part = Step(part, sa, sb, 2, ty, tx);
            part = Step(part, sa, sb, 3, ty, tx);
            part = Step(part, sa, sb, 4, ty, tx);
            part = Step(part, sa, sb, 5, ty, tx);
            part = Step(part, sa, sb, 6, ty, tx);
            part = Step(part, sa, sb, 7, ty, tx);
            part = Step(part, sa, sb, 8, ty, tx);
            part = Step(part, sa, sb, 9, ty, tx);
            part = Step(part, sa, sb, 10, ty, tx);
            part = Step(part, sa, sb, 11, ty, tx);
            part = Step(part, sa, sb, 12, ty, tx);
            part = Step(part, sa, sb, 13, ty, tx);
            part = Step(part, sa, sb, 14, ty, tx);
            part = Step(part, sa, sb, 15, ty, tx);
            acc = Tile4x4.KahanAdd(acc, ref err, part);
            Group.Barrier();
        }
        return acc;
    }

    /// <summary>
    /// As <see cref="Accumulate{TSrc}"/>, but the running sums are float64 (a float product is exact in float64, so the
    /// tile is correctly rounded once, at the end). Used where float32 rounding decides a sign downstream: the
    /// convolutions feeding LeakyReLU flipped a few near-zero pre-activations against the float64 reference with the
    /// float32 tile, and each flip moved the golden gradients by ~1e-3 (measured on PoCL 6, ctmsr_small).
    /// </summary>
    public static Tile4x4 AccumulateF64<TSrc>(TSrc src, int m0, int n0, ArrayView<float> sa, ArrayView<float> sb)
        where TSrc : struct, ITileSource
    {
        int tid = Group.IdxX, tx = tid % TX, ty = tid / TX;
        int k = src.K;
        var acc = new DTile4x4();
        for (int k0 = 0; k0 < k; k0 += TK)
        {
            Stage(src, m0, n0, k0, sa, sb);
            Group.Barrier();
            acc = StepF64(acc, sa, sb, 0, ty, tx);
            acc = StepF64(acc, sa, sb, 1, ty, tx);
            acc = StepF64(acc, sa, sb, 2, ty, tx);
            acc = StepF64(acc, sa, sb, 3, ty, tx);
            acc = StepF64(acc, sa, sb, 4, ty, tx);
            acc = StepF64(acc, sa, sb, 5, ty, tx);
            acc = StepF64(acc, sa, sb, 6, ty, tx);
            acc = StepF64(acc, sa, sb, 7, ty, tx);
            acc = StepF64(acc, sa, sb, 8, ty, tx);
            acc = StepF64(acc, sa, sb, 9, ty, tx);
            acc = StepF64(acc, sa, sb, 10, ty, tx);
            acc = StepF64(acc, sa, sb, 11, ty, tx);
            acc = StepF64(acc, sa, sb, 12, ty, tx);
            acc = StepF64(acc, sa, sb, 13, ty, tx);
            acc = StepF64(acc, sa, sb, 14, ty, tx);
            acc = StepF64(acc, sa, sb, 15, ty, tx);
            Group.Barrier();
        }
        return acc.Round();
    }

    /// <summary>Stages the TK-deep slice at <paramref name="k0"/> of op(A) (rows m0..) into sa[pp * TM + ii] and of op(B)
    /// (columns n0..) into sb[pp * TN + jj], zero outside the matrices; all <see cref="Threads"/> threads take part.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Stage<TSrc>(TSrc src, int m0, int n0, int k0, ArrayView<float> sa, ArrayView<float> sb)
        where TSrc : struct, ITileSource
    {
        int tid = Group.IdxX, m = src.M, n = src.N, k = src.K;
        bool aIFast = src.AIFast, bJFast = src.BJFast;
        for (int e = tid; e < TM * TK; e += Threads)
        {
            int ii = aIFast ? e % TM : e / TK, pp = aIFast ? e / TM : e % TK;
            int gi = m0 + ii, gp = k0 + pp;
            sa[pp * TM + ii] = gi < m && gp < k ? src.A(gi, gp) : 0f;
        }
        for (int e = tid; e < TN * TK; e += Threads)
        {
            int jj = bJFast ? e % TN : e / TK, pp = bJFast ? e / TN : e % TK;
            int gj = n0 + jj, gp = k0 + pp;
            sb[pp * TN + jj] = gj < n && gp < k ? src.B(gp, gj) : 0f;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static DTile4x4 StepF64(DTile4x4 t, ArrayView<float> sa, ArrayView<float> sb, int pp, int ty, int tx)
    {
        int ao = pp * TM + ty, bo = pp * TN + tx;
        double b0 = sb[bo], b1 = sb[bo + TX], b2 = sb[bo + 2 * TX], b3 = sb[bo + 3 * TX];
        double a0 = sa[ao], a1 = sa[ao + TY], a2 = sa[ao + 2 * TY], a3 = sa[ao + 3 * TY];
        t.C00 += a0 * b0; t.C01 += a0 * b1; t.C02 += a0 * b2; t.C03 += a0 * b3;
        t.C10 += a1 * b0; t.C11 += a1 * b1; t.C12 += a1 * b2; t.C13 += a1 * b3;
        t.C20 += a2 * b0; t.C21 += a2 * b1; t.C22 += a2 * b2; t.C23 += a2 * b3;
        t.C30 += a3 * b0; t.C31 += a3 * b1; t.C32 += a3 * b2; t.C33 += a3 * b3;
        return t;
    }

    /// <summary>One rank-1 update of the thread's 4 x 4 partial tile from slice row <paramref name="pp"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Tile4x4 Step(Tile4x4 t, ArrayView<float> sa, ArrayView<float> sb, int pp, int ty, int tx)
    {
        int ao = pp * TM + ty, bo = pp * TN + tx;
        var b = new Vec4(sb[bo], sb[bo + TX], sb[bo + 2 * TX], sb[bo + 3 * TX]);
        t.R0 = Vec4.Fma(sa[ao], b, t.R0);
        t.R1 = Vec4.Fma(sa[ao + TY], b, t.R1);
        t.R2 = Vec4.Fma(sa[ao + 2 * TY], b, t.R2);
        t.R3 = Vec4.Fma(sa[ao + 3 * TY], b, t.R3);
        return t;
    }

    /// <summary>Row of output r (0..3) of this thread: m0 + ty + 16 r.</summary>
    public static int Row(int m0, int r) => m0 + Group.IdxX / TX + r * TY;

    /// <summary>Column of output c (0..3) of this thread: n0 + tx + 16 c.</summary>
    public static int Col(int n0, int c) => n0 + Group.IdxX % TX + c * TX;
}

/// <summary>Where a tile reads op(A) [M x K] and op(B) [K x N]; AIFast / BJFast say which index is contiguous
/// in memory so that the staging loads coalesce.</summary>
interface ITileSource
{
    int M { get; }
    int N { get; }
    int K { get; }
    bool AIFast { get; }
    bool BJFast { get; }
    float A(int i, int p);
    float B(int p, int j);
}

struct Vec4(float x, float y, float z, float w)
{
    public float X = x, Y = y, Z = z, W = w;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vec4 Fma(float a, Vec4 b, Vec4 c) =>
        new(KernelMath.Fma(a, b.X, c.X), KernelMath.Fma(a, b.Y, c.Y), KernelMath.Fma(a, b.Z, c.Z), KernelMath.Fma(a, b.W, c.W));

    public readonly float this[int i] => i == 0 ? X : i == 1 ? Y : i == 2 ? Z : W;

    /// <summary>Kahan-compensated s + p per component; <paramref name="e"/> carries the compensation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vec4 KahanAdd(Vec4 s, ref Vec4 e, Vec4 p)
    {
        float yx = p.X - e.X, tx = s.X + yx;
        float yy = p.Y - e.Y, ty = s.Y + yy;
        float yz = p.Z - e.Z, tz = s.Z + yz;
        float yw = p.W - e.W, tw = s.W + yw;
        e = new Vec4((tx - s.X) - yx, (ty - s.Y) - yy, (tz - s.Z) - yz, (tw - s.W) - yw);
        return new Vec4(tx, ty, tz, tw);
    }
}

/// <summary>A thread's 4 x 4 outputs, row r in R{r}, column c in component c.</summary>
struct Tile4x4
{
    public Vec4 R0, R1, R2, R3;

    public readonly Vec4 this[int r] => r == 0 ? R0 : r == 1 ? R1 : r == 2 ? R2 : R3;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Tile4x4 KahanAdd(Tile4x4 s, ref Tile4x4 e, Tile4x4 p)
    {
        var r = new Tile4x4();
        r.R0 = Vec4.KahanAdd(s.R0, ref e.R0, p.R0);
        r.R1 = Vec4.KahanAdd(s.R1, ref e.R1, p.R1);
        r.R2 = Vec4.KahanAdd(s.R2, ref e.R2, p.R2);
        r.R3 = Vec4.KahanAdd(s.R3, ref e.R3, p.R3);
        return r;
    }
}

/// <summary>A thread's 4 x 4 running sums in float64 (<see cref="TileGemm.AccumulateF64{TSrc}"/>).</summary>
struct DTile4x4
{
    public double C00, C01, C02, C03, C10, C11, C12, C13, C20, C21, C22, C23, C30, C31, C32, C33;

    public readonly Tile4x4 Round() => new()
    {
        R0 = new Vec4((float)C00, (float)C01, (float)C02, (float)C03),
        R1 = new Vec4((float)C10, (float)C11, (float)C12, (float)C13),
        R2 = new Vec4((float)C20, (float)C21, (float)C22, (float)C23),
        R3 = new Vec4((float)C30, (float)C31, (float)C32, (float)C33),
    };
}
