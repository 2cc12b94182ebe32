using ILGPU;
using ILGPU.Runtime;

namespace Ctmsr.Kernels.Ilgpu;

/// <summary>
/// Row-major strided batched SGEMM: C_b = alpha op(A_b) op(B_b) + beta C_b for b = Grid.IdxZ, X_b starting at
/// offX + b strideX. op(A) = A [m x k, lda] or A^T (A stored [k x m], lda); likewise B [k x n]. One work-group per
/// 64 x 64 tile of C (<see cref="TileGemm"/>); beta == 0 never reads C (it may hold NaN garbage).
/// </summary>
static class GemmKernels
{
    public struct Args
    {
        public int M, N, K, Lda, Ldb, Ldc;
        public float Alpha, Beta;
        public long OffA, StrideA, OffB, StrideB, OffC, StrideC;
    }

    internal struct Source : ITileSource
    {
        public ArrayView<float> AV, BV;
        public long OffA, OffB;
        public int Lda, Ldb, Rows, Cols, Depth;
        public bool TransA, TransB;
        public readonly int M => Rows;
        public readonly int N => Cols;
        public readonly int K => Depth;
        public readonly bool AIFast => TransA;
        public readonly bool BJFast => !TransB;
        public readonly float A(int i, int p) => TransA ? AV[OffA + (long)p * Lda + i] : AV[OffA + (long)i * Lda + p];
        public readonly float B(int p, int j) => TransB ? BV[OffB + (long)j * Ldb + p] : BV[OffB + (long)p * Ldb + j];
    }

    /// <summary>trans: bit 0 = transpose A, bit 1 = transpose B (a specialisation: one compiled variant each).</summary>
    [IlgpuKernel]
    public static void Gemm(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, Args g, SpecializedValue<int> trans)
    {
        var sa = SharedMemory.Allocate<float>(TileGemm.TK * TileGemm.TM);
        var sb = SharedMemory.Allocate<float>(TileGemm.TK * TileGemm.TN);
        long bt = Grid.IdxZ;
        int m0 = Grid.IdxY * TileGemm.TM, n0 = Grid.IdxX * TileGemm.TN;
        var src = new Source
        {
            AV = a, BV = b, OffA = g.OffA + bt * g.StrideA, OffB = g.OffB + bt * g.StrideB, Lda = g.Lda, Ldb = g.Ldb,
            Rows = g.M, Cols = g.N, Depth = g.K, TransA = (trans.Value & 1) != 0, TransB = (trans.Value & 2) != 0,
        };
        var acc = TileGemm.Accumulate(src, m0, n0, sa, sb);
        long offC = g.OffC + bt * g.StrideC;
        for (int r = 0; r < TileGemm.RM; r++)
        {
            int i = TileGemm.Row(m0, r);
            if (i >= g.M) continue;
            var row = acc[r];
            for (int q = 0; q < TileGemm.RN; q++)
            {
                int j = TileGemm.Col(n0, q);
                if (j >= g.N) continue;
                long ci = offC + (long)i * g.Ldc + j;
                float v = g.Alpha * row[q];
                if (g.Beta != 0f) v += g.Beta * c[ci];
                c[ci] = v;
            }
        }
    }
}

public sealed partial class IlgpuBackend
{
    public override void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        DeviceBuffer a, long offA, int lda, long strideA, DeviceBuffer b, long offB, int ldb, long strideB,
        float beta, DeviceBuffer c, long offC, int ldc, long strideC, int batch)
    {
        if (!GemmOperands.Check(transA, transB, m, n, k, a, offA, lda, strideA, b, offB, ldb, strideB, c, offC, ldc, strideC, batch)) return;
        var args = new GemmKernels.Args
        {
            M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc, Alpha = alpha, Beta = beta,
            OffA = offA, StrideA = strideA, OffB = offB, StrideB = strideB, OffC = offC, StrideC = strideC,
        };
        var trans = new SpecializedValue<int>((transA ? 1 : 0) | (transB ? 2 : 0));
        // the batch is the grid's z extent, at most 65535 on CUDA: larger batches go in chunks
        const int MaxZ = 65535;
        for (int b0 = 0; b0 < batch; b0 += MaxZ)
        {
            var chunk = args;
            chunk.OffA += b0 * strideA;
            chunk.OffB += b0 * strideB;
            chunk.OffC += b0 * strideC;
            var grid = Tiles(Ceil(n, TileGemm.TN), Ceil(m, TileGemm.TM), Math.Min(MaxZ, batch - b0));
            switch (Precision)
            {
                case MatmulPrecision.Tf32: Launch(TensorCoreKernels.GemmTf32, grid, V(a), V(b), V(c), chunk, trans); break;
                case MatmulPrecision.Bf16: Launch(TensorCoreKernels.GemmBf16, grid, V(a), V(b), V(c), chunk, trans); break;
                default: Launch(GemmKernels.Gemm, grid, V(a), V(b), V(c), chunk, trans); break;
            }
        }
    }
}
