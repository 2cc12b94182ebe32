using Ctmsr.Kernels;
using Ctmsr.Train.Degradation;

namespace Ctmsr.Tests.Degradation;

public class Filter2DTests
{
    static float[] RandomImage(int n, int seed)
    {
        var rnd = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)rnd.NextDouble()).ToArray();
    }

    // PyTorch F.pad(mode='reflect'): index -1 -> 1, n -> n-2 (valid for pad < n).
    static int TorchReflect(int i, int n) => i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;

    /// <summary>float64 reference: reflect pad then conv2d (correlation, no flip).</summary>
    static double[] Reference(float[] src, int planes, int h, int w, BlurKernel k)
    {
        int half = k.Size / 2;
        var o = new double[planes * h * w];
        for (int p = 0; p < planes; p++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    double acc = 0;
                    for (int i = 0; i < k.Size; i++)
                        for (int j = 0; j < k.Size; j++)
                            acc += (double)k.Weights[i * k.Size + j] * src[p * h * w + TorchReflect(y + i - half, h) * w + TorchReflect(x + j - half, w)];
                    o[p * h * w + y * w + x] = acc;
                }
        return o;
    }

    [Test]
    public void ReflectIndexIsReflect101()
    {
        int[] want = [2, 1, 0, 1, 2, 3, 4, 3, 2];
        for (int i = -2; i <= 6; i++) Assert.That(Backend.Reflect101(i, 5), Is.EqualTo(want[i + 2]), $"i = {i}");
        Assert.That(Backend.Reflect101(-3, 1), Is.EqualTo(0));
    }

    [TestCase(3, 8, 8)]
    [TestCase(5, 6, 9)]
    [TestCase(7, 17, 13)]
    [TestCase(21, 11, 30)]   // pad 10 = h - 1: the widest PyTorch allows
    [TestCase(15, 33, 40)]
    public void MatchesFloat64Loop(int k, int h, int w)
    {
        var src = RandomImage(3 * h * w, k * 100 + h);
        // An asymmetric kernel (so a flip would show) with some zero border, like padded kernels.
        var rnd = new Random(k);
        var wts = new float[k * k];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
                wts[i * k + j] = (i == 0 && k > 3) ? 0f : (float)(rnd.NextDouble() - 0.3);
        // Scale to sum |w| = 1, as real blur kernels (float32 accumulation error then stays ~1e-7).
        float l1 = wts.Sum(Math.Abs);
        for (int i = 0; i < wts.Length; i++) wts[i] /= l1;
        var kern = new BlurKernel(k, wts);
        var got = Filter2D.Apply(src, 3, h, w, kern);
        var want = Reference(src, 3, h, w, kern);
        double max = 0;
        for (int i = 0; i < got.Length; i++) max = Math.Max(max, Math.Abs(got[i] - want[i]));
        Assert.That(max, Is.LessThan(2e-6), $"max abs error {max:E2}");
    }

    [Test]
    public void DeltaKernelIsIdentity([Values(1, 3, 15, 21)] int k)
    {
        var src = RandomImage(2 * 12 * 14, 5);
        var got = Filter2D.Apply(src, 2, 12, 14, BlurKernel.Delta(k));
        Assert.That(got, Is.EqualTo(src));
    }

    [Test]
    public void ShiftedDeltaIsReflectedShift()
    {
        // A delta one column right of centre reads in[y, refl(x + 1)] (correlation, not convolution).
        int h = 5, w = 6;
        var src = RandomImage(h * w, 9);
        var wts = new float[9];
        wts[1 * 3 + 2] = 1f;
        var got = Filter2D.Apply(src, 1, h, w, new BlurKernel(3, wts));
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                Assert.That(got[y * w + x], Is.EqualTo(src[y * w + TorchReflect(x + 1, w)]));
    }

    [Test]
    public void SeparableGaussianEqualsTwoOneDimensionalPasses()
    {
        int h = 20, w = 27, k = 9;
        double sigma = 1.7;
        var src = RandomImage(3 * h * w, 11);
        var g = Enumerable.Range(-k / 2, k).Select(x => Math.Exp(-x * x / (2 * sigma * sigma))).ToArray();
        double s = g.Sum();
        for (int i = 0; i < k; i++) g[i] /= s;
        var got = Filter2D.Apply(src, 3, h, w, BlurKernels.Gaussian(k, sigma, sigma, 0));
        for (int p = 0; p < 3; p++)
        {
            var tmp = new double[h * w];
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    double a = 0;
                    for (int j = 0; j < k; j++) a += g[j] * src[p * h * w + y * w + TorchReflect(x + j - k / 2, w)];
                    tmp[y * w + x] = a;
                }
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    double a = 0;
                    for (int i = 0; i < k; i++) a += g[i] * tmp[TorchReflect(y + i - k / 2, h) * w + x];
                    Assert.That(got[p * h * w + y * w + x], Is.EqualTo(a).Within(1e-6));
                }
        }
    }

    [Test]
    public void BatchUsesOneKernelPerSample()
    {
        int h = 10, w = 12;
        var src = RandomImage(2 * 3 * h * w, 21);
        var k0 = BlurKernels.Gaussian(5, 1.0, 1.0, 0);
        var k1 = BlurKernels.CircularLowpass(1.5, 7);
        var got = Filter2D.ApplyBatch(src, 2, 3, h, w, [k0, k1]);
        var w0 = Reference(src[..(3 * h * w)], 3, h, w, k0);
        var w1 = Reference(src[(3 * h * w)..], 3, h, w, k1);
        for (int i = 0; i < 3 * h * w; i++)
        {
            Assert.That(got[i], Is.EqualTo(w0[i]).Within(1e-5));
            Assert.That(got[3 * h * w + i], Is.EqualTo(w1[i]).Within(1e-5));
        }
    }
}
