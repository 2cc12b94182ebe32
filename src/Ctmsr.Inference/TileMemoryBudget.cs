namespace Ctmsr.Inference;

/// <summary>How much device memory automatic tiling may plan for, and the largest tile that fits it. The per-tile
/// estimate is the pool bytes per LR pixel measured on one unit tile (every activation of the network scales with the
/// tile's area) times the tile's area; UpscalerTests checks it against the measured pool peak of a larger tile
/// (within 25%).</summary>
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

    /// <summary>Estimated pool bytes of a tile x tile LR tile.</summary>
    public static double Estimate(double bytesPerPixel, int tile) => bytesPerPixel * tile * (double)tile;

    /// <summary>The largest multiple of <paramref name="unit"/> in [unit, cap] whose estimate fits the budget.</summary>
    public static int LargestTile(double bytesPerPixel, double budget, int unit, int cap)
    {
        int fit = (int)Math.Min(int.MaxValue, Math.Sqrt(Math.Max(0, budget) / bytesPerPixel)) / unit * unit;
        return Math.Clamp(fit, unit, Math.Max(unit, cap));
    }
}
