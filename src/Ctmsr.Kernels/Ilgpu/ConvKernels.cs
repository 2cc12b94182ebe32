using ILGPU;
using ILGPU.Runtime;

namespace Ctmsr.Kernels.Ilgpu;

/// <summary>
/// 2-D convolution as implicit GEMM on the shared-memory tile (<see cref="TileGemm"/>; no im2col buffer), weight
/// [Cout, Cin, KS, KS], zero padding, NCHW. KS, stride and pad are a specialisation (divisions by constants).
///   forward:     Y[nb, co, pix] = sum_{ci,ky,kx} W[co, (ci,ky,kx)] X[nb, ci, oy S - P + ky, ox S - P + kx]
///                M = Cout, N = Nb OH OW, K = Cin KS KS.
///   backward dx: dX[nb, ci, iy, ix] = sum_{co,ky,kx} W[co, ci, ky, kx] dY[nb, co, (iy + P - ky)/S, (ix + P - kx)/S]
///                (terms whose division is inexact or out of range vanish); M = Cin, N = Nb H W, K = Cout KS KS.
///   backward dw: dW[co, (ci,ky,kx)] += sum_{nb,pix} dY[nb, co, pix] X[nb, ci, ...]; M = Cout, N = Cin KS KS, K = Nb OH OW.
///   bias:        db[co] += sum_{nb,pix} dY[nb, co, pix], one group per co, fixed tree.
/// </summary>
static class ConvKernels
{
    public struct Geometry { public int N, Cin, H, W, Cout, OH, OW, HasBias, Accumulate; }

    /// <summary>Kernel size, stride and padding: the specialised constants.</summary>
    public readonly record struct Consts(int K, int Stride, int Pad);

    /// <summary>im2col element of row p = (ci, ky, kx) and column j = (nb, oy, ox).</summary>
    internal static float Im2Col(ArrayView<float> x, Geometry g, Consts c, int p, int j)
    {
        int kk = c.K * c.K, pixels = g.OH * g.OW;
        int nb = j / pixels, pix = j % pixels;
        int ci = p / kk, r = p % kk;
        int iy = pix / g.OW * c.Stride - c.Pad + r / c.K, ix = pix % g.OW * c.Stride - c.Pad + r % c.K;
        if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) return 0f;
        return x[(((long)nb * g.Cin + ci) * g.H + iy) * g.W + ix];
    }

    /// <summary>dY gathered for input position j = (nb, iy, ix) and row p = (co, ky, kx).</summary>
    internal static float DyGather(ArrayView<float> dy, Geometry g, Consts c, int p, int j)
    {
        int kk = c.K * c.K, hw = g.H * g.W;
        int co = p / kk, r = p % kk;
        int nb = j / hw, pix = j % hw;
        int ty = pix / g.W + c.Pad - r / c.K, tx = pix % g.W + c.Pad - r % c.K;
        if (ty < 0 || tx < 0 || ty % c.Stride != 0 || tx % c.Stride != 0) return 0f;
        int oy = ty / c.Stride, ox = tx / c.Stride;
        if (oy >= g.OH || ox >= g.OW) return 0f;
        return dy[(((long)nb * g.Cout + co) * g.OH + oy) * g.OW + ox];
    }

    internal struct ForwardSource : ITileSource
    {
        public ArrayView<float> X, Wt;
        public Geometry G;
        public Consts C;
        public readonly int M => G.Cout;
        public readonly int N => G.N * G.OH * G.OW;
        public readonly int K => G.Cin * C.K * C.K;
        public readonly bool AIFast => false;
        public readonly bool BJFast => true;
        public readonly float A(int i, int p) => Wt[(long)i * K + p];
        public readonly float B(int p, int j) => Im2Col(X, G, C, p, j);
    }

    internal struct BackwardData : ITileSource
    {
        public ArrayView<float> Dy, Wt;
        public Geometry G;
        public Consts C;
        public readonly int M => G.Cin;
        public readonly int N => G.N * G.H * G.W;
        public readonly int K => G.Cout * C.K * C.K;
        public readonly bool AIFast => false;
        public readonly bool BJFast => true;
        public readonly float A(int i, int p)
        {
            int kk = C.K * C.K;
            return Wt[((long)(p / kk) * G.Cin + i) * kk + p % kk];
        }
        public readonly float B(int p, int j) => DyGather(Dy, G, C, p, j);
    }

    internal struct BackwardWeight : ITileSource
    {
        public ArrayView<float> X, Dy;
        public Geometry G;
        public Consts C;
        public readonly int M => G.Cout;
        public readonly int N => G.Cin * C.K * C.K;
        public readonly int K => G.N * G.OH * G.OW;
        public readonly bool AIFast => false;
        public readonly bool BJFast => false;
        public readonly float A(int i, int p)
        {
            int pixels = G.OH * G.OW;
            return Dy[((long)(p / pixels) * G.Cout + i) * pixels + p % pixels];
        }
        public readonly float B(int p, int j) => Im2Col(X, G, C, j, p);
    }

    /// <summary>Forward with float64 running sums (the default where the device has float64: see TileGemm.AccumulateF64).</summary>
    [IlgpuKernel]
    public static void ConvForward(ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y,
        Geometry g, SpecializedValue<Consts> consts) => Forward(x, w, bias, y, g, consts.Value, true);

    /// <summary>Forward with the float32 Kahan tile, for devices without float64.</summary>
    [IlgpuKernel]
    public static void ConvForwardF32(ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y,
        Geometry g, SpecializedValue<Consts> consts) => Forward(x, w, bias, y, g, consts.Value, false);

    static void Forward(ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, Geometry g, Consts c, bool f64)
    {
        var sa = SharedMemory.Allocate<float>(TileGemm.TK * TileGemm.TM);
        var sb = SharedMemory.Allocate<float>(TileGemm.TK * TileGemm.TN);
        int m0 = Grid.IdxY * TileGemm.TM, n0 = Grid.IdxX * TileGemm.TN;
        var src = new ForwardSource { X = x, Wt = w, G = g, C = c };
        var acc = f64 ? TileGemm.AccumulateF64(src, m0, n0, sa, sb) : TileGemm.Accumulate(src, m0, n0, sa, sb);
        int pixels = g.OH * g.OW, cols = g.N * pixels;
        for (int r = 0; r < TileGemm.RM; r++)
        {
            int co = TileGemm.Row(m0, r);
            if (co >= g.Cout) continue;
            float b = g.HasBias != 0 ? bias[co] : 0f;
            var row = acc[r];
            for (int q = 0; q < TileGemm.RN; q++)
            {
                int j = TileGemm.Col(n0, q);
                if (j >= cols) continue;
                y[((long)(j / pixels) * g.Cout + co) * pixels + j % pixels] = row[q] + b;
            }
        }
    }

    [IlgpuKernel]
    public static void ConvBackwardData(ArrayView<float> dy, ArrayView<float> w, ArrayView<float> dx, Geometry g, SpecializedValue<Consts> consts)
    {
        var sa = SharedMemory.Allocate<float>(TileGemm.TK * TileGemm.TM);
        var sb = SharedMemory.Allocate<float>(TileGemm.TK * TileGemm.TN);
        int m0 = Grid.IdxY * TileGemm.TM, n0 = Grid.IdxX * TileGemm.TN;
        var src = new BackwardData { Dy = dy, Wt = w, G = g, C = consts.Value };
        var acc = TileGemm.Accumulate(src, m0, n0, sa, sb);
        int hw = g.H * g.W, cols = g.N * hw;
        for (int r = 0; r < TileGemm.RM; r++)
        {
            int ci = TileGemm.Row(m0, r);
            if (ci >= g.Cin) continue;
            var row = acc[r];
            for (int q = 0; q < TileGemm.RN; q++)
            {
                int j = TileGemm.Col(n0, q);
                if (j >= cols) continue;
                long at = ((long)(j / hw) * g.Cin + ci) * hw + j % hw;
                dx[at] = g.Accumulate != 0 ? dx[at] + row[q] : row[q];
            }
        }
    }

    [IlgpuKernel]
    public static void ConvBackwardWeight(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dw, Geometry g, SpecializedValue<Consts> consts)
    {
        var sa = SharedMemory.Allocate<float>(TileGemm.TK * TileGemm.TM);
        var sb = SharedMemory.Allocate<float>(TileGemm.TK * TileGemm.TN);
        int m0 = Grid.IdxY * TileGemm.TM, n0 = Grid.IdxX * TileGemm.TN;
        var src = new BackwardWeight { X = x, Dy = dy, G = g, C = consts.Value };
        var acc = TileGemm.Accumulate(src, m0, n0, sa, sb);
        int kdim = src.N;
        for (int r = 0; r < TileGemm.RM; r++)
        {
            int co = TileGemm.Row(m0, r);
            if (co >= g.Cout) continue;
            var row = acc[r];
            for (int q = 0; q < TileGemm.RN; q++)
            {
                int j = TileGemm.Col(n0, q);
                if (j < kdim) dw[(long)co * kdim + j] += row[q];
            }
        }
    }

    [IlgpuKernel]
    public static void ConvBiasGrad(ArrayView<float> dy, ArrayView<float> db, Geometry g)
    {
        var red = SharedMemory.Allocate<float>(IlgpuBackend.Red);
        int co = Grid.IdxX, pixels = g.OH * g.OW;
        float s = 0f;
        for (int nb = 0; nb < g.N; nb++)
        {
            long row = ((long)nb * g.Cout + co) * pixels;
            for (int i = Group.IdxX; i < pixels; i += Group.DimX) s += dy[row + i];
        }
        s = KernelMath.GroupSum(red, s);
        if (Group.IdxX == 0) db[co] += s;
    }
}

public sealed partial class IlgpuBackend
{
    /// <summary>CUDA devices all have float64; OpenCL devices say so (cl_khr_fp64).</summary>
    bool HasFloat64 => acc.Capabilities is not ILGPU.Runtime.OpenCL.CLCapabilityContext cl || cl.Float64;

    static ConvKernels.Geometry Geo(in ConvShape s, bool hasBias = false, bool accumulate = false) => new()
    {
        N = s.N, Cin = s.Cin, H = s.H, W = s.W, Cout = s.Cout, OH = s.OutH, OW = s.OutW, HasBias = Flag(hasBias), Accumulate = Flag(accumulate),
    };

    static SpecializedValue<ConvKernels.Consts> Consts(in ConvShape s) => new(new ConvKernels.Consts(s.K, s.Stride, s.Pad));

    public override void Conv2dForward(in ConvShape s, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, DeviceBuffer y)
    {
        s.CheckForward(x, w, bias, y);
        long cols = (long)s.N * s.OutH * s.OutW;
        if (cols == 0 || s.Cout == 0) return;
        var cfg = Tiles(Ceil(cols, TileGemm.TN), Ceil(s.Cout, TileGemm.TM), 1);
        if (Precision == MatmulPrecision.Tf32)
            Launch(TensorCoreKernels.ConvForwardTf32, cfg, V(x), V(w), V(bias ?? w), V(y), Geo(s, bias is not null), Consts(s));
        else if (Precision == MatmulPrecision.Bf16)
            Launch(TensorCoreKernels.ConvForwardBf16, cfg, V(x), V(w), V(bias ?? w), V(y), Geo(s, bias is not null), Consts(s));
        else if (HasFloat64)
            Launch(ConvKernels.ConvForward, cfg, V(x), V(w), V(bias ?? w), V(y), Geo(s, bias is not null), Consts(s));
        else
            Launch(ConvKernels.ConvForwardF32, cfg, V(x), V(w), V(bias ?? w), V(y), Geo(s, bias is not null), Consts(s));
    }

    public override void Conv2dBackwardData(in ConvShape s, DeviceBuffer dy, DeviceBuffer w, DeviceBuffer dx, bool accumulate)
    {
        s.CheckBackwardData(dy, w, dx);
        long cols = (long)s.N * s.H * s.W;
        if (cols == 0 || s.Cin == 0) return;
        var cfg = Tiles(Ceil(cols, TileGemm.TN), Ceil(s.Cin, TileGemm.TM), 1);
        var geo = Geo(s, accumulate: accumulate);
        switch (Precision)
        {
            case MatmulPrecision.Tf32: Launch(TensorCoreKernels.ConvBackwardDataTf32, cfg, V(dy), V(w), V(dx), geo, Consts(s)); break;
            case MatmulPrecision.Bf16: Launch(TensorCoreKernels.ConvBackwardDataBf16, cfg, V(dy), V(w), V(dx), geo, Consts(s)); break;
            default: Launch(ConvKernels.ConvBackwardData, cfg, V(dy), V(w), V(dx), geo, Consts(s)); break;
        }
    }

    public override void Conv2dBackwardWeight(in ConvShape s, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw, DeviceBuffer? db)
    {
        s.CheckBackwardWeight(x, dy, dw, db);
        int kdim = s.Cin * s.K * s.K;
        if (s.Cout == 0) return;
        var cfg = Tiles(Ceil(kdim, TileGemm.TN), Ceil(s.Cout, TileGemm.TM), 1);
        switch (Precision)
        {
            case MatmulPrecision.Tf32: Launch(TensorCoreKernels.ConvBackwardWeightTf32, cfg, V(x), V(dy), V(dw), Geo(s), Consts(s)); break;
            case MatmulPrecision.Bf16: Launch(TensorCoreKernels.ConvBackwardWeightBf16, cfg, V(x), V(dy), V(dw), Geo(s), Consts(s)); break;
            default: Launch(ConvKernels.ConvBackwardWeight, cfg, V(x), V(dy), V(dw), Geo(s), Consts(s)); break;
        }
        if (db is not null)
            Launch(ConvKernels.ConvBiasGrad, PerItem(s.Cout), V(dy), V(db), Geo(s));
    }
}
