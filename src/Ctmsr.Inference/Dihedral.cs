namespace Ctmsr.Inference;

/// <summary>The 8 flips and rotations of a square's symmetry group, on planar [planes, h, w] images, for test-time
/// augmentation: transform k is an optional transpose (bit 2), then a horizontal (bit 0) and a vertical (bit 1) flip.</summary>
public static class Dihedral
{
    public const int Count = 8;

    /// <summary>Transform <paramref name="k"/> of the image; the result is w x h when k transposes.</summary>
    public static (float[] Data, int H, int W) Apply(float[] src, int planes, int h, int w, int k)
    {
        bool t = (k & 4) != 0;
        int h2 = t ? w : h, w2 = t ? h : w;
        var dst = new float[src.Length];
        Map(planes, h2, w2, k, (p, y, x, sy, sx) => dst[((long)p * h2 + y) * w2 + x] = src[((long)p * h + sy) * w + sx]);
        return (dst, h2, w2);
    }

    /// <summary>Undoes transform <paramref name="k"/>: <paramref name="src"/> is h2 x w2 as <see cref="Apply"/> made it.</summary>
    public static (float[] Data, int H, int W) Invert(float[] src, int planes, int h2, int w2, int k)
    {
        bool t = (k & 4) != 0;
        int h = t ? w2 : h2, w = t ? h2 : w2;
        var dst = new float[src.Length];
        Map(planes, h2, w2, k, (p, y, x, sy, sx) => dst[((long)p * h + sy) * w + sx] = src[((long)p * h2 + y) * w2 + x]);
        return (dst, h, w);
    }

    delegate void Visit(int p, int y, int x, int sy, int sx);

    /// <summary>Calls visit for every pixel (y, x) of the transformed h2 x w2 image with its source pixel (sy, sx).</summary>
    static void Map(int planes, int h2, int w2, int k, Visit visit)
    {
        bool t = (k & 4) != 0, fx = (k & 1) != 0, fy = (k & 2) != 0;
        Parallel.For(0, planes * h2, Ctmsr.Kernels.Cpu.CpuThreads.Options, row =>
        {
            int p = row / h2, y = row % h2;
            int ty = fy ? h2 - 1 - y : y;
            for (int x = 0; x < w2; x++)
            {
                int tx = fx ? w2 - 1 - x : x;
                if (t) visit(p, y, x, tx, ty);
                else visit(p, y, x, ty, tx);
            }
        });
    }
}
