namespace Ctmsr.Train.Data;

/// <summary>
/// Random crops of planar RGB images. An image smaller than the crop is padded at the bottom/right with
/// reflect-101 (cv2.BORDER_REFLECT_101: ... c b | a b c d | c b a ...), repeated as often as needed, as BasicSR does
/// before cropping; the crop's top-left corner is then uniform over the padded image.
/// </summary>
public static class CropSampler
{
    /// <summary>Index into [0, n) for a position p of the reflect-101 extension of a length-n signal.</summary>
    public static int Reflect101(int p, int n)
    {
        if (n == 1) return 0;
        int period = 2 * (n - 1);
        int q = p % period;
        if (q < 0) q += period;
        return q < n ? q : period - q;
    }

    /// <summary>Crop [3, size, size] at (top, left) of the reflect-101 padded image [3, h, w].</summary>
    public static float[] Crop(float[] src, int h, int w, int top, int left, int size)
    {
        var dst = new float[3 * size * size];
        var cols = new int[size];
        for (int x = 0; x < size; x++) cols[x] = Reflect101(left + x, w);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < size; y++)
            {
                int sy = Reflect101(top + y, h);
                int srow = (c * h + sy) * w, drow = (c * size + y) * size;
                for (int x = 0; x < size; x++) dst[drow + x] = src[srow + cols[x]];
            }
        return dst;
    }

    /// <summary>Top-left corner of a random crop: uniform over max(h, size) - size + 1 rows (likewise columns).</summary>
    public static (int top, int left) Corner(int h, int w, int size, ulong seed)
    {
        var rng = new Degradation.DegradationRandom(seed);
        int top = rng.NextInt(Math.Max(h, size) - size + 1);
        int left = rng.NextInt(Math.Max(w, size) - size + 1);
        return (top, left);
    }
}
