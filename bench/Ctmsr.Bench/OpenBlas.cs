using System.Runtime.InteropServices;

namespace Ctmsr.Bench;

/// <summary>cblas_sgemm from the system OpenBLAS (Debian libopenblas0-pthread), for comparison only.</summary>
static partial class OpenBlas
{
    const string Lib = "libopenblas.so.0";
    public const int RowMajor = 101, NoTrans = 111, Trans = 112;

    [LibraryImport(Lib, EntryPoint = "cblas_sgemm")]
    private static unsafe partial void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc);

    [LibraryImport(Lib, EntryPoint = "openblas_set_num_threads")]
    public static partial void SetThreads(int n);

    static bool? s_available;
    public static bool Available
    {
        get
        {
            s_available ??= NativeLibrary.TryLoad(Lib, out _);
            return s_available.Value;
        }
    }

    public static unsafe void Sgemm(bool ta, bool tb, int m, int n, int k, float alpha, float[] a, int lda, float[] b, int ldb, float beta, float[] c, int ldc)
    {
        fixed (float* pa = a, pb = b, pc = c)
            cblas_sgemm(RowMajor, ta ? Trans : NoTrans, tb ? Trans : NoTrans, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
    }
}
