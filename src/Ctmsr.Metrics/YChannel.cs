using Ctmsr.Imaging;

namespace Ctmsr.Metrics;

/// <summary>
/// The BT.601 luma that BasicSR's Y-channel metrics use: Y = 16 + (65.481 R + 128.553 G + 24.966 B) for R, G, B in
/// [0, 1], reported on the [0, 255] scale. Reproduces BasicSR's to_y_channel rounding: the 8-bit samples are divided by
/// 255 in float32, the dot product and offset run in float64, the result is divided by 255 and stored as float32, then
/// multiplied by 255 in float32 (NIQE rounds this value, so the float32 steps matter there).
/// </summary>
public static class YChannel
{
    /// <summary>
    /// Colour samples on the [0, 255] scale, planar RGB (grey is replicated, alpha dropped, like cv2.imread):
    /// 8-bit images give their exact integer codes, 16-bit images v * 255.
    /// </summary>
    public static double[] Rgb255(Image image)
    {
        var rgb = image.WithoutAlpha().ToRgb();
        var d = new double[rgb.Data.Length];
        if (rgb.BitDepth == 8)
            for (int i = 0; i < d.Length; i++) d[i] = Math.Round(rgb.Data[i] * 255.0, MidpointRounding.ToEven);
        else
            for (int i = 0; i < d.Length; i++) d[i] = rgb.Data[i] * 255.0;
        return d;
    }

    /// <summary>Y of planar RGB samples on the [0, 255] scale ([3, n] -> [n]).</summary>
    public static double[] FromRgb255(ReadOnlySpan<double> rgb)
    {
        if (rgb.Length % 3 != 0) throw new ArgumentException($"planar RGB needs 3 planes, got {rgb.Length} samples");
        int n = rgb.Length / 3;
        var y = new double[n];
        for (int i = 0; i < n; i++)
        {
            double r = (float)rgb[i] / 255f, g = (float)rgb[n + i] / 255f, b = (float)rgb[2 * n + i] / 255f;
            double v = (b * 24.966 + g * 128.553 + r * 65.481 + 16.0) / 255.0;
            y[i] = (float)v * 255f;
        }
        return y;
    }

    /// <summary>The Y plane of an image on the [0, 255] scale (length Width * Height).</summary>
    public static double[] Of(Image image) => FromRgb255(Rgb255(image));
}
