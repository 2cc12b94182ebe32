using Ctmsr.Kernels.Cpu;

namespace Ctmsr.Tests.Cpu;

/// <summary>CpuGemm.Sgemm against a float64 triple loop written from the definition.</summary>
public class CpuGemmTests
{
    static float[] Rand(Random r, long n) { var x = new float[n]; for (long i = 0; i < n; i++) x[i] = (float)(r.NextDouble() * 2 - 1); return x; }

    static double[] Expected(bool ta, bool tb, int m, int n, int k, float alpha, float[] a, long oa, int lda,
        float[] b, long ob, int ldb, float beta, float[] c, long oc, int ldc)
    {
        var e = new double[(long)m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                    s += (double)(ta ? a[oa + (long)p * lda + i] : a[oa + (long)i * lda + p]) * (tb ? b[ob + (long)j * ldb + p] : b[ob + (long)p * ldb + j]);
                e[(long)i * n + j] = alpha * s + (beta == 0 ? 0 : beta * (double)c[oc + (long)i * ldc + j]);
            }
        return e;
    }

    static void Check(bool ta, bool tb, int m, int n, int k, float alpha, float beta, int pad, long off, bool nanC = false)
    {
        var r = new Random(m * 7919 + n * 31 + k + (ta ? 1 : 0) + (tb ? 2 : 0));
        int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
        long oa = off, ob = off * 2, oc = off * 3;
        var a = Rand(r, oa + (long)(ta ? k : m) * lda + 1);
        var b = Rand(r, ob + (long)(tb ? n : k) * ldb + 1);
        var c = Rand(r, oc + (long)m * ldc + 1);
        if (nanC) Array.Fill(c, float.NaN);
        var cOrig = (float[])c.Clone();
        var e = Expected(ta, tb, m, n, k, alpha, a, oa, lda, b, ob, ldb, beta, c, oc, ldc);
        CpuGemm.Sgemm(ta, tb, m, n, k, alpha, a, oa, lda, b, ob, ldb, beta, c, oc, ldc);
        double err = 0, norm = 0;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double d = c[oc + (long)i * ldc + j] - e[(long)i * n + j];
                err += d * d; norm += e[(long)i * n + j] * e[(long)i * n + j];
            }
        Assert.That(Math.Sqrt(err / Math.Max(norm, 1e-30)), Is.LessThan(1e-5), $"ta={ta} tb={tb} {m}x{n}x{k}");
        // Everything outside the m x n window (padding columns, prefix) must be untouched.
        for (long i = 0; i < c.LongLength; i++)
        {
            long rel = i - oc;
            bool inside = rel >= 0 && rel < (long)m * ldc && rel % ldc < n;
            if (!inside && !(float.IsNaN(cOrig[i]) && float.IsNaN(c[i]))) Assert.That(c[i], Is.EqualTo(cOrig[i]), $"C[{i}] outside the window changed");
        }
    }

    static readonly int[][] Sizes = [[1, 1, 1], [7, 13, 5], [33, 65, 129], [300, 17, 257], [12, 32, 256], [25, 70, 3], [130, 520, 300]];

    [Test]
    public void EveryRowEdgeOfThe12RowPanel([Values(0f, 0.5f)] float beta)
    {
        // m = 12q + r for r = 0..11 reaches the full panel kernel and each row-edge kernel (n a multiple of 32).
        for (int m = 1; m <= 24; m++) Check(false, false, m, 64, 37, 1f, beta, 1, 0);
    }

    [Test]
    public void AllTransposeCombos_AwkwardSizes([Values(false, true)] bool ta, [Values(false, true)] bool tb)
    {
        foreach (var s in Sizes) Check(ta, tb, s[0], s[1], s[2], 1f, 0f, 0, 0);
    }

    [Test]
    public void OffsetsLeadingDimsAlphaBeta([Values(false, true)] bool ta, [Values(false, true)] bool tb)
    {
        foreach (var s in Sizes) Check(ta, tb, s[0], s[1], s[2], 0.75f, -1.5f, 3, 5);
    }

    [Test]
    public void BetaZeroIgnoresNaN([Values(false, true)] bool ta, [Values(false, true)] bool tb)
    {
        Check(ta, tb, 37, 45, 19, 1.25f, 0f, 2, 1, nanC: true);
        Check(ta, tb, 300, 17, 257, 1f, 0f, 0, 0, nanC: true);
    }

    [Test, NonParallelizable]
    public void AReadInPlaceGivesThePackedKernelsBits([Values(false, true)] bool ta, [Values(0f, 0.5f)] float beta)
    {
        // alpha 1: full 12-row blocks of A are read in place when a block serves at most UnpackedAPanels column panels
        // (n <= 128 here), row-major (ta false) or stored [k, m] (ta true); a partial last column panel and the row edges
        // still pack. Both routes must give the same bits (same products, same order) and match float64.
        foreach (var (m, n, k) in new[] { (24, 64, 300), (37, 100, 65), (384, 64, 520), (12, 32, 1), (50, 128, 257), (25, 600, 40) })
        {
            var r = new Random(m * 131 + n * 7 + k + (ta ? 1 : 0));
            int lda = (ta ? m : k) + 3;
            var a = Rand(r, (long)(ta ? k : m) * lda); var b = Rand(r, (long)k * n); var c0 = Rand(r, (long)m * n);
            float[] Run(bool inPlace)
            {
                var c = (float[])c0.Clone();
                bool was = CpuGemm.UnpackedA;
                CpuGemm.UnpackedA = inPlace;
                try { CpuGemm.Sgemm(ta, false, m, n, k, 1f, a, 0, lda, b, 0, n, beta, c, 0, n); }
                finally { CpuGemm.UnpackedA = was; }
                return c;
            }
            var packed = Run(false); var inPlace = Run(true);
            for (int i = 0; i < packed.Length; i++)
                if (BitConverter.SingleToInt32Bits(packed[i]) != BitConverter.SingleToInt32Bits(inPlace[i]))
                    Assert.Fail($"ta={ta} {m}x{n}x{k}: element {i} packed {packed[i]} in place {inPlace[i]}");
        }
        Check(ta, false, 384, 64, 520, 1f, beta, 3, 5);
    }

    [Test]
    public void LargeParallel() => Check(false, false, 515, 1030, 600, 1f, 1f, 1, 0);

    [Test]
    public void KZeroOrAlphaZeroScalesC()
    {
        var c = new float[] { 1, 2, float.NaN, 4 };
        CpuGemm.Sgemm(false, false, 2, 2, 0, 1f, [], 0, 1, [], 0, 2, 0f, c, 0, 2);
        Assert.That(c, Is.EqualTo(new float[] { 0, 0, 0, 0 }));
        var d = new float[] { 1, 2, 3, 4 };
        CpuGemm.Sgemm(false, false, 2, 2, 1, 0f, [1, 1], 0, 1, [1, 1], 0, 2, 2f, d, 0, 2);
        Assert.That(d, Is.EqualTo(new float[] { 2, 4, 6, 8 }));
    }

    [Test]
    public void Batched([Values(false, true)] bool ta, [Values(false, true)] bool tb)
    {
        int m = 49, n = 32, k = 49, batch = 6; // window-attention-like
        var r = new Random(3);
        long sa = m * k + 3, sb = k * n + 5, sc = m * n + 7;
        var a = Rand(r, sa * batch); var b = Rand(r, sb * batch); var c = Rand(r, sc * batch);
        var c0 = (float[])c.Clone();
        CpuGemm.SgemmBatched(ta, tb, m, n, k, 0.5f, a, 0, ta ? m : k, sa, b, 0, tb ? k : n, sb, 0.25f, c, 0, n, sc, batch);
        for (int i = 0; i < batch; i++)
        {
            var e = Expected(ta, tb, m, n, k, 0.5f, a, i * sa, ta ? m : k, b, i * sb, tb ? k : n, 0.25f, c0, i * sc, n);
            for (int q = 0; q < m * n; q++) Assert.That(c[i * sc + q], Is.EqualTo(e[q]).Within(1e-4));
        }
    }

    [Test]
    public void BadOffsetThrowsWithMessage()
    {
        var ex = Assert.Throws<ArgumentException>(() => CpuGemm.Sgemm(false, false, 4, 4, 4, 1f, new float[15], 0, 4, new float[16], 0, 4, 0f, new float[16], 0, 4));
        Assert.That(ex!.Message, Does.Contain("operand A"));
    }
}
