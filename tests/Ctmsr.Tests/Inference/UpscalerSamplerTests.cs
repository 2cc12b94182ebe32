using Ctmsr.Kernels.Cpu;
using Ctmsr.Inference;
using Ctmsr.Imaging.Resampling;
using static Ctmsr.Tests.Inference.InferenceKit;

namespace Ctmsr.Tests.Inference;

/// <summary>The Upscaler with the complete sampler options (msde, guidance, interpolated start) on the small fixture
/// model: the defaults keep the one-step path bit for bit, msde at gamma 0 is the ODE sampler bit for bit, and a
/// combined run follows the sampler written out in float64 around the network.</summary>
public class UpscalerSamplerTests
{
    static float Out(float v) => Math.Clamp((v + 1f) * 0.5f, 0f, 1f);

    [Test]
    public void StepsOneStartOneGuidanceZeroIsThePreexistingOneStepPath()
    {
        var card = Card(64, 64, 3);
        using var up = new Upscaler(new CpuBackend(), State, new UpscaleOptions { Seed = 3, Steps = 1, Start = 1, Guidance = 0, Sampler = SamplerKind.Msde, Gamma = 0.3 });
        var got = up.UpscaleRgb(card.Data, 64, 64);
        using var net = new Net(new CpuBackend());
        Assert.That(got, Is.EqualTo(net.OneStep(card.Data, 64, 64, 3, 0).Select(Out).ToArray()), "bit for bit");
    }

    [Test]
    public void MsdeAtGammaZeroIsTheOdeSamplerBitForBit()
    {
        var card = Card(64, 64, 3);
        var o = new UpscaleOptions { Seed = 4, Steps = 3, Start = 0.8, Guidance = 0.2 };
        using var ode = new Upscaler(new CpuBackend(), State, o);
        using var msde = new Upscaler(new CpuBackend(), State, o with { Sampler = SamplerKind.Msde, Gamma = 0 });
        Assert.That(msde.UpscaleRgb(card.Data, 64, 64), Is.EqualTo(ode.UpscaleRgb(card.Data, 64, 64)));
    }

    [Test]
    public void MsdeWithGuidanceFromAnInterpolatedStartFollowsTheTrajectory()
    {
        const ulong seed = 9;
        const int steps = 3;
        const double start = 0.7, w = 0.3, gamma = 0.5;
        var card = Card(64, 64, 3);
        using var up = new Upscaler(new CpuBackend(), State,
            new UpscaleOptions { Seed = seed, Steps = steps, Sampler = SamplerKind.Msde, Gamma = gamma, Guidance = w, Start = start });
        var got = up.UpscaleRgb(card.Data, 64, 64);

        using var net = new Net(new CpuBackend());
        var lq = card.Data.Select(v => 2f * v - 1f).ToArray();
        var y = Resize.Apply(lq, 3, 64, 64, 256, 256, ResizeMode.Bicubic);
        int n = y.Length;
        var eps = Normals(seed, 0, n);
        var x = y.Select((v, i) => (double)v + start * eps[i]).ToArray();
        var x0 = new double[n];
        for (int k = steps; k >= 1; k--)
        {
            double t = start * k / steps, s = start * (k - 1) / steps;
            var d = net.D(x.Select(v => (float)v).ToArray(), lq, 64, 64, (float)t);
            for (int i = 0; i < n; i++) x0[i] = d[i] + w * (d[i] - y[i]);
            if (k == 1) break;
            var z = Normals(seed, (ulong)(k - 1) << 32, n);
            double c = gamma * s * Math.Sqrt(1 - s * s / (t * t)), a = Math.Sqrt(s * s - c * c);
            for (int i = 0; i < n; i++)
            {
                double epsHat = (x[i] - x0[i] - t * (y[i] - x0[i])) / t;
                x[i] = x0[i] + s * (y[i] - x0[i]) + a * epsHat + c * z[i];
            }
        }
        var expect = x0.Select(v => Out((float)v)).ToArray();
        double num = 0, den = 0;
        for (int i = 0; i < n; i++) { num += Math.Pow(got[i] - expect[i], 2); den += expect[i] * expect[i]; }
        Assert.That(Math.Sqrt(num / den), Is.LessThan(1e-4), "relative L2 error (float32 states vs float64 states)");
    }
}
