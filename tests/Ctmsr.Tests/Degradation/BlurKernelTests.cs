using System.Globalization;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Train.Degradation;

namespace Ctmsr.Tests.Degradation;

public class BlurKernelTests
{
    static double P(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    /// <summary>Builds a kernel from a fixture name: &lt;type&gt;_k&lt;size&gt;_s&lt;sx&gt;[_&lt;sy&gt;]_t&lt;theta&gt;_b&lt;beta&gt; or sinc_k&lt;size&gt;_c&lt;cutoff&gt;[_pad&lt;n&gt;].</summary>
    static BlurKernel FromName(string name)
    {
        var parts = name.Split('_');
        string type = parts[0];
        int size = 0, pad = 0;
        double sx = 0, sy = double.NaN, theta = 0, beta = 1, cutoff = 0;
        for (int i = 1; i < parts.Length; i++)
        {
            var t = parts[i];
            if (t.StartsWith("pad")) pad = int.Parse(t[3..]);
            else if (t[0] == 'k') size = int.Parse(t[1..]);
            else if (t[0] == 's') sx = P(t[1..]);
            else if (t[0] == 't') theta = P(t[1..]);
            else if (t[0] == 'b') beta = P(t[1..]);
            else if (t[0] == 'c') cutoff = P(t[1..]);
            else sy = P(t); // bare number after the s token: sigma_y
        }
        if (double.IsNaN(sy)) sy = sx;
        return type switch
        {
            "iso" => BlurKernels.Make(BlurKernelType.Iso, size, sx, sy, theta, beta),
            "aniso" => BlurKernels.Make(BlurKernelType.Aniso, size, sx, sy, theta, beta),
            "geniso" => BlurKernels.Make(BlurKernelType.GeneralizedIso, size, sx, sy, theta, beta),
            "genaniso" => BlurKernels.Make(BlurKernelType.GeneralizedAniso, size, sx, sy, theta, beta),
            "plateauiso" => BlurKernels.Make(BlurKernelType.PlateauIso, size, sx, sy, theta, beta),
            "plateauaniso" => BlurKernels.Make(BlurKernelType.PlateauAniso, size, sx, sy, theta, beta),
            "sinc" => BlurKernels.CircularLowpass(cutoff, size, pad),
            _ => throw new InvalidDataException($"unknown kernel type in fixture name {name}"),
        };
    }

    [Test]
    public void EveryFixtureKernelMatches()
    {
        using var f = SafetensorsFile.Open(SharedData.Fixture("ops.safetensors"));
        var names = f.Names.Where(n => n.StartsWith("kernel.")).OrderBy(n => n).ToList();
        Assert.That(names, Has.Count.GreaterThanOrEqualTo(8));
        var types = new HashSet<string>();
        foreach (var n in names)
        {
            var shape = f.Get(n).Shape;
            var want = f.Floats(n);
            var k = FromName(n["kernel.".Length..]);
            types.Add(n["kernel.".Length..].Split('_')[0]);
            Assert.That(k.Size, Is.EqualTo(shape[0]), n);
            double peak = want.Max(Math.Abs), err = 0;
            for (int i = 0; i < want.Length; i++) err = Math.Max(err, Math.Abs(k.Weights[i] - (double)want[i]));
            TestContext.Out.WriteLine($"{n}: max abs error / peak = {err / peak:E2}");
            Assert.That(err / peak, Is.LessThan(1e-6), n);
        }
        Assert.That(types, Is.SupersetOf(new[] { "iso", "aniso", "geniso", "genaniso", "plateauiso", "plateauaniso", "sinc" }));
    }

    [Test]
    public void BesselJ1KnownValues()
    {
        // Tabulated values and the first zeros of J1.
        Assert.That(BlurKernels.BesselJ1(0), Is.EqualTo(0).Within(1e-15));
        Assert.That(BlurKernels.BesselJ1(1), Is.EqualTo(0.44005058574493355).Within(1e-14));
        Assert.That(BlurKernels.BesselJ1(2), Is.EqualTo(0.57672480775687339).Within(1e-14));
        Assert.That(BlurKernels.BesselJ1(-2), Is.EqualTo(-0.57672480775687339).Within(1e-14));
        Assert.That(BlurKernels.BesselJ1(10), Is.EqualTo(0.043472746168861436).Within(1e-14));
        foreach (var z in new[] { 3.8317059702075123, 7.0155866698156188, 10.173468135062722, 13.323691936314223, 16.470630050877633 })
            Assert.That(BlurKernels.BesselJ1(z), Is.EqualTo(0).Within(1e-13), $"zero {z}");
    }

    [Test]
    public void BesselJ1MatchesSeriesAndAsymptotics()
    {
        // Power series J1(x) = sum (-1)^m (x/2)^(2m+1) / (m! (m+1)!), accurate for small |x|.
        for (double x = 0.05; x <= 6; x += 0.37)
        {
            double term = x / 2, sum = 0;
            for (int m = 0; m < 60; m++)
            {
                sum += term;
                term *= -(x / 2) * (x / 2) / ((m + 1.0) * (m + 2.0));
            }
            Assert.That(BlurKernels.BesselJ1(x), Is.EqualTo(sum).Within(1e-13), $"x = {x}");
        }
        // Hankel asymptotic expansion (mu = 4) to 1/x^5, truncation error < 1e-9 for x >= 28.
        for (double x = 28; x <= 46; x += 2.9)
        {
            double mu = 4, e = 8 * x, chi = x - 3 * Math.PI / 4;
            double pp = 1 - (mu - 1) * (mu - 9) / (2 * e * e) + (mu - 1) * (mu - 9) * (mu - 25) * (mu - 49) / (24 * Math.Pow(e, 4));
            double qq = (mu - 1) / e - (mu - 1) * (mu - 9) * (mu - 25) / (6 * Math.Pow(e, 3))
                      + (mu - 1) * (mu - 9) * (mu - 25) * (mu - 49) * (mu - 81) / (120 * Math.Pow(e, 5));
            double want = Math.Sqrt(2 / (Math.PI * x)) * (pp * Math.Cos(chi) - qq * Math.Sin(chi));
            Assert.That(BlurKernels.BesselJ1(x), Is.EqualTo(want).Within(1e-9), $"x = {x}");
        }
    }

    [Test]
    public void IsotropicGaussianIsSeparableClosedForm()
    {
        var k = BlurKernels.Gaussian(9, 1.3, 1.3, 0.7); // rotation is irrelevant when sx = sy
        var g = Enumerable.Range(-4, 9).Select(x => Math.Exp(-x * x / (2 * 1.3 * 1.3))).ToArray();
        double s = g.Sum();
        for (int r = 0; r < 9; r++)
            for (int c = 0; c < 9; c++)
                Assert.That(k.Weights[r * 9 + c], Is.EqualTo(g[r] * g[c] / (s * s)).Within(1e-7));
    }

    [Test]
    public void AnisotropicRotationByHalfPiSwapsAxes()
    {
        var a = BlurKernels.Gaussian(11, 0.8, 2.4, 0);
        var b = BlurKernels.Gaussian(11, 0.8, 2.4, Math.PI / 2);
        for (int r = 0; r < 11; r++)
            for (int c = 0; c < 11; c++)
                Assert.That(b.Weights[r * 11 + c], Is.EqualTo(a.Weights[c * 11 + r]).Within(1e-7));
        // theta = 0: sigma_x acts along columns (x), so the kernel is wider vertically (sy = 2.4).
        Assert.That(a.Weights[0 * 11 + 5], Is.GreaterThan(a.Weights[5 * 11 + 0]));
    }

    [Test]
    public void SampledKernelsAreNormalisedAndPadded([Values(0UL, 1UL, 2UL, 3UL)] ulong seed)
    {
        var rng = new DegradationRandom(seed);
        foreach (var s in new[] { BlurKernelSettings.FirstStage, BlurKernelSettings.SecondStage })
            for (int i = 0; i < 200; i++)
            {
                var k = BlurKernelSampler.Sample(rng, s);
                Assert.That(k.Size, Is.EqualTo(s.PadTo));
                Assert.That(k.Weights.Sum(v => (double)v), Is.EqualTo(1).Within(1e-5));
                Assert.That(k.Weights.All(float.IsFinite));
            }
    }

    [Test]
    public void SamplingIsDeterministicAndCoversSinc()
    {
        var s = BlurKernelSettings.FirstStage;
        var a = new DegradationRandom(42);
        var b = new DegradationRandom(42);
        int sincLike = 0;
        for (int i = 0; i < 500; i++)
        {
            var ka = BlurKernelSampler.Sample(a, s);
            var kb = BlurKernelSampler.Sample(b, s);
            Assert.That(ka.Weights, Is.EqualTo(kb.Weights));
            if (ka.Weights.Any(v => v < -1e-6)) sincLike++; // only the jinc has negative lobes
        }
        // Sinc probability 0.1: expect ~50 of 500 (a sinc with a large cutoff and small size can be all-positive).
        Assert.That(sincLike, Is.InRange(15, 90));
        var final = BlurKernelSampler.SampleFinalSinc(new DegradationRandom(7), BlurKernelSettings.SecondStage, 0.0);
        Assert.That(final.Weights, Is.EqualTo(BlurKernel.Delta(15).Weights));
    }
}
