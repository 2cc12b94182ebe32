using Ctmsr.Inference;
using Ctmsr.Kernels.Cpu;
using static Ctmsr.Tests.Inference.InferenceKit;

namespace Ctmsr.Tests.Inference;

/// <summary>Seams: every tile has its own noise stream, so tiled output differs from untiled output; the default blend
/// must keep that difference within the variation between two noise seeds, with no step where a tile ends.</summary>
[NonParallelizable]
public class TileSeamTests
{
    const int W = 192, H = 64, S = 4;

    static float[] Run(int? tile, ulong seed, TileBlendMode? blend = null)
    {
        var o = new UpscaleOptions { Seed = seed, Tile = tile, FreeMemory = _ => long.MaxValue / 4 };
        if (blend is { } b) o = o with { Blend = b };
        using var up = new Upscaler(new CpuBackend(), State, o);
        return up.UpscaleRgb(Card(W, H, 3).Data, H, W);
    }

    /// <summary>Mean over rows and channels of |a(x) - a(x-1)| - |b(x) - b(x-1)| per SR column: how much sharper a's
    /// horizontal steps are than b's at each column.</summary>
    static double[] ExtraStep(float[] a, float[] b)
    {
        int w = W * S, h = H * S;
        var r = new double[w];
        for (int x = 1; x < w; x++)
        {
            double s = 0;
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < h; y++)
                {
                    int i = (c * h + y) * w + x;
                    s += Math.Abs(a[i] - a[i - 1]) - Math.Abs(b[i] - b[i - 1]);
                }
            r[x] = s / (3 * h);
        }
        return r;
    }

    static double MeanAbs(float[] a, float[] b) => a.Zip(b, (x, y) => (double)Math.Abs(x - y)).Average();

    [Test]
    public void DefaultTilingStaysWithinTheSeedVariationWithNoBoundaryPeak([Values(64, 128)] int tile)
    {
        var untiled = Run(W, 0);
        var otherSeed = Run(W, 1);
        var tiled = Run(tile, 0);
        double seedVariation = MeanAbs(untiled, otherSeed), tiling = MeanAbs(tiled, untiled);
        // the per-column step excess between two untiled seeds is the noise floor of the peak test
        double floor = ExtraStep(otherSeed, untiled).Select(Math.Abs).Max();
        var excess = ExtraStep(tiled, untiled);
        double peak = excess.Max();
        int at = Array.IndexOf(excess, peak);
        TestContext.Out.WriteLine($"tile {tile}: mean |tiled - untiled| {tiling * 255:0.00} levels, seed variation {seedVariation * 255:0.00}; " +
                                  $"largest extra step {peak * 255:0.00} levels at SR column {at}, seed floor {floor * 255:0.00}");
        Assert.That(tiling, Is.LessThanOrEqualTo(seedVariation));
        Assert.That(peak, Is.LessThanOrEqualTo(floor), $"a step at SR column {at}: a seam");

        // the paper's uniform average does show one, which is why it is no longer the default
        var average = ExtraStep(Run(tile, 0, TileBlendMode.Average), untiled).Max();
        TestContext.Out.WriteLine($"average blend: largest extra step {average * 255:0.00} levels");
        Assert.That(average, Is.GreaterThan(floor));
    }
}
