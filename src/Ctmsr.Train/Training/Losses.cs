using Ctmsr.Autograd;

namespace Ctmsr.Train.Training;

/// <summary>
/// A per-sample perceptual distance: (a [B,3,H,W], b [B,3,H,W], both in [-1, 1]) -> [B], differentiable in a.
/// LPIPS-VGG in the method; any distance with that contract can stand in.
/// </summary>
public delegate Tensor PerSampleDistance(Tensor a, Tensor b);

/// <summary>The loss terms of CT and DTM (spec sections 4 and 5).</summary>
public static class Losses
{
    /// <summary>Per-sample mean over C, H, W of sqrt((a-b)^2 + 1e-12): [B].</summary>
    public static Tensor CharbonnierPerSample(Tensor a, Tensor b)
    {
        using var c = F.Charbonnier(a, b);
        using var s = F.SumPerSample(c);
        return F.Scale(s, (float)(a[0] / (double)a.Count));
    }

    /// <summary>L_CT = wL * mean LPIPS(pred, target) + wC * mean Charbonnier(pred, target); Charbonnier alone (weight 1) without LPIPS.</summary>
    public static Tensor Ct(Tensor pred, Tensor target, PerSampleDistance? lpips, float lpipsWeight, float charbonnierWeight)
    {
        using var ch = F.Charbonnier(pred, target);
        using var chm = F.Mean(ch);
        if (lpips is null) return F.Scale(chm, 1f);
        using var lp = lpips(pred, target);
        using var lpm = F.Mean(lp);
        return F.AddScaled(lpm, lpipsWeight, chm, charbonnierWeight);
    }

    /// <summary>w_b = 1 / mean_{c,h,w} |x_hat0_b - gt_b| (host values; x_hat0 is detached by construction).</summary>
    public static float[] DtmWeights(float[] xHat0, float[] gt, int batch)
    {
        int inner = xHat0.Length / batch;
        var w = new float[batch];
        for (int b = 0; b < batch; b++)
        {
            double s = 0;
            for (int i = b * inner; i < (b + 1) * inner; i++) s += Math.Abs(xHat0[i] - gt[i]);
            w[b] = (float)(inner / s);
        }
        return w;
    }

    /// <summary>L_DTM = weight * mean_b(w_b * dist(x_hat0_b, target_b)); dist is LPIPS, or per-sample Charbonnier without it.</summary>
    public static Tensor Dtm(Tensor xHat0, Tensor target, float[] w, PerSampleDistance? lpips, float weight)
    {
        using var d = lpips is null ? CharbonnierPerSample(xHat0, target) : lpips(xHat0, target);
        using var wd = F.ScalePerSample(d, w);
        using var m = F.Mean(wd);
        return F.Scale(m, weight);
    }
}
