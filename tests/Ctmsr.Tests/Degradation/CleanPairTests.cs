using Ctmsr.Imaging;
using Ctmsr.Imaging.Resampling;
using Ctmsr.Train.Degradation;

namespace Ctmsr.Tests.Degradation;

/// <summary>The clean-pair path of the degradation: MATLAB-style bicubic downscaling, checked against the MATLAB-made
/// Bicubicx4 pairs of ../shared/data, and the CleanProbability switch.</summary>
public class CleanPairTests
{
    static float[] Rgb(Image img)
    {
        Assert.That(img.Channels, Is.EqualTo(3), "the Bicubicx4 pairs are RGB");
        return img.Data;
    }

    [Test]
    public void MatlabBicubicDownReproducesTheBicubicX4Pairs()
    {
        var gtDir = SharedData.Path_(Path.Combine("data", "Bicubicx4", "gt"));
        var lqDir = SharedData.Path_(Path.Combine("data", "Bicubicx4", "lq"));
        int checkedFiles = 0;
        foreach (var gtPath in Directory.GetFiles(gtDir).OrderBy(p => p, StringComparer.Ordinal).Take(4))
        {
            var lqPath = Path.Combine(lqDir, Path.GetFileName(gtPath));
            if (!File.Exists(lqPath)) continue;
            var gt = ImageCodec.Decode(gtPath);
            var lq = ImageCodec.Decode(lqPath);
            Assert.That((lq.Width, lq.Height), Is.EqualTo(((gt.Width + 3) / 4, (gt.Height + 3) / 4)), gtPath);
            var down = Resize.MatlabBicubicDown(Rgb(gt), 3, gt.Height, gt.Width, 4);
            var want = Rgb(lq);
            int off = 0; double sumAbs = 0;
            for (int i = 0; i < want.Length; i++)
            {
                double levels = Math.Abs(Math.Round(Math.Clamp(down[i], 0f, 1f) * 255.0) - Math.Round(want[i] * 255.0));
                if (levels > 1) off++;
                sumAbs += levels;
            }
            double mean = sumAbs / want.Length;
            TestContext.Out.WriteLine($"{Path.GetFileName(gtPath)}: mean |diff| {mean:F4} levels, {off} samples off by more than 1 level");
            // MATLAB rounds uint8 after each axis; we round once: at most one level apart, and rarely that.
            Assert.That(off, Is.EqualTo(0), $"{gtPath}: samples more than 1 level from MATLAB's");
            Assert.That(mean, Is.LessThan(0.01), $"{gtPath}: mean difference {mean} levels");
            checkedFiles++;
        }
        Assert.That(checkedFiles, Is.GreaterThan(0), "no gt/lq pair found in Bicubicx4");
    }

    [Test]
    public void MatlabBicubicDownOfAConstantIsTheConstantAndShapesAreCeiled()
    {
        var src = Enumerable.Repeat(0.3f, 2 * 10 * 13).ToArray();
        var d = Resize.MatlabBicubicDown(src, 2, 10, 13, 4);
        Assert.That(d, Has.Length.EqualTo(2 * 3 * 4));
        Assert.That(d, Is.All.EqualTo(0.3f).Within(1e-6f));
        Assert.Throws<ArgumentException>(() => Resize.MatlabBicubicDown(src, 2, 10, 13, 0));
    }

    static float[] Noisy(float[] img, int w, int h, int q)
    {
        var r = new Random(q);
        return img.Select(v => Math.Clamp(v + (float)(r.NextDouble() - 0.5) * 0.2f, 0f, 1f)).ToArray();
    }

    [Test]
    public void CleanProbabilityOneGivesTheQuantisedMatlabDownscaleAndZeroChangesNothing()
    {
        var hr = DegradationThroughput.SyntheticImage(64, 3);
        var clean = new RealEsrganDegradation(Noisy, DegradationSettings.Default with { CleanProbability = 1 }).Apply(hr, 64, 64, 5UL);
        var down = Resize.MatlabBicubicDown(hr, 3, 64, 64, 4);
        Assert.That(clean.Lq, Is.EqualTo(down.Select(v => MathF.Round(Math.Clamp(v, 0f, 1f) * 255f) / 255f).ToArray()));
        Assert.That(clean.SecondOrder, Is.False);

        // CleanProbability 0 draws nothing: the pairs equal those of the default settings, seed for seed.
        var spec = new RealEsrganDegradation(Noisy);
        var zero = new RealEsrganDegradation(Noisy, DegradationSettings.Default with { CleanProbability = 0 });
        for (ulong seed = 0; seed < 4; seed++)
            Assert.That(zero.Apply(hr, 64, 64, seed).Lq, Is.EqualTo(spec.Apply(hr, 64, 64, seed).Lq));

        // 0.5 makes about half the pairs clean.
        var half = new RealEsrganDegradation(Noisy, DegradationSettings.Default with { CleanProbability = 0.5 });
        var cleanLq = clean.Lq;
        int nClean = Enumerable.Range(0, 40).Count(s => half.Apply(hr, 64, 64, (ulong)s).Lq.SequenceEqual(cleanLq));
        Assert.That(nClean, Is.InRange(8, 32), "clean pairs out of 40 at probability 0.5");
    }
}
