using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// GroupNorm over x [n, c, hw], groups of c/groups channels: y = (x - mu) * rstd * gamma + beta.
/// Statistics per (sample, group) in two passes (mean, then centred squares), totals in double; parallel over
/// (sample, group). With AVX-512 the sums run in 16-float lanes over blocks of <see cref="SumBlock"/> elements, each
/// block's total added into a double (a lane rounds over at most 16 terms); without it they widen 8 floats at a time
/// into Vector256&lt;double&gt; accumulators. (A scalar double chain is latency-bound, ~4 cycles per element: it made
/// this op ~20x slower than PyTorch's at the model's shapes, bench/RESULTS.md; the double lanes 0.4-0.5x in backward.)
/// With <c>silu</c>, y = SiLU(that) = v / (1 + exp(-v)) in the same pass (the fused GroupNorm+SiLU of the UNet blocks:
/// the normalised tensor is never written and read back; exp is <see cref="CpuExp"/>'s in 16 lanes with AVX-512, else
/// Vector256.Exp, within a few ulp of MathF.Exp).
/// Backward: dx = rstd * (dy*gamma - mean(dy*gamma) - xhat * mean(dy*gamma*xhat)); dgamma, dbeta accumulate.
/// </summary>
public static class CpuGroupNorm
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
            bool wide = Vector512.IsHardwareAccelerated;
            double mu = (wide ? SumWide(xs) : Sum(xs)) / cnt;
            // about a float mu_f: sum (x - mu_f)^2 = sum (x - mu)^2 + cnt (mu - mu_f)^2, as sum (x - mu) = 0
            double s2 = wide ? SumSquaredDeviationsWide(xs, (float)mu) - cnt * (mu - (float)mu) * (mu - (float)mu) : SumSquaredDeviations(xs, mu);
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
                if (silu && CpuExp.Supported)
                {
                    Vector512<float> vm = Vector512.Create(m), va = Vector512.Create(a), vb = Vector512.Create(b);
                    for (; i <= hw - 16; i += 16)
                    {
                        var v = (Vector512.Create(xr.Slice(i, 16)) - vm) * va + vb;
                        CpuActivation.SiluWide(v).CopyTo(yr.Slice(i, 16));
                    }
                }
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

    /// <summary>The backward in 16-float lanes where AVX-512 runs them, else in double lanes (below).</summary>
    public static void Backward(int n, int c, int hw, int groups, float[] x, float[] gamma, float[] mean, float[] rstd, float[] dy,
        float[] dx, bool accumulate, float[] dgamma, float[] dbeta)
    {
        Backward(n, c, hw, groups, x, gamma, mean, rstd, dy, dx, accumulate, dgamma, dbeta, wide: Vector512.IsHardwareAccelerated);
    }

    /// <summary>Floats summed per lane before they reach a double: 16 per accumulator lane in a block.</summary>
    const int SumBlock = 512;

    /// <summary>
    /// The backward. With <paramref name="wide"/> (AVX-512; issue 14: the double-lane form ran at 0.4-0.5x PyTorch's) per
    /// channel sum dy and sum dy*(x - mean) go into 16-float accumulators over blocks of <see cref="SumBlock"/> elements,
    /// each block's total into a double (the float part rounds over at most 16 terms a lane; the centred product keeps a
    /// large mean from cancelling), and dx = dy (rstd gamma) - ((x - mean) (rstd^2 k2) + rstd k1) takes two FMAs a vector
    /// while the group is still in cache; without it the sums widen into double lanes and dx is formed as the scalar form.
    /// </summary>
    public static void Backward(int n, int c, int hw, int groups, float[] x, float[] gamma, float[] mean, float[] rstd, float[] dy,
        float[] dx, bool accumulate, float[] dgamma, float[] dbeta, bool wide)
    {
        int cg = c / groups;
        long cnt = (long)cg * hw;
        // per (sample, channel) sums of dy and dy*xhat; reduced over samples afterwards (deterministic order)
        var sdy = new double[n * c];
        var sdyx = new double[n * c];
        Parallel.For(0, n * groups, CpuThreads.Options, sg =>
        {
            int g = sg % groups;
            long b0 = (long)sg * cnt;
            float m = mean[sg], r = rstd[sg];
            var (k1, k2) = ChannelSums(sg, groups, c, hw, x, gamma, dy, m, r, sdy, sdyx, wide);
            for (int ch = 0; ch < cg; ch++)
            {
                int cc = g * cg + ch, o0 = (int)(b0 + (long)ch * hw);
                if (wide) DxWide(x, dy, dx, o0, hw, m, r, gamma[cc], k1, k2, accumulate);
                else DxDouble(x, dy, dx, o0, hw, m, r, gamma[cc], k1, k2, accumulate);
            }
        });
        ReduceOverSamples(n, c, sdy, sdyx, dgamma, dbeta);
    }

    /// <summary>dx over one channel row [o0, o0 + hw), 16-float vectors, two FMAs each.</summary>
    static void DxWide(float[] x, float[] dy, float[] dx, int o0, int hw, float m, float r, float gm, float k1, float k2, bool accumulate)
    {
        float ga = r * gm, kb = r * r * k2, kc = r * k1;
        ref float px = ref x[o0];
        ref float pd = ref dy[o0];
        ref float po = ref dx[o0];
        int i = 0;
        Vector512<float> vm = Vector512.Create(m), va = Vector512.Create(ga), vb = Vector512.Create(kb), vc = Vector512.Create(kc);
        for (; i <= hw - 16; i += 16)
        {
            var t = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref px, (nuint)i) - vm, vb, vc);
            var v = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref pd, (nuint)i), va, -t);
            if (accumulate) v += Vector512.LoadUnsafe(ref po, (nuint)i);
            v.StoreUnsafe(ref po, (nuint)i);
        }
        for (; i < hw; i++)
        {
            float v = MathF.FusedMultiplyAdd(Unsafe.Add(ref pd, i), ga, -MathF.FusedMultiplyAdd(Unsafe.Add(ref px, i) - m, kb, kc));
            Unsafe.Add(ref po, i) = accumulate ? Unsafe.Add(ref po, i) + v : v;
        }
    }

    /// <summary>dx over one channel row, 8-float vectors: r (dy gamma - k1 - xhat k2) as the scalar form.</summary>
    public static void DxDouble(float[] x, float[] dy, float[] dx, int o0, int hw, float m, float r, float gm, float k1, float k2, bool accumulate)
    {
        var xr = x.AsSpan(o0, hw);
        var dr = dy.AsSpan(o0, hw);
        var o = dx.AsSpan(o0, hw);
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

    /// <summary>
    /// Per channel of (sample, group) <paramref name="sg"/>: sum dy and sum dy*xhat into <paramref name="sdy"/>,
    /// <paramref name="sdyx"/> [n, c] (16-float lanes with <paramref name="wide"/>, else double lanes); returns the
    /// group's means k1 = mean(dy gamma), k2 = mean(dy gamma xhat) that the dx pass uses.
    /// </summary>
    static (float K1, float K2) ChannelSums(int sg, int groups, int c, int hw, float[] x, float[] gamma, float[] dy, float m, float r,
        double[] sdy, double[] sdyx, bool wide)
    {
        int s = sg / groups, g = sg % groups, cg = c / groups;
        long cnt = (long)cg * hw, b0 = sg * cnt;
        double a1 = 0, a2 = 0;
        for (int ch = 0; ch < cg; ch++)
        {
            int cc = g * cg + ch;
            var xr = x.AsSpan((int)(b0 + (long)ch * hw), hw);
            var dr = dy.AsSpan((int)(b0 + (long)ch * hw), hw);
            double cdy, cdyx;
            if (wide) { (cdy, cdyx) = SumsDyAndDyCentred(xr, dr, m); cdyx *= r; }
            else (cdy, cdyx) = SumDyAndDyXhat(xr, dr, m, r);
            sdy[s * c + cc] = cdy; sdyx[s * c + cc] = cdyx;
            a1 += cdy * gamma[cc]; a2 += cdyx * gamma[cc];
        }
        return ((float)(a1 / cnt), (float)(a2 / cnt));
    }

    /// <summary>(sum dy, sum dy (x - m)): float lanes within a block of <see cref="SumBlock"/>, doubles across blocks.</summary>
    static (double Dy, double DyXc) SumsDyAndDyCentred(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, float m)
    {
        int n = x.Length, i = 0;
        double s1 = 0, s2 = 0;
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float pd = ref MemoryMarshal.GetReference(dy);
        var vm = Vector512.Create(m);
        while (n - i >= 32)
        {
            int end = i + Math.Min(SumBlock, (n - i) & ~31);
            Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, p0 = a0, p1 = a0;
            for (; i < end; i += 32)
            {
                var d0 = Vector512.LoadUnsafe(ref pd, (nuint)i);
                var d1 = Vector512.LoadUnsafe(ref pd, (nuint)(i + 16));
                a0 += d0; a1 += d1;
                p0 = Vector512.FusedMultiplyAdd(d0, Vector512.LoadUnsafe(ref px, (nuint)i) - vm, p0);
                p1 = Vector512.FusedMultiplyAdd(d1, Vector512.LoadUnsafe(ref px, (nuint)(i + 16)) - vm, p1);
            }
            s1 += Vector512.Sum(a0 + a1); s2 += Vector512.Sum(p0 + p1);
        }
        for (; i < n; i++) { s1 += dy[i]; s2 += dy[i] * (x[i] - m); }
        return (s1, s2);
    }

    /// <summary>dgamma, dbeta += the per-(sample, channel) sums, over samples in order (deterministic).</summary>
    static void ReduceOverSamples(int n, int c, double[] sdy, double[] sdyx, float[] dgamma, float[] dbeta)
    {
        for (int cc = 0; cc < c; cc++)
        {
            double a = 0, b = 0;
            for (int s = 0; s < n; s++) { a += sdyx[s * c + cc]; b += sdy[s * c + cc]; }
            dgamma[cc] += (float)a; dbeta[cc] += (float)b;
        }
    }

    /// <summary>sum v in double, 8 lanes at a time (two independent accumulator pairs).</summary>
    /// <summary>sum v in double as the statistics take it (16-float lanes over blocks of <see cref="SumBlock"/>, else double
    /// lanes): also the convolutions' bias gradient and <see cref="CpuBackend.SumInner"/>, where a scalar double chain
    /// (~4 cycles an element) ran on one thread.</summary>
    internal static double Total(ReadOnlySpan<float> v) => Vector512.IsHardwareAccelerated ? SumWide(v) : Sum(v);

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

    /// <summary>sum v: float lanes within blocks of <see cref="SumBlock"/>, doubles across blocks.</summary>
    static double SumWide(ReadOnlySpan<float> v)
    {
        int n = v.Length, i = 0;
        double s = 0;
        ref float p = ref MemoryMarshal.GetReference(v);
        while (n - i >= 32)
        {
            int end = i + Math.Min(SumBlock, (n - i) & ~31);
            Vector512<float> a0 = Vector512<float>.Zero, a1 = a0;
            for (; i < end; i += 32) { a0 += Vector512.LoadUnsafe(ref p, (nuint)i); a1 += Vector512.LoadUnsafe(ref p, (nuint)(i + 16)); }
            s += Vector512.Sum(a0 + a1);
        }
        for (; i < n; i++) s += v[i];
        return s;
    }

    /// <summary>sum (v - mu)^2 as <see cref="SumWide"/>; mu is the double mean rounded to float, so the centred values
    /// are exact differences of nearby floats where it matters (|v - mu| small).</summary>
    static double SumSquaredDeviationsWide(ReadOnlySpan<float> v, float mu)
    {
        int n = v.Length, i = 0;
        double s = 0;
        ref float p = ref MemoryMarshal.GetReference(v);
        var vm = Vector512.Create(mu);
        while (n - i >= 32)
        {
            int end = i + Math.Min(SumBlock, (n - i) & ~31);
            Vector512<float> a0 = Vector512<float>.Zero, a1 = a0;
            for (; i < end; i += 32)
            {
                var d0 = Vector512.LoadUnsafe(ref p, (nuint)i) - vm;
                var d1 = Vector512.LoadUnsafe(ref p, (nuint)(i + 16)) - vm;
                a0 = Vector512.FusedMultiplyAdd(d0, d0, a0); a1 = Vector512.FusedMultiplyAdd(d1, d1, a1);
            }
            s += Vector512.Sum(a0 + a1);
        }
        for (; i < n; i++) { double d = v[i] - mu; s += d * d; }
        return s;
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
