namespace Ctmsr.Train.Degradation;

/// <summary>
/// Real-ESRGAN additive noise on one RGB image [3, h, w] in place (no clamping here).
/// Gaussian: n ~ N(0, sigma^2) per value, or one plane shared by the channels (grey noise).
/// Poisson (generate_poisson_noise_pt): q = round(clamp(img, 0, 1) * 255) / 255; vals = 2^ceil(log2(#unique q));
/// noise = scale * (Poisson(q * vals) / vals - q), where for grey noise q is the rounded
/// luminance 0.2989 R + 0.587 G + 0.114 B and the same noise plane goes to every channel.
/// </summary>
public static class ImageNoise
{
    public static void AddGaussian(float[] img, int h, int w, double sigma, bool grey, DegradationRandom rng)
    {
        int n = h * w;
        if (grey)
        {
            for (int i = 0; i < n; i++)
            {
                float v = (float)(rng.NextGaussian() * sigma);
                img[i] += v; img[n + i] += v; img[2 * n + i] += v;
            }
        }
        else
        {
            for (int i = 0; i < 3 * n; i++) img[i] += (float)(rng.NextGaussian() * sigma);
        }
    }

    public static void AddPoisson(float[] img, int h, int w, double scale, bool grey, DegradationRandom rng)
    {
        int n = h * w;
        if (grey)
        {
            var q = new float[n];
            for (int i = 0; i < n; i++)
                q[i] = Quantise(0.2989f * img[i] + 0.587f * img[n + i] + 0.114f * img[2 * n + i]);
            double vals = Levels(q);
            for (int i = 0; i < n; i++)
            {
                float noise = (float)(scale * (rng.NextPoisson(q[i] * vals) / vals - q[i]));
                img[i] += noise; img[n + i] += noise; img[2 * n + i] += noise;
            }
        }
        else
        {
            var q = new float[3 * n];
            for (int i = 0; i < 3 * n; i++) q[i] = Quantise(img[i]);
            double vals = Levels(q);
            for (int i = 0; i < 3 * n; i++)
                img[i] += (float)(scale * (rng.NextPoisson(q[i] * vals) / vals - q[i]));
        }
    }

    static float Quantise(float v) => MathF.Round(Math.Clamp(v, 0f, 1f) * 255f) / 255f;

    /// <summary>2^ceil(log2(number of distinct 8-bit levels in q)).</summary>
    internal static double Levels(float[] q)
    {
        Span<bool> seen = stackalloc bool[256];
        int count = 0;
        foreach (var v in q)
        {
            int l = (int)MathF.Round(v * 255f);
            if (!seen[l]) { seen[l] = true; count++; }
        }
        return Math.Pow(2, Math.Ceiling(Math.Log2(count)));
    }
}
