namespace Ctmsr.Kernels.Cpu;

/// <summary>Scalar activation functions in float32, shared by the CPU loops.</summary>
static class CpuMath
{
    /// <summary>erf from Numerical Recipes' Chebyshev-fitted erfc (absolute error below 1.2e-7, i.e. float precision).</summary>
    public static float Erf(float xf)
    {
        double x = xf, ax = Math.Abs(x);
        double t = 1.0 / (1.0 + 0.5 * ax);
        double erfc = t * Math.Exp(-ax * ax - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
            t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        double r = 1 - erfc;
        return (float)(x < 0 ? -r : r);
    }

    public static float Act(Activation a, float slope, float x) => a switch
    {
        Activation.Identity => x,
        Activation.ReLU => x > 0 ? x : 0f,
        Activation.LeakyReLU => x > 0 ? x : slope * x,
        Activation.SiLU => x / (1f + MathF.Exp(-x)),
        Activation.Gelu => 0.5f * x * (1f + Erf(x * 0.70710678118654752f)),
        Activation.Sigmoid => 1f / (1f + MathF.Exp(-x)),
        _ => throw new ArgumentOutOfRangeException(nameof(a)),
    };

    public static float ActGrad(Activation a, float slope, float x)
    {
        switch (a)
        {
            case Activation.Identity: return 1f;
            case Activation.ReLU: return x > 0 ? 1f : 0f;
            case Activation.LeakyReLU: return x > 0 ? 1f : slope;
            case Activation.SiLU: { float s = 1f / (1f + MathF.Exp(-x)); return s * (1f + x * (1f - s)); }
            case Activation.Gelu: return 0.5f * (1f + Erf(x * 0.70710678118654752f)) + x * MathF.Exp(-0.5f * x * x) * 0.3989422804014327f;
            case Activation.Sigmoid: { float s = 1f / (1f + MathF.Exp(-x)); return s * (1f - s); }
            default: throw new ArgumentOutOfRangeException(nameof(a));
        }
    }
}
