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

    /// <summary>Floor of a tap's mean second moment in the texture term's scale (features that are all zero).</summary>
    public const float TextureEps = 1e-6f;

    /// <summary>
    /// The distance of each pair: a, b [N, 3, H, W] in [-1, 1] -> [N]. With <paramref name="texture"/> &gt; 0 it adds
    /// texture * (1/L) sum_l T_l, a texture term on the raw features of the same taps (computed once for both terms):
    /// per channel the spatial first and second moments mu = mean_hw f and m2 = mean_hw f^2 are compared,
    /// T_l = k mean_c (mu_a - mu_b)^2 + k^2 mean_c (m2_a - m2_b)^2, k = 1 / (mean_c m2_b + <see cref="TextureEps"/>) per
    /// sample, so both parts are dimensionless. It penalises a wrong amount of each feature (the energy a blurred output
    /// lacks) wherever it sits, unlike the per-pixel distance, whose optimum under uncertainty is the blurred mean;
    /// moment matching in the spirit of the texture losses of Gatys et al. (2015) and EnhanceNet (Sajjadi et al., 2017),
    /// with channel moments in place of Gram matrices. k is computed from b on the host and is not differentiated
    /// (b is the target in training): the term is differentiable in a, and in b with k held fixed.
    /// </summary>
    public Tensor PerSample(Tensor a, Tensor b, float texture = 0f)
    {
        if (!(texture >= 0 && float.IsFinite(texture))) throw new ArgumentOutOfRangeException(nameof(texture), $"the texture weight must be finite and >= 0, got {texture}");
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
            if (texture > 0) total = Accumulate(total, Texture(fa[k], fb[k]), texture / Taps);
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
            total = Accumulate(total, sum, 1f / ((float)hw * Taps));
        }
        return total!;
    }

    /// <summary>total + weight * term (term disposed; a null total starts the sum).</summary>
    static Tensor Accumulate(Tensor? total, Tensor term, float weight)
    {
        using (term)
        {
            if (total is null) return F.Scale(term, weight);
            using (total) return F.AddScaled(total, 1f, term, weight);
        }
    }

    /// <summary>T_l of <see cref="PerSample"/> for one tap's raw features fa, fb [N, C, H, W] -> [N].</summary>
    Tensor Texture(Tensor fa, Tensor fb)
    {
        int n = fa[0], c = fa[1], hw = fa[2] * fa[3];
        var avg = new float[hw];
        Array.Fill(avg, 1f / hw);
        using var w = Tensor.From(Ctx, avg, 1, hw);
        (Tensor Mu, Tensor M2) Moments(Tensor f)
        {
            using var rows = F.Reshape(f, n * c, hw);
            using var sq = F.Mul(rows, rows);
            return (F.Linear(rows, w, null), F.Linear(sq, w, null));
        }
        var (mua, m2a) = Moments(fa);
        var (mub, m2b) = Moments(fb);
        var hb = m2b.ToArray();
        float[] k1 = new float[n], k2 = new float[n];
        for (int s = 0; s < n; s++)
        {
            double e = 0;
            for (int ch = 0; ch < c; ch++) e += hb[s * c + ch];
            double k = 1.0 / (e / c + TextureEps);
            k1[s] = (float)(k / c); k2[s] = (float)(k * k / c);
        }
        Tensor Part(Tensor x, Tensor y, float[] scale)
        {
            using (x) using (y)
            {
                using var d = F.Sub(x, y);
                using var d2 = F.Mul(d, d);
                using var per = F.Reshape(d2, n, c);
                using var sum = F.SumPerSample(per);
                return F.ScalePerSample(sum, scale);
            }
        }
        using var p1 = Part(mua, mub, k1);
        using var p2 = Part(m2a, m2b, k2);
        return F.Add(p1, p2);
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
