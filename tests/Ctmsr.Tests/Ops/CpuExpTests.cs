using System.Runtime.Intrinsics;
using Ctmsr.Kernels.Cpu;

namespace Ctmsr.Tests.Ops;

/// <summary>
/// <see cref="CpuExp.Exp"/> against Math.Exp in double over the whole finite range of float exp, and at the edges:
/// saturation to +inf, flush to 0, and NaN kept.
/// </summary>
public sealed class CpuExpTests
{
    static float[] Exp16(float[] x)
    {
        var y = new float[x.Length];
        for (int i = 0; i < x.Length; i += 16) CpuExp.Exp(Vector512.Create(x.AsSpan(i, 16))).CopyTo(y.AsSpan(i, 16));
        return y;
    }

    [Test]
    public void RelativeErrorIsBelow1p5em7AcrossTheFiniteRange()
    {
        if (!CpuExp.Supported) Assert.Ignore("needs AVX-512");
        // every 2^-12 from -87 to 88, plus points near 0 and the reduction's boundaries (+-ln 2 / 2 + n ln 2)
        var xs = new List<float>();
        for (double v = -87; v < 88; v += 1.0 / 4096) xs.Add((float)v);
        for (int k = -120; k <= 120; k++) { double c = (k + 0.5) * Math.Log(2); xs.Add((float)c); xs.Add(MathF.BitIncrement((float)c)); xs.Add(MathF.BitDecrement((float)c)); }
        foreach (float v in new[] { 0f, 1e-30f, -1e-30f, 1e-7f, -1e-7f, 1e-3f, -1e-3f }) xs.Add(v);
        while (xs.Count % 16 != 0) xs.Add(0f);
        var x = xs.ToArray();
        var y = Exp16(x);
        double worst = 0; float at = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double want = Math.Exp(x[i]);
            if (want < 1.2e-38) continue; // float denormals: absolute, not relative, accuracy
            double rel = Math.Abs(y[i] - want) / want;
            if (rel > worst) { worst = rel; at = x[i]; }
        }
        TestContext.Out.WriteLine($"worst relative error {worst:E2} at x = {at}");
        Assert.That(worst, Is.LessThan(1.5e-7), $"at x = {at}");
    }

    [Test]
    public void SaturatesFlushesAndKeepsNaN()
    {
        if (!CpuExp.Supported) Assert.Ignore("needs AVX-512");
        float[] x = [float.NegativeInfinity, -1000f, -104f, -88.7f, 88.8f, 89f, 1000f, float.PositiveInfinity, float.NaN, -float.NaN, 0f, -0f, 1f, -1f, 2f, 80f];
        var y = Exp16(x);
        Assert.Multiple(() =>
        {
            Assert.That(y[0], Is.EqualTo(0f)); Assert.That(y[1], Is.EqualTo(0f)); Assert.That(y[2], Is.EqualTo(0f).Within(1e-44f));
            Assert.That(y[3], Is.EqualTo((float)Math.Exp(-88.7)).Within(1e-43f)); // denormal
            Assert.That(y[4], Is.EqualTo(float.PositiveInfinity)); Assert.That(y[5], Is.EqualTo(float.PositiveInfinity));
            Assert.That(y[6], Is.EqualTo(float.PositiveInfinity)); Assert.That(y[7], Is.EqualTo(float.PositiveInfinity));
            Assert.That(float.IsNaN(y[8]) && float.IsNaN(y[9]), "NaN in, NaN out");
            Assert.That(y[10], Is.EqualTo(1f)); Assert.That(y[11], Is.EqualTo(1f));
            Assert.That(y[12], Is.EqualTo((float)Math.E).Within(3e-7f * Math.E));
            Assert.That(y[13], Is.EqualTo((float)(1 / Math.E)).Within(3e-7f / Math.E));
        });
    }
}
