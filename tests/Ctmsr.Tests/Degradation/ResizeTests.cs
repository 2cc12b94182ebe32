using System.Diagnostics;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Imaging.Resampling;

namespace Ctmsr.Tests.Degradation;

public class ResizeTests
{
    static (double relL2, double maxAbs) Compare(float[] got, float[] want)
    {
        Assert.That(got, Has.Length.EqualTo(want.Length));
        double num = 0, den = 0, max = 0;
        for (int i = 0; i < got.Length; i++)
        {
            double d = (double)got[i] - want[i];
            num += d * d; den += (double)want[i] * want[i];
            max = Math.Max(max, Math.Abs(d));
        }
        return (Math.Sqrt(num / Math.Max(den, 1e-300)), max);
    }

    /// <summary>Within 1e-5 relative L2 or 1e-5 absolute everywhere (shared with the per-backend resize tests).</summary>
    internal static void AssertClose(float[] got, float[] want, string what)
    {
        var (rel, max) = Compare(got, want);
        TestContext.Out.WriteLine($"{what}: relL2 {rel:E2}, max abs {max:E2}");
        Assert.That(rel < 1e-5 || max < 1e-5, $"{what}: relative L2 {rel:E3}, max abs {max:E3}");
    }

    [Test]
    public void BicubicX4MatchesFixture()
    {
        using var f = SafetensorsFile.Open(SharedData.Fixture("ops.safetensors"));
        var inShape = f.Get("bicubic_x4.in").Shape;
        var outShape = f.Get("bicubic_x4.out").Shape;
        int planes = inShape[0] * inShape[1], h = inShape[2], w = inShape[3];
        var got = Resize.ApplyScale(f.Floats("bicubic_x4.in"), planes, h, w, 4, 4, ResizeMode.Bicubic);
        Assert.That(Resize.ScaledSize(h, 4), Is.EqualTo(outShape[2]));
        AssertClose(got, f.Floats("bicubic_x4.out"), "bicubic_x4");
        // The same mapping by size (in/out = 1/4 exactly).
        AssertClose(Resize.Apply(f.Floats("bicubic_x4.in"), planes, h, w, 4 * h, 4 * w, ResizeMode.Bicubic),
                    f.Floats("bicubic_x4.out"), "bicubic_x4 by size");
    }

    static IEnumerable<TestCaseData> ResizeCases()
    {
        foreach (var mode in new[] { "nearest", "bilinear", "bicubic", "area" })
        {
            yield return new TestCaseData($"resize.size29x41.{mode}", mode, null).SetName($"Resize_size29x41_{mode}");
            if (mode == "area") continue;
            yield return new TestCaseData($"resize.scale0.37.{mode}", mode, 0.37).SetName($"Resize_scale0_37_{mode}");
            yield return new TestCaseData($"resize.scale1.45.{mode}", mode, 1.45).SetName($"Resize_scale1_45_{mode}");
        }
    }

    [TestCaseSource(nameof(ResizeCases))]
    public void ResizeMatchesFixture(string name, string modeName, double? scale)
    {
        using var f = SafetensorsFile.Open(SharedData.Fixture("ops.safetensors"));
        var inShape = f.Get("resize.in").Shape;
        var outShape = f.Get(name).Shape;
        int planes = inShape[0] * inShape[1], h = inShape[2], w = inShape[3];
        var mode = modeName switch
        {
            "nearest" => ResizeMode.Nearest, "bilinear" => ResizeMode.Bilinear,
            "bicubic" => ResizeMode.Bicubic, _ => ResizeMode.Area,
        };
        float[] got;
        if (scale is double s)
        {
            Assert.That((Resize.ScaledSize(h, s), Resize.ScaledSize(w, s)), Is.EqualTo((outShape[2], outShape[3])), "output size floor(in * scale)");
            got = Resize.ApplyScale(f.Floats("resize.in"), planes, h, w, s, s, mode);
        }
        else
        {
            got = Resize.Apply(f.Floats("resize.in"), planes, h, w, outShape[2], outShape[3], mode);
        }
        AssertClose(got, f.Floats(name), name);
    }

    [Test]
    public void AreaHalvingIsTwoByTwoMean()
    {
        var rnd = new Random(3);
        int h = 6, w = 10;
        var src = Enumerable.Range(0, 2 * h * w).Select(_ => (float)rnd.NextDouble()).ToArray();
        var got = Resize.ApplyScale(src, 2, h, w, 0.5, 0.5, ResizeMode.Area);
        Assert.That(got, Has.Length.EqualTo(2 * 3 * 5));
        for (int p = 0; p < 2; p++)
            for (int y = 0; y < 3; y++)
                for (int x = 0; x < 5; x++)
                {
                    int b = p * h * w;
                    double want = (src[b + 2 * y * w + 2 * x] + src[b + 2 * y * w + 2 * x + 1] + src[b + (2 * y + 1) * w + 2 * x] + src[b + (2 * y + 1) * w + 2 * x + 1]) / 4.0;
                    Assert.That(got[(p * 3 + y) * 5 + x], Is.EqualTo(want).Within(1e-6));
                }
    }

    [Test]
    public void ConstantImageStaysConstant([Values] ResizeMode mode)
    {
        var src = Enumerable.Repeat(0.3125f, 3 * 13 * 17).ToArray();
        foreach (var (oh, ow) in new[] { (5, 7), (13, 17), (40, 23), (26, 34) })
        {
            var got = Resize.Apply(src, 3, 13, 17, oh, ow, mode);
            Assert.That(got.Max(v => Math.Abs(v - 0.3125f)), Is.LessThan(1e-6), $"{mode} {oh}x{ow}");
        }
    }

    [Test]
    public void BicubicX4Of512IsFast()
    {
        int n = 512;
        var src = new float[3 * n * n];
        var rnd = new Random(1);
        for (int i = 0; i < src.Length; i++) src[i] = (float)rnd.NextDouble();
        Resize.ApplyScale(src, 3, n, n, 4, 4, ResizeMode.Bicubic); // warm-up
        double best = double.MaxValue;
        float[] outp = [];
        for (int rep = 0; rep < 3; rep++)
        {
            var sw = Stopwatch.StartNew();
            outp = Resize.ApplyScale(src, 3, n, n, 4, 4, ResizeMode.Bicubic);
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        TestContext.Out.WriteLine($"bicubic x4 of 3x512x512 -> 3x2048x2048: {best * 1000:F1} ms (best of 3, {Environment.ProcessorCount} cores)");
        Assert.That(outp, Has.Length.EqualTo(3 * 2048 * 2048));
        Assert.That(best, Is.LessThan(2.0), "bicubic x4 of a 512x512 RGB image should take well under a second");
    }

    [Test]
    public void RejectsEmptyOutput()
    {
        var ex = Assert.Throws<ArgumentException>(() => Resize.ApplyScale(new float[12], 1, 3, 4, 0.1, 0.1, ResizeMode.Bilinear));
        Assert.That(ex!.Message, Does.Contain("empty"));
    }
}
