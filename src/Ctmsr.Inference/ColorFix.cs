namespace Ctmsr.Inference;

/// <summary>Colour correction of the SR output against a reference (the bicubic-upscaled input).</summary>
public enum ColorFixMode { None, AdaIn, Wavelet }

/// <summary>
/// Colour correction of a generative SR result toward a reference, as StableSR/chaiNNer users apply it to fix colour
/// shifts. Images are planar [channels, h, w] in [0, 1].
/// AdaIN, per channel: out = (SR - mean_SR) / std_SR * std_ref + mean_ref, std = sqrt(unbiased variance + 1e-5).
/// Wavelet: blur = the 3x3 kernel [1,2,1; 2,4,2; 1,2,1] / 16 at dilation d with replicate padding;
/// L_0 = image, L_{i+1} = blur(L_i, 2^i) for i = 0..4; out = SR - L_5(SR) + L_5(ref), clamped to [0, 1]
/// (the SR's high frequencies on the reference's low frequencies).
/// </summary>
public static class ColorFix
{
    public const double StdEpsilon = 1e-5;
    public const int WaveletLevels = 5;

    /// <summary>Applies <paramref name="mode"/>; the result is clamped to [0, 1]. None returns <paramref name="sr"/>.</summary>
    public static float[] Apply(ColorFixMode mode, float[] sr, float[] reference, int channels, int h, int w)
    {
        if (mode == ColorFixMode.None) return sr;
        var o = mode == ColorFixMode.AdaIn ? AdaIn(sr, reference, channels, h * w) : Wavelet(sr, reference, channels, h, w);
        for (int i = 0; i < o.Length; i++) o[i] = Math.Clamp(o[i], 0f, 1f);
        return o;
    }

    static void CheckSizes(float[] sr, float[] reference, long n)
    {
        if (sr.Length != n || reference.Length != n)
            throw new ArgumentException($"colour fix: SR has {sr.Length} samples and the reference {reference.Length}, expected {n} each");
    }

    /// <summary>Per-channel mean and std = sqrt(unbiased variance + 1e-5), accumulated in float64.</summary>
    public static (double mean, double std) Stats(ReadOnlySpan<float> plane)
    {
        if (plane.Length < 2) throw new ArgumentException("colour fix needs at least 2 pixels per channel");
        double s = 0;
        foreach (float v in plane) s += v;
        double mean = s / plane.Length, q = 0;
        foreach (float v in plane) { double d = v - mean; q += d * d; }
        return (mean, Math.Sqrt(q / (plane.Length - 1) + StdEpsilon));
    }

    /// <summary>AdaIN (unclamped): each channel of SR takes the reference channel's mean and std.</summary>
    public static float[] AdaIn(float[] sr, float[] reference, int channels, int plane)
    {
        CheckSizes(sr, reference, (long)channels * plane);
        var o = new float[sr.Length];
        for (int c = 0; c < channels; c++)
        {
            var (ms, ss) = Stats(sr.AsSpan(c * plane, plane));
            var (mr, sref) = Stats(reference.AsSpan(c * plane, plane));
            double a = sref / ss, b = mr - ms * a;
            for (int i = c * plane; i < (c + 1) * plane; i++) o[i] = (float)(sr[i] * a + b);
        }
        return o;
    }

    /// <summary>Wavelet colour fix (unclamped): SR - L_5(SR) + L_5(ref).</summary>
    public static float[] Wavelet(float[] sr, float[] reference, int channels, int h, int w)
    {
        CheckSizes(sr, reference, (long)channels * h * w);
        var ls = LowPass(sr, channels, h, w);
        var lr = LowPass(reference, channels, h, w);
        var o = new float[sr.Length];
        for (int i = 0; i < o.Length; i++) o[i] = sr[i] - ls[i] + lr[i];
        return o;
    }

    /// <summary>L_5: five blurs at dilations 1, 2, 4, 8, 16.</summary>
    public static float[] LowPass(float[] x, int channels, int h, int w, int levels = WaveletLevels)
    {
        var cur = (float[])x.Clone();
        var tmp = new float[x.Length];
        for (int i = 0; i < levels; i++) Blur(cur, tmp, channels, h, w, 1 << i);
        return cur;
    }

    /// <summary>
    /// In-place dilated blur. The 3x3 kernel is the outer product of [1,2,1]/4 with itself and replicate padding clamps
    /// each axis on its own, so a vertical pass and a horizontal pass give the same sums as the 2D kernel.
    /// </summary>
    static void Blur(float[] x, float[] tmp, int channels, int h, int w, int d)
    {
        Parallel.For(0, channels * h, Ctmsr.Kernels.Cpu.CpuThreads.Options, row =>
        {
            int c = row / h, y = row % h;
            int up = c * h + Math.Max(0, y - d), dn = c * h + Math.Min(h - 1, y + d), mid = c * h + y;
            for (int xx = 0; xx < w; xx++) tmp[mid * w + xx] = 0.25f * x[up * w + xx] + 0.5f * x[mid * w + xx] + 0.25f * x[dn * w + xx];
        });
        Parallel.For(0, channels * h, Ctmsr.Kernels.Cpu.CpuThreads.Options, row =>
        {
            int o = row * w;
            for (int xx = 0; xx < w; xx++)
                x[o + xx] = 0.25f * tmp[o + Math.Max(0, xx - d)] + 0.5f * tmp[o + xx] + 0.25f * tmp[o + Math.Min(w - 1, xx + d)];
        });
    }
}
