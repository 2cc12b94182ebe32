using Ctmsr.Autograd;
using Ctmsr.Imaging;
using Ctmsr.Model.Perceptual;

namespace Ctmsr.Metrics;

/// <summary>
/// The ResNet18 perceptual distance of two decoded images (RGB in [0, 1], mapped to [-1, 1]), without gradients.
/// The network takes sides that are multiples of 32, so both images are cropped to the centred largest such region
/// (a 250x250 image is scored on its central 224x224); images under 32 pixels a side are refused.
/// </summary>
public sealed class PerceptualScorer(PerceptualLoss loss)
{
    public PerceptualLoss Loss { get; } = loss;

    public static PerceptualScorer Load(Context ctx, string onnxPath) => new(PerceptualLoss.Load(ctx, onnxPath));

    public double Score(Image a, Image b)
    {
        MetricImages.CheckSameSize(a, b);
        int m = Loss.SizeMultiple;
        int h = a.Height / m * m, w = a.Width / m * m;
        if (h < Loss.MinSide || w < Loss.MinSide)
            throw new ArgumentException($"the ResNet18 perceptual distance needs images of at least {Math.Max(m, Loss.MinSide)}x{Math.Max(m, Loss.MinSide)} pixels, got {a.Width}x{a.Height}");
        using var noGrad = Tape.NoGrad();
        using var scope = Tape.Scope();
        var ta = ToTensor(a, h, w); var tb = ToTensor(b, h, w);
        return Loss.PerSample(ta, tb).ToArray()[0];
    }

    Tensor ToTensor(Image img, int h, int w)
    {
        var rgb = img.WithoutAlpha().ToRgb();
        int y0 = (rgb.Height - h) / 2, x0 = (rgb.Width - w) / 2;
        var v = new float[3 * h * w];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    v[(c * h + y) * w + x] = rgb.Data[((long)c * rgb.Height + y0 + y) * rgb.Width + x0 + x] * 2f - 1f;
        return Tensor.From(Loss.Ctx, v, 1, 3, h, w);
    }
}
