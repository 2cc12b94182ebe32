using Ctmsr.Autograd;

namespace Ctmsr.Model.Network;

/// <summary>
/// The consistency function D(x; sigma, lq) = c_skip(sigma) x + c_out(sigma) F(x, c_noise(sigma), lq),
/// sigma per sample (spec section 2). At sigma = 0, D(x) = x exactly.
/// </summary>
public static class Precond
{
    public const double SigmaData = 0.1;

    public static double CSkip(double sigma) { double s = sigma / SigmaData; return 0.25 / (s * s + 0.25); }
    public static double COut(double sigma) { double s = sigma / SigmaData; return s / Math.Sqrt(s * s + 0.25); }
    public static double CNoise(double sigma) => Math.Log(sigma + 0.002) / 4;

    public static Tensor D(CtmsrNet net, Tensor x, float[] sigma, Tensor lq)
    {
        var cNoise = sigma.Select(s => CNoise(s)).ToArray();
        using var f = net.Forward(x, cNoise, lq);
        using var a = F.ScalePerSample(x, sigma.Select(s => (float)CSkip(s)).ToArray());
        using var b = F.ScalePerSample(f, sigma.Select(s => (float)COut(s)).ToArray());
        return F.Add(a, b);
    }
}
