using Ctmsr.Train.Degradation;
using Ctmsr.Imaging.Resampling;

namespace Ctmsr.Tests.Degradation;

public class DegradationPipelineTests
{
    static float[] Identity(float[] img, int w, int h, int q) => (float[])img.Clone();

    /// <summary>A JPEG stand-in: quantises to a grid that gets coarser as the quality drops.</summary>
    static float[] CoarseQuantiser(float[] img, int w, int h, int q)
    {
        float step = (100 - q) / 255f + 1 / 255f;
        return img.Select(v => MathF.Round(v / step) * step).Select(v => Math.Clamp(v, 0f, 1f)).ToArray();
    }

    static void AssertOnGrid(float[] a, string what)
    {
        foreach (var v in a)
        {
            Assert.That(v, Is.InRange(0f, 1f), what);
            float s = v * 255f;
            Assert.That(Math.Abs(s - MathF.Round(s)), Is.LessThan(1e-4), $"{what}: {v} is not on the 8-bit grid");
        }
    }

    [Test]
    public void ShapesRangesAndQuantisationGrid([Values(0UL, 1UL, 2UL, 3UL, 4UL, 5UL, 6UL, 7UL)] ulong seed)
    {
        var deg = new RealEsrganDegradation(CoarseQuantiser);
        var hr = DegradationThroughput.SyntheticImage(256, seed + 100);
        var r = deg.Apply(hr, 256, 256, seed);
        Assert.That((r.LqHeight, r.LqWidth, r.Height, r.Width), Is.EqualTo((64, 64, 256, 256)));
        Assert.That(r.Lq, Has.Length.EqualTo(3 * 64 * 64));
        Assert.That(r.LqUp, Has.Length.EqualTo(3 * 256 * 256));
        AssertOnGrid(r.Lq, "lq");
        AssertOnGrid(r.LqUp, "lq_up");
        Assert.That(r.Kernel1.Size, Is.EqualTo(21));
        Assert.That(r.Kernel2.Size, Is.EqualTo(15));
        Assert.That(r.FinalSinc.Size, Is.EqualTo(15));
    }

    [Test]
    public void NonSquareSizes()
    {
        var deg = new RealEsrganDegradation(Identity);
        var hr = DegradationThroughput.SyntheticImage(128, 3)[..(3 * 128 * 96)];
        var r = deg.Apply(hr, 128, 96, 9UL);
        Assert.That((r.LqHeight, r.LqWidth), Is.EqualTo((32, 24)));
        Assert.That(r.Lq, Has.Length.EqualTo(3 * 32 * 24));
        Assert.That(r.LqUp, Has.Length.EqualTo(3 * 128 * 96));
    }

    [Test]
    public void SameSeedSameOutputDifferentSeedDifferent()
    {
        var deg = new RealEsrganDegradation(CoarseQuantiser);
        var hr = DegradationThroughput.SyntheticImage(256, 1);
        var a = deg.Apply(hr, 256, 256, 42UL);
        var b = deg.Apply(hr, 256, 256, 42UL);
        var c = deg.Apply(hr, 256, 256, 43UL);
        Assert.That(b.Lq, Is.EqualTo(a.Lq));
        Assert.That(b.LqUp, Is.EqualTo(a.LqUp));
        Assert.That(c.Lq, Is.Not.EqualTo(a.Lq));
        // Determinism under concurrency (the training loader runs images in parallel).
        var par = new DegradedPair[8];
        Parallel.For(0, 8, i => par[i] = deg.Apply(hr, 256, 256, 42UL));
        foreach (var p in par) Assert.That(p.Lq, Is.EqualTo(a.Lq));
    }

    [Test]
    public void JpegIsCalledTwiceWithValidQualitiesAndSizes()
    {
        var calls = new List<(int w, int h, int q, int len)>();
        var deg = new RealEsrganDegradation((img, w, h, q) =>
        {
            lock (calls) calls.Add((w, h, q, img.Length));
            Assert.That(img.All(v => v >= 0f && v <= 1f), "the JPEG input must be clamped to [0, 1]");
            return Identity(img, w, h, q);
        });
        var hr = DegradationThroughput.SyntheticImage(256, 2);
        for (ulong s = 0; s < 10; s++)
        {
            calls.Clear();
            deg.Apply(hr, 256, 256, s);
            Assert.That(calls, Has.Count.EqualTo(2));
            foreach (var c in calls)
            {
                Assert.That(c.q, Is.InRange(30, 95));
                Assert.That(c.len, Is.EqualTo(3 * c.w * c.h));
            }
        }
    }

    [Test]
    public void BlurOnlySettingsEqualExplicitFilterAndResize()
    {
        var fixedGaussian = new BlurKernelSettings
        {
            Sizes = [7], PadTo = 21, TypeProbabilities = [1, 0, 0, 0, 0, 0], Sigma = (1.5, 1.5), SincProbability = 0,
        };
        var settings = new DegradationSettings
        {
            Kernel1 = fixedGaussian,
            Resize1 = new ResizeSettings { UpDownKeepProbabilities = [0, 0, 1] },
            Noise1 = new NoiseSettings { GaussianProbability = 1, GaussianSigma255 = (0, 0) },
            SecondOrderProbability = 0,
            FinalSincProbability = 0,
            FinalResizeModes = [ResizeMode.Bilinear],
            ResizeFirstProbability = 1,
        };
        var deg = new RealEsrganDegradation(Identity, settings);
        var hr = DegradationThroughput.SyntheticImage(64, 5);
        var r = deg.Apply(hr, 64, 64, 123UL);

        // Independent construction: the 7x7 Gaussian (closed form), padded to 21, then filter, clamp, bilinear /4.
        var g = Enumerable.Range(-3, 7).Select(x => Math.Exp(-x * x / (2 * 1.5 * 1.5))).ToArray();
        double gs = g.Sum();
        var wts = new float[21 * 21];
        for (int i = 0; i < 7; i++)
            for (int j = 0; j < 7; j++) wts[(i + 7) * 21 + j + 7] = (float)(g[i] * g[j] / (gs * gs));
        Assert.That(r.Kernel1.Weights, Is.EqualTo(wts).Within(1e-7));
        var blurred = Filter2D.Apply(hr, 3, 64, 64, new BlurKernel(21, wts));
        for (int i = 0; i < blurred.Length; i++) blurred[i] = Math.Clamp(blurred[i], 0f, 1f);
        // Bilinear 64 -> 16 by size: out(y) = mean of in rows 4y+1 and 4y+2 (src = 4y + 1.5).
        var want = new float[3 * 16 * 16];
        for (int p = 0; p < 3; p++)
            for (int y = 0; y < 16; y++)
                for (int x = 0; x < 16; x++)
                {
                    double a = 0;
                    for (int dy = 1; dy <= 2; dy++)
                        for (int dx = 1; dx <= 2; dx++) a += blurred[p * 4096 + (4 * y + dy) * 64 + 4 * x + dx];
                    want[p * 256 + y * 16 + x] = (float)Math.Round(Math.Clamp(a / 4, 0, 1) * 255) / 255f;
                }
        int mismatches = 0;
        for (int i = 0; i < want.Length; i++)
            if (Math.Abs(r.Lq[i] - want[i]) > 0.5f / 255) mismatches++;
            else Assert.That(r.Lq[i], Is.EqualTo(want[i]).Within(1.01f / 255));
        // A value sitting on a rounding boundary may round the other way in float32; allow a handful.
        Assert.That(mismatches, Is.LessThanOrEqualTo(3));
        Assert.That(r.SecondOrder, Is.False);
    }

    [Test]
    public void LqUpIsBicubicOfUnroundedOutput()
    {
        // With no noise, JPEG identity and everything fixed, lq_up must equal round(bicubic x4(out)) where
        // out is the unrounded lq; check it is consistent with lq to within the rounding of lq.
        var deg = new RealEsrganDegradation(Identity);
        var hr = DegradationThroughput.SyntheticImage(128, 8);
        var r = deg.Apply(hr, 128, 128, 5UL);
        var upOfLq = Resize.ApplyScale(r.Lq, 3, 32, 32, 4, 4, ResizeMode.Bicubic);
        // bicubic weights sum to 1 with |w| summing to at most 1.54 per axis, so a 0.5/255 input error moves the output by < 1.2/255.
        double max = 0;
        for (int i = 0; i < upOfLq.Length; i++) max = Math.Max(max, Math.Abs(Math.Clamp(upOfLq[i], 0, 1) - r.LqUp[i]));
        Assert.That(max, Is.LessThan(2.0 / 255));
    }

    [Test]
    public void NoiseLevelsAndGreyNoise()
    {
        // 2^ceil(log2(#levels)).
        Assert.That(LevelsOf([0f, 1f / 255, 2f / 255]), Is.EqualTo(4));
        Assert.That(LevelsOf(Enumerable.Range(0, 256).Select(i => i / 255f).ToArray()), Is.EqualTo(256));
        Assert.That(LevelsOf(Enumerable.Range(0, 129).Select(i => i / 255f).ToArray()), Is.EqualTo(256));
        Assert.That(LevelsOf([0.5f, 0.5f]), Is.EqualTo(1));

        // Grey Poisson noise: the same noise on every channel.
        var img = DegradationThroughput.SyntheticImage(32, 4);
        var before = (float[])img.Clone();
        ImageNoise.AddPoisson(img, 32, 32, 1.0, grey: true, new DegradationRandom(1));
        int n = 32 * 32;
        int nonzero = 0;
        for (int i = 0; i < n; i++)
        {
            float d0 = img[i] - before[i], d1 = img[n + i] - before[n + i], d2 = img[2 * n + i] - before[2 * n + i];
            Assert.That(d1, Is.EqualTo(d0).Within(1e-6));
            Assert.That(d2, Is.EqualTo(d0).Within(1e-6));
            if (d0 != 0) nonzero++;
        }
        Assert.That(nonzero, Is.GreaterThan(n / 2));

        // Colour Poisson noise on a flat 0.5 image: vals = 1, noise = Poisson(0.5) - 0.5, mean 0, variance 0.5 (x scale^2).
        var flat = Enumerable.Repeat(0.5f, 3 * 64 * 64).ToArray();
        ImageNoise.AddPoisson(flat, 64, 64, 0.2, grey: false, new DegradationRandom(2));
        var noise = flat.Select(v => (double)v - 0.5).ToArray();
        double mean = noise.Average(), var_ = noise.Select(x => (x - mean) * (x - mean)).Average();
        Assert.That(mean, Is.EqualTo(0).Within(5 * Math.Sqrt(0.5 * 0.04 / noise.Length)));
        Assert.That(var_, Is.EqualTo(0.5 * 0.04).Within(0.002));

        // Gaussian grey noise: shared plane; colour noise: sigma as asked.
        var g = new float[3 * 64 * 64];
        ImageNoise.AddGaussian(g, 64, 64, 0.1, grey: false, new DegradationRandom(3));
        double gv = g.Select(x => (double)x * x).Average();
        Assert.That(gv, Is.EqualTo(0.01).Within(0.0007));
    }

    static double LevelsOf(float[] q) =>
        (double)typeof(ImageNoise).GetMethod("Levels", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .Invoke(null, [q])!;

    [Test]
    public void RejectsBadSizes()
    {
        var deg = new RealEsrganDegradation(Identity);
        var ex = Assert.Throws<ArgumentException>(() => deg.Apply(new float[3 * 30 * 32], 30, 32, 1UL));
        Assert.That(ex!.Message, Does.Contain("multiples"));
        var bad = new RealEsrganDegradation((img, w, h, q) => new float[3]);
        var ex2 = Assert.Throws<InvalidOperationException>(() => bad.Apply(DegradationThroughput.SyntheticImage(64, 1), 64, 64, 1UL));
        Assert.That(ex2!.Message, Does.Contain("JPEG"));
    }

    [Test]
    public void Throughput()
    {
        var deg = new RealEsrganDegradation(Identity);
        double seq = DegradationThroughput.ImagesPerSecond(deg, 16, 256, parallel: false);
        double par = DegradationThroughput.ImagesPerSecond(deg, 32, 256, parallel: true);
        double cpu = DegradationThroughput.CpuMillisecondsPerImage(deg, 32, 256);
        TestContext.Out.WriteLine($"degradation 256x256 (identity JPEG): {seq:F1} images/s sequential, {par:F1} images/s parallel on {Environment.ProcessorCount} cores; {cpu:F1} CPU ms per image");
        Assert.That(seq, Is.GreaterThan(1.0));
    }
}
