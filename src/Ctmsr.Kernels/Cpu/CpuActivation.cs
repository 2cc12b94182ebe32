using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// GELU, SiLU and LeakyReLU forward and backward, 8 floats at a time (the other activations stay in <see cref="CpuMath"/>'s
/// scalar loop). LeakyReLU (x > 0 ? x : slope x) is bitwise the scalar loop's; its per-element switch ran at 0.4 GB/s,
/// 4-7% of the tiny and small forwards (the two LeakyReLUs at the HR size).
/// GELU(x) = 0.5 x (1 + erf(x / sqrt 2)), erf from the same Chebyshev-fitted erfc as <see cref="CpuMath.Erf"/>;
/// GELU'(x) = 0.5 (1 + erf(x / sqrt 2)) + x exp(-x^2 / 2) / sqrt(2 pi). With AVX-512 in 16-float lanes (issue 14: the
/// double lanes ran at ~1 GB/s, 2.6% of the x4 forward and 7% of tiny's at LR 256), else 8 at a time with erf in double
/// lanes (Vector256.Exp in place of Math.Exp). The scalar loop ran at ~0.1 GB/s, 8-16% of every config's forward.
/// SiLU(x) = x / (1 + exp(-x)), SiLU'(x) = s (1 + x (1 - s)) with s = 1 / (1 + exp(-x)), in 16-float lanes (8 with
/// Vector256.Exp without AVX-512). The 16-lane paths of both take exp from <see cref="CpuExp"/>. The scalar loop (MathF.Exp per
/// element) ran at ~2 GB/s: 4.7% of an x4 train step (issue 14). It was kept scalar once because the golden gradient
/// test's error rose with the vector exp; that was LeakyReLU inputs rounded across the kink
/// (Ctmsr.Model.Verification.KinkAlignedBackend), not SiLU.
/// </summary>
public static class CpuActivation
{
    public static bool Handles(Activation act) => Vector256.IsHardwareAccelerated && act is Activation.Gelu or Activation.LeakyReLU or Activation.SiLU;

    public static void Forward(Activation act, float slope, float[] x, float[] y, int s, int e)
    {
        if (act == Activation.Gelu) { GeluForward(x, y, s, e, CpuExp.Supported); return; }
        if (act == Activation.SiLU) { SiluForward(x, y, s, e, CpuExp.Supported); return; }
        int i = s;
        var vs = Vector256.Create(slope);
        for (; i <= e - 8; i += 8)
        {
            var v = Vector256.Create(x.AsSpan(i, 8));
            Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<float>.Zero), v, v * vs).CopyTo(y.AsSpan(i, 8));
        }
        for (; i < e; i++) y[i] = CpuMath.Act(act, slope, x[i]);
    }

    public static void Backward(Activation act, float slope, float[] x, float[] dy, float[] dx, bool accumulate, int s, int e)
    {
        if (act == Activation.Gelu) { GeluBackward(x, dy, dx, accumulate, s, e, CpuExp.Supported); return; }
        if (act == Activation.SiLU) { SiluBackward(x, dy, dx, accumulate, s, e, CpuExp.Supported); return; }
        int i = s;
        var vs = Vector256.Create(slope);
        for (; i <= e - 8; i += 8)
        {
            var g = Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.Create(x.AsSpan(i, 8)), Vector256<float>.Zero), Vector256<float>.One, vs);
            var d = Vector256.Create(dy.AsSpan(i, 8)) * g;
            if (accumulate) d = Vector256.Create(dx.AsSpan(i, 8)) + d;
            d.CopyTo(dx.AsSpan(i, 8));
        }
        for (; i < e; i++)
        {
            float d = dy[i] * CpuMath.ActGrad(act, slope, x[i]);
            dx[i] = accumulate ? dx[i] + d : d;
        }
    }

    /// <summary>y = SiLU(x) over [s, e): 16 floats at a time with <paramref name="wide"/>, else 8.</summary>
    public static void SiluForward(float[] x, float[] y, int s, int e, bool wide)
    {
        int i = s;
        if (wide)
            for (; i <= e - 16; i += 16)
            {
                var v = Vector512.Create(x.AsSpan(i, 16));
                SiluWide(v).CopyTo(y.AsSpan(i, 16));
            }
        for (; i <= e - 8; i += 8)
        {
            var v = Vector256.Create(x.AsSpan(i, 8));
            (v / (Vector256<float>.One + Vector256.Exp(-v))).CopyTo(y.AsSpan(i, 8));
        }
        for (; i < e; i++) y[i] = CpuMath.Act(Activation.SiLU, 0f, x[i]);
    }

    /// <summary>SiLU(x) = x / (1 + exp(-x)) of 16 floats, the wide path of <see cref="SiluForward"/> (also the fused
    /// GroupNorm+SiLU's).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> SiluWide(Vector512<float> x) => x / (Vector512<float>.One + CpuExp.Exp(-x));

    /// <summary>dx (=/+=) dy * SiLU'(x) over [s, e); lanes as <see cref="SiluForward"/>.</summary>
    public static void SiluBackward(float[] x, float[] dy, float[] dx, bool accumulate, int s, int e, bool wide)
    {
        int i = s;
        if (wide)
            for (; i <= e - 16; i += 16)
            {
                var v = Vector512.Create(x.AsSpan(i, 16));
                var one = Vector512<float>.One;
                var sg = one / (one + CpuExp.Exp(-v));
                var d = Vector512.Create(dy.AsSpan(i, 16)) * (sg * (one + v * (one - sg)));
                if (accumulate) d = Vector512.Create(dx.AsSpan(i, 16)) + d;
                d.CopyTo(dx.AsSpan(i, 16));
            }
        for (; i <= e - 8; i += 8)
        {
            var v = Vector256.Create(x.AsSpan(i, 8));
            var one = Vector256<float>.One;
            var sg = one / (one + Vector256.Exp(-v));
            var d = Vector256.Create(dy.AsSpan(i, 8)) * (sg * (one + v * (one - sg)));
            if (accumulate) d = Vector256.Create(dx.AsSpan(i, 8)) + d;
            d.CopyTo(dx.AsSpan(i, 8));
        }
        for (; i < e; i++)
        {
            float d = dy[i] * CpuMath.ActGrad(Activation.SiLU, 0f, x[i]);
            dx[i] = accumulate ? dx[i] + d : d;
        }
    }

    const float InvSqrt2 = 0.70710678118654752f, InvSqrt2Pi = 0.3989422804014327f;

    /// <summary>y = GELU(x) over [s, e): with <paramref name="wide"/> in 16-float lanes (<see cref="PhiWide"/>), else 8 at a
    /// time with erf in double lanes.</summary>
    public static void GeluForward(float[] x, float[] y, int s, int e, bool wide)
    {
        int i = s;
        if (wide)
            for (; i <= e - 16; i += 16)
            {
                var v = Vector512.Create(x.AsSpan(i, 16));
                GeluWide(v).CopyTo(y.AsSpan(i, 16));
            }
        for (; i <= e - 8; i += 8)
        {
            var v = Vector256.Create(x.AsSpan(i, 8));
            (Vector256.Create(0.5f) * v * (Vector256<float>.One + Erf(v * Vector256.Create(InvSqrt2)))).CopyTo(y.AsSpan(i, 8));
        }
        for (; i < e; i++) y[i] = CpuMath.Act(Activation.Gelu, 0f, x[i]);
    }

    /// <summary>dx (=/+=) dy * GELU'(x) over [s, e), GELU'(x) = Phi(x) + x phi(x); lanes as <see cref="GeluForward"/>.</summary>
    public static void GeluBackward(float[] x, float[] dy, float[] dx, bool accumulate, int s, int e, bool wide)
    {
        int i = s;
        if (wide)
            for (; i <= e - 16; i += 16)
            {
                var v = Vector512.Create(x.AsSpan(i, 16));
                var g = PhiWide(v) + v * CpuExp.Exp(Vector512.Create(-0.5f) * v * v) * Vector512.Create(InvSqrt2Pi);
                var d = Vector512.Create(dy.AsSpan(i, 16)) * g;
                if (accumulate) d = Vector512.Create(dx.AsSpan(i, 16)) + d;
                d.CopyTo(dx.AsSpan(i, 16));
            }
        for (; i <= e - 8; i += 8)
        {
            var v = Vector256.Create(x.AsSpan(i, 8));
            var g = Vector256.Create(0.5f) * (Vector256<float>.One + Erf(v * Vector256.Create(InvSqrt2)))
                    + v * Vector256.Exp(Vector256.Create(-0.5f) * v * v) * Vector256.Create(InvSqrt2Pi);
            var d = Vector256.Create(dy.AsSpan(i, 8)) * g;
            if (accumulate) d = Vector256.Create(dx.AsSpan(i, 8)) + d;
            d.CopyTo(dx.AsSpan(i, 8));
        }
        for (; i < e; i++)
        {
            float d = dy[i] * CpuMath.ActGrad(Activation.Gelu, 0f, x[i]);
            dx[i] = accumulate ? dx[i] + d : d;
        }
    }

    /// <summary>GELU(x) = x Phi(x) of 16 floats, the wide path of <see cref="GeluForward"/> (also the GEMM epilogue's).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> GeluWide(Vector512<float> x) => x * PhiWide(x);

    /// <summary>
    /// Phi(x) = 0.5 (1 + erf(x / sqrt 2)) of 16 floats, in float: the
    /// same Chebyshev-fitted erfc(z) = t exp(-z^2 - 1.26551223 + t P(t)), t = 1 / (1 + z / 2), z = |x| / sqrt 2, as the
    /// double form (fractional error below 1.2e-7 for every z), so Phi = 1 - erfc / 2 for x &gt;= 0 and erfc / 2 below keeps
    /// the tail relative, not absolute. In float the exponent's rounding adds about z^2 x 6e-8 relative error: 3e-7 at
    /// |x| = 3, where GELU's negative side is already below 0.005 |x|.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> PhiWide(Vector512<float> x)
    {
        var one = Vector512<float>.One;
        var z = Vector512.Abs(x) * Vector512.Create(InvSqrt2);
        var t = one / Vector512.FusedMultiplyAdd(Vector512.Create(0.5f), z, one);
        var p = Vector512.Create(0.17087277f);
        p = Vector512.FusedMultiplyAdd(t, p, Vector512.Create(-0.82215223f));
        p = Vector512.FusedMultiplyAdd(t, p, Vector512.Create(1.48851587f));
        p = Vector512.FusedMultiplyAdd(t, p, Vector512.Create(-1.13520398f));
        p = Vector512.FusedMultiplyAdd(t, p, Vector512.Create(0.27886807f));
        p = Vector512.FusedMultiplyAdd(t, p, Vector512.Create(-0.18628806f));
        p = Vector512.FusedMultiplyAdd(t, p, Vector512.Create(0.09678418f));
        p = Vector512.FusedMultiplyAdd(t, p, Vector512.Create(0.37409196f));
        p = Vector512.FusedMultiplyAdd(t, p, Vector512.Create(1.00002368f));
        var half = Vector512.Create(0.5f) * t * CpuExp.Exp(Vector512.FusedMultiplyAdd(t, p, Vector512.Create(-1.26551223f)) - z * z);
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), half, one - half);
    }

    /// <summary>erf of 8 floats through two Vector256&lt;double&gt; halves (<see cref="CpuMath.Erf"/>'s formula and precision).</summary>
    static Vector256<float> Erf(Vector256<float> xf)
    {
        var (lo, hi) = Vector256.Widen(xf);
        return Vector256.Narrow(Erf(lo), Erf(hi));
    }

    static Vector256<double> Erf(Vector256<double> x)
    {
        var one = Vector256<double>.One;
        var ax = Vector256.Abs(x);
        var t = one / (one + Vector256.Create(0.5) * ax);
        var p = Vector256.Create(0.17087277);
        p = Vector256.Create(-0.82215223) + t * p;
        p = Vector256.Create(1.48851587) + t * p;
        p = Vector256.Create(-1.13520398) + t * p;
        p = Vector256.Create(0.27886807) + t * p;
        p = Vector256.Create(-0.18628806) + t * p;
        p = Vector256.Create(0.09678418) + t * p;
        p = Vector256.Create(0.37409196) + t * p;
        p = Vector256.Create(1.00002368) + t * p;
        var erfc = t * Vector256.Exp(-ax * ax - Vector256.Create(1.26551223) + t * p);
        var r = one - erfc;
        return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<double>.Zero), -r, r);
    }
}
