using Ctmsr.Autograd;

namespace Ctmsr.Model.Perceptual;

/// <summary>
/// An LPIPS-style distance on ImageNet ResNet18 features (NOT LPIPS-VGG: no VGG16 weights and no learned heads can
/// be had offline): d(a, b) = (1/L) sum_l mean_hw |n(f_l(a)) - n(f_l(b))|_2^2, with f_l the first L taps of
/// <see cref="Resnet18.Features"/> (stem ReLU, layers 1-4), n the per-pixel unit normalisation over channels, and
/// uniform stage weights (LPIPS's "lin" layers set to one: the untrained baseline of Zhang et al. 2018). Each term is
/// in [0, 4]. Inputs [N, 3, H, W] in [-1, 1]; differentiable in both. The backbone never takes gradients.
/// </summary>
public sealed class PerceptualLoss
{
    /// <summary>Variance floor of the per-pixel normalisation: keeps the gradient bounded where a pixel's features are all zero.</summary>
    public const float NormEps = 1e-10f;

    public Resnet18 Net { get; }
    public int Taps { get; }
    public Context Ctx => Net.Ctx;

    public PerceptualLoss(Resnet18 net, int taps = Resnet18.Taps)
    {
        if (taps is < 1 or > Resnet18.Taps) throw new ArgumentOutOfRangeException(nameof(taps), $"ResNet18 has {Resnet18.Taps} taps, asked for {taps}");
        Net = net; Taps = taps;
    }

    /// <summary>The ResNet18 ONNX file (ML.NET's CNTK export) as a perceptual distance.</summary>
    public static PerceptualLoss Load(Context ctx, string onnxPath, int taps = Resnet18.Taps) => new(Resnet18Onnx.Load(ctx, onnxPath), taps);

    /// <summary>
    /// Image sides must be multiples of this: the strided blocks of layers 2-4 pad (1, 0) in the CNTK export, which
    /// lines up with their 1x1 projection only on even sizes (ONNX Runtime refuses the others too).
    /// </summary>
    public int SizeMultiple => Taps >= 3 ? 1 << Taps : 1;
    public int MinSide => Math.Max(SizeMultiple, 4);

    /// <summary>The distance of each pair: a, b [N, 3, H, W] in [-1, 1] -> [N].</summary>
    public Tensor PerSample(Tensor a, Tensor b)
    {
        if (a.Rank != 4 || a[1] != 3 || !a.Shape.SequenceEqual(b.Shape))
            throw new ArgumentException($"the perceptual distance compares two RGB batches of the same shape [N, 3, H, W]; got [{string.Join(", ", a.Shape)}] and [{string.Join(", ", b.Shape)}]");
        if (a[2] < MinSide || a[3] < MinSide || a[2] % SizeMultiple != 0 || a[3] % SizeMultiple != 0)
            throw new ArgumentException($"the ResNet18 perceptual distance with {Taps} taps needs sides that are multiples of {SizeMultiple} (at least {MinSide}), got {a[3]}x{a[2]}; crop to such a size");
        var fa = FeaturesOf(a);
        var fb = FeaturesOf(b);
        Tensor? total = null;
        for (int k = 0; k < Taps; k++)
        {
            int n = fa[k][0], c = fa[k][1], hw = fa[k][2] * fa[k][3];
            // rows of [sqrt(C) x/|x|, -sqrt(C) x/|x|] (see Lpips.ChannelNormalized); the squared difference of the first
            // half summed and divided by C is |n(fa) - n(fb)|^2
            using var na = Lpips.Lpips.ChannelNormalized(fa[k], NormEps);
            using var nb = Lpips.Lpips.ChannelNormalized(fb[k], NormEps);
            fa[k].Dispose(); fb[k].Dispose();
            using var d = F.Sub(na, nb);
            using var d2 = F.Mul(d, d);
            using var rows = F.Reshape(d2, n * hw, 2 * c);
            using var w = HalfRow(c, 1f / c);
            using var r = F.Linear(rows, w, null);
            using var per = F.Reshape(r, n, hw);
            using var sum = F.SumPerSample(per);
            var mean = F.Scale(sum, 1f / ((float)hw * Taps));
            if (total is null) total = mean;
            else { var t = F.Add(total, mean); total.Dispose(); mean.Dispose(); total = t; }
        }
        return total!;
    }

    /// <summary>Mean distance over the batch (a scalar loss).</summary>
    public Tensor Mean(Tensor a, Tensor b)
    {
        using var d = PerSample(a, b);
        return F.Mean(d);
    }

    List<Tensor> FeaturesOf(Tensor x)
    {
        using var input = Net.Normalize(x);
        return Net.Features(input, Taps);
    }

    /// <summary>A [1, 2C] row: <paramref name="v"/> on the first C entries, zero on the negated half.</summary>
    Tensor HalfRow(int c, float v)
    {
        var row = new float[2 * c];
        Array.Fill(row, v, 0, c);
        return Tensor.From(Ctx, row, 1, 2 * c);
    }
}
