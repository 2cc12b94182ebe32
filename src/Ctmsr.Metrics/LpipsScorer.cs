using Ctmsr.Autograd;
using Ctmsr.Model.Lpips;
using Ctmsr.Imaging;

namespace Ctmsr.Metrics;

/// <summary>LPIPS of two decoded images (RGB in [0, 1], mapped to [-1, 1]), without gradients.</summary>
public sealed class LpipsScorer(Lpips net)
{
    public Lpips Net { get; } = net;

    public static LpipsScorer Load(Context ctx, LpipsBackbone backbone, string backbonePath, string headsPath) =>
        new(Lpips.Load(ctx, backbone, backbonePath, headsPath));

    public double Score(Image a, Image b)
    {
        MetricImages.CheckSameSize(a, b);
        using var noGrad = Tape.NoGrad();
        using var scope = Tape.Scope();
        var ta = ToTensor(a); var tb = ToTensor(b);
        return Net.PerSample(ta, tb).ToArray()[0];
    }

    Tensor ToTensor(Image img)
    {
        var rgb = img.WithoutAlpha().ToRgb();
        var v = new float[rgb.Data.Length];
        for (int i = 0; i < v.Length; i++) v[i] = rgb.Data[i] * 2f - 1f;
        return Tensor.From(Net.Ctx, v, 1, 3, rgb.Height, rgb.Width);
    }
}
