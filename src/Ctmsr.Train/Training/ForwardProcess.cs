using Ctmsr.Autograd;

namespace Ctmsr.Train.Training;

/// <summary>x_t = x0 + alpha (lq_up - x0) + sigma eps with alpha = sigma = n / (N - 1) (spec section 1).</summary>
public static class ForwardProcess
{
    public static Tensor Q(Tensor x0, Tensor lqUp, Tensor eps, float sigma)
    {
        using var mix = F.AddScaled(x0, 1f - sigma, lqUp, sigma);
        return F.AddScaled(mix, 1f, eps, sigma);
    }

    /// <summary>eps ~ N(0, I) from the backend's Philox stream (same numbers on every device).</summary>
    public static Tensor Noise(Context ctx, ulong seed, params int[] shape) => Noise(ctx, seed, 0, shape);

    /// <summary>Elements offset .. offset + count of the stream: a data-parallel rank's slice of the global batch's noise.</summary>
    public static Tensor Noise(Context ctx, ulong seed, ulong offset, int[] shape)
    {
        var t = Tensor.Empty(ctx, shape);
        ctx.Backend.FillNormal(t.Count, seed, offset, t.Buffer);
        return t;
    }
}
