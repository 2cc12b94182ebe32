using System.Numerics;

namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// Row-major SGEMM on host arrays: C = alpha * op(A) op(B) + beta * C.
/// Placeholder implementation (row-parallel, vectorised over n); the packed, register-blocked
/// kernel replaces it behind the same signature.
/// </summary>
public static class CpuGemm
{
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float[] a, long offA, int lda, float[] b, long offB, int ldb, float beta, float[] c, long offC, int ldc)
    {
        // Bring B into [k, n] row-major so the inner loop runs over contiguous n.
        float[] bt = b; long ob = offB; int ldbt = ldb;
        if (transB)
        {
            bt = new float[(long)k * n]; ob = 0; ldbt = n;
            for (int j = 0; j < n; j++)
                for (int p = 0; p < k; p++) bt[(long)p * n + j] = b[offB + (long)j * ldb + p];
        }
        Parallel.For(0, m, i =>
        {
            var row = c.AsSpan((int)(offC + (long)i * ldc), n);
            if (beta == 0) row.Clear(); else if (beta != 1) for (int j = 0; j < n; j++) row[j] *= beta;
            int vw = Vector<float>.Count;
            for (int p = 0; p < k; p++)
            {
                float av = alpha * (transA ? a[offA + (long)p * lda + i] : a[offA + (long)i * lda + p]);
                if (av == 0) continue;
                var brow = bt.AsSpan((int)(ob + (long)p * ldbt), n);
                var va = new Vector<float>(av);
                int j = 0;
                for (; j <= n - vw; j += vw)
                    (new Vector<float>(row.Slice(j)) + va * new Vector<float>(brow.Slice(j))).CopyTo(row.Slice(j));
                for (; j < n; j++) row[j] += av * brow[j];
            }
        });
    }
}
