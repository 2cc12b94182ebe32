using Ctmsr.Model.Checkpoints;
using Ctmsr.Imaging;
using Ctmsr.Metrics;

namespace Ctmsr.Tests.Metrics;

/// <summary>
/// PSNR and SSIM on Y against BasicSR (ops.safetensors metrics.psnr_y / metrics.ssim_y: the first four ValSR gt images
/// against cv2.resize(lq, INTER_CUBIC)), and their closed forms.
/// </summary>
public class FullReferenceMetricTests
{
    internal static string[] FixtureImages()
    {
        var gt = SharedData.Path_("data/ValSR/gt");
        return Directory.GetFiles(gt).Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal).Take(4).ToArray()!;
    }

    internal static (Image gt, Image sr) Pair(string name)
    {
        var gt = ImageCodec.Decode(Path.Combine(SharedData.Path_("data/ValSR/gt"), name));
        var lq = ImageCodec.Decode(Path.Combine(SharedData.Path_("data/ValSR/lq"), name));
        return (gt, OpenCvResize.Bicubic(lq, gt.Width, gt.Height));
    }

    [Test]
    public void PsnrAndSsimOfBicubicUpsamplingMatchBasicSR()
    {
        using var fx = SafetensorsFile.Open(SharedData.Fixture("ops.safetensors"));
        var wantP = fx.Floats("metrics.psnr_y");
        var wantS = fx.Floats("metrics.ssim_y");
        var names = FixtureImages();
        Assert.That(fx.Metadata["metrics"], Does.Contain(string.Join(",", names)), "the fixture was made from these images");
        for (int i = 0; i < 4; i++)
        {
            var (gt, sr) = Pair(names[i]);
            double p = Psnr.Y(gt, sr), s = Ssim.Y(gt, sr);
            TestContext.Out.WriteLine($"{names[i]}: PSNR {p:F5} (want {wantP[i]:F5}), SSIM {s:F6} (want {wantS[i]:F6})");
            Assert.That(Math.Abs(p - wantP[i]) / wantP[i], Is.LessThan(1e-3), $"PSNR {names[i]}");
            Assert.That(Math.Abs(s - wantS[i]) / wantS[i], Is.LessThan(1e-3), $"SSIM {names[i]}");
        }
    }

    [Test]
    public void PsnrClosedForms()
    {
        var a = Enumerable.Range(0, 100).Select(i => (double)(i % 7)).ToArray();
        Assert.That(Psnr.Compute(a, a), Is.EqualTo(double.PositiveInfinity));
        var b = a.Select(v => v + 5.0).ToArray(); // MSE 25
        Assert.That(Psnr.Compute(a, b), Is.EqualTo(10 * Math.Log10(255.0 * 255.0 / 25.0)).Within(1e-12));
    }

    [Test]
    public void YChannelOfPrimaries()
    {
        var img = new Image(3, 1, 3);
        img[0, 0, 0] = 1f; img[1, 0, 1] = 1f; img[2, 0, 2] = 1f; // red, green, blue pixels
        var y = YChannel.Of(img);
        Assert.That(y[0], Is.EqualTo(16 + 65.481).Within(1e-4));
        Assert.That(y[1], Is.EqualTo(16 + 128.553).Within(1e-4));
        Assert.That(y[2], Is.EqualTo(16 + 24.966).Within(1e-4));
    }

    [Test]
    public void SsimOfIdenticalImagesIsOne()
    {
        var rng = new Random(1);
        var img = new Image(24, 20, 3, 8, Enumerable.Range(0, 3 * 24 * 20).Select(_ => rng.Next(256) / 255f).ToArray());
        Assert.That(Ssim.Y(img, img), Is.EqualTo(1.0).Within(1e-12));
        var other = new Image(24, 20, 3, 8, img.Data.Select(v => 1f - v).ToArray());
        Assert.That(Ssim.Y(img, other), Is.LessThan(0.5));
    }

    [Test]
    public void OpenCvCubicKeepsConstantsAndMatchesTheKernelInside()
    {
        // constant planes stay constant (weights sum to 2048 per axis for x4), and an interior sample of a ramp is
        // Keys' cubic convolution (a = -0.75) of the four neighbours
        var c = Enumerable.Repeat(77.0, 8 * 8).ToArray();
        Assert.That(OpenCvResize.Bicubic8U(c, 1, 8, 8, 32, 32), Is.All.EqualTo(77.0));
        var ramp = Enumerable.Range(0, 64).Select(i => (double)(i % 8) * 10).ToArray();
        var up = OpenCvResize.BicubicF32(ramp, 1, 8, 8, 8, 32);
        static double Keys(double x)
        {
            const double a = -0.75;
            x = Math.Abs(x);
            return x <= 1 ? ((a + 2) * x - (a + 3)) * x * x + 1 : x < 2 ? ((a * x - 5 * a) * x + 8 * a) * x - 4 * a : 0;
        }
        // output x = 13 maps to source (13 + 0.5) / 4 - 0.5 = 2.875
        double want = Enumerable.Range(1, 4).Sum(i => Keys(2.875 - i) * 10 * i);
        Assert.That(up[3 * 32 + 13], Is.EqualTo(want).Within(1e-4));
    }
}
