using System.Runtime.Intrinsics;

namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// GroupNorm over x [n, c, hw], groups of c/groups channels: y = (x - mu) * rstd * gamma + beta.
/// Statistics in double per (sample, group) (two passes: mean, then centred squares); parallel over
/// (sample, group). The reductions widen 8 floats at a time into Vector256&lt;double&gt; accumulators: a
/// scalar double chain is latency-bound (~4 cycles per element), which made this op ~20x slower than
/// PyTorch's at the model's shapes (bench/RESULTS.md).
/// With <c>silu</c>, y = SiLU(that) = v / (1 + exp(-v)) in the same pass (the fused GroupNorm+SiLU of the UNet blocks:
/// the normalised tensor is never written and read back; exp is Vector256.Exp, within a few ulp of MathF.Exp).
/// Backward: dx = rstd * (dy*gamma - mean(dy*gamma) - xhat * mean(dy*gamma*xhat)); dgamma, dbeta accumulate.
/// </summary>
static class CpuGroupNorm
{
    public static void Forward(int n, int c, int hw, int groups, float eps, float[] x, float[] gamma, float[] beta, float[] y, float[] mean, float[] rstd, bool silu = false)
    {
        int cg = c / groups;
        long cnt = (long)cg * hw;
        Parallel.For(0, n * groups, CpuThreads.Options, sg =>
        {
            int g = sg % groups;
            long b0 = (long)sg * cnt;
            var xs = x.AsSpan((int)b0, (int)cnt);
            double mu = Sum(xs) / cnt;
            double s2 = SumSquaredDeviations(xs, mu);
            float r = (float)(1.0 / Math.Sqrt(s2 / cnt + eps)), m = (float)mu;
            mean[sg] = m; rstd[sg] = r;
            for (int ch = 0; ch < cg; ch++)
            {
                int cc = g * cg + ch;
                // (x - m) first: the folded form x*a + (beta - m*a) cancels badly when |mean| >> std
                float a = r * gamma[cc], b = beta[cc];
                var xr = x.AsSpan((int)(b0 + (long)ch * hw), hw);
                var yr = y.AsSpan((int)(b0 + (long)ch * hw), hw);
                int i = 0;
                if (Vector256.IsHardwareAccelerated)
                {
                    Vector256<float> vm = Vector256.Create(m), va = Vector256.Create(a), vb = Vector256.Create(b);
                    if (silu)
                        for (; i <= hw - 8; i += 8)
                        {
                            var v = (Vector256.Create(xr.Slice(i, 8)) - vm) * va + vb;
                            (v / (Vector256<float>.One + Vector256.Exp(-v))).CopyTo(yr.Slice(i, 8));
                        }
                    else
                        for (; i <= hw - 8; i += 8) ((Vector256.Create(xr.Slice(i, 8)) - vm) * va + vb).CopyTo(yr.Slice(i, 8)); // no FMA: bitwise the scalar tail's result
                }
                for (; i < hw; i++)
                {
                    float v = (xr[i] - m) * a + b;
                    yr[i] = silu ? v / (1f + MathF.Exp(-v)) : v;
                }
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
        Parallel.For(0, n * groups, CpuThreads.Options, sg =>
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
                var (cdy, cdyx) = SumDyAndDyXhat(xr, dr, m, r);
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
                int i = 0;
                if (Vector256.IsHardwareAccelerated)
                {
                    Vector256<float> vm = Vector256.Create(m), vr = Vector256.Create(r), vg = Vector256.Create(gm), v1 = Vector256.Create(k1), v2 = Vector256.Create(k2);
                    for (; i <= hw - 8; i += 8)
                    {
                        var xh = (Vector256.Create(xr.Slice(i, 8)) - vm) * vr;
                        var v = vr * (Vector256.Create(dr.Slice(i, 8)) * vg - v1 - xh * v2);
                        if (accumulate) v += Vector256.Create(o.Slice(i, 8));
                        v.CopyTo(o.Slice(i, 8));
                    }
                }
                for (; i < hw; i++)
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

    /// <summary>sum v in double, 8 lanes at a time (two independent accumulator pairs).</summary>
    static double Sum(ReadOnlySpan<float> v)
    {
        int i = 0;
        double s = 0;
        if (Vector256.IsHardwareAccelerated && v.Length >= 16)
        {
            Vector256<double> a0 = Vector256<double>.Zero, a1 = a0, a2 = a0, a3 = a0;
            for (; i <= v.Length - 16; i += 16)
            {
                var (l0, h0) = Vector256.Widen(Vector256.Create(v.Slice(i, 8)));
                var (l1, h1) = Vector256.Widen(Vector256.Create(v.Slice(i + 8, 8)));
                a0 += l0; a1 += h0; a2 += l1; a3 += h1;
            }
            s = Vector256.Sum(a0 + a1 + (a2 + a3));
        }
        for (; i < v.Length; i++) s += v[i];
        return s;
    }

    /// <summary>(sum dy, sum dy * xhat) in double, xhat = (x - m) * r, in one sweep over x and dy (the backward used to
    /// read dy once more for the first sum): the lanes, accumulators and order of the two separate sums it replaced,
    /// so the results are the same bits; the product in float, as the scalar form.</summary>
    static (double, double) SumDyAndDyXhat(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, float m, float r)
    {
        int n = dy.Length, i = 0;
        double sdy = 0, sdyx = 0;
        bool wide = Vector256.IsHardwareAccelerated;
        Vector256<float> vm = Vector256.Create(m), vr = Vector256.Create(r);
        Vector256<double> b0 = Vector256<double>.Zero, b1 = b0;
        if (wide && n >= 16)
        {
            Vector256<double> a0 = Vector256<double>.Zero, a1 = a0, a2 = a0, a3 = a0;
            for (; i <= n - 16; i += 16)
            {
                Vector256<float> d0 = Vector256.Create(dy.Slice(i, 8)), d1 = Vector256.Create(dy.Slice(i + 8, 8));
                var (l0, h0) = Vector256.Widen(d0);
                var (l1, h1) = Vector256.Widen(d1);
                a0 += l0; a1 += h0; a2 += l1; a3 += h1;
                var (p0, q0) = Vector256.Widen(d0 * ((Vector256.Create(x.Slice(i, 8)) - vm) * vr));
                b0 += p0; b1 += q0;
                var (p1, q1) = Vector256.Widen(d1 * ((Vector256.Create(x.Slice(i + 8, 8)) - vm) * vr));
                b0 += p1; b1 += q1;
            }
            sdy = Vector256.Sum(a0 + a1 + (a2 + a3));
        }
        for (int k = i; k < n; k++) sdy += dy[k];
        if (wide && n >= 8)
        {
            for (; i <= n - 8; i += 8)
            {
                var (p, q) = Vector256.Widen(Vector256.Create(dy.Slice(i, 8)) * ((Vector256.Create(x.Slice(i, 8)) - vm) * vr));
                b0 += p; b1 += q;
            }
            sdyx = Vector256.Sum(b0 + b1);
        }
        for (; i < n; i++) sdyx += dy[i] * ((x[i] - m) * r);
        return (sdy, sdyx);
    }

    /// <summary>sum (v - mu)^2 in double.</summary>
    static double SumSquaredDeviations(ReadOnlySpan<float> v, double mu)
    {
        int i = 0;
        double s = 0;
        if (Vector256.IsHardwareAccelerated && v.Length >= 8)
        {
            var vm = Vector256.Create(mu);
            Vector256<double> a0 = Vector256<double>.Zero, a1 = a0;
            for (; i <= v.Length - 8; i += 8)
            {
                var (lo, hi) = Vector256.Widen(Vector256.Create(v.Slice(i, 8)));
                lo -= vm; hi -= vm;
                a0 = Vector256.FusedMultiplyAdd(lo, lo, a0);
                a1 = Vector256.FusedMultiplyAdd(hi, hi, a1);
            }
            s = Vector256.Sum(a0 + a1);
        }
        for (; i < v.Length; i++) { double d = v[i] - mu; s += d * d; }
        return s;
    }
}
