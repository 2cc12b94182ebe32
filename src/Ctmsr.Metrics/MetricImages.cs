using Ctmsr.Imaging;

namespace Ctmsr.Metrics;

/// <summary>Shape checks and border cropping shared by the full-reference metrics.</summary>
static class MetricImages
{
    public static void CheckSameSize(Image a, Image b)
    {
        if (a.Width != b.Width || a.Height != b.Height)
            throw new ArgumentException($"the images differ in size ({a.Width}x{a.Height} and {b.Width}x{b.Height}); compare an SR output with the ground truth of the same scale");
    }

    /// <summary>The plane [h, w] without <paramref name="border"/> pixels on each side.</summary>
    public static double[] Crop(double[] plane, int h, int w, int border)
    {
        if (border == 0) return plane;
        if (border < 0 || 2 * border >= Math.Min(h, w)) throw new ArgumentException($"crop border {border} does not fit a {w}x{h} image");
        int oh = h - 2 * border, ow = w - 2 * border;
        var r = new double[oh * ow];
        for (int y = 0; y < oh; y++) Array.Copy(plane, (y + border) * w + border, r, y * ow, ow);
        return r;
    }
}
