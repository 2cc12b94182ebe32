using System.Reflection;
using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Backends.OpenCL;
using ILGPU.Backends.PTX;
using ILGPU.IR;
using ILGPU.IR.Intrinsics;
using ILGPU.IR.Values;

namespace Ctmsr.Kernels.Ilgpu;

/// <summary>
/// Float32 maths for the ILGPU kernels, the same bits on PTX and OpenCL.
/// Why not MathF/XMath: ILGPU 1.5.3 lowers MathF.Exp/Log to ex2.approx/lg2.approx on PTX (about 2 ulp, and flushed
/// subnormals), and MathF.FusedMultiplyAdd to an undefined external function. So <see cref="Fma"/> is a custom
/// intrinsic (fma.rn.f32 on PTX, fma() in OpenCL C, registered per context by <see cref="Register"/>) and exp, log, cos
/// and erf are written here from +, *, FMA and bit casts: within about 1 ulp of the correctly rounded result.
/// </summary>
public static class KernelMath
{
    /// <summary>a * b + c with one rounding.</summary>
    [IntrinsicImplementation]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Fma(float a, float b, float c) => MathF.FusedMultiplyAdd(a, b, c);

    static void FmaPtx(PTXBackend backend, PTXCodeGenerator g, Value value)
    {
        var a = g.LoadPrimitive(value[0]);
        var b = g.LoadPrimitive(value[1]);
        var c = g.LoadPrimitive(value[2]);
        var target = g.AllocateHardware(value);
        using var command = g.BeginCommand("fma.rn.f32");
        command.AppendArgument(target);
        command.AppendArgument(a);
        command.AppendArgument(b);
        command.AppendArgument(c);
    }

    static void FmaCl(CLBackend backend, CLCodeGenerator g, Value value)
    {
        var a = g.Load(value[0]);
        var b = g.Load(value[1]);
        var c = g.Load(value[2]);
        var target = g.Allocate(value);
        using var statement = g.BeginStatement(target);
        statement.AppendCommand("fma");
        statement.BeginArguments();
        statement.AppendArgument(a);
        statement.AppendArgument(b);
        statement.AppendArgument(c);
        statement.EndArguments();
    }

    /// <summary>Registers the <see cref="Fma"/> intrinsic with <paramref name="context"/> (once per context, before compiling).</summary>
    public static void Register(Context context)
    {
        var fma = typeof(KernelMath).GetMethod(nameof(Fma), BindingFlags.Public | BindingFlags.Static)!;
        var manager = context.GetIntrinsicManager();
        manager.RegisterMethod(fma, new PTXIntrinsic(typeof(KernelMath), nameof(FmaPtx), IntrinsicImplementationMode.GenerateCode));
        manager.RegisterMethod(fma, new CLIntrinsic(typeof(KernelMath), nameof(FmaCl), IntrinsicImplementationMode.GenerateCode));
    }

    const float Ln2Hi = 0.693145751953125f;          // ln 2 with 16 significant bits: k * Ln2Hi is exact for |k| < 256
    const float Ln2Lo = 1.428606820309417232e-06f;   // ln 2 - Ln2Hi

    /// <summary>2^k for k in [-126, 127], built from the exponent bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Pow2(int k) => Interop.IntAsFloat((uint)(k + 127) << 23);

    /// <summary>
    /// e^x: x = k ln2 + r with |r| &lt;= ln2/2 (Cody-Waite, two-part ln 2), e^r by its degree-7 Taylor polynomial
    /// (truncation below 1e-8 relative), times 2^k applied in two halves so subnormal results stay exact.
    /// </summary>
    public static float Exp(float x)
    {
        if (x > 88.72284f) return float.PositiveInfinity;
        if (x < -103.97209f) return 0f;
        float k = MathF.Floor(Fma(x, 1.44269504f, 0.5f));
        float r = Fma(k, -Ln2Hi, x);
        r = Fma(k, -Ln2Lo, r);
        float p = 1f / 5040f;
        p = Fma(p, r, 1f / 720f);
        p = Fma(p, r, 1f / 120f);
        p = Fma(p, r, 1f / 24f);
        p = Fma(p, r, 1f / 6f);
        p = Fma(p, r, 0.5f);
        p = Fma(p, r, 1f);
        p = Fma(p, r, 1f);
        int ki = (int)k, k1 = ki / 2;
        return p * Pow2(k1) * Pow2(ki - k1);
    }

    /// <summary>
    /// Natural log of a positive normal x: x = m 2^e with m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(f),
    /// f = (m-1)/(m+1) (|f| &lt;= 0.172), odd series to f^11.
    /// </summary>
    public static float Log(float x)
    {
        uint bits = Interop.FloatAsInt(x);
        int e = (int)(bits >> 23) - 127;
        float m = Interop.IntAsFloat((bits & 0x007FFFFFu) | 0x3F800000u);
        if (m > 1.41421356f) { m *= 0.5f; e++; }
        float f = (m - 1f) / (m + 1f), f2 = f * f;
        float s = 1f / 11f;
        s = Fma(s, f2, 1f / 9f);
        s = Fma(s, f2, 1f / 7f);
        s = Fma(s, f2, 1f / 5f);
        s = Fma(s, f2, 1f / 3f);
        float twoF = 2f * f;
        float lm = Fma(twoF * f2, s, twoF);
        float fe = e;
        return Fma(fe, Ln2Hi, Fma(fe, Ln2Lo, lm));
    }

    /// <summary>
    /// cos x for |x| up to a few thousand: x = k pi/2 + r (Cody-Waite with FMA, |r| &lt;= pi/4), then the quadrant's
    /// Taylor polynomial of cos r or sin r (truncation below 1e-9).
    /// </summary>
    public static float Cos(float x)
    {
        const float PiHalfHi = 1.57079637050628662109375f;   // float(pi/2)
        const float PiHalfLo = -4.37113900018624283e-08f;     // pi/2 - PiHalfHi
        float k = MathF.Floor(Fma(x, 0.636619772f, 0.5f));
        float r = Fma(-k, PiHalfHi, x);
        r = Fma(-k, PiHalfLo, r);
        float r2 = r * r;
        float c = -1f / 3628800f;
        c = Fma(c, r2, 1f / 40320f);
        c = Fma(c, r2, -1f / 720f);
        c = Fma(c, r2, 1f / 24f);
        c = Fma(c, r2, -0.5f);
        c = Fma(c, r2, 1f);
        float s = -1f / 39916800f;
        s = Fma(s, r2, 1f / 362880f);
        s = Fma(s, r2, -1f / 5040f);
        s = Fma(s, r2, 1f / 120f);
        s = Fma(s, r2, -1f / 6f);
        s = Fma(s * r2, r, r);
        int q = ((int)k) & 3;
        return q == 0 ? c : q == 1 ? -s : q == 2 ? -c : s;
    }

    /// <summary>
    /// erf x. |x| &lt; 3: erf a = (2/sqrt pi) e^(-a^2) sum_n (2a^2)^n a / (2n+1)!!, a series of positive terms (no
    /// cancellation), with a^2 split exactly into hi + lo by FMA. 3 &lt;= |x| &lt; 4.5: 1 - erfc a, erfc by its continued
    /// fraction (erfc 3 = 2e-5, so its few-ulp error vanishes). Beyond: +-1 in float.
    /// </summary>
    public static float Erf(float x)
    {
        float a = MathF.Abs(x);
        float r;
        if (a < 3f)
        {
            float hi = a * a, lo = Fma(a, a, -hi);
            float t2 = 2f * hi, term = a, sum = a;
            for (int n = 1; n < 40; n++)
            {
                term *= t2 / (2 * n + 1);
                sum += term;
            }
            r = 1.12837917f * Exp(-hi) * (1f - lo) * sum;
        }
        else if (a < 4.5f)
        {
            float hi = a * a, lo = Fma(a, a, -hi);
            float t = a;
            for (int k = 14; k >= 1; k--) t = a + 0.5f * k / t;
            r = 1f - Exp(-hi) * (1f - lo) / (t * 1.77245385f);
        }
        else r = 1f;
        return x < 0f ? -r : r;
    }

    /// <summary>
    /// Sum over the work-group (dimension X, a power of two) of every thread's <paramref name="v"/>; every thread gets
    /// it. A fixed tree in shared memory <paramref name="buf"/> (Group.DimX floats): deterministic, unlike reductions
    /// built on shared-memory atomics. Every thread of the group must call it.
    /// </summary>
    public static float GroupSum(ArrayView<float> buf, float v)
    {
        int l = Group.IdxX;
        buf[l] = v;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (l < s) buf[l] += buf[l + s];
            Group.Barrier();
        }
        float r = buf[0];
        Group.Barrier();
        return r;
    }

    /// <summary>Kahan step: adds <paramref name="v"/> to (<paramref name="sum"/>, <paramref name="comp"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void KahanAdd(ref float sum, ref float comp, float v)
    {
        float y = v - comp, t = sum + y;
        comp = (t - sum) - y;
        sum = t;
    }
}
