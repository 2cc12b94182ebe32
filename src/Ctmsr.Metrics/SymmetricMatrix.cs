namespace Ctmsr.Metrics;

/// <summary>Small dense symmetric-matrix algebra for NIQE's 36x36 covariances.</summary>
public static class SymmetricMatrix
{
    /// <summary>Moore-Penrose inverse of a symmetric matrix by cyclic Jacobi eigendecomposition (numpy's cutoff 1e-15 * max |lambda|).</summary>
    public static double[,] PseudoInverse(double[,] m)
    {
        int n = m.GetLength(0);
        var a = (double[,])m.Clone();
        var v = new double[n, n];
        for (int i = 0; i < n; i++) v[i, i] = 1;
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0, all = 0;
            for (int p = 0; p < n; p++)
                for (int q = 0; q < n; q++) { all += a[p, q] * a[p, q]; if (q > p) off += a[p, q] * a[p, q]; }
            if (off <= 1e-30 * all) break;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++)
                {
                    if (a[p, q] == 0) continue;
                    double theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                    double t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double akp = a[k, p], akq = a[k, q];
                        a[k, p] = c * akp - s * akq; a[k, q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double apk = a[p, k], aqk = a[q, k];
                        a[p, k] = c * apk - s * aqk; a[q, k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double vkp = v[k, p], vkq = v[k, q];
                        v[k, p] = c * vkp - s * vkq; v[k, q] = s * vkp + c * vkq;
                    }
                }
        }
        double max = 0;
        for (int i = 0; i < n; i++) max = Math.Max(max, Math.Abs(a[i, i]));
        double cut = 1e-15 * max;
        var r = new double[n, n];
        for (int k = 0; k < n; k++)
        {
            double l = a[k, k];
            if (Math.Abs(l) <= cut) continue;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) r[i, j] += v[i, k] * v[j, k] / l;
        }
        return r;
    }
}
