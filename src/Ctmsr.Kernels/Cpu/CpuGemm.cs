namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// Row-major SGEMM on host arrays: C = alpha * op(A) op(B) + beta * C, op(A) [m, k], op(B) [k, n].
/// A is stored [m, lda] (or [k, lda] when transA), B [k, ldb] (or [n, ldb] when transB), C [m, ldc].
/// beta == 0 overwrites C without reading it. Packed panels + register-blocked AVX-512 (AVX2) micro-kernel,
/// see <see cref="GemmDriver"/>.
/// </summary>
public static unsafe class CpuGemm
{
    /// <summary>Whether full 12-row blocks of an unscaled A serving few column panels are read in place rather than
    /// packed (<see cref="GemmDriver.UnpackedA"/>; same bits either way): for tests and before/after timings.</summary>
    public static bool UnpackedA { get => GemmDriver.UnpackedA; set => GemmDriver.UnpackedA = value; }

    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float[] a, long offA, int lda, float[] b, long offB, int ldb, float beta, float[] c, long offC, int ldc) =>
        Run(transA, transB, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc, parallel: true);

    /// <summary>
    /// Strided batched SGEMM: matrix i of each operand starts at off + i * stride. Small matrices run one per
    /// thread in parallel; large ones run one after another, each parallel inside.
    /// </summary>
    public static void SgemmBatched(bool transA, bool transB, int m, int n, int k, float alpha,
        float[] a, long offA, int lda, long strideA, float[] b, long offB, int ldb, long strideB,
        float beta, float[] c, long offC, int ldc, long strideC, int batch)
    {
        if (batch <= 0) return;
        if (batch > 1 && m > 0 && n > 0)
        {
            // the last matrix of each operand, checked here: an error inside Parallel.For would arrive wrapped
            long last = batch - 1;
            Check("C", c, offC + last * strideC, m, n, ldc);
            if (k > 0 && alpha != 0)
            {
                if (transA) Check("A", a, offA + last * strideA, k, m, lda); else Check("A", a, offA + last * strideA, m, k, lda);
                if (transB) Check("B", b, offB + last * strideB, n, k, ldb); else Check("B", b, offB + last * strideB, k, n, ldb);
            }
        }
        if (batch == 1 || (long)m * n * k >= 1L << 22)
        {
            for (int i = 0; i < batch; i++)
                Run(transA, transB, m, n, k, alpha, a, offA + i * strideA, lda, b, offB + i * strideB, ldb, beta, c, offC + i * strideC, ldc, true);
            return;
        }
        Parallel.For(0, batch, CpuThreads.Options, i =>
            Run(transA, transB, m, n, k, alpha, a, offA + i * strideA, lda, b, offB + i * strideB, ldb, beta, c, offC + i * strideC, ldc, false));
    }

    static void Check(string name, float[] x, long off, int rows, int cols, int ld)
    {
        if (rows == 0 || cols == 0) return;
        if (ld < cols || off < 0 || off + (long)(rows - 1) * ld + cols > x.LongLength)
            throw new ArgumentException($"Sgemm: operand {name} ({rows}x{cols}, offset {off}, ld {ld}) does not fit its array of {x.LongLength} floats; check the shapes, offsets and leading dimensions passed to Gemm.");
    }

    static void Run(bool transA, bool transB, int m, int n, int k, float alpha,
        float[] a, long offA, int lda, float[] b, long offB, int ldb, float beta, float[] c, long offC, int ldc, bool parallel)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"Sgemm: negative size m={m}, n={n}, k={k}; pass non-negative matrix sizes.");
        if (m == 0 || n == 0) return;
        Check("C", c, offC, m, n, ldc);
        bool skipProduct = k == 0 || alpha == 0;
        if (!skipProduct)
        {
            if (transA) Check("A", a, offA, k, m, lda); else Check("A", a, offA, m, k, lda);
            if (transB) Check("B", b, offB, n, k, ldb); else Check("B", b, offB, k, n, ldb);
        }
        fixed (float* pa = a, pb = b, pc = c)
        {
            float* cp = pc + offC;
            if (skipProduct) { GemmDriver.ScaleC(m, n, beta, cp, ldc); return; }
            float* ap = pa + offA, bp = pb + offB;
            if (transA)
            {
                var sa = new ContigSource(ap, lda, alpha);
                if (transB) GemmDriver.Run(m, n, k, sa, new StridedSource(bp, ldb, 1f), beta, cp, ldc, parallel);
                else GemmDriver.Run(m, n, k, sa, new ContigSource(bp, ldb, 1f), beta, cp, ldc, parallel);
            }
            else
            {
                var sa = new StridedSource(ap, lda, alpha);
                if (transB) GemmDriver.Run(m, n, k, sa, new StridedSource(bp, ldb, 1f), beta, cp, ldc, parallel);
                else GemmDriver.Run(m, n, k, sa, new ContigSource(bp, ldb, 1f), beta, cp, ldc, parallel);
            }
        }
    }
}
