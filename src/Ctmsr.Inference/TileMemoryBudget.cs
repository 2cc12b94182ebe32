namespace Ctmsr.Inference;

/// <summary>How much memory automatic tiling may plan for, the largest tile that fits it, and the model of an upscale's
/// peak resident memory. The per-tile estimate is bytes per LR pixel times the tile's area: what the buffer pool holds
/// for one unit tile (measured: every activation scales with the tile's area, and the pool keeps each size it handed
/// out for the next tile) plus the tile's host arrays. UpscalerTests checks it on a larger tile; UpscaleMemoryTests
/// checks the whole model against the process's measured peak (within 25%).</summary>
public static class TileMemoryBudget
{
    /// <summary>The default cap: a CPU machine reports most of its RAM as free, and a 512 tile of the x4 model peaks
    /// at about 6 GB, far more than a desktop user expects an image tool to take.</summary>
    public const long DefaultCap = 4L << 30;

    /// <summary>Fraction of the free memory planned for: the rest covers bucket rounding and host-side copies.</summary>
    public const double FreeFraction = 0.8;

    /// <summary>Bytes a tile may take: <see cref="FreeFraction"/> of <paramref name="free"/>, at most
    /// <paramref name="maxMemory"/> (or <see cref="DefaultCap"/> when not given).</summary>
    public static double Budget(long free, long? maxMemory) => Math.Min(FreeFraction * Math.Max(0, free), maxMemory ?? DefaultCap);

    /// <summary>Host bytes per LR pixel of a tile beside the pool: its LR crop and [-1,1] copy (3 floats each), the
    /// bicubic x<paramref name="scale"/> input and the result read back (3 scale^2 floats each).</summary>
    public static double TileHostBytesPerPixel(int scale) => 4.0 * (6 + 6 * scale * scale);

    /// <summary>Bytes of the image-wide host arrays of an RGB h x w upscale at x<paramref name="scale"/> (size unit
    /// <paramref name="unit"/>): the decoded input and its RGB copy, the padded input, the blending sum and weight
    /// planes, the result, and its encoding (8-bit pixels and the file, at most raw size, and the stream's copy).</summary>
    public static double ImageBytes(int h, int w, int channels, int scale, int unit)
    {
        double ph = Math.Ceiling(h / (double)unit) * unit, pw = Math.Ceiling(w / (double)unit) * unit;
        double lr = (double)h * w, hr = lr * scale * scale, phr = ph * pw * scale * scale;
        return 4 * (channels * lr + 3 * lr + 3 * ph * pw + 4 * phr + channels * hr) + 4 * hr + 2 * 3 * hr;
    }

    /// <summary>Estimated bytes of a tile x tile LR tile.</summary>
    public static double Estimate(double bytesPerPixel, int tile) => bytesPerPixel * tile * (double)tile;

    /// <summary>The largest multiple of <paramref name="unit"/> in [unit, cap] whose estimate fits the budget.</summary>
    public static int LargestTile(double bytesPerPixel, double budget, int unit, int cap)
    {
        int fit = (int)Math.Min(int.MaxValue, Math.Sqrt(Math.Max(0, budget) / bytesPerPixel)) / unit * unit;
        return Math.Clamp(fit, unit, Math.Max(unit, cap));
    }
}
