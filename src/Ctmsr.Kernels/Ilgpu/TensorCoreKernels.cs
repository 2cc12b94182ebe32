using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace Ctmsr.Kernels.Ilgpu;

/// <summary>
/// GEMM and the three implicit-GEMM convolution passes on tensor cores (CUDA sm_80+, --precision tf32 or bf16): the same
/// 64 x 64 output tile, 256 threads and TK = 16 shared-memory staging as <see cref="TileGemm"/> (same ITileSource
/// operands, same sa[p][i] / sb[p][j] layout), but the multiply is warp-level mma.sync (<see cref="TensorCore"/>):
/// warp w owns rows 16 (w % 4) .. +16 and columns 32 (w / 4) .. +32 of the tile, i.e. four 16 x 8 accumulators
/// (<see cref="Frag4"/>); per TK slice that is two m16n8k8 TF32 steps or one m16n8k16 bf16 step per accumulator.
/// Operands are converted from the float32 slice as they are read from shared memory (cvt.rna.tf32 / cvt.rn.bf16x2),
/// products are exact and summed in float32 by the tensor core, over the whole K (no compensation, unlike the fp32
/// tile). The outputs obey <see cref="Backend"/>'s conventions exactly as the fp32 kernels do.
/// CUDA only: the OpenCL backend cannot compile the mma intrinsics, and <see cref="IlgpuBackend"/> loads these only
/// when its precision is tf32 or bf16, which it accepts on CUDA sm_80+ alone.
/// </summary>
static class TensorCoreKernels
{
    /// <summary>A warp's four 16 x 8 accumulators, columns 8 nb .. 8 nb + 7 of its 16 x 32 share.</summary>
    internal struct Frag16
    {
        public Frag4 N0, N1, N2, N3;
    }

    interface ISlice
    {
        /// <summary>Adds the TK-deep staged slice's contribution to the warp's accumulators (mw, nw: the warp's origin
        /// in the tile; g = lane / 4, t = lane % 4).</summary>
        Frag16 Apply(Frag16 f, ArrayView<float> sa, ArrayView<float> sb, int mw, int nw, int g, int t);
    }

    struct Tf32Slice : ISlice
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly Frag16 Apply(Frag16 f, ArrayView<float> sa, ArrayView<float> sb, int mw, int nw, int g, int t)
        {
            f = Step(f, sa, sb, mw, nw, g, t, 0);
            return Step(f, sa, sb, mw, nw, g, t, 8);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static Frag16 Step(Frag16 f, ArrayView<float> sa, ArrayView<float> sb, int mw, int nw, int g, int t, int ks)
        {
            const int TM = TileGemm.TM, TN = TileGemm.TN;
            int p0 = (ks + t) * TM + mw + g, p1 = (ks + t + 4) * TM + mw + g;
            uint a0 = TensorCore.ToTf32(sa[p0]), a1 = TensorCore.ToTf32(sa[p0 + 8]);
            uint a2 = TensorCore.ToTf32(sa[p1]), a3 = TensorCore.ToTf32(sa[p1 + 8]);
            int q0 = (ks + t) * TN + nw + g, q1 = (ks + t + 4) * TN + nw + g;
            f.N0 = TensorCore.MmaTf32(f.N0, a0, a1, a2, a3, TensorCore.ToTf32(sb[q0]), TensorCore.ToTf32(sb[q1]));
            f.N1 = TensorCore.MmaTf32(f.N1, a0, a1, a2, a3, TensorCore.ToTf32(sb[q0 + 8]), TensorCore.ToTf32(sb[q1 + 8]));
            f.N2 = TensorCore.MmaTf32(f.N2, a0, a1, a2, a3, TensorCore.ToTf32(sb[q0 + 16]), TensorCore.ToTf32(sb[q1 + 16]));
            f.N3 = TensorCore.MmaTf32(f.N3, a0, a1, a2, a3, TensorCore.ToTf32(sb[q0 + 24]), TensorCore.ToTf32(sb[q1 + 24]));
            return f;
        }
    }

    struct Bf16Slice : ISlice
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly Frag16 Apply(Frag16 f, ArrayView<float> sa, ArrayView<float> sb, int mw, int nw, int g, int t)
        {
            const int TM = TileGemm.TM, TN = TileGemm.TN;
            int r0 = 2 * t * TM + mw + g, r8 = (2 * t + 8) * TM + mw + g; // rows k = 2t and 2t + 8 of the slice
            uint a0 = TensorCore.PackBf16(sa[r0], sa[r0 + TM]);
            uint a1 = TensorCore.PackBf16(sa[r0 + 8], sa[r0 + TM + 8]);
            uint a2 = TensorCore.PackBf16(sa[r8], sa[r8 + TM]);
            uint a3 = TensorCore.PackBf16(sa[r8 + 8], sa[r8 + TM + 8]);
            int q0 = 2 * t * TN + nw + g, q8 = (2 * t + 8) * TN + nw + g;
            f.N0 = TensorCore.MmaBf16(f.N0, a0, a1, a2, a3, TensorCore.PackBf16(sb[q0], sb[q0 + TN]), TensorCore.PackBf16(sb[q8], sb[q8 + TN]));
            f.N1 = TensorCore.MmaBf16(f.N1, a0, a1, a2, a3, TensorCore.PackBf16(sb[q0 + 8], sb[q0 + TN + 8]), TensorCore.PackBf16(sb[q8 + 8], sb[q8 + TN + 8]));
            f.N2 = TensorCore.MmaBf16(f.N2, a0, a1, a2, a3, TensorCore.PackBf16(sb[q0 + 16], sb[q0 + TN + 16]), TensorCore.PackBf16(sb[q8 + 16], sb[q8 + TN + 16]));
            f.N3 = TensorCore.MmaBf16(f.N3, a0, a1, a2, a3, TensorCore.PackBf16(sb[q0 + 24], sb[q0 + TN + 24]), TensorCore.PackBf16(sb[q8 + 24], sb[q8 + TN + 24]));
            return f;
        }
    }

    /// <summary>Where a finished output element (i, j) of the GEMM goes (bounds checked here).</summary>
    interface IStore
    {
        void Store(int i, int j, float v);
    }

    /// <summary>Runs the K loop of the tile at (m0, n0) and hands each of the lane's 16 outputs to <paramref name="store"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Tile<TSrc, TSlice, TStore>(TSrc src, TStore store, int m0, int n0)
        where TSrc : struct, ITileSource where TSlice : struct, ISlice where TStore : struct, IStore
    {
        var sa = SharedMemory.Allocate<float>(TileGemm.TK * TileGemm.TM);
        var sb = SharedMemory.Allocate<float>(TileGemm.TK * TileGemm.TN);
        int warp = Group.IdxX / 32, lane = Group.IdxX % 32, g = lane / 4, t = lane % 4;
        int mw = warp % 4 * 16, nw = warp / 4 * 32;
        var f = new Frag16();
        var slice = default(TSlice);
        for (int k0 = 0; k0 < src.K; k0 += TileGemm.TK)
        {
            TileGemm.Stage(src, m0, n0, k0, sa, sb);
            Group.Barrier();
            f = slice.Apply(f, sa, sb, mw, nw, g, t);
            Group.Barrier();
        }
        int i0 = m0 + mw + g, j0 = n0 + nw + 2 * t;
        Put(store, f.N0, i0, j0);
        Put(store, f.N1, i0, j0 + 8);
        Put(store, f.N2, i0, j0 + 16);
        Put(store, f.N3, i0, j0 + 24);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Put<TStore>(TStore store, Frag4 c, int i, int j) where TStore : struct, IStore
    {
        store.Store(i, j, c.C0);
        store.Store(i, j + 1, c.C1);
        store.Store(i + 8, j, c.C2);
        store.Store(i + 8, j + 1, c.C3);
    }

    struct GemmStore : IStore
    {
        public ArrayView<float> C;
        public long Off;
        public int M, N, Ldc;
        public float Alpha, Beta;

        public readonly void Store(int i, int j, float v)
        {
            if (i >= M || j >= N) return;
            long ci = Off + (long)i * Ldc + j;
            float r = Alpha * v;
            if (Beta != 0f) r += Beta * C[ci];
            C[ci] = r;
        }
    }

    struct ForwardStore : IStore
    {
        public ArrayView<float> Y, Bias;
        public ConvKernels.Geometry G;

        public readonly void Store(int co, int j, float v)
        {
            int pixels = G.OH * G.OW;
            if (co >= G.Cout || j >= G.N * pixels) return;
            Y[((long)(j / pixels) * G.Cout + co) * pixels + j % pixels] = v + (G.HasBias != 0 ? Bias[co] : 0f);
        }
    }

    struct BackwardDataStore : IStore
    {
        public ArrayView<float> Dx;
        public ConvKernels.Geometry G;

        public readonly void Store(int ci, int j, float v)
        {
            int hw = G.H * G.W;
            if (ci >= G.Cin || j >= G.N * hw) return;
            long at = ((long)(j / hw) * G.Cin + ci) * hw + j % hw;
            Dx[at] = G.Accumulate != 0 ? Dx[at] + v : v;
        }
    }

    struct BackwardWeightStore : IStore
    {
        public ArrayView<float> Dw;
        public int Cout, KDim;

        public readonly void Store(int co, int j, float v)
        {
            if (co >= Cout || j >= KDim) return;
            Dw[(long)co * KDim + j] += v;
        }
    }

    static void Gemm<TSlice>(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmKernels.Args g, int trans) where TSlice : struct, ISlice
    {
        long bt = Grid.IdxZ;
        var src = new GemmKernels.Source
        {
            AV = a, BV = b, OffA = g.OffA + bt * g.StrideA, OffB = g.OffB + bt * g.StrideB, Lda = g.Lda, Ldb = g.Ldb,
            Rows = g.M, Cols = g.N, Depth = g.K, TransA = (trans & 1) != 0, TransB = (trans & 2) != 0,
        };
        var store = new GemmStore { C = c, Off = g.OffC + bt * g.StrideC, M = g.M, N = g.N, Ldc = g.Ldc, Alpha = g.Alpha, Beta = g.Beta };
        Tile<GemmKernels.Source, TSlice, GemmStore>(src, store, Grid.IdxY * TileGemm.TM, Grid.IdxX * TileGemm.TN);
    }

    static void Forward<TSlice>(ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, ConvKernels.Geometry g,
        ConvKernels.Consts c) where TSlice : struct, ISlice =>
        Tile<ConvKernels.ForwardSource, TSlice, ForwardStore>(new ConvKernels.ForwardSource { X = x, Wt = w, G = g, C = c },
            new ForwardStore { Y = y, Bias = bias, G = g }, Grid.IdxY * TileGemm.TM, Grid.IdxX * TileGemm.TN);

    static void BackwardData<TSlice>(ArrayView<float> dy, ArrayView<float> w, ArrayView<float> dx, ConvKernels.Geometry g, ConvKernels.Consts c)
        where TSlice : struct, ISlice =>
        Tile<ConvKernels.BackwardData, TSlice, BackwardDataStore>(new ConvKernels.BackwardData { Dy = dy, Wt = w, G = g, C = c },
            new BackwardDataStore { Dx = dx, G = g }, Grid.IdxY * TileGemm.TM, Grid.IdxX * TileGemm.TN);

    static void BackwardWeight<TSlice>(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dw, ConvKernels.Geometry g, ConvKernels.Consts c)
        where TSlice : struct, ISlice
    {
        var src = new ConvKernels.BackwardWeight { X = x, Dy = dy, G = g, C = c };
        Tile<ConvKernels.BackwardWeight, TSlice, BackwardWeightStore>(src, new BackwardWeightStore { Dw = dw, Cout = g.Cout, KDim = src.N },
            Grid.IdxY * TileGemm.TM, Grid.IdxX * TileGemm.TN);
    }

    // ---- the entry points: one per pass and operand format (the PTX test reads each one's mma shape) ----
    [IlgpuKernel]
    public static void GemmTf32(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmKernels.Args g, SpecializedValue<int> trans) =>
        Gemm<Tf32Slice>(a, b, c, g, trans.Value);

    [IlgpuKernel]
    public static void GemmBf16(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmKernels.Args g, SpecializedValue<int> trans) =>
        Gemm<Bf16Slice>(a, b, c, g, trans.Value);

    [IlgpuKernel]
    public static void ConvForwardTf32(ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y,
        ConvKernels.Geometry g, SpecializedValue<ConvKernels.Consts> consts) => Forward<Tf32Slice>(x, w, bias, y, g, consts.Value);

    [IlgpuKernel]
    public static void ConvForwardBf16(ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y,
        ConvKernels.Geometry g, SpecializedValue<ConvKernels.Consts> consts) => Forward<Bf16Slice>(x, w, bias, y, g, consts.Value);

    [IlgpuKernel]
    public static void ConvBackwardDataTf32(ArrayView<float> dy, ArrayView<float> w, ArrayView<float> dx, ConvKernels.Geometry g,
        SpecializedValue<ConvKernels.Consts> consts) => BackwardData<Tf32Slice>(dy, w, dx, g, consts.Value);

    [IlgpuKernel]
    public static void ConvBackwardDataBf16(ArrayView<float> dy, ArrayView<float> w, ArrayView<float> dx, ConvKernels.Geometry g,
        SpecializedValue<ConvKernels.Consts> consts) => BackwardData<Bf16Slice>(dy, w, dx, g, consts.Value);

    [IlgpuKernel]
    public static void ConvBackwardWeightTf32(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dw, ConvKernels.Geometry g,
        SpecializedValue<ConvKernels.Consts> consts) => BackwardWeight<Tf32Slice>(x, dy, dw, g, consts.Value);

    [IlgpuKernel]
    public static void ConvBackwardWeightBf16(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dw, ConvKernels.Geometry g,
        SpecializedValue<ConvKernels.Consts> consts) => BackwardWeight<Bf16Slice>(x, dy, dw, g, consts.Value);
}
