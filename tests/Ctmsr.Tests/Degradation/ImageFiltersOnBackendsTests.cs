using Ctmsr.Kernels;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Train.Degradation;
using Ctmsr.Imaging.Resampling;

namespace Ctmsr.Tests.Degradation;

/// <summary>
/// The resize fixtures (PyTorch F.interpolate) through <see cref="Backend.Resample2d"/> on each backend, and the
/// backend's filter2D against the host path on a real blur kernel; on every registered device, absent ones skip.
/// </summary>
[TestFixtureSource(typeof(TestDevices), nameof(TestDevices.All)), NonParallelizable]
public sealed class ImageFiltersOnBackendsTests(string device)
{
    Backend _be = null!;

    [OneTimeSetUp]
    public void Setup()
    {
        _be = TestDevices.OpenOrSkip(device);
    }

    [OneTimeTearDown] public void TearDown() => _be?.Dispose();

    float[] Run(float[] src, int planes, int h, int w, int oh, int ow, ResizeMode mode, double? scale)
    {
        using var x = _be.Allocate(src.Length);
        using var y = _be.Allocate((long)planes * oh * ow);
        _be.Upload(src, x);
        Resize.Apply(_be, x, y, planes, h, w, oh, ow, mode, scale, scale);
        var got = new float[(long)planes * oh * ow];
        _be.Download(y, got);
        return got;
    }

    [Test]
    public void BicubicX4MatchesFixture()
    {
        using var f = SafetensorsFile.Open(SharedData.Fixture("ops.safetensors"));
        var s = f.Get("bicubic_x4.in").Shape;
        int planes = s[0] * s[1], h = s[2], w = s[3];
        ResizeTests.AssertClose(Run(f.Floats("bicubic_x4.in"), planes, h, w, 4 * h, 4 * w, ResizeMode.Bicubic, 4), f.Floats("bicubic_x4.out"), "bicubic_x4");
    }

    [TestCase("nearest"), TestCase("bilinear"), TestCase("bicubic"), TestCase("area")]
    public void ResizeMatchesFixture(string modeName)
    {
        var mode = Enum.Parse<ResizeMode>(modeName, ignoreCase: true);
        using var f = SafetensorsFile.Open(SharedData.Fixture("ops.safetensors"));
        var s = f.Get("resize.in").Shape;
        int planes = s[0] * s[1], h = s[2], w = s[3];
        var src = f.Floats("resize.in");
        var sized = f.Get($"resize.size29x41.{modeName}").Shape;
        ResizeTests.AssertClose(Run(src, planes, h, w, sized[2], sized[3], mode, null), f.Floats($"resize.size29x41.{modeName}"), $"{modeName} 29x41");
        if (mode == ResizeMode.Area) return;
        foreach (double scale in new[] { 0.37, 1.45 })
        {
            string name = $"resize.scale{scale.ToString(System.Globalization.CultureInfo.InvariantCulture)}.{modeName}";
            ResizeTests.AssertClose(Run(src, planes, h, w, Resize.ScaledSize(h, scale), Resize.ScaledSize(w, scale), mode, scale), f.Floats(name), name);
        }
    }

    [Test]
    public void Filter2dMatchesHostPathOnFixtureKernels()
    {
        using var f = SafetensorsFile.Open(SharedData.Fixture("ops.safetensors"));
        var names = f.Names.Where(n => n.StartsWith("kernel.", StringComparison.Ordinal)).Order(StringComparer.Ordinal).Take(3).ToArray();
        Assert.That(names, Is.Not.Empty, "ops.safetensors has kernel.* entries");
        var kernels = names.Select(n => new BlurKernel(f.Get(n).Shape[^1], f.Floats(n))).ToArray();
        int batch = kernels.Length, c = 3, h = 19, w = 23;
        var rnd = new Random(5);
        var src = Enumerable.Range(0, batch * c * h * w).Select(_ => (float)rnd.NextDouble()).ToArray();
        var want = Filter2D.ApplyBatch(src, batch, c, h, w, kernels);
        using var x = _be.Allocate(src.Length);
        using var y = _be.Allocate(src.Length);
        _be.Upload(src, x);
        Filter2D.ApplyBatch(_be, x, y, batch, c, h, w, kernels);
        var got = new float[src.Length];
        _be.Download(y, got);
        ResizeTests.AssertClose(got, want, "filter2d " + string.Join(",", names));
        // The host path itself against a direct float64 correlation with reflect-101 padding, for the first kernel.
        var k0 = kernels[0]; int k = k0.Size, hk = k / 2;
        for (int ch = 0; ch < c; ch++)
            for (int r = 0; r < h; r++)
                for (int col = 0; col < w; col++)
                {
                    double acc = 0;
                    for (int i = 0; i < k; i++)
                        for (int j = 0; j < k; j++)
                            acc += k0.Weights[i * k + j] * (double)src[(ch * h + Backend.Reflect101(r + i - hk, h)) * w + Backend.Reflect101(col + j - hk, w)];
                    Assert.That(want[(ch * h + r) * w + col], Is.EqualTo(acc).Within(1e-5), $"plane {ch} ({r}, {col})");
                }
    }
}
