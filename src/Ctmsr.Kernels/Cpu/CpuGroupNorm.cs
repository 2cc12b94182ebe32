namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// GroupNorm over x [n, c, hw], groups of c/groups channels: y = (x - mu) * rstd * gamma + beta.
/// Statistics in double per (sample, group); parallel over (sample, group).
/// Backward: dx = rstd * (dy*gamma - mean(dy*gamma) - xhat * mean(dy*gamma*xhat)); dgamma, dbeta accumulate.
/// </summary>
static class CpuGroupNorm
{
    public static void Forward(int n, int c, int hw, int groups, float eps, float[] x, float[] gamma, float[] beta, float[] y, float[] mean, float[] rstd)
    {
        int cg = c / groups;
        long cnt = (long)cg * hw;
        Parallel.For(0, n * groups, sg =>
        {
            int g = sg % groups;
            long b0 = (long)sg * cnt;
            var xs = x.AsSpan((int)b0, (int)cnt);
            double s = 0, s2 = 0;
            foreach (float v in xs) s += v;
            double mu = s / cnt;
            foreach (float v in xs) { double d = v - mu; s2 += d * d; }
            float r = (float)(1.0 / Math.Sqrt(s2 / cnt + eps)), m = (float)mu;
            mean[sg] = m; rstd[sg] = r;
            for (int ch = 0; ch < cg; ch++)
            {
                int cc = g * cg + ch;
                // (x - m) first: the folded form x*a + (beta - m*a) cancels badly when |mean| >> std
                float a = r * gamma[cc], b = beta[cc];
                var xr = x.AsSpan((int)(b0 + (long)ch * hw), hw);
                var yr = y.AsSpan((int)(b0 + (long)ch * hw), hw);
                for (int i = 0; i < hw; i++) yr[i] = (xr[i] - m) * a + b;
            }
        });
    }

    public static void Backward(int n, int c, int hw, int groups, float[] x, float[] gamma, float[] mean, float[] rstd, float[] dy,
        float[] dx, bool accumulate, float[] dgamma, float[] dbeta)
    {
        int cg = c / groups;
        long cnt = (long)cg * hw;
        // per (sample, channel) sums of dy and dy*xhat; reduced over samples afterwards (deterministic order)
        var sdy = new double[n * c];
        var sdyx = new double[n * c];
        Parallel.For(0, n * groups, sg =>
        {
            int s = sg / groups, g = sg % groups;
            long b0 = (long)sg * cnt;
            float m = mean[sg], r = rstd[sg];
            double a1 = 0, a2 = 0;
            for (int ch = 0; ch < cg; ch++)
            {
                int cc = g * cg + ch;
                var xr = x.AsSpan((int)(b0 + (long)ch * hw), hw);
                var dr = dy.AsSpan((int)(b0 + (long)ch * hw), hw);
                double cdy = 0, cdyx = 0;
                for (int i = 0; i < hw; i++) { float xh = (xr[i] - m) * r; cdy += dr[i]; cdyx += dr[i] * xh; }
                sdy[s * c + cc] = cdy; sdyx[s * c + cc] = cdyx;
                a1 += cdy * gamma[cc]; a2 += cdyx * gamma[cc];
            }
            float k1 = (float)(a1 / cnt), k2 = (float)(a2 / cnt);
            for (int ch = 0; ch < cg; ch++)
            {
                int cc = g * cg + ch;
                float gm = gamma[cc];
                var xr = x.AsSpan((int)(b0 + (long)ch * hw), hw);
                var dr = dy.AsSpan((int)(b0 + (long)ch * hw), hw);
                var o = dx.AsSpan((int)(b0 + (long)ch * hw), hw);
                for (int i = 0; i < hw; i++)
                {
                    float xh = (xr[i] - m) * r;
                    float v = r * (dr[i] * gm - k1 - xh * k2);
                    o[i] = accumulate ? o[i] + v : v;
                }
            }
        });
        for (int cc = 0; cc < c; cc++)
        {
            double a = 0, b = 0;
            for (int s = 0; s < n; s++) { a += sdyx[s * c + cc]; b += sdy[s * c + cc]; }
            dgamma[cc] += (float)a; dbeta[cc] += (float)b;
        }
    }
}
