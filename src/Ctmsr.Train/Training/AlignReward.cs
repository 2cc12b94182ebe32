using Ctmsr.Imaging;
using Ctmsr.Metrics;

namespace Ctmsr.Train.Training;

/// <summary>
/// The reward of Stage A: one score per sample of a candidate's final state x0 ([B,3,H,W] in [-1, 1], host values),
/// higher is better. psnr: PSNR-Y against gt (BT.601 Y on [0,1] clamped values, not rounded to 8 bits, so close
/// candidates are not tied); niqe: -NIQE (needs crops of at least 192 pixels and the pristine model); lpips-alex:
/// -LPIPS-Alex against gt; mix: PSNR-Y - NIQE - 10 LPIPS-Alex over the terms whose weights are given.
/// </summary>
public sealed class AlignReward
{
    readonly AlignRewardKind _kind;
    readonly NiqeModel? _niqe;
    readonly LpipsScorer? _lpips;

    public AlignReward(AlignRewardKind kind, NiqeModel? niqe = null, LpipsScorer? lpipsAlex = null)
    {
        if (kind == AlignRewardKind.Niqe && niqe is null)
            throw new ArgumentException("--reward niqe needs the NIQE pristine model: pass --niqe-params niqe_pris_params.npz");
        if (kind == AlignRewardKind.LpipsAlex && lpipsAlex is null)
            throw new ArgumentException("--reward lpips-alex needs torchvision's AlexNet weights: pass --lpips-alex alexnet-owt-7be5be79.pth");
        _kind = kind; _niqe = niqe; _lpips = lpipsAlex;
    }

    public double[] Score(float[] x0, float[] gt, int batch, int h, int w)
    {
        var r = new double[batch];
        int inner = 3 * h * w;
        for (int b = 0; b < batch; b++)
        {
            var sr = x0.AsSpan(b * inner, inner);
            var g = gt.AsSpan(b * inner, inner);
            r[b] = _kind switch
            {
                AlignRewardKind.Psnr => PsnrY(sr, g, h * w),
                AlignRewardKind.Niqe => -Niqe.Of(ToImage(sr, h, w), _niqe!),
                AlignRewardKind.LpipsAlex => -_lpips!.Score(ToImage(sr, h, w), ToImage(g, h, w)),
                _ => PsnrY(sr, g, h * w) - (_niqe is null ? 0 : Niqe.Of(ToImage(sr, h, w), _niqe))
                     - (_lpips is null ? 0 : 10 * _lpips.Score(ToImage(sr, h, w), ToImage(g, h, w))),
            };
        }
        return r;
    }

    /// <summary>PSNR of Y (16 + 65.481 R + 128.553 G + 24.966 B, 0..255) of two [-1,1] planar RGB images, both clamped.</summary>
    public static double PsnrY(ReadOnlySpan<float> sr, ReadOnlySpan<float> gt, int plane)
    {
        double mse = 0;
        for (int p = 0; p < plane; p++)
        {
            double d = Y(sr, p, plane) - Y(gt, p, plane);
            mse += d * d;
        }
        mse /= plane;
        return mse == 0 ? 100 : 10 * Math.Log10(255.0 * 255.0 / mse);
    }

    static double Y(ReadOnlySpan<float> a, int p, int plane) =>
        16 + 65.481 * U(a[p]) + 128.553 * U(a[plane + p]) + 24.966 * U(a[2 * plane + p]);

    static double U(float v) => Math.Clamp((v + 1) / 2.0, 0, 1);

    static Image ToImage(ReadOnlySpan<float> x, int h, int w)
    {
        var img = new Image(w, h, 3, 8);
        for (int i = 0; i < x.Length; i++) img.Data[i] = (float)U(x[i]);
        return img;
    }
}
