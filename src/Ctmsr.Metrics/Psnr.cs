using Ctmsr.Imaging;

namespace Ctmsr.Metrics;

/// <summary>PSNR as BasicSR computes it: 10 log10(255^2 / MSE) in float64 on [0, 255] samples; identical inputs give +inf.</summary>
public static class Psnr
{
    public static double Compute(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"PSNR compares equal-sized images, got {a.Length} and {b.Length} samples");
        if (a.Length == 0) throw new ArgumentException("PSNR of empty images");
        double s = 0;
        for (int i = 0; i < a.Length; i++) { double d = a[i] - b[i]; s += d * d; }
        double mse = s / a.Length;
        return mse == 0 ? double.PositiveInfinity : 10.0 * Math.Log10(255.0 * 255.0 / mse);
    }

    /// <summary>PSNR on the Y channel (BT.601), crop border <paramref name="cropBorder"/> pixels on each side.</summary>
    public static double Y(Image a, Image b, int cropBorder = 0)
    {
        MetricImages.CheckSameSize(a, b);
        var (ya, yb) = (MetricImages.Crop(YChannel.Of(a), a.Height, a.Width, cropBorder), MetricImages.Crop(YChannel.Of(b), b.Height, b.Width, cropBorder));
        return Compute(ya, yb);
    }
}
