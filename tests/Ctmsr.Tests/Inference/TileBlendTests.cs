using Ctmsr.Inference;

namespace Ctmsr.Tests.Inference;

public class TileBlendTests
{
    [Test]
    public void TileStartsFollowTheSpec()
    {
        // spec section 6: starts 0, 448, 896, ... with the last moved back to end at the border, duplicates dropped
        Assert.That(TileBlend.Starts(512, 512, 448), Is.EqualTo(new[] { 0 }));
        Assert.That(TileBlend.Starts(1024, 512, 448), Is.EqualTo(new[] { 0, 448, 512 }));
        Assert.That(TileBlend.Starts(960, 512, 448), Is.EqualTo(new[] { 0, 448 }));
        Assert.That(TileBlend.Starts(1408, 512, 448), Is.EqualTo(new[] { 0, 448, 896 }));
        Assert.That(TileBlend.Starts(300, 512, 448), Is.EqualTo(new[] { 0 }));
    }

    /// <summary>Per-pixel weight sums along one axis of a layout.</summary>
    static (double[] sum, int[] cover) Sums(TileBlendMode mode, int size, int tile, int stride)
    {
        var starts = TileBlend.Starts(size, tile, stride);
        var sum = new double[size];
        var cover = new int[size];
        for (int i = 0; i < starts.Count; i++)
        {
            var w = TileBlend.AxisWeights(mode, starts, i, tile);
            for (int u = 0; u < tile; u++) { sum[starts[i] + u] += w[u]; cover[starts[i] + u]++; }
        }
        return (sum, cover);
    }

    // sizes in SR pixels: spec layouts x4, a last tile moved back (short overlap), no overlap at all
    [TestCase(4096, 2048, 1792)]
    [TestCase(4000, 2048, 1792)]
    [TestCase(5632, 2048, 1792)]
    [TestCase(1024, 256, 128)]
    [TestCase(1000, 256, 256)]
    public void CosineWeightsSumToOneAndAverageWeightsCountTheTiles(int size, int tile, int stride)
    {
        var (cos, cover) = Sums(TileBlendMode.Cosine, size, tile, stride);
        var (avg, _) = Sums(TileBlendMode.Average, size, tile, stride);
        for (int x = 0; x < size; x++)
        {
            Assert.That(cover[x], Is.GreaterThan(0), $"pixel {x} covered");
            Assert.That(avg[x], Is.EqualTo(cover[x]), $"average weights at {x}");
            // two tiles share an overlap: their ramps sum to 1. Where the spec's layout moves the last tile back over
            // two others (e.g. 4000 = starts 0, 1792, 1952) weights only need to be positive: the blend divides by them.
            if (cover[x] <= 2) Assert.That(cos[x], Is.EqualTo(1.0).Within(1e-6), $"cosine weights at {x}");
            else Assert.That(cos[x], Is.GreaterThan(0), $"cosine weights at {x}");
        }
        Assert.That(cover.Count(c => c == 2), Is.GreaterThan(0), "the layout overlaps");
    }

    [Test]
    public void CosineWeightsArePositiveRampAcrossTheOverlapAndStayOneOnTheBorder()
    {
        var starts = TileBlend.Starts(1024, 256, 128);    // overlaps of 128 between every pair
        var first = TileBlend.AxisWeights(TileBlendMode.Cosine, starts, 0, 256);
        var mid = TileBlend.AxisWeights(TileBlendMode.Cosine, starts, 3, 256);
        Assert.That(first.Take(128), Is.All.EqualTo(1f), "no ramp on the image border");
        Assert.That(first.Skip(128), Is.Ordered.Descending);
        Assert.That(mid.Take(128), Is.Ordered.Ascending);
        Assert.That(mid.Skip(128), Is.Ordered.Descending);
        Assert.That(mid.All(v => v is > 0f and <= 1f));
        // the ramp is the raised cosine over the overlap, sampled at pixel centres
        Assert.That(first[128 + 64], Is.EqualTo(0.5 * (1 + Math.Cos(Math.PI * 64.5 / 128))).Within(1e-7));
    }
}
