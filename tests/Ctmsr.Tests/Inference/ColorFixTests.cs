using Ctmsr.Inference;

namespace Ctmsr.Tests.Inference;

/// <summary>Colour fixes against straightforward float64 implementations written here (the 2D 3x3 kernel applied
/// directly, not separated) and against closed forms. Tolerance 1e-5 absolute on [0,1] images.</summary>
public class ColorFixTests
{
    static float[] Noise(int seed, int n, double lo, double hi)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(lo + (hi - lo) * r.NextDouble())).ToArray();
    }

    static (double mean, double std) Stats(float[] x, int c, int plane)
    {
        double m = 0;
        for (int i = 0; i < plane; i++) m += x[c * plane + i];
        m /= plane;
        double v = 0;
        for (int i = 0; i < plane; i++) v += (x[c * plane + i] - m) * (x[c * plane + i] - m);
        return (m, Math.Sqrt(v / (plane - 1) + 1e-5));
    }

    [Test]
    public void AdaInMatchesTheFormulaAndGivesTheReferenceMeanAndStd()
    {
        int h = 23, w = 31, plane = h * w;
        var sr = Noise(1, 3 * plane, 0.2, 0.9);
        var reference = Noise(2, 3 * plane, 0.4, 0.6);
        var o = ColorFix.AdaIn(sr, reference, 3, plane);
        for (int c = 0; c < 3; c++)
        {
            var (ms, ss) = Stats(sr, c, plane);
            var (mr, sref) = Stats(reference, c, plane);
            for (int i = 0; i < plane; i++)
                Assert.That(o[c * plane + i], Is.EqualTo((sr[c * plane + i] - ms) / ss * sref + mr).Within(1e-5));
            var (mo, so) = Stats(o, c, plane);
            Assert.That(mo, Is.EqualTo(mr).Within(1e-5), "output mean = reference mean");
            // std_out^2 = var_out + 1e-5 with var_out = var_sr * (std_ref/std_sr)^2, close to std_ref when var >> 1e-5
            double expectStd = Math.Sqrt((ss * ss - 1e-5) * sref * sref / (ss * ss) + 1e-5);
            Assert.That(so, Is.EqualTo(expectStd).Within(1e-5), "output std from the reference std");
        }
    }

    [Test]
    public void AdaInOfAConstantImageIsTheReferenceMean()
    {
        // std_SR = sqrt(0 + 1e-5) > 0, SR - mean = 0: every pixel becomes mean_ref
        int plane = 50;
        var sr = Enumerable.Repeat(0.3f, 3 * plane).ToArray();
        var reference = Noise(3, 3 * plane, 0, 1);
        var o = ColorFix.AdaIn(sr, reference, 3, plane);
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < plane; i++) Assert.That(o[c * plane + i], Is.EqualTo(Stats(reference, c, plane).mean).Within(1e-6));
    }

    /// <summary>L_5 by the definition: five 2D 3x3 convolutions at dilation 2^i with clamped (replicate) indices.</summary>
    static double[] LowPass64(float[] x, int ch, int h, int w)
    {
        double[] k = [1, 2, 1];
        var cur = x.Select(v => (double)v).ToArray();
        for (int lvl = 0; lvl < 5; lvl++)
        {
            int d = 1 << lvl;
            var nxt = new double[cur.Length];
            for (int c = 0; c < ch; c++)
                for (int y = 0; y < h; y++)
                    for (int xx = 0; xx < w; xx++)
                    {
                        double s = 0;
                        for (int a = -1; a <= 1; a++)
                            for (int b = -1; b <= 1; b++)
                            {
                                int yy = Math.Clamp(y + a * d, 0, h - 1), xq = Math.Clamp(xx + b * d, 0, w - 1);
                                s += k[a + 1] * k[b + 1] / 16 * cur[(c * h + yy) * w + xq];
                            }
                        nxt[(c * h + y) * w + xx] = s;
                    }
            cur = nxt;
        }
        return cur;
    }

    [TestCase(40, 37)]
    [TestCase(5, 70)]   // dilations 8 and 16 reach past the border everywhere along y
    public void WaveletMatchesTheDefinition(int h, int w)
    {
        var sr = Noise(4, 3 * h * w, 0, 1);
        var reference = Noise(5, 3 * h * w, 0.3, 0.7);
        var ls = LowPass64(sr, 3, h, w);
        var lr = LowPass64(reference, 3, h, w);
        var o = ColorFix.Apply(ColorFixMode.Wavelet, sr, reference, 3, h, w);
        for (int i = 0; i < o.Length; i++)
            Assert.That(o[i], Is.EqualTo(Math.Clamp(sr[i] - ls[i] + lr[i], 0, 1)).Within(1e-5), $"sample {i}");
        Assert.That(o.Any(v => v is > 0 and < 1), "not everything clamped");
    }

    [Test]
    public void WaveletOfConstantsKeepsTheSrDetailOnTheReferenceLevel()
    {
        // a constant is its own low pass: SR = a gives out = a - a + L5(ref); ref = b gives out = SR - L5(SR) + b
        int h = 33, w = 29, n = 3 * h * w;
        var constSr = Enumerable.Repeat(0.8f, n).ToArray();
        var reference = Noise(6, n, 0.2, 0.6);
        var lr = LowPass64(reference, 3, h, w);
        var o = ColorFix.Wavelet(constSr, reference, 3, h, w);
        for (int i = 0; i < n; i++) Assert.That(o[i], Is.EqualTo(lr[i]).Within(1e-5));

        var sr = Noise(7, n, 0.3, 0.7);
        var constRef = Enumerable.Repeat(0.25f, n).ToArray();
        var ls = LowPass64(sr, 3, h, w);
        o = ColorFix.Wavelet(sr, constRef, 3, h, w);
        for (int i = 0; i < n; i++) Assert.That(o[i], Is.EqualTo(sr[i] - ls[i] + 0.25).Within(1e-5));
        Assert.That(ColorFix.LowPass(constRef, 3, h, w), Is.EqualTo(constRef).Within(1e-6));
    }

    [Test]
    public void NoneLeavesTheImageAloneAndFixesAreClamped()
    {
        var sr = Noise(8, 3 * 64, 0, 1);
        Assert.That(ColorFix.Apply(ColorFixMode.None, sr, sr, 3, 8, 8), Is.SameAs(sr));
        var reference = Noise(9, 3 * 64, -0.5, 1.5);   // a bicubic reference can overshoot [0,1]
        foreach (var mode in new[] { ColorFixMode.AdaIn, ColorFixMode.Wavelet })
            Assert.That(ColorFix.Apply(mode, sr, reference, 3, 8, 8).All(v => v is >= 0 and <= 1), $"{mode} clamps");
    }
}
