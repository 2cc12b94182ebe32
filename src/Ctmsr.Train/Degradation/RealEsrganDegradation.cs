using Ctmsr.Imaging.Resampling;

namespace Ctmsr.Train.Degradation;

/// <summary>One degraded training pair, planar RGB float32 in [0, 1] on the 8-bit grid.</summary>
/// <param name="Lq">[3, LqHeight, LqWidth] = round(clamp(out) * 255) / 255.</param>
/// <param name="LqUp">[3, Height, Width] = round(clamp(bicubic x scale of the unrounded out) * 255) / 255.</param>
/// <param name="Kernel1">The first-stage blur kernel that was drawn.</param>
/// <param name="Kernel2">The second-stage blur kernel that was drawn (used only when SecondOrder and the second blur fired).</param>
/// <param name="FinalSinc">The final sinc (or delta) kernel.</param>
public sealed record DegradedPair(
    float[] Lq, float[] LqUp, int LqHeight, int LqWidth, int Height, int Width,
    BlurKernel Kernel1, BlurKernel Kernel2, BlurKernel FinalSinc, bool SecondOrder);

/// <summary>
/// Real-ESRGAN second-order degradation of one HR image [3, H, W] in [0, 1] (spec section 7):
/// blur k1 -> random resize (scale factor) -> noise -> clamp -> JPEG ->
/// [p = 0.5: (p = 0.8) blur k2 -> random resize to (int(H/4 * s), int(W/4 * s)) -> noise -> clamp] ->
/// 50/50 (resize to H/4 x W/4, sinc, clamp, JPEG) or (clamp, JPEG, resize, sinc) -> 8-bit quantisation.
/// With DegradationSettings.CleanProbability > 0 a pair is instead, with that probability, the clean MATLAB-bicubic
/// downscale of the HR image. Every random draw comes from one DegradationRandom, so a seed fixes the result. The JPEG round trip
/// is injected: jpeg(rgbChw in [0, 1], width, height, quality) returns the decoded image, same layout.
/// </summary>
public sealed class RealEsrganDegradation
{
    readonly Func<float[], int, int, int, float[]> _jpeg;

    public DegradationSettings Settings { get; }

    public RealEsrganDegradation(Func<float[], int, int, int, float[]> jpeg, DegradationSettings? settings = null)
    {
        _jpeg = jpeg ?? throw new ArgumentNullException(nameof(jpeg), "RealEsrganDegradation needs a JPEG round-trip function (rgb CHW [0,1], width, height, quality) -> decoded image");
        Settings = settings ?? DegradationSettings.Default;
    }

    public DegradedPair Apply(float[] hr, int height, int width, ulong seed) =>
        Apply(hr, height, width, new DegradationRandom(seed));

    public DegradedPair Apply(float[] hr, int height, int width, DegradationRandom rng)
    {
        ArgumentNullException.ThrowIfNull(hr);
        ArgumentNullException.ThrowIfNull(rng);
        var s = Settings;
        int sf = s.Scale;
        if (height <= 0 || width <= 0 || height % sf != 0 || width % sf != 0)
            throw new ArgumentException($"degradation: HR size {height}x{width} must be positive multiples of the scale {sf}; crop the image to a multiple of {sf}");
        if (hr.Length != 3 * height * width)
            throw new ArgumentException($"degradation: the HR image holds {hr.Length} values but [3, {height}, {width}] needs {3 * height * width}; pass a planar RGB image");
        int lqH = height / sf, lqW = width / sf;

        var k1 = BlurKernelSampler.Sample(rng, s.Kernel1);
        var k2 = BlurKernelSampler.Sample(rng, s.Kernel2);
        var sinc = BlurKernelSampler.SampleFinalSinc(rng, s.FinalSincKernel, s.FinalSincProbability);

        if (s.CleanProbability > 0 && rng.NextDouble() < s.CleanProbability)
        {
            var clean = Resize.MatlabBicubicDown(hr, 3, height, width, sf);
            var cleanUp = Resize.Apply(clean, 3, lqH, lqW, height, width, ResizeMode.Bicubic, sf, sf);
            return new DegradedPair(Quantise(clean), Quantise(cleanUp), lqH, lqW, height, width, k1, k2, sinc, SecondOrder: false);
        }

        // ----- first order
        var img = new Image(Filter2D.Apply(hr, 3, height, width, k1), height, width);
        {
            double scale = DrawScale(rng, s.Resize1);
            var mode = rng.Pick(s.Resize1.Modes);
            int oh = Math.Max(1, Resize.ScaledSize(img.H, scale)), ow = Math.Max(1, Resize.ScaledSize(img.W, scale));
            img = new Image(Resize.Apply(img.Data, 3, img.H, img.W, oh, ow, mode, scale, scale), oh, ow);
        }
        AddNoise(img, s.Noise1, rng);
        Clamp(img.Data);
        img = Jpeg(img, rng.NextIntInclusive(s.Jpeg1.Min, s.Jpeg1.Max));

        // ----- second order
        bool second = rng.NextDouble() < s.SecondOrderProbability;
        if (second)
        {
            if (rng.NextDouble() < s.SecondBlurProbability)
                img = new Image(Filter2D.Apply(img.Data, 3, img.H, img.W, k2), img.H, img.W);
            double scale = DrawScale(rng, s.Resize2);
            var mode = rng.Pick(s.Resize2.Modes);
            int oh = Math.Max(1, (int)((double)height / sf * scale)), ow = Math.Max(1, (int)((double)width / sf * scale));
            img = new Image(Resize.Apply(img.Data, 3, img.H, img.W, oh, ow, mode), oh, ow);
            AddNoise(img, s.Noise2, rng);
            Clamp(img.Data);
        }

        // ----- final: resize to H/4 and sinc, JPEG before or after
        if (rng.NextDouble() < s.ResizeFirstProbability)
        {
            var mode = rng.Pick(s.FinalResizeModes);
            img = new Image(Resize.Apply(img.Data, 3, img.H, img.W, lqH, lqW, mode), lqH, lqW);
            img = new Image(Filter2D.Apply(img.Data, 3, lqH, lqW, sinc), lqH, lqW);
            Clamp(img.Data);
            img = Jpeg(img, rng.NextIntInclusive(s.Jpeg2.Min, s.Jpeg2.Max));
        }
        else
        {
            Clamp(img.Data);
            img = Jpeg(img, rng.NextIntInclusive(s.Jpeg2.Min, s.Jpeg2.Max));
            var mode = rng.Pick(s.FinalResizeModes);
            img = new Image(Resize.Apply(img.Data, 3, img.H, img.W, lqH, lqW, mode), lqH, lqW);
            img = new Image(Filter2D.Apply(img.Data, 3, lqH, lqW, sinc), lqH, lqW);
        }

        var lq = Quantise(img.Data);
        var up = Resize.Apply(img.Data, 3, lqH, lqW, height, width, ResizeMode.Bicubic, sf, sf);
        var lqUp = Quantise(up);
        return new DegradedPair(lq, lqUp, lqH, lqW, height, width, k1, k2, sinc, second);
    }

    sealed record Image(float[] Data, int H, int W);

    static double DrawScale(DegradationRandom rng, ResizeSettings r)
    {
        var p = r.UpDownKeepProbabilities;
        if (p.Count != 3)
            throw new ArgumentException($"UpDownKeepProbabilities has {p.Count} entries; it needs 3 (up, down, keep)");
        ReadOnlySpan<double> w = [p[0], p[1], p[2]];
        return rng.Choice(w) switch
        {
            0 => rng.Uniform(1, r.Range.Max),
            1 => rng.Uniform(r.Range.Min, 1),
            _ => 1.0,
        };
    }

    static void AddNoise(Image img, NoiseSettings n, DegradationRandom rng)
    {
        if (rng.NextDouble() < n.GaussianProbability)
        {
            double sigma = rng.Uniform(n.GaussianSigma255.Min, n.GaussianSigma255.Max) / 255.0;
            bool grey = rng.NextDouble() < n.GreyProbability;
            ImageNoise.AddGaussian(img.Data, img.H, img.W, sigma, grey, rng);
        }
        else
        {
            double scale = rng.Uniform(n.PoissonScale.Min, n.PoissonScale.Max);
            bool grey = rng.NextDouble() < n.GreyProbability;
            ImageNoise.AddPoisson(img.Data, img.H, img.W, scale, grey, rng);
        }
    }

    Image Jpeg(Image img, int quality)
    {
        var outp = _jpeg(img.Data, img.W, img.H, quality);
        if (outp is null || outp.Length != img.Data.Length)
            throw new InvalidOperationException($"the JPEG round trip returned {outp?.Length ?? 0} values for a {img.W}x{img.H} RGB image (expected {img.Data.Length}); it must return a planar RGB image of the same size");
        return new Image(outp, img.H, img.W);
    }

    static void Clamp(float[] a)
    {
        for (int i = 0; i < a.Length; i++) a[i] = Math.Clamp(a[i], 0f, 1f);
    }

    static float[] Quantise(float[] a)
    {
        var q = new float[a.Length];
        for (int i = 0; i < a.Length; i++) q[i] = MathF.Round(Math.Clamp(a[i], 0f, 1f) * 255f) / 255f;
        return q;
    }
}
