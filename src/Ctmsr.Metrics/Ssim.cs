using Ctmsr.Imaging;

namespace Ctmsr.Metrics;

/// <summary>
/// SSIM as BasicSR's _ssim computes it on [0, 255] planes in float64: local statistics under an 11x11 Gaussian window
/// (sigma 1.5, cv2.getGaussianKernel normalised to sum 1) over the valid region only (5-pixel margin dropped),
/// C1 = (0.01 * 255)^2, C2 = (0.03 * 255)^2, the mean of the SSIM map. The window is separable, so the local means are
/// two 1-D passes.
/// </summary>
public static class Ssim
{
    const int Size = 11, Half = 5;
    const double C1 = (0.01 * 255) * (0.01 * 255), C2 = (0.03 * 255) * (0.03 * 255);

    static readonly double[] Kernel = GaussianKernel(Size, 1.5);

    static double[] GaussianKernel(int n, double sigma)
    {
        var k = new double[n];
        double sum = 0, s2 = -0.5 / (sigma * sigma);
        for (int i = 0; i < n; i++) { double x = i - (n - 1) * 0.5; k[i] = Math.Exp(s2 * x * x); sum += k[i]; }
        for (int i = 0; i < n; i++) k[i] /= sum;
        return k;
    }

    public static double Compute(double[] a, double[] b, int h, int w)
    {
        if (a.Length != h * w || b.Length != h * w) throw new ArgumentException($"SSIM planes must be {w}x{h}");
        if (h < Size || w < Size) throw new ArgumentException($"SSIM needs images of at least {Size}x{Size} pixels, got {w}x{h}");
        var aa = new double[a.Length]; var bb = new double[a.Length]; var ab = new double[a.Length];
        for (int i = 0; i < a.Length; i++) { aa[i] = a[i] * a[i]; bb[i] = b[i] * b[i]; ab[i] = a[i] * b[i]; }
        var mu1 = Filter(a, h, w); var mu2 = Filter(b, h, w);
        var s11 = Filter(aa, h, w); var s22 = Filter(bb, h, w); var s12 = Filter(ab, h, w);
        double sum = 0;
        for (int i = 0; i < mu1.Length; i++)
        {
            double m1 = mu1[i], m2 = mu2[i];
            double m11 = m1 * m1, m22 = m2 * m2, m12 = m1 * m2;
            double v1 = s11[i] - m11, v2 = s22[i] - m22, v12 = s12[i] - m12;
            sum += (2 * m12 + C1) * (2 * v12 + C2) / ((m11 + m22 + C1) * (v1 + v2 + C2));
        }
        return sum / mu1.Length;
    }

    /// <summary>Valid-region Gaussian filtering: [h, w] -> [h - 10, w - 10].</summary>
    static double[] Filter(double[] x, int h, int w)
    {
        int oh = h - 2 * Half, ow = w - 2 * Half;
        var tmp = new double[h * ow];
        for (int y = 0; y < h; y++)
            for (int j = 0; j < ow; j++)
            {
                double s = 0;
                int o = y * w + j;
                for (int t = 0; t < Size; t++) s += Kernel[t] * x[o + t];
                tmp[y * ow + j] = s;
            }
        var r = new double[oh * ow];
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
            {
                double s = 0;
                for (int t = 0; t < Size; t++) s += Kernel[t] * tmp[(i + t) * ow + j];
                r[i * ow + j] = s;
            }
        return r;
    }

    /// <summary>SSIM on the Y channel (BT.601), crop border <paramref name="cropBorder"/> pixels on each side.</summary>
    public static double Y(Image a, Image b, int cropBorder = 0)
    {
        MetricImages.CheckSameSize(a, b);
        int h = a.Height - 2 * cropBorder, w = a.Width - 2 * cropBorder;
        return Compute(MetricImages.Crop(YChannel.Of(a), a.Height, a.Width, cropBorder), MetricImages.Crop(YChannel.Of(b), b.Height, b.Width, cropBorder), h, w);
    }
}
